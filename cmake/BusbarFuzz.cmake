# busbar_fuzz_target(NAME SOURCE LIBRARIES...): the fuzz target NAME_fuzz, whose
# LLVMFuzzerTestOneInput is in SOURCE. With BUSBAR_FUZZ (the `fuzz` preset: clang) it is a
# libFuzzer binary that scripts/fuzz runs; otherwise it is linked with fuzz/standalone_main.cpp and
# replays fuzz/corpus/NAME as the test fuzz_corpus.NAME (label fuzz).
option(BUSBAR_FUZZ "Build the fuzz targets with libFuzzer (clang only)" OFF)
if(NOT TARGET busbar_fuzz_targets)
  add_custom_target(busbar_fuzz_targets)
endif()

function(busbar_fuzz_target name source)
  add_executable(${name}_fuzz ${source})
  target_link_libraries(${name}_fuzz PRIVATE ${ARGN})
  add_dependencies(busbar_fuzz_targets ${name}_fuzz)
  if(BUSBAR_FUZZ)
    target_link_options(${name}_fuzz PRIVATE -fsanitize=fuzzer)
  else()
    target_sources(${name}_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/fuzz/standalone_main.cpp)
    if(BUSBAR_BUILD_TESTS)
      add_test(NAME fuzz_corpus.${name}
               COMMAND ${name}_fuzz ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
      set_tests_properties(fuzz_corpus.${name} PROPERTIES LABELS fuzz)
    endif()
  endif()
endfunction()
