# Provenance and locks (issue 10 items 1-2): stale inputs of every step, concurrent runs into one
# project. Need the shared fixtures.
set(_it ${CMAKE_CURRENT_LIST_DIR})
set(_scratch ${PROJECT_BINARY_DIR}/test_scratch/provenance)
set(_exe ${PROJECT_BINARY_DIR}/bin/gsmap-mpi)
if(EXISTS ${GSMAP_SHARED_DIR}/fixtures)
  add_test(NAME integration.stale_inputs
           COMMAND ${_it}/stale_inputs_test.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures ${_scratch}/stale)
  add_test(NAME integration.concurrent_runs
           COMMAND ${_it}/concurrent_runs_test.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures ${_scratch}/concurrent)
  # The lock-file fallback used where fcntl locks are unavailable (docs/troubleshooting.md).
  add_test(NAME integration.concurrent_runs.lock_files
           COMMAND ${_it}/concurrent_runs_test.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures
                   ${_scratch}/concurrent_files spatial-ldsc)
  set_tests_properties(integration.stale_inputs integration.concurrent_runs
                       integration.concurrent_runs.lock_files PROPERTIES
                       PROCESSORS 2 TIMEOUT 600 SKIP_RETURN_CODE 77 ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS "integration;mpi")
  set_tests_properties(integration.concurrent_runs.lock_files PROPERTIES
                       ENVIRONMENT "${GSMAP_TEST_ENV};GSMAP_LOCK_MODE=files")
endif()
