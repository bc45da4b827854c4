# ParallelH5adWriter under mpirun: the collective write of 3 ranks (one of them without rows)
# equals the serial H5adWriter's file.
add_executable(test_h5ad_collective ${CMAKE_CURRENT_LIST_DIR}/h5ad_collective_main.cpp)
target_link_libraries(test_h5ad_collective PRIVATE gsmap_io gsmap_test_support GTest::gtest
                                                   gsmap_warnings)
add_test(NAME mpi.h5ad_collective.np3
         COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 3 --oversubscribe
                 $<TARGET_FILE:test_h5ad_collective>)
set_tests_properties(mpi.h5ad_collective.np3 PROPERTIES PROCESSORS 3 TIMEOUT 120
                     ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS mpi)
