// CUDA backend: backend selection (runs everywhere) and GPU-versus-CPU equality (skipped without a
// visible device). The GPU must give the CPU's GSS bits exactly and its LDSC results within
// 1e-12 relative (beta, se, z bit for bit; p and -log10 p through CUDA's erfc / log10).
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "gpu_cases.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/device/gss_device.hpp"
#include "gsmap/device/host_staging.hpp"
#include "gsmap/device/ldsc_device.hpp"

namespace gsmap::gpu_test {
namespace {

using gss::MarkerScoreOptions;
using gss::MarkerScorePooling;

#define GSMAP_REQUIRE_GPU()                                                        \
  do {                                                                             \
    if (device::visible_gpus() == 0) GTEST_SKIP() << "no CUDA device visible";     \
  } while (false)

TEST(Backend, UseCudaFollowsTheVisibleDevices) {
  const bool have_gpu = device::visible_gpus() > 0;
  EXPECT_GE(device::visible_gpus(), 0);
  bool chosen = true;
  EXPECT_NO_THROW(chosen = device::use_cuda(true));
  EXPECT_EQ(chosen, have_gpu);
  EXPECT_NO_THROW(chosen = device::use_cuda(true));  // the warning is logged once; no throw
  EXPECT_EQ(chosen, have_gpu);
  EXPECT_FALSE(device::use_cuda(false));  // --no-gpu always means the CPU
  if (!device::cuda_built()) {
    EXPECT_EQ(device::visible_gpus(), 0);
  }
}

TEST(Backend, DeviceClassesRefuseWithoutAGpu) {
  if (device::visible_gpus() > 0) GTEST_SKIP() << "a CUDA device is visible";
  const std::vector<float> g_mean(3, 1.0f), frac(3, 0.1f);
  try {
    device::GssDevice gpu(MarkerScoreOptions{}, g_mean, frac);
    FAIL() << "GssDevice was constructed without a GPU";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("--no-gpu"), std::string::npos);
  }
  try {
    device::LdscDevice gpu;
    FAIL() << "LdscDevice was constructed without a GPU";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
  }
  if (device::cuda_built()) {
    EXPECT_THROW(device::select_device(0), ComputeError);  // cudaSetDevice fails: no device
  } else {
    EXPECT_NO_THROW(device::select_device(0));  // nothing to select without CUDA
  }
}

TEST(HostStagingBuffer, PinnedExactlyWhenAGpuIsVisible) {
  device::HostStagingBuffer buffer;
  const std::span<float> values = buffer.as<float>(1000);
  ASSERT_EQ(values.size(), 1000u);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  EXPECT_EQ(values[999], 999.0f);
  EXPECT_EQ(buffer.pinned(), device::visible_gpus() > 0);
  void* const first = values.data();
  EXPECT_EQ(buffer.as<double>(100).data(), first);  // fits: reused
  EXPECT_GE(buffer.as<double>(100000).size(), 100000u);
  EXPECT_GE(buffer.capacity_bytes(), 100000u * sizeof(double));
  device::HostStagingBuffer moved(std::move(buffer));
  EXPECT_EQ(buffer.capacity_bytes(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_GE(moved.capacity_bytes(), 100000u * sizeof(double));
}

void expect_gss_equal(const GssSpec& spec) {
  const GssBatch batch = make_gss_batch(spec);
  device::GssDevice gpu(spec.options, batch.g_mean, batch.frac);
  for (bool with_minima : {false, true}) {
    const GssComparison r = compare_gss(batch, with_minima, gpu);
    EXPECT_EQ(r.mismatches, 0u) << r.first_mismatch << " (row minima given: " << with_minima << ")";
    EXPECT_EQ(r.flag_mismatches, 0u);
    EXPECT_EQ(r.cpu_zero_cells, r.gpu_zero_cells);
    EXPECT_GT(r.nonzero, r.entries / 50) << "too few non-zero scores for a meaningful comparison";
  }
  // The rows resident on the device (uploaded once, as the GSS engine's CUDA backend does; the
  // batch then uploads only its slots and weights): the same bits.
  device::GssDevice resident(spec.options, batch.g_mean, batch.frac);
  const gss::NeighbourRankBatch rows = batch.view(true);
  resident.set_resident_rows(rows.log_ranks, rows.row_minimum);
  for (bool with_minima : {true, false}) {
    const GssComparison r = compare_gss(batch, with_minima, resident);
    EXPECT_EQ(r.mismatches, 0u) << r.first_mismatch << " (resident rows, minima " << with_minima << ")";
    EXPECT_EQ(r.flag_mismatches, 0u);
  }
}

TEST(GssDevice, WholeRowMatchesCpuBits) {
  GSMAP_REQUIRE_GPU();
  GssSpec spec;
  spec.options = MarkerScoreOptions{21, 1, MarkerScorePooling::kWholeRow, false};
  spec.n_cells = 300;
  spec.n_genes = 1000;
  spec.n_rows = 900;  // shared neighbours
  spec.padded_slot_fraction = 0.05;
  spec.zero_slot_fraction = 0.1;
  spec.zero_weight_cell_fraction = 0.03;
  spec.seed = 11;
  expect_gss_equal(spec);
  spec.options.no_expression_fraction = true;
  spec.seed = 12;
  expect_gss_equal(spec);
}

TEST(GssDevice, HierarchicalMatchesCpuBits) {
  GSMAP_REQUIRE_GPU();
  GssSpec spec;
  spec.options = MarkerScoreOptions{10, 3, MarkerScorePooling::kHierarchical, false};
  spec.n_cells = 257;
  spec.n_genes = 777;  // not a multiple of the block width
  spec.n_rows = 1500;
  spec.padded_slot_fraction = 0.1;
  spec.zero_slot_fraction = 0.1;
  spec.zero_weight_cell_fraction = 0.02;
  spec.zero_block_fraction = 0.2;
  spec.seed = 21;
  expect_gss_equal(spec);
}

TEST(GssDevice, ReusesBuffersAcrossBatchSizes) {
  GSMAP_REQUIRE_GPU();
  GssSpec spec;
  spec.options = MarkerScoreOptions{5, 1, MarkerScorePooling::kWholeRow, false};
  spec.n_genes = 333;
  const GssBatch big = [&] { spec.n_cells = 200; spec.seed = 31; return make_gss_batch(spec); }();
  const GssBatch small = [&] { spec.n_cells = 7; spec.seed = 32; return make_gss_batch(spec); }();
  device::GssDevice gpu(spec.options, big.g_mean, big.frac);
  EXPECT_TRUE(compare_gss(small, false, gpu).equal());
  EXPECT_TRUE(compare_gss(big, false, gpu).equal());
  // The other batch's gene statistics differ, so reuse needs the small batch's own device.
  device::GssDevice gpu_small(spec.options, small.g_mean, small.frac);
  EXPECT_TRUE(compare_gss(small, true, gpu_small).equal());
}

TEST(GssDevice, RejectsBadShapesLikeTheCpu) {
  GSMAP_REQUIRE_GPU();
  GssSpec spec;
  spec.options = MarkerScoreOptions{4, 1, MarkerScorePooling::kWholeRow, false};
  spec.n_cells = 3;
  spec.n_genes = 10;
  GssBatch batch = make_gss_batch(spec);
  device::GssDevice gpu(spec.options, batch.g_mean, batch.frac);
  std::vector<math::f16_bits> out(batch.n_cells * batch.n_genes);
  batch.slot_rows[5] = static_cast<std::int32_t>(batch.n_rows);  // one past the block
  EXPECT_THROW(gpu.compute(batch.view(false), out), ComputeError);
  std::vector<math::f16_bits> short_out(out.size() - 1);
  batch.slot_rows[5] = 0;
  EXPECT_THROW(gpu.compute(batch.view(false), short_out), ComputeError);
}

void expect_ldsc_close(const LdscSpec& spec) {
  const LdscCase c = make_ldsc_case(spec);
  const ldsc::TraitChunkResult cpu = ldsc::regress_spots(c.trait, c.ld, c.ld_rows);
  device::LdscDevice gpu;
  const ldsc::TraitChunkResult once = gpu.regress(c.trait, c.ld, c.ld_rows);
  const ldsc::TraitChunkResult again = gpu.regress(c.trait, c.ld_rows);  // cached trait, same chunk
  for (const auto* result : {&once, &again}) {
    const LdscComparison r = compare_ldsc(cpu, *result);
    EXPECT_TRUE(r.within(1e-12)) << "P = " << spec.n_features << ": rel beta " << r.max_rel_beta
                                 << ", rel p " << r.max_rel_p << ", NaN mismatches "
                                 << r.nan_mismatches;
    EXPECT_EQ(r.bit_mismatches, 0) << "beta/se/z/beta_full should be the CPU's bits";
    EXPECT_EQ(r.cpu_singular, spec.zero_first_spot ? 1 : 0);
    EXPECT_GE(r.finite_spots, spec.n_spots - 1);
  }
}

TEST(LdscDevice, RegisterKernelsMatchCpu) {
  GSMAP_REQUIRE_GPU();
  for (int P : {3, 4, 6}) {
    LdscSpec spec;
    spec.n_features = P;
    spec.n_spots = 70;  // more than two warps, not a multiple of 32
    spec.zero_first_spot = true;
    spec.seed = 40 + static_cast<std::uint32_t>(P);
    expect_ldsc_close(spec);
  }
}

TEST(LdscDevice, GlobalMemoryKernelMatchesCpu) {
  GSMAP_REQUIRE_GPU();
  LdscSpec spec;
  spec.n_features = 11;  // outside the register kernels
  spec.n_blocks = 12;
  spec.block_size = 80;
  spec.n_spots = 33;
  spec.seed = 51;
  expect_ldsc_close(spec);
}

TEST(LdscDevice, RejectsRowsOutsideTheChunk) {
  GSMAP_REQUIRE_GPU();
  LdscCase c = make_ldsc_case(LdscSpec{});
  device::LdscDevice gpu;
  c.ld_rows.back() = c.ld.n_rows;
  EXPECT_THROW(gpu.regress(c.trait, c.ld, c.ld_rows), ComputeError);
  c.ld_rows.pop_back();
  EXPECT_THROW(gpu.regress(c.trait, c.ld, c.ld_rows), ComputeError);
}

}  // namespace
}  // namespace gsmap::gpu_test
