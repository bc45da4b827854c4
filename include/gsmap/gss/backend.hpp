#pragma once
// Where Stage C's GSS arithmetic runs (docs/algorithms.md §4): one interface, a CPU and a CUDA
// implementation, chosen once per step by a factory (pipeline/backend_setup decides which). The
// engine never branches on the backend; it asks it for one worker per compute thread and hands
// every worker the rank's resident log-rank block once, so a device backend can keep the block on
// the device and batches carry only their cells' slots and weights.
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "gsmap/gss/marker_score.hpp"

namespace gsmap::gss {

// The rank's resident log-rank rows: own rows first, then the halo rows (docs/algorithms.md §5),
// n_rows x n_genes f16 bits, row-major, with each row's minimum (the "not expressed" value).
struct ResidentRows {
  std::size_t n_rows = 0;
  std::size_t n_genes = 0;
  std::span<const f16_bits> log_ranks;    // n_rows x n_genes
  std::span<const f16_bits> row_minimum;  // n_rows
};

// Computes GSS for batches whose NeighbourRankBatch refers to the resident rows (log_ranks and
// row_minimum are the ResidentRows spans; slot_rows index resident rows). One per compute thread;
// not thread-safe.
class GssWorker {
 public:
  virtual ~GssWorker() = default;
  // n_cells x n_genes f16 bits into `gss` (row-major); the contract of MarkerScoreCalculator.
  virtual MarkerScoreBatchStats compute(const NeighbourRankBatch& batch,
                                        std::span<f16_bits> gss) = 0;
};

class GssBackend {
 public:
  virtual ~GssBackend() = default;
  virtual std::string name() const = 0;  // "CPU", "CUDA"
  // A worker for the given options and global gene statistics, bound to `rows` (which must stay
  // unchanged while the worker computes). Throws ComputeError on inconsistent options.
  virtual std::unique_ptr<GssWorker> make_worker(const MarkerScoreOptions& options,
                                                 std::span<const float> g_mean,
                                                 std::span<const float> frac,
                                                 const ResidentRows& rows) = 0;
};

// The CPU backend (MarkerScoreCalculator, reading rows in place).
std::unique_ptr<GssBackend> make_cpu_gss_backend();
// The CUDA backend (device::GssDevice; the resident rows are uploaded once per worker). Workers
// bind to the device selected for this rank (device::select_device). Throws Error(kUsage) from
// make_worker when the binary has no CUDA backend or no device is visible.
std::unique_ptr<GssBackend> make_cuda_gss_backend();

}  // namespace gsmap::gss
