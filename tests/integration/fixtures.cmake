# End-to-end tests on the shared fixtures (skipped when ../shared is absent): quick-mode under
# mpirun with 1-4 ranks against expected/ and against each other; spatial-ldsc from the expected
# GSS and from gsMap3D's own workdir.
set(_it ${CMAKE_CURRENT_LIST_DIR})
set(_scratch ${PROJECT_BINARY_DIR}/test_scratch/fixtures)
set(_exe ${PROJECT_BINARY_DIR}/bin/gsmap-mpi)
if(EXISTS ${GSMAP_SHARED_DIR}/fixtures)
  foreach(_fx fx2d fx3d fxgrid)
    foreach(_np 1 2 3 4)
      set(_name integration.${_fx}.np${_np})
      add_test(NAME ${_name} COMMAND ${_it}/fixture_test.sh ${_exe}
               ${GSMAP_SHARED_DIR}/fixtures/${_fx} ${_np} ${_scratch})
      set_tests_properties(${_name} PROPERTIES PROCESSORS ${_np} TIMEOUT 300
                           ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS "integration;mpi")
      # fx2d with 1 and 2 ranks is the integration subset of the asan preset (scripts/sanitize.sh).
      if(_fx STREQUAL "fx2d" AND _np LESS_EQUAL 2)
        set_property(TEST ${_name} APPEND PROPERTY LABELS asan)
      endif()
      if(_np EQUAL 1)
        set_tests_properties(${_name} PROPERTIES FIXTURES_SETUP ${_fx}_np1)
      else()
        set_tests_properties(${_name} PROPERTIES FIXTURES_REQUIRED ${_fx}_np1)
      endif()
    endforeach()
    add_test(NAME integration.${_fx}.ldsc_from_expected_gss
             COMMAND bash -c "${_it}/ldsc_from_expected.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures/${_fx} 2 ${_scratch}/lfe_${_fx} h5ad && /usr/bin/python3 ${_it}/fixture_check.py ldsc ${GSMAP_SHARED_DIR}/fixtures/${_fx} ${_scratch}/lfe_${_fx}/expected")
    set_tests_properties(integration.${_fx}.ldsc_from_expected_gss PROPERTIES PROCESSORS 2
                         TIMEOUT 300 ENVIRONMENT "${GSMAP_TEST_ENV}"
                         LABELS "integration;mpi")
  endforeach()
  add_test(NAME integration.fx2d.ldsc_from_gsmap3d_workdir
           COMMAND bash -c "${_it}/ldsc_from_expected.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures/fx2d 3 ${_scratch}/g3d gsmap3d && /usr/bin/python3 ${_it}/fixture_check.py ldsc ${GSMAP_SHARED_DIR}/fixtures/fx2d ${_scratch}/g3d/proj")
  set_tests_properties(integration.fx2d.ldsc_from_gsmap3d_workdir PROPERTIES PROCESSORS 3
                       TIMEOUT 300 ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS "integration;mpi")
endif()
if(EXISTS ${GSMAP_SHARED_DIR}/fixtures)
  add_test(NAME integration.fx2d.kill_and_resume
           COMMAND ${_it}/resume_test.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures/fx2d ${_scratch}/resume)
  set_tests_properties(integration.fx2d.kill_and_resume PROPERTIES PROCESSORS 2 TIMEOUT 600
                       SKIP_RETURN_CODE 77 ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS "integration;mpi")
endif()
if(EXISTS ${GSMAP_SHARED_DIR}/fixtures)
  add_test(NAME integration.mpi.bad_input_on_one_rank
           COMMAND ${_it}/bad_rank_test.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures/fxgrid ${_scratch}/badrank)
  add_test(NAME integration.mpi.unequal_cell_types_per_rank
           COMMAND ${_it}/unequal_types_test.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures/fx2d ${_scratch}/unequal)
  set_tests_properties(integration.mpi.bad_input_on_one_rank integration.mpi.unequal_cell_types_per_rank
                       PROPERTIES PROCESSORS 3 TIMEOUT 300 ENVIRONMENT "${GSMAP_TEST_ENV}"
                       LABELS "integration;mpi")
endif()
if(EXISTS ${GSMAP_SHARED_DIR}/fixtures)
  add_test(NAME integration.fx2d.atomic_outputs_and_names
           COMMAND ${_it}/trust_outputs_test.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures/fx2d ${_scratch}/trust)
  add_test(NAME integration.fx2d.disk_full_message
           COMMAND ${_it}/disk_full_test.sh ${_exe} ${GSMAP_SHARED_DIR}/fixtures/fx2d ${_scratch}/diskfull)
  set_tests_properties(integration.fx2d.atomic_outputs_and_names integration.fx2d.disk_full_message
                       PROPERTIES PROCESSORS 2 TIMEOUT 600 SKIP_RETURN_CODE 77
                       ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS "integration;mpi")
endif()
# Rank invariance on a shuffled input (docs/algorithms.md §5.1): 2-4 ranks against 1 rank.
if(EXISTS ${GSMAP_SHARED_DIR}/fixtures)
  foreach(_np 1 2 3 4)
    set(_name integration.fx2d_shuffled.np${_np})
    add_test(NAME ${_name} COMMAND ${_it}/shuffled_ranks_test.sh ${_exe}
             ${GSMAP_SHARED_DIR}/fixtures/fx2d ${_np} ${_scratch}/shuffled)
    set_tests_properties(${_name} PROPERTIES PROCESSORS ${_np} TIMEOUT 300
                         ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS "integration;mpi")
    if(_np EQUAL 1)
      set_tests_properties(${_name} PROPERTIES FIXTURES_SETUP fx2d_shuffled_np1)
    else()
      set_tests_properties(${_name} PROPERTIES FIXTURES_REQUIRED fx2d_shuffled_np1)
    endif()
  endforeach()
endif()
# The halo is the region's boundary: a shuffled simulated section at 4 ranks (needs no ../shared).
add_test(NAME integration.halo_bound COMMAND ${_it}/halo_bound_test.sh ${_exe} ${_scratch}/halo)
set_tests_properties(integration.halo_bound PROPERTIES PROCESSORS 4 TIMEOUT 300
                     ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS "integration;mpi")
# Structures over all cells stay within 32 bytes per cell on every rank, transient included.
add_test(NAME integration.cells_memory COMMAND ${_it}/cells_memory_test.sh ${_exe} ${_scratch}/cells_memory)
set_tests_properties(integration.cells_memory PROPERTIES PROCESSORS 4 TIMEOUT 300
                     ENVIRONMENT "${GSMAP_TEST_ENV}" LABELS "integration;mpi")
# The README demo needs nothing from ../shared.
add_test(NAME integration.demo COMMAND ${_it}/demo_test.sh ${_exe} ${_scratch}/demo)
set_tests_properties(integration.demo PROPERTIES PROCESSORS 2 TIMEOUT 300 ENVIRONMENT "${GSMAP_TEST_ENV}"
                     LABELS "integration;mpi;asan")
# cmake --install into a scratch prefix, the modulefile, and the demo quick-mode from there.
add_test(NAME integration.install COMMAND ${_it}/install_test.sh ${PROJECT_BINARY_DIR} ${_scratch}/install)
set_tests_properties(integration.install PROPERTIES TIMEOUT 300 ENVIRONMENT "${GSMAP_TEST_ENV}"
                     LABELS integration)
