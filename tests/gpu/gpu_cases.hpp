#pragma once
// Generated inputs and CPU-versus-GPU comparisons shared by the GoogleTest suite (test_gpu) and the
// standalone self-test (gpu_selftest, which runs on GPU machines without MPI/HDF5/gtest).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gsmap/device/gss_device.hpp"
#include "gsmap/device/ldsc_device.hpp"
#include "gsmap/gss/marker_score.hpp"
#include "gsmap/ldsc/regression.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "gsmap/ldsc/trait.hpp"

namespace gsmap::gpu_test {

// ---------------------------------------------------------------------------------------------
// GSS

struct GssSpec {
  gss::MarkerScoreOptions options;
  std::size_t n_cells = 64;
  std::size_t n_genes = 300;
  std::size_t n_rows = 0;              // 0: n_cells * slots, every slot its own row
  double padded_slot_fraction = 0.0;   // slots with row -1 (their weights stay non-zero)
  double zero_slot_fraction = 0.0;     // slots with weight 0
  double zero_weight_cell_fraction = 0.0;  // cells whose weights are all 0
  double zero_block_fraction = 0.0;    // hierarchical blocks whose weights are all 0
  std::uint32_t seed = 1;
};

// Log ranks that look like real ones: per row a random share of genes is expressed (distinct
// ranks above the zeros), the rest tie at the zeros' average rank; G_Mean near the genes' mean log
// rank and frac near their expressed share, so ratios straddle 1 and the fraction filter bites.
struct GssBatch {
  gss::MarkerScoreOptions options;
  std::size_t n_cells = 0, n_rows = 0, n_genes = 0;
  std::vector<math::f16_bits> log_ranks, weights, row_minimum;
  std::vector<std::int32_t> slot_rows;
  std::vector<float> g_mean, frac;

  gss::NeighbourRankBatch view(bool with_row_minimum) const;
};

GssBatch make_gss_batch(const GssSpec& spec);

struct GssComparison {
  std::size_t entries = 0;
  std::size_t mismatches = 0;        // f16 bit patterns that differ
  std::size_t nonzero = 0;           // non-zero CPU entries (the comparison is not vacuous)
  std::size_t flag_mismatches = 0;   // zero-weight flags that differ
  std::size_t cpu_zero_cells = 0, gpu_zero_cells = 0;
  std::string first_mismatch;        // "cell c gene g: cpu 0x.... gpu 0x...."
  bool equal() const { return mismatches == 0 && flag_mismatches == 0 && cpu_zero_cells == gpu_zero_cells; }
};

// Runs MarkerScoreCalculator and `gpu` on the same batch and compares every bit.
GssComparison compare_gss(const GssBatch& batch, bool with_row_minimum, device::GssDevice& gpu);

// ---------------------------------------------------------------------------------------------
// Spatial LDSC

struct LdscSpec {
  int n_features = 4;         // P = baseline columns + 2
  int n_blocks = 20;
  std::int64_t block_size = 50;
  std::int64_t n_spots = 40;
  std::int64_t extra_ld_rows = 100;  // spot-LD rows beyond the trait's m (other traits' SNPs)
  bool zero_first_spot = false;      // spot 0 has LD 0 everywhere: singular, all NaN
  std::uint32_t seed = 7;
};

struct LdscCase {
  ldsc::TraitData trait;
  ldsc::SpotLd ld;
  std::vector<std::int64_t> ld_rows;  // ascending, m of ld.n_rows
};

LdscCase make_ldsc_case(const LdscSpec& spec);

struct LdscComparison {
  std::int64_t spots = 0;
  std::int64_t bit_mismatches = 0;   // beta, se, z, beta_full whose bits differ
  std::int64_t nan_mismatches = 0;   // NaN on one side only (any field)
  double max_rel_beta = 0.0;         // over beta, se, z, beta_full
  double max_rel_p = 0.0;            // over p and -log10 p
  std::int64_t finite_spots = 0;     // spots with finite beta on the CPU
  std::int64_t cpu_singular = 0, gpu_singular = 0;
  bool within(double rel) const {
    return nan_mismatches == 0 && max_rel_beta <= rel && max_rel_p <= rel &&
           cpu_singular == gpu_singular;
  }
};

LdscComparison compare_ldsc(const ldsc::TraitChunkResult& cpu, const ldsc::TraitChunkResult& gpu);

}  // namespace gsmap::gpu_test
