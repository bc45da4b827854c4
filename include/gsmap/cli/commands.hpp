#pragma once
namespace gsmap::cli {
// Parses the command line, initialises MPI and logging, runs one subcommand; returns the exit code.
int run(int argc, char** argv);
}  // namespace gsmap::cli
