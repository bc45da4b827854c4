// gsmap-mpi: main only dispatches to the subcommand (cli/commands.hpp).
#include "gsmap/cli/commands.hpp"

int main(int argc, char** argv) { return gsmap::cli::run(argc, argv); }
