#include "gsmap/device/gss_device.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

#if defined(GSMAP_WITH_CUDA)
#include "device_memory.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/device/cuda_api.hpp"
#endif

namespace gsmap::device {

#if defined(GSMAP_WITH_CUDA)

namespace {

// The preparation step runs one thread per pooling group inside a 256-thread block.
constexpr int kMaxGroups = 256;

void check_options(const gss::MarkerScoreOptions& options, std::size_t n_g_mean,
                   std::size_t n_frac) {
  if (options.neighbors_per_block < 1 || options.n_blocks < 1) {
    throw ComputeError(fmt::format(
        "marker score: need at least one neighbour and one block (got K = {}, S = {})",
        options.neighbors_per_block, options.n_blocks));
  }
  if (n_g_mean != n_frac) {
    throw ComputeError(
        fmt::format("marker score: G_Mean has {} genes but frac has {}", n_g_mean, n_frac));
  }
  if (options.n_groups() > kMaxGroups) {
    throw ComputeError(fmt::format("GPU marker score: {} slice blocks exceed the limit {}",
                                   options.n_groups(), kMaxGroups));
  }
}

// The shape checks of MarkerScoreCalculator::compute, with the same messages.
void check_batch(const gss::NeighbourRankBatch& batch, std::size_t n_genes, std::size_t slots,
                 std::size_t gss_size, std::size_t flags_size) {
  auto fail = [](const std::string& what) { throw ComputeError("marker score batch: " + what); };
  if (batch.n_genes != n_genes) {
    fail(fmt::format("{} genes in the log ranks but {} in G_Mean/frac", batch.n_genes, n_genes));
  }
  if (batch.log_ranks.size() != batch.n_rows * batch.n_genes) {
    fail(fmt::format("log-rank block holds {} values, expected {} rows x {} genes",
                     batch.log_ranks.size(), batch.n_rows, batch.n_genes));
  }
  if (batch.slot_rows.size() != batch.n_cells * slots ||
      batch.weights.size() != batch.n_cells * slots) {
    fail(fmt::format("{} slot rows and {} weights for {} cells x {} slots", batch.slot_rows.size(),
                     batch.weights.size(), batch.n_cells, slots));
  }
  if (!batch.row_minimum.empty() && batch.row_minimum.size() != batch.n_rows) {
    fail(fmt::format("{} row minima for {} rows", batch.row_minimum.size(), batch.n_rows));
  }
  if (gss_size != batch.n_cells * batch.n_genes) {
    fail(fmt::format("output holds {} values, expected {} cells x {} genes", gss_size,
                     batch.n_cells, batch.n_genes));
  }
  if (flags_size != 0 && flags_size != batch.n_cells) {
    fail(fmt::format("{} zero-weight flags for {} cells", flags_size, batch.n_cells));
  }
  // Device kernels index rows as int32 and never check bounds: every slot is checked here.
  for (std::size_t i = 0; i < batch.slot_rows.size(); ++i) {
    const std::int32_t row = batch.slot_rows[i];
    if (row < -1 || (row >= 0 && static_cast<std::size_t>(row) >= batch.n_rows)) {
      fail(fmt::format("cell {} slot {} refers to row {} of a block of {} rows", i / slots,
                       i % slots, row, batch.n_rows));
    }
  }
}

}  // namespace

struct GssDevice::Impl {
  gss::MarkerScoreOptions options;
  std::size_t n_genes = 0;
  int device = 0;
  CudaStream stream;
  DeviceBuffer<float> g_mean, frac;
  DeviceBuffer<std::uint16_t> log_ranks, weights, row_minimum, gss;
  DeviceBuffer<std::int32_t> slot_rows;
  DeviceBuffer<std::uint8_t> zero_weight;
  std::vector<std::uint8_t> zero_weight_host;
  // The resident block uploaded by set_resident_rows (host address and size it mirrors).
  DeviceBuffer<std::uint16_t> resident_rows, resident_minimum;
  const std::uint16_t* resident_host = nullptr;
  std::size_t resident_size = 0;
  const std::uint16_t* resident_minimum_host = nullptr;
  std::size_t resident_minimum_size = 0;

  Impl(const gss::MarkerScoreOptions& opts, std::span<const float> mean, std::span<const float> fr,
       int dev)
      : options(opts), n_genes(mean.size()), device(dev) {
    g_mean.upload(mean.data(), mean.size(), stream.get());
    frac.upload(fr.data(), fr.size(), stream.get());
    stream.synchronize();
  }
};

GssDevice::GssDevice(const gss::MarkerScoreOptions& options, std::span<const float> g_mean,
                     std::span<const float> frac) {
  if (visible_gpus() == 0) {
    throw Error(ExitCode::kUsage, "GPU GSS: no CUDA device visible. Fix: run with --no-gpu");
  }
  check_options(options, g_mean.size(), frac.size());
  const int device = selected_device();
  cuda::set_device(device);
  impl_ = std::make_unique<Impl>(options, g_mean, frac, device);
}

gss::MarkerScoreBatchStats GssDevice::compute(const gss::NeighbourRankBatch& batch,
                                              std::span<math::f16_bits> gss,
                                              std::span<std::uint8_t> zero_weight_flags) {
  Impl& d = *impl_;
  const auto slots = static_cast<std::size_t>(d.options.slots_per_cell());
  check_batch(batch, d.n_genes, slots, gss.size(), zero_weight_flags.size());
  gss::MarkerScoreBatchStats stats;
  stats.cells = batch.n_cells;
  if (batch.n_cells == 0) return stats;

  cuda::set_device(d.device);
  const cuda::Stream stream = d.stream.get();
  cuda::MarkerScoreArgs args;
  args.n_cells = batch.n_cells;
  args.n_rows = batch.n_rows;
  args.n_genes = batch.n_genes;
  args.slots_per_cell = static_cast<int>(slots);
  args.n_groups = d.options.n_groups();
  args.hierarchical = d.options.pooling == gss::MarkerScorePooling::kHierarchical;
  args.use_expression_fraction = !d.options.no_expression_fraction;
  const bool resident = batch.log_ranks.data() == d.resident_host &&
                        batch.log_ranks.size() == d.resident_size && d.resident_size > 0;
  args.log_ranks = resident ? d.resident_rows.data()
                            : d.log_ranks.upload(batch.log_ranks.data(), batch.log_ranks.size(), stream);
  args.slot_rows = d.slot_rows.upload(batch.slot_rows.data(), batch.slot_rows.size(), stream);
  args.weights = d.weights.upload(batch.weights.data(), batch.weights.size(), stream);
  if (batch.row_minimum.empty()) {
    std::uint16_t* minima = d.row_minimum.reserve(batch.n_rows);
    cuda::launch_row_minimum(args.log_ranks, batch.n_rows, batch.n_genes, minima, stream);
    args.row_minimum = minima;
  } else if (resident && batch.row_minimum.data() == d.resident_minimum_host &&
             batch.row_minimum.size() == d.resident_minimum_size) {
    args.row_minimum = d.resident_minimum.data();
  } else {
    args.row_minimum = d.row_minimum.upload(batch.row_minimum.data(), batch.n_rows, stream);
  }
  args.g_mean = d.g_mean.data();
  args.frac = d.frac.data();
  args.gss = d.gss.reserve(gss.size());
  args.zero_weight = d.zero_weight.reserve(batch.n_cells);
  cuda::launch_marker_scores(args, stream);

  d.zero_weight_host.resize(batch.n_cells);
  cuda::copy_to_host(gss.data(), args.gss, gss.size_bytes(), stream);
  cuda::copy_to_host(d.zero_weight_host.data(), args.zero_weight, batch.n_cells, stream);
  d.stream.synchronize();

  stats.zero_weight_cells = static_cast<std::size_t>(
      std::count(d.zero_weight_host.begin(), d.zero_weight_host.end(), std::uint8_t{1}));
  if (!zero_weight_flags.empty()) {
    std::copy(d.zero_weight_host.begin(), d.zero_weight_host.end(), zero_weight_flags.begin());
  }
  return stats;
}

void GssDevice::set_resident_rows(std::span<const math::f16_bits> log_ranks,
                                  std::span<const math::f16_bits> row_minimum) {
  Impl& d = *impl_;
  cuda::set_device(d.device);
  const cuda::Stream stream = d.stream.get();
  d.resident_host = nullptr;
  d.resident_size = 0;
  d.resident_minimum_host = nullptr;
  d.resident_minimum_size = 0;
  if (!log_ranks.empty()) d.resident_rows.upload(log_ranks.data(), log_ranks.size(), stream);
  if (!row_minimum.empty()) d.resident_minimum.upload(row_minimum.data(), row_minimum.size(), stream);
  d.stream.synchronize();
  d.resident_host = log_ranks.data();
  d.resident_size = log_ranks.size();
  d.resident_minimum_host = row_minimum.data();
  d.resident_minimum_size = row_minimum.size();
}

const gss::MarkerScoreOptions& GssDevice::options() const { return impl_->options; }
std::size_t GssDevice::n_genes() const { return impl_->n_genes; }

GssDevice::~GssDevice() {
  if (impl_) {
    try {
      cuda::set_device(impl_->device);  // free on the device that owns the buffers
    } catch (...) {  // NOLINT(bugprone-empty-catch): destructors must not throw
    }
  }
}

#else  // !GSMAP_WITH_CUDA

struct GssDevice::Impl {
  gss::MarkerScoreOptions options;
  std::size_t n_genes = 0;
};

GssDevice::GssDevice(const gss::MarkerScoreOptions&, std::span<const float>,
                     std::span<const float>) {
  throw Error(ExitCode::kUsage,
              "GPU GSS: this gsmap-mpi was built without CUDA. Fix: run with --no-gpu, or rebuild "
              "with the CUDA toolkit (cmake -DGSMAP_CUDA=ON)");
}

gss::MarkerScoreBatchStats GssDevice::compute(const gss::NeighbourRankBatch&,
                                              std::span<math::f16_bits>,
                                              std::span<std::uint8_t>) {
  return {};  // unreachable: the constructor throws
}

void GssDevice::set_resident_rows(std::span<const math::f16_bits>,
                                  std::span<const math::f16_bits>) {}
const gss::MarkerScoreOptions& GssDevice::options() const { return impl_->options; }
std::size_t GssDevice::n_genes() const { return impl_->n_genes; }
GssDevice::~GssDevice() = default;

#endif  // GSMAP_WITH_CUDA

GssDevice::GssDevice(GssDevice&&) noexcept = default;
GssDevice& GssDevice::operator=(GssDevice&&) noexcept = default;

}  // namespace gsmap::device
