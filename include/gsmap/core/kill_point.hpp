#pragma once
// Fault injection for the resume tests: when the environment variable GSMAP_KILL_AT names this
// point, the process kills itself with SIGKILL there (as `kill -9` would), so a test can stop a run
// at a precise stage and check that re-running the same command finishes it. Costs one getenv.
// Compiled in only with the CMake option GSMAP_TEST_HOOKS (scripts/test.sh turns it on); in every
// other build kill_point() is empty and GSMAP_KILL_AT is ignored (`gsmap-mpi --version` says
// "test hooks: off").
// GSMAP_PAUSE_AT=<point> (same builds only) makes the process sleep GSMAP_PAUSE_SECONDS (default 5)
// the first time it passes that point: the concurrent-runs test holds a run inside its write phase
// this way, however fast the computation is.
#ifdef GSMAP_TEST_HOOKS
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>
#endif

namespace gsmap {

#ifdef GSMAP_TEST_HOOKS
inline void kill_point(const char* name) {
  static const char* target = std::getenv("GSMAP_KILL_AT");
  if (target && std::strcmp(target, name) == 0) std::raise(SIGKILL);
  static const char* pause = std::getenv("GSMAP_PAUSE_AT");
  static std::atomic<bool> paused{false};
  if (pause && std::strcmp(pause, name) == 0 && !paused.exchange(true)) {
    const char* secs = std::getenv("GSMAP_PAUSE_SECONDS");
    std::this_thread::sleep_for(std::chrono::duration<double>(secs ? std::atof(secs) : 5.0));
  }
}
#else
inline void kill_point(const char* /*name*/) {}
#endif

}  // namespace gsmap
