#pragma once
// Spot LD scores for a chunk of spots (docs/algorithms.md §7.1): L = W · GSS_chunk^T, computed once
// per chunk for all traits. The plan multiplies the union of all traits' kept SNP rows; each trait
// then reads its own rows through an index list, so every extra trait costs only its regression.
#include <cstdint>
#include <vector>

#include "gsmap/ldsc/cpu_simd.hpp"
#include "gsmap/ldsc/resources.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "gsmap/math/f16.hpp"

namespace gsmap::ldsc {

class SpotLdPlan {
 public:
  // Union (ascending C0 positions = W order) of the traits' kept SNPs.
  SpotLdPlan(const CommonResources& common, const std::vector<const TraitData*>& traits);

  std::int64_t n_rows() const { return static_cast<std::int64_t>(common_rows_.size()); }
  std::size_t n_traits() const { return trait_rows_.size(); }
  // C0 position of each row of the spot-LD matrix.
  const std::vector<std::int64_t>& common_rows() const { return common_rows_; }
  // For trait t (in constructor order): the spot-LD row of each of its m kept SNPs.
  const std::vector<std::int64_t>& trait_rows(std::size_t t) const { return trait_rows_.at(t); }

 private:
  std::vector<std::int64_t> common_rows_;
  std::vector<std::vector<std::int64_t>> trait_rows_;
};

// Spot LD of one chunk, SNP-major: the n_spots values of one SNP are contiguous, which is the
// order in which the regression streams them (all spots of the chunk advance together).
struct SpotLd {
  std::int64_t n_rows = 0;
  std::int64_t n_spots = 0;
  std::vector<float> values;  // n_rows x n_spots
  const float* row(std::int64_t r) const { return values.data() + r * n_spots; }
};

// L = W_G[plan rows] · GSS^T in f32 (sparse x dense; each entry accumulated over the row's genes in
// W's column order, as scipy's product of the column-selected weight matrix does in the reference). `marker_scores` holds n_spots rows of common.n_marker_genes
// f16 values (marker-score gene order); only the aligned genes are read. Reuses `out`'s storage.
void compute_spot_ld(const CommonResources& common, const SpotLdPlan& plan,
                     const math::f16_bits* marker_scores, std::int64_t n_spots, SpotLd& out,
                     CpuSimd simd = CpuSimd::kAuto);

}  // namespace gsmap::ldsc
