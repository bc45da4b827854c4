#include "gsmap/ldsc/spot_ld.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::ldsc {

SpotLdPlan::SpotLdPlan(const CommonResources& common, const std::vector<const TraitData*>& traits) {
  // Mark the union on a C0-sized map; row numbers follow C0 (= W) order.
  std::vector<std::int64_t> row_of_common(common.n_snps(), -1);
  for (const TraitData* t : traits)
    for (const std::int64_t c : t->common_index) row_of_common.at(c) = 0;
  for (std::int64_t c = 0; c < common.n_snps(); ++c) {
    if (row_of_common[c] < 0) continue;
    row_of_common[c] = static_cast<std::int64_t>(common_rows_.size());
    common_rows_.push_back(c);
  }
  trait_rows_.reserve(traits.size());
  for (const TraitData* t : traits) {
    std::vector<std::int64_t> rows(t->common_index.size());
    for (std::size_t k = 0; k < rows.size(); ++k) rows[k] = row_of_common[t->common_index[k]];
    trait_rows_.push_back(std::move(rows));
  }
}

void compute_spot_ld(const CommonResources& common, const SpotLdPlan& plan,
                     const math::f16_bits* marker_scores, std::int64_t n_spots, SpotLd& out) {
  const std::int64_t n_genes = static_cast<std::int64_t>(common.genes.size());
  // Aligned genes, transposed: gene-major so that one weight updates all spots at once.
  std::vector<float> scores_by_gene(static_cast<std::size_t>(n_genes * n_spots));
  for (std::int64_t j = 0; j < n_spots; ++j) {
    const math::f16_bits* spot_row = marker_scores + j * common.n_marker_genes;
    for (std::int64_t g = 0; g < n_genes; ++g)
      scores_by_gene[g * n_spots + j] = math::f16_to_f32(spot_row[common.marker_column[g]]);
  }

  out.n_rows = plan.n_rows();
  out.n_spots = n_spots;
  out.values.assign(static_cast<std::size_t>(out.n_rows * n_spots), 0.0f);
  const SparseRowsF32& w = common.gene_weights;
  const std::int64_t* outer = w.outerIndexPtr();
  const std::int64_t* gene = w.innerIndexPtr();
  const float* weight = w.valuePtr();
  const auto& rows = plan.common_rows();
  for (std::int64_t r = 0; r < out.n_rows; ++r) {
    float* ld = out.values.data() + r * n_spots;
    const std::int64_t c = rows[r];
    for (std::int64_t e = outer[c]; e < outer[c + 1]; ++e) {
      const float v = weight[e];
      const float* scores = scores_by_gene.data() + gene[e] * n_spots;
      for (std::int64_t j = 0; j < n_spots; ++j) ld[j] += v * scores[j];
    }
  }
}

}  // namespace gsmap::ldsc
