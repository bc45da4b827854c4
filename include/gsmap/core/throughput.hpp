#pragma once
// Throughput of a staged pipeline run and the seed's "Pipeline Summary" table
// (docs/scalability.md, docs/algorithms.md §4.7): per component the mean
// processing time of one batch gives the per-worker throughput (batches/s); times the nominal batch
// size and the worker count it gives the component's total throughput (cells/s). The component with
// the lowest total throughput is the bottleneck.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gsmap::core {

// CPU time of this process so far: all threads, user + system (getrusage).
double process_cpu_seconds();

// Wall time and this process's CPU time since construction: a stage's "cores busy" figure
// (CPU / wall) in the logs and the benchmarks (docs/performance.md).
class CpuStopwatch {
 public:
  CpuStopwatch();
  double wall_seconds() const;
  double cpu_seconds() const;

 private:
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_;
};

struct StageThroughput {
  std::string name;  // "Reader", "Computer", "Writer"
  int workers = 0;
  std::uint64_t batches = 0;  // batches this component finished in the run
  double busy_seconds = 0.0;  // summed over workers, time inside the stage function only

  double mean_batch_seconds() const;                            // busy / batches (0 if no batch)
  double per_worker_batches_per_second() const;                 // 1 / mean (0 if no batch)
  double total_cells_per_second(std::size_t batch_size) const;  // per worker * size * workers
};

struct PipelineReport {
  std::string label;                // e.g. the cell type
  std::uint64_t total_batches = 0;  // submitted
  std::uint64_t completed_batches = 0;
  std::size_t batch_size = 0;    // nominal cells per batch
  double elapsed_seconds = 0.0;  // wall time of the run
  std::vector<StageThroughput> stages;
  int workers_yielding = 0;  // compute workers that yield to the writers (PipelineShape::writers_first)

  double batches_per_second() const;  // completed / elapsed
  double cells_per_second() const;    // batches_per_second * batch_size
  // The component with the lowest total throughput among those that processed batches; nullptr
  // if none did.
  const StageThroughput* bottleneck() const;
  // The seed's table as plain text (several lines, no trailing newline) for rank 0's log.
  std::string summary_table() const;
};

}  // namespace gsmap::core
