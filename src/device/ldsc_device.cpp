#include "gsmap/device/ldsc_device.hpp"

#include <algorithm>
#include <climits>
#include <limits>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/ldsc/regression_math.hpp"

#if defined(GSMAP_WITH_CUDA)
#include "device_memory.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/device/cuda_api.hpp"
#endif

namespace gsmap::device {

#if defined(GSMAP_WITH_CUDA)

namespace {

using Index = std::int64_t;

// Block moments of one tile: n_blocks x moment_count x tile doubles. The jackknife indexes them
// with int arithmetic, and one tile's record should stay well inside device memory.
constexpr Index kMaxRecordElements = Index{1} << 27;  // 1 GiB of doubles

// What identifies a TraitData's contents cheaply: a new object at a reused address has other
// vector storage (or other sizes).
struct TraitFingerprint {
  Index m = 0;
  int n_blocks = 0;
  Index block_size = 0;
  int n_features = 0;
  const double* n = nullptr;
  const double* baseline_sum = nullptr;
  const double* ld_term = nullptr;
  const double* chisq = nullptr;
  const double* design = nullptr;
  std::size_t design_size = 0;

  explicit TraitFingerprint(const ldsc::TraitData& t)
      : m(t.m()),
        n_blocks(t.n_blocks),
        block_size(t.block_size),
        n_features(t.n_features),
        n(t.n.data()),
        baseline_sum(t.baseline_sum.data()),
        ld_term(t.ld_term.data()),
        chisq(t.chisq.data()),
        design(t.design.data()),
        design_size(t.design.size()) {}
  bool operator==(const TraitFingerprint&) const = default;
};

struct TraitOnDevice {
  TraitFingerprint fingerprint;
  DeviceBuffer<double> n, baseline_sum, ld_term, chisq, design;
  std::vector<std::int64_t> rows_host;  // the spot-LD rows last uploaded for this trait
  DeviceBuffer<std::int64_t> rows;
  std::size_t bytes = 0;
  std::uint64_t last_use = 0;

  explicit TraitOnDevice(const ldsc::TraitData& t) : fingerprint(t) {}
};

void check_trait(const ldsc::TraitData& t) {
  const Index m = t.m();
  const auto mu = static_cast<std::size_t>(m);
  const bool consistent =
      m >= 0 && t.n_blocks >= 1 && t.block_size * t.n_blocks == m && t.n_features >= 1 &&
      t.n.size() == mu && t.baseline_sum.size() == mu && t.ld_term.size() == mu &&
      t.chisq.size() == mu && t.design.size() == mu * static_cast<std::size_t>(t.n_features - 1);
  if (!consistent) {
    throw ComputeError(fmt::format(
        "trait {}: inconsistent regression data (m = {}, {} blocks of {}, {} features, design of "
        "{} values)",
        t.name, m, t.n_blocks, t.block_size, t.n_features, t.design.size()));
  }
  if (t.n_features > cuda::max_features()) {
    throw ComputeError(fmt::format(
        "trait {}: {} regression features; the GPU kernels take at most {}. Fix: run with "
        "--no-gpu",
        t.name, t.n_features, cuda::max_features()));
  }
}

}  // namespace

struct LdscDevice::Impl {
  std::size_t trait_cache_bytes = 0;
  int device = 0;
  CudaStream stream;

  // The loaded chunk.
  DeviceBuffer<float> ld;
  Index ld_rows = 0;
  Index ld_spots = 0;
  bool ld_loaded = false;

  // Work and results.
  DeviceBuffer<double> h_over_m, block_moments, jackknife_work, results;
  DeviceBuffer<std::uint8_t> singular;
  std::vector<std::uint8_t> singular_host;

  std::unordered_map<const ldsc::TraitData*, TraitOnDevice> traits;
  std::uint64_t use_clock = 0;

  Impl(std::size_t cache_bytes, int dev) : trait_cache_bytes(cache_bytes), device(dev) {}

  std::size_t cached_bytes() const {
    std::size_t total = 0;
    for (const auto& [key, entry] : traits) total += entry.bytes;
    return total;
  }

  // Drops least recently used traits (never `keep`) until `incoming` more bytes fit the budget.
  void make_room(std::size_t incoming, const ldsc::TraitData* keep) {
    while (!traits.empty() && cached_bytes() + incoming > trait_cache_bytes) {
      auto oldest = traits.end();
      for (auto it = traits.begin(); it != traits.end(); ++it) {
        if (it->first == keep) continue;
        if (oldest == traits.end() || it->second.last_use < oldest->second.last_use) oldest = it;
      }
      if (oldest == traits.end()) return;
      traits.erase(oldest);
    }
  }

  TraitOnDevice& trait_on_device(const ldsc::TraitData& t, std::span<const std::int64_t> rows) {
    const cuda::Stream s = stream.get();
    auto it = traits.find(&t);
    if (it != traits.end() && !(it->second.fingerprint == TraitFingerprint(t))) {
      traits.erase(it);
      it = traits.end();
    }
    if (it == traits.end()) {
      const auto m = static_cast<std::size_t>(t.m());
      const std::size_t bytes = (4 * m + t.design.size()) * sizeof(double) + m * sizeof(Index);
      make_room(bytes, &t);
      TraitOnDevice entry(t);
      entry.n.upload(t.n.data(), m, s);
      entry.baseline_sum.upload(t.baseline_sum.data(), m, s);
      entry.ld_term.upload(t.ld_term.data(), m, s);
      entry.chisq.upload(t.chisq.data(), m, s);
      entry.design.upload(t.design.data(), t.design.size(), s);
      entry.bytes = bytes;
      it = traits.emplace(&t, std::move(entry)).first;
    }
    TraitOnDevice& entry = it->second;
    if (!std::equal(rows.begin(), rows.end(), entry.rows_host.begin(), entry.rows_host.end())) {
      entry.rows_host.assign(rows.begin(), rows.end());
      entry.rows.upload(entry.rows_host.data(), entry.rows_host.size(), s);
    }
    entry.last_use = ++use_clock;
    return entry;
  }
};

LdscDevice::LdscDevice(std::size_t trait_cache_bytes) {
  if (visible_gpus() == 0) {
    throw Error(ExitCode::kUsage, "GPU spatial LDSC: no CUDA device visible. Fix: run with --no-gpu");
  }
  const int device = selected_device();
  cuda::set_device(device);
  impl_ = std::make_unique<Impl>(trait_cache_bytes, device);
}

void LdscDevice::load_spot_ld(const ldsc::SpotLd& ld) {
  Impl& d = *impl_;
  if (ld.n_rows < 0 || ld.n_spots < 0 ||
      ld.values.size() != static_cast<std::size_t>(ld.n_rows * ld.n_spots)) {
    throw ComputeError(fmt::format("spot LD holds {} values, expected {} rows x {} spots",
                                   ld.values.size(), ld.n_rows, ld.n_spots));
  }
  cuda::set_device(d.device);
  d.ld_loaded = false;
  d.ld.upload(ld.values.data(), ld.values.size(), d.stream.get());
  d.ld_rows = ld.n_rows;
  d.ld_spots = ld.n_spots;
  d.ld_loaded = true;
}

ldsc::TraitChunkResult LdscDevice::regress(const ldsc::TraitData& trait,
                                           std::span<const std::int64_t> ld_rows) {
  Impl& d = *impl_;
  if (!d.ld_loaded) throw ComputeError("GPU spatial LDSC: regress() before load_spot_ld()");
  // The checks of ldsc::regress_spots, with its messages.
  if (static_cast<Index>(ld_rows.size()) != trait.m())
    throw ComputeError(fmt::format("trait {}: {} spot-LD rows given for {} SNPs", trait.name,
                                   ld_rows.size(), trait.m()));
  for (const Index r : ld_rows)
    if (r < 0 || r >= d.ld_rows)
      throw ComputeError(fmt::format("trait {}: spot-LD row {} outside [0, {})", trait.name, r,
                                     d.ld_rows));
  check_trait(trait);

  const Index n_spots = d.ld_spots;
  ldsc::TraitChunkResult out;
  for (auto* v : {&out.beta, &out.se, &out.z, &out.p, &out.neg_log10_p, &out.beta_full})
    v->assign(static_cast<std::size_t>(n_spots), std::numeric_limits<double>::quiet_NaN());
  if (n_spots == 0) return out;

  cuda::set_device(d.device);
  const cuda::Stream s = d.stream.get();
  const TraitOnDevice& t = d.trait_on_device(trait, ld_rows);

  const int P = trait.n_features;
  const Index record = static_cast<Index>(trait.n_blocks) * ldsc::moment_count(P);
  const Index max_tile = std::max<Index>(1, std::min<Index>(kMaxRecordElements, INT_MAX) / record);
  const Index tile = std::min(n_spots, max_tile);
  const auto spots = static_cast<std::size_t>(n_spots);

  cuda::SpotRegressionArgs a;
  a.m = trait.m();
  a.n_blocks = trait.n_blocks;
  a.block_size = trait.block_size;
  a.n_features = P;
  a.mean_chisq = trait.mean_chisq;
  a.sum_baseline_times_n = trait.sum_baseline_times_n;
  a.nbar = static_cast<double>(trait.nbar);
  a.n = t.n.data();
  a.baseline_sum = t.baseline_sum.data();
  a.ld_term = t.ld_term.data();
  a.chisq = t.chisq.data();
  a.design = t.design.data();
  a.ld_rows = t.rows.data();
  a.ld = d.ld.data();
  a.n_spots = n_spots;
  a.h_over_m = d.h_over_m.reserve(static_cast<std::size_t>(tile));
  a.block_moments = d.block_moments.reserve(static_cast<std::size_t>(record * tile));
  if (!cuda::has_register_kernel(P)) {
    a.jackknife_work = d.jackknife_work.reserve(static_cast<std::size_t>(tile) *
                                                ldsc::jackknife_work_size(P));
  }
  double* results = d.results.reserve(6 * spots);
  a.beta = results;
  a.se = results + spots;
  a.z = results + 2 * spots;
  a.p = results + 3 * spots;
  a.neg_log10_p = results + 4 * spots;
  a.beta_full = results + 5 * spots;
  a.singular = d.singular.reserve(spots);
  for (Index begin = 0; begin < n_spots; begin += tile) {
    a.spot_begin = begin;
    a.tile_spots = std::min(tile, n_spots - begin);
    cuda::launch_spot_regression(a, s);
  }

  double* host[] = {out.beta.data(), out.se.data(),          out.z.data(),
                    out.p.data(),    out.neg_log10_p.data(), out.beta_full.data()};
  for (std::size_t k = 0; k < 6; ++k)
    cuda::copy_to_host(host[k], results + k * spots, spots * sizeof(double), s);
  d.singular_host.resize(spots);
  cuda::copy_to_host(d.singular_host.data(), a.singular, spots, s);
  d.stream.synchronize();
  out.n_singular = std::count(d.singular_host.begin(), d.singular_host.end(), std::uint8_t{1});
  return out;
}

ldsc::TraitChunkResult LdscDevice::regress(const ldsc::TraitData& trait, const ldsc::SpotLd& ld,
                                           std::span<const std::int64_t> ld_rows) {
  load_spot_ld(ld);
  return regress(trait, ld_rows);
}

void LdscDevice::forget_trait(const ldsc::TraitData& trait) {
  cuda::set_device(impl_->device);
  impl_->traits.erase(&trait);
}

LdscDevice::~LdscDevice() {
  if (impl_) {
    try {
      cuda::set_device(impl_->device);  // free on the device that owns the buffers
    } catch (...) {  // NOLINT(bugprone-empty-catch): destructors must not throw
    }
  }
}

#else  // !GSMAP_WITH_CUDA

struct LdscDevice::Impl {};

LdscDevice::LdscDevice(std::size_t) {
  throw Error(ExitCode::kUsage,
              "GPU spatial LDSC: this gsmap-mpi was built without CUDA. Fix: run with --no-gpu, "
              "or rebuild with the CUDA toolkit (cmake -DGSMAP_CUDA=ON)");
}
void LdscDevice::load_spot_ld(const ldsc::SpotLd&) {}
ldsc::TraitChunkResult LdscDevice::regress(const ldsc::TraitData&, std::span<const std::int64_t>) {
  return {};  // unreachable: the constructor throws
}
ldsc::TraitChunkResult LdscDevice::regress(const ldsc::TraitData&, const ldsc::SpotLd&,
                                           std::span<const std::int64_t>) {
  return {};
}
void LdscDevice::forget_trait(const ldsc::TraitData&) {}
LdscDevice::~LdscDevice() = default;

#endif  // GSMAP_WITH_CUDA

LdscDevice::LdscDevice(LdscDevice&&) noexcept = default;
LdscDevice& LdscDevice::operator=(LdscDevice&&) noexcept = default;

}  // namespace gsmap::device
