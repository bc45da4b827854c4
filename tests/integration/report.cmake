# The results report in headless Chromium, on the outputs of integration.demo (the README demo's
# quick-mode, which ends with the report). Skipped (77) only when Chromium is not installed.
set_tests_properties(integration.demo PROPERTIES FIXTURES_SETUP demo_outputs)
add_test(NAME integration.report_browser
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/report_test.sh ${PROJECT_BINARY_DIR}/bin/gsmap-mpi
                 ${PROJECT_BINARY_DIR}/test_scratch/fixtures/demo)
set_tests_properties(integration.report_browser PROPERTIES FIXTURES_REQUIRED demo_outputs
                     TIMEOUT 120 SKIP_RETURN_CODE 77 ENVIRONMENT "${GSMAP_TEST_ENV}"
                     LABELS integration)

# cairo is opened by the report's first image, not linked (src/report/raster.cpp): the executable
# does not need it, so the ranks of the other steps never load it. integration.demo (above) and
# test_report show that the report still draws with it; integration.bundle that it is packed.
add_test(NAME integration.cairo_opened_at_run_time
         COMMAND sh -c "readelf -d \"$0\" | grep NEEDED && ! readelf -d \"$0\" | grep -q 'NEEDED.*libcairo'"
                 ${PROJECT_BINARY_DIR}/bin/gsmap-mpi)
set_tests_properties(integration.cairo_opened_at_run_time PROPERTIES LABELS integration)

# Without a usable cairo the report fails clearly and leaves the previous report as it was: a
# libcairo.so.2 without cairo's functions (fake_cairo.cpp) first on the library path.
add_library(fake_cairo SHARED ${CMAKE_CURRENT_LIST_DIR}/fake_cairo.cpp)
set_target_properties(fake_cairo PROPERTIES OUTPUT_NAME cairo SOVERSION 2
                      LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/test_scratch/fake_cairo)
add_test(NAME integration.report_without_cairo
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/report_without_cairo_test.sh
                 ${PROJECT_BINARY_DIR}/bin/gsmap-mpi ${PROJECT_BINARY_DIR}/test_scratch/fixtures/demo
                 ${PROJECT_BINARY_DIR}/test_scratch/fake_cairo)
set_tests_properties(integration.report_without_cairo PROPERTIES FIXTURES_REQUIRED demo_outputs
                     TIMEOUT 120 ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS integration)
