// Nothing of its own: the executable that makes the tests' precompiled header
// (cmake/BusbarTestPch.cmake).
int main() { return 0; }
