#pragma once
// Fault injection for the resume tests: when the environment variable GSMAP_KILL_AT names this
// point, the process kills itself with SIGKILL there (as `kill -9` would), so a test can stop a run
// at a precise stage and check that re-running the same command finishes it. Costs one getenv.
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace gsmap {

inline void kill_point(const char* name) {
  static const char* target = std::getenv("GSMAP_KILL_AT");
  if (target && std::strcmp(target, name) == 0) std::raise(SIGKILL);
}

}  // namespace gsmap
