# Install rules of busbar, included at the end of the top-level CMakeLists.txt.
#
# cmake --install <build> [--prefix P] puts:
#   P/bin/busbar                               the host
#   P/lib/busbar/plugins/*.so                  the bundled plugins (busbar_add_plugin)
#   P/include/busbar/*.h                       the SDK headers (sdk/CMakeLists.txt)
#   P/lib/cmake/Busbar/                        the CMake package: find_package(Busbar 1.0)
#   <sysconfdir>/busbar/host*.conf             the example configs (InstallConfigFiles.cmake)
#   P/lib/systemd/system/busbar.service        the systemd unit, for P/bin/busbar
#   P/share/doc/busbar/                        docs/plugins.md, docs/operations.md, the example
#                                              plugins and Prometheus alerting rules
# <sysconfdir> is /etc for the prefixes / and /usr, /etc/opt/<name> for /opt/<name>, else P/etc,
# as in GNUInstallDirs; the host looks for its default config at the same place.

# The plugin ABI, from the SDK header: the version of the CMake package.
file(STRINGS ${PROJECT_SOURCE_DIR}/sdk/include/busbar/abi.h busbar_abi_lines
     REGEX "^#define BUSBAR_ABI_(MAJOR|MINOR) [0-9]+$")
foreach(line ${busbar_abi_lines})
  string(REGEX MATCH "BUSBAR_ABI_(MAJOR|MINOR) ([0-9]+)" _ "${line}")
  set(BUSBAR_ABI_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
endforeach()
if(NOT DEFINED BUSBAR_ABI_MAJOR OR NOT DEFINED BUSBAR_ABI_MINOR)
  message(FATAL_ERROR "cannot read BUSBAR_ABI_MAJOR and BUSBAR_ABI_MINOR from sdk/include/busbar/abi.h")
endif()

# What the build signature holds, for BusbarConfig.cmake to refuse a project that differs.
string(REGEX MATCH "^[0-9]+\\.[0-9]+" busbar_compiler_major_minor "${CMAKE_CXX_COMPILER_VERSION}")
string(REGEX MATCH "^[0-9]+\\.[0-9]+" busbar_poco_major_minor "${Poco_VERSION}")

# The options of this build that its signature records (sanitizers with their settings,
# libstdc++'s debug modes, no exceptions, no RTTI: abi.h): busbar_add_plugin gives them to plugins
# built against the installed SDK, whose signature then matches this host's. Read from
# CMAKE_CXX_FLAGS and the build type's flags (-D NAME and -Wp,-DNAME spellings too); definitions
# made with add_compile_definitions are not seen. A sanitizer's file options (an ignore list)
# name a file of this machine and stay here.
string(TOUPPER "${CMAKE_BUILD_TYPE}" busbar_build_type)
separate_arguments(busbar_cxx_flags UNIX_COMMAND
                   "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${busbar_build_type}}")
set(BUSBAR_SIGNATURE_OPTIONS)
set(busbar_previous_flag "")
foreach(flag IN LISTS busbar_cxx_flags)
  if(busbar_previous_flag STREQUAL "-D")
    set(flag "-D${flag}")
  endif()
  set(busbar_previous_flag "${flag}")
  string(REGEX REPLACE "^-Wp,-D" "-D" flag "${flag}")
  if(flag MATCHES "^-fsanitize-(ignorelist|blacklist)=")
    continue()
  endif()
  if(flag MATCHES "^-f(no-)?sanitize|^-D_GLIBCXX_(DEBUG|ASSERTIONS)(=.*)?$|^-fno-(exceptions|rtti)$")
    list(APPEND BUSBAR_SIGNATURE_OPTIONS ${flag})
  endif()
endforeach()

# Busbar::sdk: the headers include Boost's version header, so the target carries Boost's headers.
target_link_libraries(busbar_sdk INTERFACE Boost::headers)
set_target_properties(busbar_sdk PROPERTIES EXPORT_NAME sdk)
install(TARGETS busbar_sdk EXPORT BusbarTargets)

set(busbar_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/Busbar)
install(EXPORT BusbarTargets NAMESPACE Busbar:: DESTINATION ${busbar_cmake_dir})
include(CMakePackageConfigHelpers)
configure_package_config_file(cmake/BusbarConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/BusbarConfig.cmake
  INSTALL_DESTINATION ${busbar_cmake_dir})
configure_file(cmake/BusbarConfigVersion.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/BusbarConfigVersion.cmake @ONLY)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/BusbarConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/BusbarConfigVersion.cmake
  cmake/BusbarPlugin.cmake
  DESTINATION ${busbar_cmake_dir})

# The configs: the installed host.conf keeps its SQLite file in <localstatedir>/lib/busbar
# (/var/lib/busbar for the package, the systemd unit's StateDirectory).
file(READ etc/host.conf busbar_host_conf)
string(REPLACE "sqlite.path = ../var/busbar.db" "sqlite.path = ../../var/lib/busbar/busbar.db"
       busbar_host_conf "${busbar_host_conf}")
file(WRITE ${PROJECT_BINARY_DIR}/packaging/etc/host.conf "${busbar_host_conf}")
file(READ etc/host.amqp.conf busbar_host_conf)
string(REPLACE "sqlite.path = ../var/busbar.db" "sqlite.path = ../../var/lib/busbar/busbar.db"
       busbar_host_conf "${busbar_host_conf}")
file(WRITE ${PROJECT_BINARY_DIR}/packaging/etc/host.amqp.conf "${busbar_host_conf}")
install(CODE "set(BUSBAR_CONFIG_FILES
  \"${PROJECT_BINARY_DIR}/packaging/etc/host.conf\"
  \"${PROJECT_BINARY_DIR}/packaging/etc/host.amqp.conf\"
  \"${PROJECT_SOURCE_DIR}/etc/host.mysql.conf\"
  \"${PROJECT_SOURCE_DIR}/etc/host.postgresql.conf\")
set(BUSBAR_UNIT_TEMPLATE \"${PROJECT_SOURCE_DIR}/packaging/busbar.service.in\")
set(BUSBAR_UNIT_WORK_DIR \"${PROJECT_BINARY_DIR}/packaging\")
set(BUSBAR_INSTALL_BINDIR \"${CMAKE_INSTALL_BINDIR}\")")
install(SCRIPT cmake/InstallConfigFiles.cmake)

install(FILES docs/plugins.md docs/operations.md etc/prometheus/busbar-rules.yml
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
