#pragma once
// The per-rank memory line (docs/performance.md "Memory"): every rank's peak RSS and its parts from
// core::MemoryLedger, gathered to rank 0 and logged one line per rank:
//   "latent_to_gene: memory rank 1: peak RSS 0.16 GiB = log-rank block 0.04 + halo 0.03 + ..."
#include <mpi.h>

namespace gsmap::pipeline {

// Collective over `comm`.
void log_memory(const char* step, MPI_Comm comm);

}  // namespace gsmap::pipeline
