#pragma once
// GSS on the CUDA backend: the same results as gss::MarkerScoreCalculator, bit for bit (both run
// the GSMAP_HD arithmetic of gss/marker_score.hpp in the same order).
#include <cstdint>
#include <memory>
#include <span>

#include "gsmap/gss/marker_score.hpp"

namespace gsmap::device {

// One per compute worker: owns a CUDA stream and device buffers (grown on demand, freed with the
// object), binds to device::selected_device() in whichever thread calls it. Not thread-safe.
class GssDevice {
 public:
  // g_mean / frac: per-gene global log geometric mean and expression fraction (copied to the
  // device once). Throws Error(kUsage) when the binary has no CUDA backend or no GSS kernels, and
  // ComputeError on the same option/shape errors as MarkerScoreCalculator or a CUDA failure.
  GssDevice(const gss::MarkerScoreOptions& options, std::span<const float> g_mean,
            std::span<const float> frac);
  ~GssDevice();
  GssDevice(GssDevice&&) noexcept;
  GssDevice& operator=(GssDevice&&) noexcept;
  GssDevice(const GssDevice&) = delete;
  GssDevice& operator=(const GssDevice&) = delete;

  // Same contract as MarkerScoreCalculator::compute: n_cells x n_genes f16 bits into `gss`
  // (row-major); optional per-cell zero-weight flags; ComputeError on inconsistent shapes or a
  // slot row outside the block. Synchronous: returns when `gss` holds the results.
  gss::MarkerScoreBatchStats compute(const gss::NeighbourRankBatch& batch,
                                     std::span<math::f16_bits> gss,
                                     std::span<std::uint8_t> zero_weight_flags = {});

  // Uploads a resident log-rank block (n_rows x n_genes f16 bits) and its row minima once: later
  // batches whose log_ranks / row_minimum are exactly these spans (same address and size) read
  // the device copy instead of uploading their rows (docs/algorithms.md §4, §5). The host memory
  // must stay unchanged while batches refer to it.
  void set_resident_rows(std::span<const math::f16_bits> log_ranks,
                         std::span<const math::f16_bits> row_minimum);

  const gss::MarkerScoreOptions& options() const;
  std::size_t n_genes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gsmap::device
