# busbar_discover_tests(TARGET "LABEL;LABEL..." [gtest_discover_tests options...]):
# gtest_discover_tests with more than one label. gtest_discover_tests writes each value of its
# PROPERTIES into the file it generates unquoted, so a list ("storage;unit") reaches ctest as its
# first element alone, and `ctest -L unit` would not select those tests. The labels are set instead
# by a file of this folder that ctest reads after the discovered tests, from their list.
function(busbar_discover_tests target labels)
  set(list_name ${target}_discovered)
  gtest_discover_tests(${target} ${ARGN} TEST_LIST ${list_name})
  set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
  file(WRITE ${labels_file}
    "if(${list_name})\n"
    "  set_tests_properties(\${${list_name}} PROPERTIES LABELS [==[${labels}]==])\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
endfunction()
