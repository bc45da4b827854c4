#pragma once
// The gsmap-mpi program: parse (cli/parse.hpp), initialise MPI and logging, print the banner on
// rank 0, run one subcommand, turn errors into messages and exit codes.
#include <string>

namespace gsmap::cli {

// Parses the command line, initialises MPI and logging, runs one subcommand; returns the exit code.
// A gsmap::Error on a rank prints "error: <message>" there and, with more than one rank, calls
// MPI_Abort(MPI_COMM_WORLD, code).
int run(int argc, char** argv);

// `gsmap-mpi --version`: version, git hash, CUDA/NCCL built in or not, the MPI library's version
// string and the HDF5 version. Needs no MPI_Init.
std::string version_text();

}  // namespace gsmap::cli
