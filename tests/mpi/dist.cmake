# MPI unit tests of the dist module, run under mpirun with 1..4 ranks.
add_executable(test_dist_mpi ${CMAKE_CURRENT_LIST_DIR}/test_dist_mpi.cpp
                             ${CMAKE_CURRENT_LIST_DIR}/mpi_gtest_main.cpp)
target_link_libraries(test_dist_mpi PRIVATE gsmap_dist gsmap_test_support GTest::gtest)
foreach(_np 1 2 3 4)
  add_test(NAME mpi.dist.np${_np}
           COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${_np} --oversubscribe
                   $<TARGET_FILE:test_dist_mpi>)
  set_tests_properties(mpi.dist.np${_np} PROPERTIES PROCESSORS ${_np} TIMEOUT 120
                       ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS mpi)
endforeach()
