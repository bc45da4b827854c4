# The results report in headless Chromium, on the outputs of integration.demo (the README demo's
# quick-mode, which ends with the report). Skipped (77) only when Chromium is not installed.
set_tests_properties(integration.demo PROPERTIES FIXTURES_SETUP demo_outputs)
add_test(NAME integration.report_browser
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/report_test.sh ${PROJECT_BINARY_DIR}/bin/gsmap-mpi
                 ${PROJECT_BINARY_DIR}/test_scratch/fixtures/demo)
set_tests_properties(integration.report_browser PROPERTIES FIXTURES_REQUIRED demo_outputs
                     TIMEOUT 120 SKIP_RETURN_CODE 77 ENVIRONMENT "${GSMAP_TEST_ENV}"
                     LABELS integration)
