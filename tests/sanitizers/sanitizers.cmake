# The ThreadSanitizer subset (label tsan, scripts/sanitize.sh tsan), registered only in a
# -DGSMAP_SANITIZE=thread build (preset tsan): the staged reader -> compute -> writer pipeline of
# core (tests/unit/core/test_pipeline.cpp), the threaded neighbour search of gss, and quick-mode on
# fx2d with one rank, which runs latent_to_gene's and spatial_ldsc's staged pipelines (2 compute
# workers each, run_fixture.sh), cauchy's per-trait threads and checks every output against
# expected/. The AddressSanitizer subset is the label unit plus the tests labelled asan in
# tests/integration/fixtures.cmake.
if(GSMAP_SANITIZE MATCHES "thread")
  add_test(NAME tsan.core.staged_pipeline
           COMMAND $<TARGET_FILE:test_core> --gtest_filter=StagedPipeline.*:PipelineShape.*:Throughput.*)
  add_test(NAME tsan.gss.neighbors
           COMMAND $<TARGET_FILE:test_gss> --gtest_filter=NeighborFixture*:SpatialCandidates.*:Spatial3D.*)
  set_tests_properties(tsan.core.staged_pipeline tsan.gss.neighbors PROPERTIES
                       TIMEOUT 600 LABELS tsan ENVIRONMENT "${GSMAP_TEST_ENV}")
  if(TEST integration.fx2d.np1)
    set_property(TEST integration.fx2d.np1 APPEND PROPERTY LABELS tsan)
    set_property(TEST integration.fx2d.np1 PROPERTY TIMEOUT 900)
  endif()
endif()
