# The Slurm template test (label slurm): slurm/cpu.sbatch on the demo data on a single-node Slurm
# that tests/slurm/slurm_test.sh starts on localhost. It needs root and scripts/install-deps.sh
# --slurm, rewrites /etc/slurm/slurm.conf and starts daemons, so it is disabled unless configured
# with -DGSMAP_TEST_SLURM=ON (.ci/run does: ctest -L slurm).
option(GSMAP_TEST_SLURM "Register the Slurm template test as runnable (needs root and Slurm)" OFF)
add_test(NAME slurm.cpu_template COMMAND ${CMAKE_CURRENT_LIST_DIR}/slurm_test.sh ${PROJECT_BINARY_DIR})
set_tests_properties(slurm.cpu_template PROPERTIES LABELS slurm TIMEOUT 900 RUN_SERIAL ON
                     ENVIRONMENT "${GSMAP_TEST_ENV}")
if(NOT GSMAP_TEST_SLURM)
  set_tests_properties(slurm.cpu_template PROPERTIES DISABLED ON)
endif()
