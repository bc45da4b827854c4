# Documentation checks: docs/*.md against the built gsmap-mpi's --help and scripts/demo.sh.
set(_docs_check ${CMAKE_CURRENT_LIST_DIR}/docs_check.py)
add_test(NAME docs.every_option_documented
         COMMAND /usr/bin/python3 ${_docs_check} options ${PROJECT_BINARY_DIR}/bin/gsmap-mpi
                 ${PROJECT_SOURCE_DIR}/docs)
add_test(NAME docs.demo_commands_match
         COMMAND /usr/bin/python3 ${_docs_check} demo-commands ${PROJECT_BINARY_DIR}/bin/gsmap-mpi
                 ${PROJECT_SOURCE_DIR}/docs ${PROJECT_SOURCE_DIR}/scripts/demo.sh)
set_tests_properties(docs.every_option_documented docs.demo_commands_match PROPERTIES
                     TIMEOUT 60 ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS integration)
