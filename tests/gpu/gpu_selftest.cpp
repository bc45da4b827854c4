// Standalone GPU self-test: GssDevice and LdscDevice against the CPU drivers on generated data,
// then throughput figures. Needs only a CUDA driver at run time (see gpu.cmake). Exit code 0 when
// every comparison passes, 1 when one fails, 77 when no CUDA device is visible.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <exception>
#include <string>
#include <vector>

#include "gpu_cases.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/device/cuda_api.hpp"
#include "gsmap/device/gss_device.hpp"
#include "gsmap/device/host_staging.hpp"
#include "gsmap/device/ldsc_device.hpp"

namespace gsmap::gpu_test {
namespace {

using Clock = std::chrono::steady_clock;
namespace cuda = device::cuda;
using gss::MarkerScoreOptions;
using gss::MarkerScorePooling;

int g_failures = 0;

template <class F>
double median_seconds(int repetitions, F&& run) {
  std::vector<double> seconds;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = Clock::now();
    run();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

const char* pooling_name(const MarkerScoreOptions& o) {
  return o.pooling == MarkerScorePooling::kHierarchical ? "hierarchical" : "whole-row";
}

void check_gss(const char* name, const GssSpec& spec) {
  const GssBatch batch = make_gss_batch(spec);
  device::GssDevice gpu(spec.options, batch.g_mean, batch.frac);
  for (bool with_minima : {false, true}) {
    const GssComparison r = compare_gss(batch, with_minima, gpu);
    const bool ok = r.equal() && r.nonzero > 0;
    g_failures += ok ? 0 : 1;
    std::printf("GSS  %-34s %s K=%d S=%d frac=%d minima=%d: %zu entries, %zu non-zero, %zu bit "
                "mismatches, zero-weight cells cpu %zu gpu %zu, flag mismatches %zu  %s %s\n",
                name, pooling_name(spec.options), spec.options.neighbors_per_block,
                spec.options.n_blocks, spec.options.no_expression_fraction ? 0 : 1, with_minima,
                r.entries, r.nonzero, r.mismatches, r.cpu_zero_cells, r.gpu_zero_cells,
                r.flag_mismatches, ok ? "OK" : "FAIL", r.first_mismatch.c_str());
  }
}

void check_ldsc(const char* name, const LdscSpec& spec) {
  const LdscCase c = make_ldsc_case(spec);
  const ldsc::TraitChunkResult cpu = ldsc::regress_spots(c.trait, c.ld, c.ld_rows);
  device::LdscDevice gpu;
  const LdscComparison r = compare_ldsc(cpu, gpu.regress(c.trait, c.ld, c.ld_rows));
  const bool ok = r.within(1e-12) && r.finite_spots > 0;
  g_failures += ok ? 0 : 1;
  std::printf("LDSC %-28s P=%d B=%d m=%lld spots=%lld: bit mismatches (beta,se,z,beta_full) "
              "%lld, max rel beta/se/z %.3g, max rel p/-log10p %.3g, NaN mismatches %lld, "
              "singular cpu %lld gpu %lld, finite %lld  %s\n",
              name, spec.n_features, spec.n_blocks,
              static_cast<long long>(spec.n_blocks * spec.block_size),
              static_cast<long long>(spec.n_spots), static_cast<long long>(r.bit_mismatches),
              r.max_rel_beta, r.max_rel_p, static_cast<long long>(r.nan_mismatches),
              static_cast<long long>(r.cpu_singular), static_cast<long long>(r.gpu_singular),
              static_cast<long long>(r.finite_spots), ok ? "OK" : "FAIL");
}

// Kernel time alone (inputs already on the device), to separate it from the PCIe transfers.
double gss_kernel_seconds(const GssBatch& batch) {
  const cuda::Stream stream = cuda::create_stream();
  auto upload = [&](const auto& v) {
    void* p = cuda::device_alloc(v.size() * sizeof(v[0]));
    cuda::copy_to_device(p, v.data(), v.size() * sizeof(v[0]), stream);
    return p;
  };
  cuda::MarkerScoreArgs a;
  a.n_cells = batch.n_cells;
  a.n_rows = batch.n_rows;
  a.n_genes = batch.n_genes;
  a.slots_per_cell = batch.options.slots_per_cell();
  a.n_groups = batch.options.n_groups();
  a.hierarchical = batch.options.pooling == MarkerScorePooling::kHierarchical;
  a.use_expression_fraction = !batch.options.no_expression_fraction;
  void* buffers[] = {upload(batch.log_ranks), upload(batch.slot_rows), upload(batch.weights),
                     upload(batch.row_minimum), upload(batch.g_mean), upload(batch.frac),
                     cuda::device_alloc(batch.n_cells * batch.n_genes * 2),
                     cuda::device_alloc(batch.n_cells)};
  a.log_ranks = static_cast<const std::uint16_t*>(buffers[0]);
  a.slot_rows = static_cast<const std::int32_t*>(buffers[1]);
  a.weights = static_cast<const std::uint16_t*>(buffers[2]);
  a.row_minimum = static_cast<const std::uint16_t*>(buffers[3]);
  a.g_mean = static_cast<const float*>(buffers[4]);
  a.frac = static_cast<const float*>(buffers[5]);
  a.gss = static_cast<std::uint16_t*>(buffers[6]);
  a.zero_weight = static_cast<std::uint8_t*>(buffers[7]);
  cuda::launch_marker_scores(a, stream);
  cuda::synchronize(stream);
  const int launches = 20;
  const double seconds = median_seconds(3, [&] {
    for (int i = 0; i < launches; ++i) cuda::launch_marker_scores(a, stream);
    cuda::synchronize(stream);
  }) / launches;
  for (void* p : buffers) cuda::device_free(p);
  cuda::destroy_stream(stream);
  return seconds;
}

// Host -> device bandwidth from pageable and from pinned memory (what a batch upload costs).
void time_transfers() {
  const std::size_t bytes = std::size_t{256} << 20;
  std::vector<unsigned char> pageable(bytes, 1);
  void* pinned = cuda::host_alloc_pinned(bytes);
  std::memset(pinned, 1, bytes);
  void* device = cuda::device_alloc(bytes);
  const cuda::Stream stream = cuda::create_stream();
  auto copy = [&](const void* source) {
    cuda::copy_to_device(device, source, bytes, stream);
    cuda::synchronize(stream);
  };
  copy(pageable.data());
  copy(pinned);
  const double pageable_s = median_seconds(5, [&] { copy(pageable.data()); });
  const double pinned_s = median_seconds(5, [&] { copy(pinned); });
  std::printf("H2D 256 MiB: pageable %.1f GB/s, pinned %.1f GB/s\n", bytes / pageable_s / 1e9,
              bytes / pinned_s / 1e9);
  cuda::destroy_stream(stream);
  cuda::device_free(device);
  cuda::host_free_pinned(pinned);
}

struct Row {
  std::string text;
};
std::vector<Row> g_summary;

void time_gss(std::size_t n_genes, const MarkerScoreOptions& options, std::size_t n_rows) {
  GssSpec spec;
  spec.options = options;
  spec.n_cells = 500;
  spec.n_genes = n_genes;
  spec.n_rows = n_rows;
  spec.padded_slot_fraction = 0.01;
  spec.zero_slot_fraction = 0.02;
  spec.seed = 1000 + static_cast<std::uint32_t>(n_genes);
  const GssBatch batch = make_gss_batch(spec);
  const gss::NeighbourRankBatch view = batch.view(true);
  device::GssDevice gpu(options, batch.g_mean, batch.frac);
  gss::MarkerScoreCalculator cpu(options, batch.g_mean, batch.frac);
  std::vector<math::f16_bits> cpu_out(batch.n_cells * n_genes), gpu_out(cpu_out.size());
  for (int i = 0; i < 3; ++i) gpu.compute(view, gpu_out);
  const double gpu_s = median_seconds(15, [&] { gpu.compute(view, gpu_out); });
  const double cpu_s = median_seconds(3, [&] { cpu.compute(view, cpu_out); });
  const std::size_t mismatches = [&] {
    std::size_t n = 0;
    for (std::size_t i = 0; i < cpu_out.size(); ++i) n += cpu_out[i] != gpu_out[i];
    return n;
  }();
  g_failures += mismatches == 0 ? 0 : 1;
  const double kernel_s = gss_kernel_seconds(batch);
  const std::vector<math::f16_bits>& cpu_reference = cpu_out;
  // The same batch with its log ranks in pinned memory (as a reader stage could provide them).
  double pinned_s = 0.0;
  {
    device::HostStagingBuffer staging;
    const std::span<math::f16_bits> pinned = staging.as<math::f16_bits>(batch.log_ranks.size());
    if (!staging.pinned()) std::printf("warning: HostStagingBuffer is not pinned\n");
    std::copy(batch.log_ranks.begin(), batch.log_ranks.end(), pinned.begin());
    gss::NeighbourRankBatch pinned_view = view;
    pinned_view.log_ranks = pinned;
    std::vector<math::f16_bits> pinned_out(gpu_out.size());
    gpu.compute(pinned_view, pinned_out);
    pinned_s = median_seconds(15, [&] { gpu.compute(pinned_view, pinned_out); });
    g_failures += pinned_out == cpu_reference ? 0 : 1;
  }
  const double mib = static_cast<double>(batch.log_ranks.size() * 2) / (1024.0 * 1024.0);
  char text[512];
  std::snprintf(text, sizeof text,
                "GSS  %-12s 500 cells K=%d S=%d G=%zu rows=%zu (%.1f MiB log ranks): GPU compute() "
                "%.3f ms = %.0f cells/s (log ranks pinned %.3f ms = %.0f cells/s; kernel alone "
                "%.3f ms = %.0f cells/s); CPU 1 thread %.1f ms = %.0f cells/s; bit mismatches %zu",
                pooling_name(options), options.neighbors_per_block, options.n_blocks, n_genes,
                batch.n_rows, mib, gpu_s * 1e3, 500.0 / gpu_s, pinned_s * 1e3, 500.0 / pinned_s,
                kernel_s * 1e3, 500.0 / kernel_s,
                cpu_s * 1e3, 500.0 / cpu_s, mismatches);
  std::printf("%s\n", text);
  g_summary.push_back({text});
}

void time_ldsc(std::int64_t n_spots, std::int64_t n_snps = 200000) {
  LdscSpec spec;
  spec.n_features = 4;
  spec.n_blocks = 200;
  spec.block_size = n_snps / spec.n_blocks;  // m = 200,000 SNPs by default
  spec.n_spots = n_spots;
  spec.extra_ld_rows = 20000;
  spec.seed = 3000 + static_cast<std::uint32_t>(n_spots);
  const LdscCase c = make_ldsc_case(spec);
  device::LdscDevice gpu;
  const auto first_start = Clock::now();
  gpu.load_spot_ld(c.ld);
  ldsc::TraitChunkResult gpu_result = gpu.regress(c.trait, c.ld_rows);
  const double first_s = std::chrono::duration<double>(Clock::now() - first_start).count();
  const double load_s = median_seconds(5, [&] { gpu.load_spot_ld(c.ld); });
  const double regress_s = median_seconds(9, [&] { gpu_result = gpu.regress(c.trait, c.ld_rows); });
  ldsc::TraitChunkResult cpu_result;
  const double cpu_s = median_seconds(1, [&] { cpu_result = ldsc::regress_spots(c.trait, c.ld, c.ld_rows); });
  const LdscComparison r = compare_ldsc(cpu_result, gpu_result);
  const bool ok = r.within(1e-12) && r.finite_spots == n_spots;
  g_failures += ok ? 0 : 1;
  const double ld_mib = static_cast<double>(c.ld.values.size() * 4) / (1024.0 * 1024.0);
  char text[640];
  std::snprintf(text, sizeof text,
                "LDSC m=%lld B=200 P=4 chunk=%lld spots: GPU regress per trait %.2f ms = %.0f "
                "spots/s; spot-LD upload per chunk (%.0f MiB) %.1f ms; first call (upload + trait "
                "arrays + regress) %.1f ms; CPU 1 thread %.1f ms = %.0f spots/s; bit mismatches "
                "%lld, max rel p %.2g  %s",
                static_cast<long long>(spec.n_blocks * spec.block_size),
                static_cast<long long>(n_spots), regress_s * 1e3,
                static_cast<double>(n_spots) / regress_s, ld_mib, load_s * 1e3, first_s * 1e3,
                cpu_s * 1e3, static_cast<double>(n_spots) / cpu_s,
                static_cast<long long>(r.bit_mismatches), r.max_rel_p, ok ? "OK" : "FAIL");
  std::printf("%s\n", text);
  g_summary.push_back({text});
}

// One regress per chunk size, nothing else: for `ncu` per-kernel timings.
int ldsc_profile() {
  device::select_device(0);
  for (std::int64_t n_spots : {50, 1000}) {
    LdscSpec spec;
    spec.n_blocks = 200;
    spec.block_size = 1000;
    spec.n_spots = n_spots;
    spec.extra_ld_rows = 20000;
    const LdscCase c = make_ldsc_case(spec);
    device::LdscDevice gpu;
    gpu.load_spot_ld(c.ld);
    const ldsc::TraitChunkResult r = gpu.regress(c.trait, c.ld_rows);
    std::printf("ldsc profile: %lld spots, beta[1] = %g\n", static_cast<long long>(n_spots),
                r.beta[1]);
  }
  return 0;
}

int kernels(std::size_t n_genes, std::int64_t n_snps, std::int64_t n_spots) {
  if (device::visible_gpus() == 0) {
    std::printf("gpu_selftest: no CUDA device visible\n");
    return 77;
  }
  device::select_device(0);
  std::printf("device 0: %s\n", cuda::describe_device(0).c_str());
  time_gss(n_genes, MarkerScoreOptions{21, 1, MarkerScorePooling::kWholeRow, false}, 0);
  time_ldsc(n_spots, n_snps);
  std::printf("gpu_selftest --kernels: %s (%d failed comparisons)\n",
              g_failures == 0 ? "PASS" : "FAIL", g_failures);
  return g_failures == 0 ? 0 : 1;
}

int run(bool checks_only) {
  const int gpus = device::visible_gpus();
  std::printf("gpu_selftest: CUDA backend built %d, %d CUDA device(s) visible\n",
              device::cuda_built() ? 1 : 0, gpus);
  if (gpus == 0) return 77;
  device::select_device(0);
  std::printf("device 0: %s\n", cuda::describe_device(0).c_str());

  std::printf("\n== GSS: GPU bits == CPU bits ==\n");
  {
    GssSpec s;
    s.options = MarkerScoreOptions{21, 1, MarkerScorePooling::kWholeRow, false};
    s.n_cells = 400;
    s.n_genes = 1500;
    s.n_rows = 2000;
    s.padded_slot_fraction = 0.05;
    s.zero_slot_fraction = 0.1;
    s.zero_weight_cell_fraction = 0.03;
    s.seed = 1;
    check_gss("random, shared rows", s);
    s.options.no_expression_fraction = true;
    s.seed = 2;
    check_gss("random, no expression fraction", s);
    s.options = MarkerScoreOptions{21, 3, MarkerScorePooling::kHierarchical, false};
    s.zero_block_fraction = 0.2;
    s.n_genes = 777;
    s.seed = 3;
    check_gss("random, zero blocks", s);
    s.options = MarkerScoreOptions{7, 11, MarkerScorePooling::kHierarchical, false};
    s.n_rows = 0;
    s.n_cells = 100;
    s.seed = 4;
    check_gss("random, distinct rows, S=11", s);
    s.options = MarkerScoreOptions{21, 3, MarkerScorePooling::kWholeRow, false};  // per-slice pool
    s.seed = 5;
    check_gss("random, whole row over 3 slices", s);
  }

  std::printf("\n== LDSC: GPU vs CPU (beta, se, z bit for bit; p within 1e-12) ==\n");
  for (int P : {3, 4, 5, 6, 8, 11}) {
    LdscSpec s;
    s.n_features = P;
    s.n_blocks = 40;
    s.block_size = 100;
    s.n_spots = 97;
    s.zero_first_spot = true;
    s.seed = 100 + static_cast<std::uint32_t>(P);
    check_ldsc(P <= 8 ? "register kernel" : "global-memory kernel", s);
  }

  if (checks_only) {
    std::printf("gpu_selftest: %s (%d failed comparisons; throughput skipped)\n",
                g_failures == 0 ? "PASS" : "FAIL", g_failures);
    return g_failures == 0 ? 0 : 1;
  }
  std::printf("\n== Throughput ==\n");
  time_transfers();
  const MarkerScoreOptions whole{21, 1, MarkerScorePooling::kWholeRow, false};
  time_gss(2000, whole, 0);
  time_gss(5000, whole, 0);
  time_gss(2000, whole, 2500);
  time_gss(5000, whole, 2500);
  time_gss(2000, MarkerScoreOptions{21, 3, MarkerScorePooling::kHierarchical, false}, 5000);
  time_ldsc(50);
  time_ldsc(1000);

  std::printf("\n== Summary ==\n");
  for (const Row& row : g_summary) std::printf("%s\n", row.text.c_str());
  std::printf("gpu_selftest: %s (%d failed comparisons)\n", g_failures == 0 ? "PASS" : "FAIL",
              g_failures);
  return g_failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace gsmap::gpu_test

// --checks-only: the comparisons without the throughput part (for compute-sanitizer runs);
// --ldsc-profile: one LDSC regression per benchmark chunk size (for ncu);
// --kernels GENES SNPS [SPOTS]: the GSS kernel (500 cells, K = 21) at GENES genes and the LDSC
// regression (P = 4, 200 blocks, SPOTS-spot chunk, default 1000) at SNPS SNPs, each against its CPU
// reference, kernel time apart from transfers (scripts/gpu-check.sh).
int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool checks_only = mode == "--checks-only";
  try {
    if (mode == "--ldsc-profile") return gsmap::gpu_test::ldsc_profile();
    if (mode == "--kernels" && argc >= 4) {
      return gsmap::gpu_test::kernels(std::stoul(argv[2]), std::stoll(argv[3]),
                                      argc > 4 ? std::stoll(argv[4]) : 1000);
    }
    return gsmap::gpu_test::run(checks_only);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_selftest: %s\n", e.what());
    return 1;
  }
}
