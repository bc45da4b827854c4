// The GSS backends (docs/algorithms.md §4): the CPU one computes in place from the resident rows;
// the CUDA one wraps device::GssDevice with the resident rows uploaded once per worker. Both give
// the same bits (the GSMAP_HD arithmetic of marker_score_math.hpp in the same order).
#include "gsmap/gss/backend.hpp"

#include "gsmap/device/gss_device.hpp"

namespace gsmap::gss {
namespace {

class CpuWorker final : public GssWorker {
 public:
  CpuWorker(const MarkerScoreOptions& options, std::span<const float> g_mean,
            std::span<const float> frac)
      : calculator_(options, g_mean, frac) {}
  MarkerScoreBatchStats compute(const NeighbourRankBatch& batch, std::span<f16_bits> gss) override {
    return calculator_.compute(batch, gss);
  }

 private:
  MarkerScoreCalculator calculator_;
};

class CpuBackend final : public GssBackend {
 public:
  std::string name() const override { return "CPU"; }
  std::unique_ptr<GssWorker> make_worker(const MarkerScoreOptions& options,
                                         std::span<const float> g_mean, std::span<const float> frac,
                                         const ResidentRows&) override {
    return std::make_unique<CpuWorker>(options, g_mean, frac);
  }
};

class CudaWorker final : public GssWorker {
 public:
  CudaWorker(const MarkerScoreOptions& options, std::span<const float> g_mean,
             std::span<const float> frac, const ResidentRows& rows)
      : device_(options, g_mean, frac) {
    device_.set_resident_rows(rows.log_ranks, rows.row_minimum);
  }
  MarkerScoreBatchStats compute(const NeighbourRankBatch& batch, std::span<f16_bits> gss) override {
    return device_.compute(batch, gss);
  }

 private:
  device::GssDevice device_;
};

class CudaBackend final : public GssBackend {
 public:
  std::string name() const override { return "CUDA"; }
  std::unique_ptr<GssWorker> make_worker(const MarkerScoreOptions& options,
                                         std::span<const float> g_mean, std::span<const float> frac,
                                         const ResidentRows& rows) override {
    return std::make_unique<CudaWorker>(options, g_mean, frac, rows);
  }
};

}  // namespace

std::unique_ptr<GssBackend> make_cpu_gss_backend() { return std::make_unique<CpuBackend>(); }
std::unique_ptr<GssBackend> make_cuda_gss_backend() { return std::make_unique<CudaBackend>(); }

}  // namespace gsmap::gss
