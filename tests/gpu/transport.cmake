# device/transport.hpp and device/nccl.hpp (tests/gpu/test_transport.cpp) under mpirun. Without a
# GPU the device cases skip and the rule, the NCCL loading and host buffers through MPI are tested;
# gpu.transport.np1 is the one-GPU machine's NCCL test (a rank sending to itself), np2 puts two
# ranks on one GPU (the MPI path). NCCL is looked up as the program does; the two .nccl_* variants
# run with GSMAP_NCCL_LIBRARY=none and naming a missing file.
add_executable(test_transport ${CMAKE_CURRENT_LIST_DIR}/test_transport.cpp
                              ${PROJECT_SOURCE_DIR}/tests/mpi/mpi_gtest_main.cpp)
target_link_libraries(test_transport PRIVATE gsmap_device GTest::gtest gsmap_warnings)
foreach(_np 1 2)
  add_test(NAME gpu.transport.np${_np}
           COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${_np} --oversubscribe
                   $<TARGET_FILE:test_transport>)
  set_tests_properties(gpu.transport.np${_np} PROPERTIES PROCESSORS ${_np} TIMEOUT 120
                       ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS "gpu;mpi")
endforeach()
add_test(NAME gpu.transport.nccl_none
         COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 1 $<TARGET_FILE:test_transport>)
add_test(NAME gpu.transport.nccl_missing
         COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 1 $<TARGET_FILE:test_transport>)
set_tests_properties(gpu.transport.nccl_none PROPERTIES TIMEOUT 120 LABELS "gpu;mpi"
                     ENVIRONMENT "${GSMAP_TEST_ENV};GSMAP_NCCL_LIBRARY=none")
set_tests_properties(gpu.transport.nccl_missing PROPERTIES TIMEOUT 120 LABELS "gpu;mpi"
                     ENVIRONMENT "${GSMAP_TEST_ENV};GSMAP_NCCL_LIBRARY=/nonexistent/missing/libnccl.so.2")
