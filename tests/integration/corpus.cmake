# The bad-input corpus (tests/integration/corpus/*.sh, docs/troubleshooting.md): one driver per
# category; each simulates one small data set, builds the bad inputs from it and runs the real
# command under mpirun -np 2. `ctest -L corpus` or `ctest -R corpus_` runs them.
set(_corpus_exe ${PROJECT_BINARY_DIR}/bin/gsmap-mpi)
foreach(_category sumstats weights w_ld expression yaml cauchy)
  add_test(NAME corpus_${_category}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/corpus/${_category}.sh ${_corpus_exe}
                   ${PROJECT_BINARY_DIR}/test_scratch/corpus/${_category})
  set_tests_properties(corpus_${_category} PROPERTIES PROCESSORS 2 TIMEOUT 300 LABELS "integration;mpi;corpus"
                       ENVIRONMENT "${GSMAP_TEST_ENV}")
endforeach()
