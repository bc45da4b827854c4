# The ThreadSanitizer subsets, registered only in a -DGSMAP_SANITIZE=thread build (preset tsan):
#  * label tsan (scripts/sanitize.sh tsan, in .ci/run): the staged reader -> compute -> writer
#    pipeline of core (tests/unit/core/test_pipeline.cpp); needs only test_core built;
#  * label tsan-full (scripts/sanitize.sh tsan-full; builds every library, too long for CI's budget,
#    README "Testing"): the threaded neighbour search of gss, and quick-mode on fx2d with one rank,
#    which runs latent_to_gene's and spatial_ldsc's staged pipelines (2 compute workers each,
#    run_fixture.sh) and cauchy's per-trait threads, every output checked against expected/. The AddressSanitizer subset is the label unit plus the tests labelled asan in
# tests/integration/fixtures.cmake.
if(GSMAP_SANITIZE MATCHES "thread")
  add_test(NAME tsan.core.staged_pipeline
           COMMAND $<TARGET_FILE:test_core> --gtest_filter=StagedPipeline.*:PipelineShape.*:Throughput.*)
  add_test(NAME tsan.gss.neighbors
           COMMAND $<TARGET_FILE:test_gss> --gtest_filter=NeighborFixture*:SpatialCandidates.*:Spatial3D.*)
  set_tests_properties(tsan.core.staged_pipeline tsan.gss.neighbors PROPERTIES
                       TIMEOUT 600 ENVIRONMENT "${GSMAP_TEST_ENV}")
  set_tests_properties(tsan.core.staged_pipeline PROPERTIES LABELS tsan)
  set_tests_properties(tsan.gss.neighbors PROPERTIES LABELS tsan-full)
  if(TEST integration.fx2d.np1)
    set_property(TEST integration.fx2d.np1 APPEND PROPERTY LABELS tsan-full)
    set_property(TEST integration.fx2d.np1 PROPERTY TIMEOUT 900)
  endif()
endif()
