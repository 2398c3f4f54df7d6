# CPack: a Debian package of everything cmake --install puts, for the prefix /usr:
#   cpack --config <build>/CPackConfig.cmake -G DEB   ->  busbar_<version>_<arch>.deb
# The configs land in /etc/busbar (conffiles), the unit in /usr/lib/systemd/system; the
# maintainer scripts in packaging/ create the system user busbar and /var/lib/busbar.
set(CPACK_PACKAGE_NAME busbar)
set(CPACK_PACKAGE_VENDOR "busbar")
set(CPACK_PACKAGE_CONTACT "busbar maintainers <busbar@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
    "A C++17 HTTP host that loads transport, storage and domain-module plugins through a "
    "versioned ABI. Ships the host, the bundled plugins (local, amqp, sqlite, mysql, postgresql, "
    "users), the plugin SDK headers and CMake package, example configs and a systemd unit.")
set(CPACK_GENERATOR DEB)
# DESTDIR staging with the prefix /usr, so that the install script can put the configs in /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: computed by dpkg-shlibdeps (package dpkg-dev) when it is installed, else the Debian 12
# libraries the host and the enabled plugins link.
find_program(BUSBAR_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(BUSBAR_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
else()
  set(busbar_depends adduser libc6 libstdc++6 libgcc-s1 libboost-filesystem1.74.0
      libpocofoundation80 libpoconet80 libpocoutil80 libpocojson80 libpocodata80
      libpocodatasqlite80 libsqlite3-0)
  if(BUSBAR_WITH_AMQP)
    list(APPEND busbar_depends librabbitmq4)
  endif()
  if(BUSBAR_WITH_MYSQL)
    list(APPEND busbar_depends libpocodatamysql80 libmariadb3)
  endif()
  if(BUSBAR_WITH_POSTGRESQL)
    list(APPEND busbar_depends libpocodatapostgresql80 libpq5)
  endif()
  list(JOIN busbar_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "rabbitmq-server, libboost-dev, libpoco-dev, cmake, g++")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/postinst
    ${PROJECT_SOURCE_DIR}/packaging/prerm
    ${PROJECT_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
