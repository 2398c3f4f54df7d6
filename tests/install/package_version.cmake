# cmake -DPREFIX=<busbar prefix> -DWORK=<folder> -DGENERATOR=<gen> -DCXX=<compiler>
#       -P package_version.cmake
# The ABI rule of the installed CMake package: find_package(Busbar M.m) is satisfied when M is
# the ABI major and m is at most the ABI minor.
file(READ "${PREFIX}/include/busbar/abi.h" abi)
string(REGEX MATCH "#define BUSBAR_ABI_MAJOR ([0-9]+)" _ "${abi}")
set(major ${CMAKE_MATCH_1})
string(REGEX MATCH "#define BUSBAR_ABI_MINOR ([0-9]+)" _ "${abi}")
set(minor ${CMAKE_MATCH_1})
math(EXPR next_minor "${minor} + 1")
math(EXPR next_major "${major} + 1")
math(EXPR previous_major "${major} - 1")

# Configures a project that asks for `version`; sets `accepted` and `output`.
function(ask version)
  set(dir "${WORK}/${version}")
  file(REMOVE_RECURSE "${dir}")
  file(WRITE "${dir}/CMakeLists.txt"
       "cmake_minimum_required(VERSION 3.25)\nproject(probe CXX)\n"
       "find_package(Busbar ${version} REQUIRED)\n"
       "message(STATUS \"abi=\${Busbar_ABI_VERSION} version=\${Busbar_VERSION}\")\n")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${dir}" -B "${dir}/build" -G "${GENERATOR}"
                          "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCMAKE_CXX_COMPILER=${CXX}"
                  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(result EQUAL 0)
    set(accepted TRUE PARENT_SCOPE)
  else()
    set(accepted FALSE PARENT_SCOPE)
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

foreach(version "${major}.0" "${major}.${minor}")
  ask(${version})
  if(NOT accepted OR NOT output MATCHES "abi=${major}.${minor} version=${major}.${minor}")
    message(FATAL_ERROR "find_package(Busbar ${version}) should accept ABI ${major}.${minor}:\n"
                        "${output}")
  endif()
endforeach()
foreach(version "${major}.${next_minor}" "${next_major}.0" "${previous_major}.0")
  ask(${version})
  if(accepted OR NOT output MATCHES "${major}\\.${minor}")
    message(FATAL_ERROR "find_package(Busbar ${version}) should refuse ABI ${major}.${minor}, "
                        "naming the version it found:\n${output}")
  endif()
endforeach()
