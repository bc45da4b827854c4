# ldscore-weight-matrix (docs/ldscore.md): the unit tests load the matrix as spatial-LDSC
# resources, so test_ldscore links the ldsc module too. The rank test runs the real chromosome-22
# panel on 1, 2 and 3 ranks (and 1 vs 2 threads) and a synthetic 22-chromosome panel on 1-4 ranks,
# and compares the outputs; the corpus gives bad
# inputs and checks the errors.
if(TARGET test_ldscore)
  target_link_libraries(test_ldscore PRIVATE gsmap_ldsc)
endif()
# With the benchmarks built, a synthetic 22-chromosome panel from bench/ldscore_panel on 1-4 ranks too.
set(_ldscore_panel "")
if(GSMAP_BUILD_BENCH)
  set(_ldscore_panel $<TARGET_FILE:ldscore_panel>)
endif()
add_test(NAME ldscore_ranks_identical
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/ldscore_ranks_test.sh ${PROJECT_BINARY_DIR}/bin/gsmap-mpi
                 ${GSMAP_SHARED_DIR}/data/real/plink ${PROJECT_BINARY_DIR}/test_scratch/ldscore_ranks
                 ${_ldscore_panel})
set_tests_properties(ldscore_ranks_identical PROPERTIES PROCESSORS 2 TIMEOUT 180
                     LABELS "integration;mpi" ENVIRONMENT "${GSMAP_TEST_ENV}" SKIP_RETURN_CODE 77)
# Memory per rank bounded by its window: one chromosome over 3 ranks, the logged variants held per
# rank against rows + 2 x window; 1 rank == 3 ranks for every window path and mapping.
add_test(NAME ldscore_window_bound
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/ldscore_window_test.sh ${PROJECT_BINARY_DIR}/bin/gsmap-mpi
                 ${PROJECT_BINARY_DIR}/test_scratch/ldscore_window)
set_tests_properties(ldscore_window_bound PROPERTIES PROCESSORS 2 TIMEOUT 120
                     LABELS "integration;mpi" ENVIRONMENT "${GSMAP_TEST_ENV}")
add_test(NAME corpus_ldscore
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/corpus/ldscore.sh ${PROJECT_BINARY_DIR}/bin/gsmap-mpi
                 ${PROJECT_BINARY_DIR}/test_scratch/corpus/ldscore)
set_tests_properties(corpus_ldscore PROPERTIES PROCESSORS 2 TIMEOUT 300
                     LABELS "integration;mpi;corpus" ENVIRONMENT "${GSMAP_TEST_ENV}")
