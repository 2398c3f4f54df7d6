# FindLlhttp: llhttp, the HTTP/1.x parser of Node.js, as Debian ships it (node-llhttp): C sources
# and a header under /usr/share, to be compiled into the program that uses them.
#
# Defines llhttp::llhttp, a static library, and Llhttp_FOUND.
find_path(LLHTTP_INCLUDE_DIR llhttp.h PATHS /usr/share/include/llhttp)
find_path(LLHTTP_SOURCE_DIR llhttp.c PATHS /usr/share/llhttp)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Llhttp
  REQUIRED_VARS LLHTTP_INCLUDE_DIR LLHTTP_SOURCE_DIR
  REASON_FAILURE_MESSAGE "install Debian's node-llhttp (scripts/install-deps does)")

if(Llhttp_FOUND AND NOT TARGET llhttp::llhttp)
  add_library(busbar_llhttp STATIC
    ${LLHTTP_SOURCE_DIR}/llhttp.c ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c)
  target_include_directories(busbar_llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
  # Its sources define the same static callbacks each: never one unity source.
  set_target_properties(busbar_llhttp PROPERTIES C_STANDARD 99 POSITION_INDEPENDENT_CODE ON
                                                 UNITY_BUILD OFF)
  # Generated code: its warnings are not ours to fix.
  target_compile_options(busbar_llhttp PRIVATE -w)
  add_library(llhttp::llhttp ALIAS busbar_llhttp)
endif()
