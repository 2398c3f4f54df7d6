# busbar_add_plugin(NAME [SOURCES] source...): a plugin shared object NAME.so with hidden
# visibility, the C++ standard of the host and the options its build signature records (they must
# match), built into BUSBAR_PLUGIN_OUTPUT_DIR when set (the host's build tree sets it) and
# installed into BUSBAR_PLUGIN_INSTALL_DIR (lib/busbar/plugins) of CMAKE_INSTALL_PREFIX.
#
# Used in the source tree and, installed, by BusbarConfig.cmake for plugins built elsewhere.
if(NOT DEFINED BUSBAR_PLUGIN_INSTALL_DIR)
  set(BUSBAR_PLUGIN_INSTALL_DIR lib/busbar/plugins)
endif()

function(busbar_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES")
  set(sources ${arg_SOURCES} ${arg_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "busbar_add_plugin(${name}): no sources; "
                        "use busbar_add_plugin(${name} SOURCES file.cpp ...)")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_-]+$")
    message(FATAL_ERROR "busbar_add_plugin(${name}): a plugin name is [A-Za-z0-9_-]+, "
                        "the name host.conf uses and BUSBAR_PLUGIN declares")
  endif()
  add_library(${name} MODULE ${sources})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    OUTPUT_NAME ${name}
    CXX_STANDARD 17
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED BUSBAR_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${BUSBAR_PLUGIN_OUTPUT_DIR})
  endif()
  if(TARGET busbar::sdk)
    target_link_libraries(${name} PRIVATE busbar::sdk)
  else()
    target_link_libraries(${name} PRIVATE Busbar::sdk)
  endif()
  # Installed, the options the host's build signature records (BusbarConfig.cmake); in the source
  # tree the plugin already shares the host's flags.
  if(Busbar_SIGNATURE_OPTIONS)
    target_compile_options(${name} PRIVATE ${Busbar_SIGNATURE_OPTIONS})
    foreach(option IN LISTS Busbar_SIGNATURE_OPTIONS)
      if(option MATCHES "^-fsanitize=")
        target_link_options(${name} PRIVATE ${option})
      endif()
    endforeach()
  endif()
  install(TARGETS ${name} LIBRARY DESTINATION ${BUSBAR_PLUGIN_INSTALL_DIR})
endfunction()
