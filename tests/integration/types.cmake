# Outputs that keep the input's types, CSV by RFC 4180, results h5ad accumulation and the
# trait-array flow (docs/formats.md "Types kept", "CSV", "<project>_results.h5ad"; docs/usage.md
# "One job per trait"). Need the shared fixtures and Debian's python3-anndata.
set(_it ${CMAKE_CURRENT_LIST_DIR})
set(_scratch ${PROJECT_BINARY_DIR}/test_scratch/types)
set(_exe ${PROJECT_BINARY_DIR}/bin/gsmap-mpi)
if(EXISTS ${GSMAP_SHARED_DIR}/fixtures)
  add_test(NAME integration.types_csv
           COMMAND ${_it}/types_csv_test.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures ${_scratch}/types_csv)
  # latent-to-gene once for the two results-h5ad tests (a CTest fixture).
  foreach(_mode setup accumulate trait-array)
    add_test(NAME integration.results_h5ad.${_mode}
             COMMAND ${_it}/results_accumulate_test.sh ${_mode} ${_exe} ${GSMAP_SHARED_DIR}/fixtures
                     ${_scratch}/results_h5ad)
  endforeach()
  set_tests_properties(integration.results_h5ad.setup PROPERTIES FIXTURES_SETUP results_h5ad_l2g)
  set_tests_properties(integration.results_h5ad.accumulate integration.results_h5ad.trait-array
                       PROPERTIES FIXTURES_REQUIRED results_h5ad_l2g)
  set_tests_properties(integration.types_csv integration.results_h5ad.setup
                       integration.results_h5ad.accumulate integration.results_h5ad.trait-array
                       PROPERTIES PROCESSORS 2 TIMEOUT 300 ENVIRONMENT "${GSMAP_TEST_ENV}"
                       LABELS "integration;mpi")
endif()
