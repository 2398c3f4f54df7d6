# cmake -DPREFIX=<busbar prefix> -DEXAMPLES=<examples folder> -DWORK=<folder> -DGENERATOR=<gen>
#       -DCXX=<compiler> [-DLAUNCHER=<ccache>] [-DRELWITHDEBINFO_FLAGS=<flags>]
#       -P build_examples.cmake
# Copies each example out of the source tree into WORK/src, configures it with
# CMAKE_PREFIX_PATH=PREFIX as its only way to busbar, builds it (-j2, RelWithDebInfo, with the
# build's own flags for it when given) and collects the .so files into WORK/plugins. Fails when
# find_package(Busbar) found a package outside PREFIX.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/src" "${WORK}/plugins")
file(GLOB examples LIST_DIRECTORIES true "${EXAMPLES}/*")
foreach(example ${examples})
  if(NOT IS_DIRECTORY "${example}")
    continue()
  endif()
  get_filename_component(name "${example}" NAME)
  file(COPY "${example}" DESTINATION "${WORK}/src")
  set(source "${WORK}/src/${name}")
  set(build "${WORK}/build/${name}")
  set(options -G "${GENERATOR}" "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCMAKE_CXX_COMPILER=${CXX}"
              -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  if(LAUNCHER)
    list(APPEND options "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
  endif()
  if(RELWITHDEBINFO_FLAGS)
    list(APPEND options "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=${RELWITHDEBINFO_FLAGS}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${source}" -B "${build}" ${options}
                  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "configuring example ${name} against ${PREFIX} failed:\n${output}")
  endif()
  file(STRINGS "${build}/CMakeCache.txt" busbar_dir REGEX "^Busbar_DIR:")
  if(NOT busbar_dir MATCHES "=${PREFIX}/")
    message(FATAL_ERROR "example ${name} found busbar outside ${PREFIX}: ${busbar_dir}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${build}" -j 2
                  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "building example ${name} against ${PREFIX} failed:\n${output}")
  endif()
  file(GLOB plugins "${build}/*.so")
  if(NOT plugins)
    message(FATAL_ERROR "example ${name} built no .so file in ${build}")
  endif()
  file(COPY ${plugins} DESTINATION "${WORK}/plugins")
endforeach()
foreach(plugin audit.so nats.so odbc.so stdout.so)
  if(NOT EXISTS "${WORK}/plugins/${plugin}")
    message(FATAL_ERROR "the examples did not build ${plugin}")
  endif()
endforeach()
