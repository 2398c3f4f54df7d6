# cmake -DBUILD_DIR=<build> -DPREFIX=<prefix> -P install_prefix.cmake
# A fresh cmake --install of the build into PREFIX, the installation the install tests share.
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                OUTPUT_QUIET RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${result}):\n"
                      "${errors}")
endif()
foreach(file bin/busbar bin/busbar-conformance include/busbar/sdk_digest.h
             include/busbar/event_log_storage.h lib/busbar/plugins/local.so lib/busbar/plugins/sqlite.so
             lib/busbar/plugins/users.so include/busbar/plugin.h
             lib/cmake/Busbar/BusbarConfig.cmake lib/cmake/Busbar/BusbarConfigVersion.cmake
             lib/cmake/Busbar/BusbarTargets.cmake lib/cmake/Busbar/BusbarPlugin.cmake
             etc/busbar/host.conf lib/systemd/system/busbar.service)
  if(NOT EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "cmake --install did not install ${PREFIX}/${file}")
  endif()
endforeach()
file(READ "${PREFIX}/lib/systemd/system/busbar.service" unit)
if(NOT unit MATCHES "ExecStart=${PREFIX}/bin/busbar --config ${PREFIX}/etc/busbar/host.conf")
  message(FATAL_ERROR "the installed unit does not start ${PREFIX}/bin/busbar:\n${unit}")
endif()
