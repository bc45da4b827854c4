#include "gsmap/cli/commands.hpp"

#include <cstdio>
#include <cstring>

#include "gsmap/version.hpp"

namespace gsmap::cli {
int run(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("gsmap-mpi %s (%s)\n", kVersion, kGitHash);
    return 0;
  }
  std::fprintf(stderr, "usage: gsmap-mpi <subcommand> [options]\n");
  return 2;
}
}  // namespace gsmap::cli
