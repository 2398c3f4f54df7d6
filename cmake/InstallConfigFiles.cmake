# Install script (install(SCRIPT)): the example configs into <sysconfdir>/busbar and the systemd
# unit into <prefix>/lib/systemd/system, both for the prefix given at install time. Inputs, set
# by BusbarInstall.cmake: BUSBAR_CONFIG_FILES, BUSBAR_UNIT_TEMPLATE,
# BUSBAR_UNIT_WORK_DIR (a folder of the build tree), BUSBAR_INSTALL_BINDIR.
#
# <sysconfdir> follows GNUInstallDirs: /etc for the prefixes / and /usr, /etc/opt/<name> for
# /opt/<name>, else <prefix>/etc. The host's default --config follows the same rule.
set(busbar_prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "(.)/+$" "\\1" busbar_prefix "${busbar_prefix}")
if(busbar_prefix STREQUAL "/" OR busbar_prefix STREQUAL "/usr")
  set(busbar_sysconfdir "/etc")
elseif(busbar_prefix MATCHES "^/opt/")
  set(busbar_sysconfdir "/etc${busbar_prefix}")
else()
  set(busbar_sysconfdir "${busbar_prefix}/etc")
endif()

file(INSTALL ${BUSBAR_CONFIG_FILES} DESTINATION "${busbar_sysconfdir}/busbar"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

set(BUSBAR_EXECUTABLE "${busbar_prefix}/${BUSBAR_INSTALL_BINDIR}/busbar")
set(BUSBAR_CONFIG_FILE "${busbar_sysconfdir}/busbar/host.conf")
set(busbar_unit "${BUSBAR_UNIT_WORK_DIR}/busbar.service")
configure_file("${BUSBAR_UNIT_TEMPLATE}" "${busbar_unit}" @ONLY)
file(INSTALL "${busbar_unit}" DESTINATION "${busbar_prefix}/lib/systemd/system"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
