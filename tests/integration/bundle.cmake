# The relocatable bundle (scripts/bundle.sh): made from this build, moved, run with 2 ranks under
# LD_DEBUG=libs (tests/integration/bundle_test.sh). Needs the CUDA backend (CI builds it wherever
# nvcc is installed); skips otherwise. `ctest -L bundle`.
add_test(NAME integration.bundle
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/bundle_test.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}
                 ${PROJECT_BINARY_DIR}/test_scratch/bundle)
set_tests_properties(integration.bundle PROPERTIES PROCESSORS 2 TIMEOUT 600 SKIP_RETURN_CODE 77
                     LABELS "integration;mpi;bundle")
