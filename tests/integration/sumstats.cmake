# format-sumstats (docs/sumstats.md): test_sumstats also runs the built gsmap-mpi (1 and 2 ranks)
# and reads its output with spatial LDSC's reader (gsmap_io).
if(TARGET test_sumstats)
  add_dependencies(test_sumstats gsmap-mpi)
endif()
add_test(NAME corpus_format_sumstats
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/corpus/format_sumstats.sh ${PROJECT_BINARY_DIR}/bin/gsmap-mpi
                 ${PROJECT_BINARY_DIR}/test_scratch/corpus/format_sumstats)
set_tests_properties(corpus_format_sumstats PROPERTIES PROCESSORS 2 TIMEOUT 300
                     LABELS "integration;mpi;corpus" ENVIRONMENT "${GSMAP_TEST_ENV}")
