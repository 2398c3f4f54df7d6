# Included before project() by the CMake presets (CMAKE_PROJECT_INCLUDE_BEFORE in
# CMakePresets.json): compiles through ccache when it is installed, and without it when it is
# not. A launcher given on the command line wins (-DCMAKE_CXX_COMPILER_LAUNCHER=..., or empty
# for none), and so does the one an existing build folder already holds in its cache.
if(NOT DEFINED CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(BUSBAR_CCACHE ccache)
  if(BUSBAR_CCACHE)
    # The tests and fixtures compile with a precompiled header (cmake/BusbarTestPch.cmake),
    # which ccache caches only when told to look past its defines and time macros.
    set(CMAKE_CXX_COMPILER_LAUNCHER env CCACHE_SLOPPINESS=pch_defines,time_macros
        "${BUSBAR_CCACHE}")
  endif()
endif()
