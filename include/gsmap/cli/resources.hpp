#pragma once
// What each rank really has (cores, node, memory), the worker counts that follow from it, and the
// start/end lines of the log that describe it (docs/usage.md "Threads per rank", "The log").
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gsmap/cli/parse.hpp"

namespace gsmap::cli {

struct RankResources {
  std::string host;
  int hardware_threads = 1;     // of the node (std::thread::hardware_concurrency)
  int affinity_cpus = 1;        // CPUs in this rank's affinity mask (sched_getaffinity)
  int slurm_cpus_per_task = 0;  // SLURM_CPUS_PER_TASK, 0 when unset
  int local_ranks = 1;          // ranks of the job on this node
  int cores = 1;                // resolve_cores(...)
  std::int64_t mem_total = 0;      // bytes, /proc/meminfo MemTotal (0: unknown)
  std::int64_t mem_available = 0;  // bytes, MemAvailable
  int compute_threads = 0;         // busiest stage's compute workers, after the defaults
};

// The cores a rank may use: its affinity mask, at most SLURM_CPUS_PER_TASK, and, when the node's
// ranks are not bound apart (affinity x ranks on the node > hardware threads), its share of the
// node. At least 1.
int resolve_cores(int hardware_threads, int affinity_cpus, int slurm_cpus_per_task,
                  int local_ranks);
// Where the figure came from, for the banner ("affinity mask", "SLURM_CPUS_PER_TASK", ...).
std::string cores_source(int hardware_threads, int affinity_cpus, int slurm_cpus_per_task,
                         int local_ranks);

// Worker counts not given on the command line, from `cores` (docs/usage.md "Threads per rank"):
// latent to gene: readers and writers cores/4 (1-16, 1-4), compute workers = cores (1-16) on the
// CPU, 4 GPU streams when `gpu` (--use-gpu and a visible device); spatial LDSC: readers cores/8
// (1-10), compute = cores. Returns the compute workers of the busiest step the command runs.
int apply_worker_defaults(ParseResult& parsed, int cores, bool gpu);

// This rank's resources. Collective over `comm` (the node's rank count).
RankResources probe_resources(MPI_Comm comm);
// Every rank's record on rank 0 (others get an empty vector). Collective.
std::vector<RankResources> gather_resources(const RankResources& mine, MPI_Comm comm);

// Banner lines for rank 0: working directory, Slurm job, hosts with their ranks, memory per node.
std::vector<std::string> environment_lines(const std::vector<RankResources>& ranks);
// Oversubscription warnings: a node whose ranks' compute threads exceed its hardware threads, a
// rank with more compute workers than cores.
std::vector<std::string> oversubscription_warnings(const std::vector<RankResources>& ranks);

// The end-of-run lines (docs/usage.md "The log"): wall time, and per rank its CPU time and peak
// resident memory. Collective over `comm`; rank 0 logs.
void log_run_summary(double wall_seconds, MPI_Comm comm);

}  // namespace gsmap::cli
