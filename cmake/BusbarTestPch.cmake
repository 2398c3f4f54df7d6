# A precompiled header for the test executables (and busbar-conformance, the installed
# conformance kit, which is built on GoogleTest too): each spends about a sixth of its compilation
# parsing the same standard, GoogleTest and Poco headers, which one precompiled header made once
# a build saves them (about 2.5 of 17 CPU-seconds for a unity file of the host's tests).
#
# GCC uses a precompiled header only where it was made with the same code-generation options
# (-fPIE here, hence an executable makes it) and where every macro defined when it was made is
# defined alike, so it is made with no macro of any test's own; a test may define more. Where GCC
# refuses it anyway, -Winvalid-pch says so and the headers are parsed as usual. Clang (the
# sanitizer presets) stops with an error instead; it is told not to record the headers' times, so
# that ccache finds its compilations again (cmake/BusbarPchWithoutTimestamps.cmake).
add_executable(busbar_test_pch ${PROJECT_SOURCE_DIR}/tests/pch/test_pch_main.cpp)
set_target_properties(busbar_test_pch PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/CMakeFiles/busbar_test_pch.dir)
target_link_libraries(busbar_test_pch PRIVATE GTest::gtest Poco::JSON Poco::Foundation)
busbar_pch_without_timestamps(busbar_test_pch)
target_precompile_headers(busbar_test_pch PRIVATE
  <algorithm> <atomic> <cerrno> <chrono> <condition_variable> <cstddef> <cstdint> <cstdio>
  <cstdlib> <cstring> <fstream> <functional> <future> <iostream> <map> <memory> <mutex>
  <optional> <random> <set> <sstream> <stdexcept> <string> <string_view> <thread> <vector>
  <fcntl.h> <signal.h> <sys/socket.h> <sys/stat.h> <sys/wait.h> <unistd.h>
  <gtest/gtest.h>
  <Poco/AutoPtr.h> <Poco/DateTimeFormatter.h> <Poco/File.h> <Poco/JSON/Array.h>
  <Poco/JSON/Object.h> <Poco/JSON/Parser.h> <Poco/Logger.h>
  <Poco/Path.h> <Poco/TemporaryFile.h> <Poco/Timestamp.h>)

# Every executable of the directories under `dir` that links GoogleTest reuses it, but for a
# target with DISABLE_PRECOMPILE_HEADERS (one that sets a macro those headers read).
function(busbar_tests_reuse_pch dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target ${targets})
    get_target_property(type ${target} TYPE)
    get_target_property(libraries ${target} LINK_LIBRARIES)
    if(type STREQUAL "EXECUTABLE" AND NOT target STREQUAL "busbar_test_pch" AND
       libraries MATCHES "GTest::|busbar_test_support")
      target_precompile_headers(${target} REUSE_FROM busbar_test_pch)
    endif()
  endforeach()
  get_property(subdirectories DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdirectory ${subdirectories})
    busbar_tests_reuse_pch(${subdirectory})
  endforeach()
endfunction()
