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

namespace {

// out row r += w_e * scores[gene_e] over row c's entries (f32 multiply, then add; no FMA).
[[gnu::always_inline]] inline void sparse_rows_times_dense(const SparseRowsF32& w,
                                                         const std::vector<std::int64_t>& rows,
                                                         const float* scores_by_gene,
                                                         std::int64_t n_spots, float* out) {
  const std::int64_t* outer = w.outerIndexPtr();
  const std::int64_t* gene = w.innerIndexPtr();
  const float* weight = w.valuePtr();
  const std::int64_t n_rows = static_cast<std::int64_t>(rows.size());
  for (std::int64_t r = 0; r < n_rows; ++r) {
    float* __restrict ld = out + r * n_spots;
    const std::int64_t c = rows[r];
    for (std::int64_t e = outer[c]; e < outer[c + 1]; ++e) {
      const float v = weight[e];
      const float* __restrict scores = scores_by_gene + gene[e] * n_spots;
      for (std::int64_t j = 0; j < n_spots; ++j) ld[j] += v * scores[j];
    }
  }
}

void sparse_rows_times_dense_baseline(const SparseRowsF32& w, const std::vector<std::int64_t>& rows,
                                      const float* scores_by_gene, std::int64_t n_spots,
                                      float* out) {
  sparse_rows_times_dense(w, rows, scores_by_gene, n_spots, out);
}

#if GSMAP_LDSC_HAVE_AVX2_CLONES
GSMAP_LDSC_TARGET_AVX2 void sparse_rows_times_dense_avx2(const SparseRowsF32& w,
                                                         const std::vector<std::int64_t>& rows,
                                                         const float* scores_by_gene,
                                                         std::int64_t n_spots, float* out) {
  sparse_rows_times_dense(w, rows, scores_by_gene, n_spots, out);
}
#endif

}  // namespace

void compute_spot_ld(const CommonResources& common, const SpotLdPlan& plan,
                     const math::f16_bits* marker_scores, std::int64_t n_spots, SpotLd& out,
                     CpuSimd simd) {
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
#if GSMAP_LDSC_HAVE_AVX2_CLONES
  if (use_avx2(simd)) {
    sparse_rows_times_dense_avx2(common.gene_weights, plan.common_rows(), scores_by_gene.data(),
                                 n_spots, out.values.data());
    return;
  }
#endif
  (void)simd;
  sparse_rows_times_dense_baseline(common.gene_weights, plan.common_rows(), scores_by_gene.data(),
                                   n_spots, out.values.data());
}

}  // namespace gsmap::ldsc
