#pragma once
// Fault injection for the resume tests: when the environment variable GSMAP_KILL_AT names this
// point, the process kills itself with SIGKILL there (as `kill -9` would), so a test can stop a run
// at a precise stage and check that re-running the same command finishes it. Costs one getenv.
// Compiled in only with the CMake option GSMAP_TEST_HOOKS (scripts/test.sh turns it on); in every
// other build kill_point() is empty and GSMAP_KILL_AT is ignored (`gsmap-mpi --version` says
// "test hooks: off").
#ifdef GSMAP_TEST_HOOKS
#include <csignal>
#include <cstdlib>
#include <cstring>
#endif

namespace gsmap {

#ifdef GSMAP_TEST_HOOKS
inline void kill_point(const char* name) {
  static const char* target = std::getenv("GSMAP_KILL_AT");
  if (target && std::strcmp(target, name) == 0) std::raise(SIGKILL);
}
#else
inline void kill_point(const char* /*name*/) {}
#endif

}  // namespace gsmap
