# The ThreadSanitizer subsets, registered only in a -DGSMAP_SANITIZE=thread build (preset tsan):
#  * label tsan (scripts/sanitize.sh tsan, in .ci/run): the staged reader -> compute -> writer
#    pipeline of core (tests/unit/core/test_pipeline.cpp); needs only test_core built;
#  * label tsan-full (scripts/sanitize.sh tsan-full; builds every library, too long for CI's budget,
#    README "Testing"): quick-mode on fx2d with one rank,
#    which runs latent_to_gene's and spatial_ldsc's staged pipelines (2 compute workers each,
#    run_fixture.sh) and cauchy's per-trait threads, every output checked against expected/. The AddressSanitizer subset is the label unit plus the tests labelled asan in
# tests/integration/fixtures.cmake.
if(GSMAP_SANITIZE MATCHES "thread")
  add_test(NAME tsan.core.staged_pipeline
           COMMAND $<TARGET_FILE:test_core> --gtest_filter=StagedPipeline.*:PipelineShape.*:Throughput.*)
  set_tests_properties(tsan.core.staged_pipeline PROPERTIES
                       TIMEOUT 600 LABELS tsan ENVIRONMENT "${GSMAP_TEST_ENV}")
  # Not here: test_gss's neighbour tests. Debian's libtbb is not instrumented, so TSan does not see
  # the acquire with which tbb::parallel_for's caller waits for the workers, and reports a race
  # between a worker's read of the loop body (on the caller's stack) and the caller's next use of
  # that stack (SpatialCandidates.TiesOnALatticeMatchBruteForce, src/gss/neighbors.cpp:497 vs :103).
  # A suppression wide enough for it (every frame in oneapi/tbb/parallel_for.h) would hide real
  # races in every parallel_for body, so there is none; see tests/sanitizers/tsan.supp.
  if(TEST integration.fx2d.np1)
    set_property(TEST integration.fx2d.np1 APPEND PROPERTY LABELS tsan-full)
    set_property(TEST integration.fx2d.np1 PROPERTY TIMEOUT 900)
  endif()
endif()
