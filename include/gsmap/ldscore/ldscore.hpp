#pragma once
// `gsmap-mpi ldscore-weight-matrix` (docs/ldscore.md): the whole computation over the ranks of a
// communicator. Collective.
#include <mpi.h>

#include "gsmap/ldscore/kernel.hpp"
#include "gsmap/ldscore/options.hpp"

namespace gsmap::ldscore {

// Summary of a finished run (rank 0's view; every rank returns the same numbers).
struct RunSummary {
  std::int64_t rows = 0, columns = 0, stored = 0;
  std::int64_t batches = 0;
};

// Reads every input and checks it before anything is written; writes
// <output-dir>/<output-filename>.h5ad (and .csv, w_ld files) atomically. Throws Error.
RunSummary run(const Options& options, MPI_Comm comm);

}  // namespace gsmap::ldscore
