#!/usr/bin/env bash
# Builds a sanitizer preset of CMakePresets.json (CPU only; asan at -O0 -g1, tsan at -O1 -g1) and runs its test subset,
# selected by CTest label:
#   scripts/sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer (UBSan fatal):
#                              every test labelled unit (test_core ... test_sim) and the
#                              integration tests labelled asan (quick-mode on fx2d with 1 and 2
#                              ranks under mpirun, the README demo with 2 ranks)
#   scripts/sanitize.sh tsan   ThreadSanitizer: the tests labelled tsan (the staged pipeline of
#                              core; builds test_core only)
#   scripts/sanitize.sh tsan-full  ThreadSanitizer: also the labels tsan-full (quick-mode on fx2d
#                              with 1 rank; builds everything)
# Only the targets the subset needs are built (the build presets list them), into build-<preset>,
# through ccache when installed. Runtime options and the suppressions of third-party reports
# (Open MPI, HDF5, TBB) come from tests/sanitizers/ via the tests' environment
# (tests/CMakeLists.txt). Extra arguments go to ctest (e.g. -R StagedPipeline).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-}
case "$preset" in
  asan|tsan|tsan-full) shift ;;
  *) echo "usage: scripts/sanitize.sh asan|tsan|tsan-full [ctest arguments]" >&2; exit 2 ;;
esac
configure=${preset%-full}
jobs=$(nproc 2>/dev/null || echo 2)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# The sanitizers' runtime options, as tests/CMakeLists.txt sets them on the integration tests; the
# GoogleTest cases discovered by gtest_discover_tests take them from here (its PROPERTIES cannot
# carry a list-valued ENVIRONMENT), and mpirun passes them on to the ranks.
supp=$PWD/tests/sanitizers
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=0:check_initialization_order=1:strict_init_order=1:detect_odr_violation=1
export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp
cmake --preset "$configure"
cmake --build --preset "$preset" -j"$jobs"
ctest --preset "$preset" -j"$jobs" "$@"
