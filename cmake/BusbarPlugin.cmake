# busbar_add_plugin(NAME SOURCES...): a plugin shared object named NAME.so, hidden visibility,
# built into <build>/lib/busbar/plugins and installed into lib/busbar/plugins.
function(busbar_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${BUSBAR_PLUGIN_OUTPUT_DIR})
  target_link_libraries(${name} PRIVATE busbar::sdk)
  install(TARGETS ${name} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/busbar/plugins)
endfunction()
