#pragma once
// The Gene Specificity Score (GSS) of docs/algorithms.md §4, with the float16 recipe of §10.3
// (steps 8-12) that reproduces gsMap3D bit for bit.
//
// Vocabulary. A focal cell has n_slots = K * S neighbour slots (K homogeneous neighbours per slice
// block, S = 1 + 2 * n_adj blocks; S = 1 for spatial2D / scRNA). Each slot holds a neighbour's row
// (-1 = padded, no neighbour) and a weight w (f16, >= 0). A *pooling group* is a set of slots whose
// weights are normalised together:
//   * whole-row pooling (spatial2D, scRNA, spatial3D per_slice_pool and global_pool): one group of
//     all K * S slots. global_pool is broken in gsMap3D (docs/algorithms.md §3.6); we implement it
//     as documented, which is this path over the K * S columns of its selection.
//   * hierarchical pooling (spatial3D hierarchical_pool, the default): S groups of K slots (slice
//     blocks, in the neighbour column order); a group with weight sum 0 is invalid; the final score
//     is the f32 mean over valid groups.
//
// Decisions that differ from gsMap3D (docs/algorithms.md §4.1, §4.6): padded slots are never read;
// a cell whose weights are all zero (or, hierarchical, whose blocks are all invalid) gets GSS 0 for
// every gene, with or without the expression-fraction filter, and is counted so the caller can
// report it.
//
// This header holds the per-element functions, GSMAP_HD and C++17 so that CUDA kernels include it;
// marker_score.hpp adds the CPU batch API (MarkerScoreCalculator), the same arithmetic with the
// gene loop innermost.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "gsmap/gss/gss_float_math.hpp"
#include "gsmap/math/f16.hpp"

namespace gsmap::gss {

using math::f16_bits;

enum class MarkerScorePooling {
  kWholeRow,      // one group of all K*S slots
  kHierarchical,  // S groups of K slots, nan-mean over valid groups
};

struct MarkerScoreOptions {
  int neighbors_per_block = 21;  // K (--homogeneous-neighbors)
  int n_blocks = 1;              // S = 1 + 2 * n_adjacent_slices for spatial3D, else 1
  MarkerScorePooling pooling = MarkerScorePooling::kWholeRow;
  bool no_expression_fraction = false;  // --no-expression-fraction

  // The GSS layout of a run: spatial2D / scRNA pool one block of K; spatial3D has
  // S = 1 + 2 * n_adjacent_slices blocks, averaged per block for hierarchical_pool and pooled as
  // one row for per_slice_pool and global_pool.
  static MarkerScoreOptions for_run(int homogeneous_neighbors, bool spatial3d,
                                    int n_adjacent_slices, bool hierarchical_pool,
                                    bool no_expression_fraction) {
    MarkerScoreOptions o;
    o.neighbors_per_block = homogeneous_neighbors;
    o.n_blocks = spatial3d ? 1 + 2 * n_adjacent_slices : 1;
    o.pooling = spatial3d && hierarchical_pool ? MarkerScorePooling::kHierarchical
                                               : MarkerScorePooling::kWholeRow;
    o.no_expression_fraction = no_expression_fraction;
    return o;
  }

  int slots_per_cell() const { return neighbors_per_block * n_blocks; }
  int n_groups() const { return pooling == MarkerScorePooling::kHierarchical ? n_blocks : 1; }
  int slots_per_group() const { return slots_per_cell() / n_groups(); }
};

// ---------------------------------------------------------------------------------------------
// Per-element arithmetic (docs/algorithms.md §10.3, steps 8-12).

// Step 8: W = round_f16(sum of f32(w_k)) accumulated in f32, in slot order; padded slots skipped.
GSMAP_HD float group_weight_sum(const f16_bits* weights, const std::int32_t* slot_rows, int n) {
  float sum = 0.0f;
  for (int k = 0; k < n; ++k) {
    if (slot_rows[k] >= 0) sum += math::f16_to_f32(weights[k]);
  }
  return math::round_f16(sum);
}

// Step 8: w_hat = round_f16(f32(w) / f32(W)); W must be > 0 (a W = 0 group is handled as a whole).
GSMAP_HD float normalised_weight(f16_bits weight, float weight_sum) {
  return math::round_f16(math::f16_to_f32(weight) / weight_sum);
}

// Step 9: the f16 weighted mean from its f32 accumulation.
GSMAP_HD float weighted_log_mean(float accumulated) { return math::round_f16(accumulated); }

// Step 10: R = exp(m - G_Mean) in f32; ratios below 1 are zeroed (R == 1 exactly is kept).
// exp is numpy's f32 kernel (gss_float_math.hpp) so CPU, GPU and the reference agree.
GSMAP_HD float rank_ratio(float weighted_mean, float global_log_mean) {
  const float ratio = numpy_expf(weighted_mean - global_log_mean);
  return ratio < 1.0f ? 0.0f : ratio;
}

// Step 11: a neighbour expresses a gene iff its log rank differs from its own row minimum (the
// tied-zeros rank). Log ranks are non-negative and never NaN, so comparing the bits is exact.
GSMAP_HD bool expresses(f16_bits log_rank, f16_bits row_minimum) { return log_rank != row_minimum; }

// Step 11: f = round_f16(count / |valid|) in f32; 0 when no neighbour is valid.
GSMAP_HD float expression_fraction(int expressing, int n_valid) {
  if (n_valid <= 0) return 0.0f;
  return math::round_f16(static_cast<float>(expressing) / static_cast<float>(n_valid));
}

// Step 11: the filter keeps R only where the neighbourhood fraction is strictly above the global
// one.
GSMAP_HD bool passes_fraction_filter(float neighbourhood_fraction, float global_fraction) {
  return neighbourhood_fraction > global_fraction;
}

// Step 12: GSS = exp(R^1.5) - 1 in f32 (R = 0 gives exactly 0; +inf in f16 above R ~ 4.97, in
// f32 above R ~ 19.9).
GSMAP_HD float gss_from_ratio(float ratio) {
  if (ratio == 0.0f) return 0.0f;
  return numpy_expf(pow_three_halves(ratio)) - 1.0f;
}

// One pooling group of a cell after weight normalisation: what the gene loop needs.
struct PreparedGroup {
  int n_slots = 0;
  const std::int32_t* slot_rows = nullptr;    // row of each slot in the log-rank block, -1 = padded
  const float* w_hat = nullptr;               // f32(normalised f16 weight); 0 for padded slots
  const std::uint8_t* in_fraction = nullptr;  // 1 = slot counts in the expression fraction
  int n_valid = 0;                            // number of slots with in_fraction = 1
  bool valid = false;                         // weight sum > 0
};

// Step 8 for one group: fills w_hat[n] and in_fraction[n] (caller-owned scratch). Valid
// neighbours for the fraction are w_hat > 0 (whole row) or w > 0 (hierarchical), as in
// docs/algorithms.md §10.3 step 11.
GSMAP_HD PreparedGroup prepare_group(const f16_bits* weights, const std::int32_t* slot_rows, int n,
                                     MarkerScorePooling pooling, float* w_hat,
                                     std::uint8_t* in_fraction) {
  PreparedGroup group;
  group.n_slots = n;
  group.slot_rows = slot_rows;
  group.w_hat = w_hat;
  group.in_fraction = in_fraction;
  const float weight_sum = group_weight_sum(weights, slot_rows, n);
  group.valid = weight_sum > 0.0f;
  for (int k = 0; k < n; ++k) {
    const bool present = slot_rows[k] >= 0;
    const float normalised =
        (present && group.valid) ? normalised_weight(weights[k], weight_sum) : 0.0f;
    w_hat[k] = normalised;
    const bool counts =
        group.valid && present &&
        (pooling == MarkerScorePooling::kHierarchical ? math::f16_to_f32(weights[k]) > 0.0f
                                                      : normalised > 0.0f);
    in_fraction[k] = counts ? 1 : 0;
    group.n_valid += counts ? 1 : 0;
  }
  return group;
}

// Steps 9-12 for one gene of one valid group, in f32 (not yet rounded to f16). `log_ranks` is the
// row-major block (row stride `row_stride`), `row_minimum[r]` the f16 minimum of block row r.
// Slots are accumulated in slot order; zero-weight slots add exactly 0 and are skipped.
GSMAP_HD float group_gene_gss(const PreparedGroup& group, const f16_bits* log_ranks,
                              std::size_t row_stride, const f16_bits* row_minimum, std::size_t gene,
                              float global_log_mean, float global_fraction,
                              bool use_expression_fraction) {
  float accumulated = 0.0f;
  int expressing = 0;
  for (int k = 0; k < group.n_slots; ++k) {
    const std::int32_t row = group.slot_rows[k];
    if (row < 0) continue;  // padded neighbour: never read
    const f16_bits log_rank = log_ranks[static_cast<std::size_t>(row) * row_stride + gene];
    if (group.w_hat[k] != 0.0f) accumulated += group.w_hat[k] * math::f16_to_f32(log_rank);
    if (group.in_fraction[k] && expresses(log_rank, row_minimum[row])) ++expressing;
  }
  const float ratio = rank_ratio(weighted_log_mean(accumulated), global_log_mean);
  if (ratio == 0.0f) return 0.0f;
  if (use_expression_fraction &&
      !passes_fraction_filter(expression_fraction(expressing, group.n_valid), global_fraction)) {
    return 0.0f;
  }
  return gss_from_ratio(ratio);
}

// Combines the groups of one cell for one gene into the stored f16 value: whole row -> round the
// single group's value; hierarchical -> f32 mean over valid groups (0 if none), then round.
GSMAP_HD f16_bits cell_gene_gss(const PreparedGroup* groups, int n_groups,
                                const f16_bits* log_ranks, std::size_t row_stride,
                                const f16_bits* row_minimum, std::size_t gene,
                                float global_log_mean, float global_fraction,
                                bool use_expression_fraction) {
  float sum = 0.0f;
  int n_valid_groups = 0;
  for (int b = 0; b < n_groups; ++b) {
    if (!groups[b].valid) continue;
    sum += group_gene_gss(groups[b], log_ranks, row_stride, row_minimum, gene, global_log_mean,
                          global_fraction, use_expression_fraction);
    ++n_valid_groups;
  }
  if (n_valid_groups == 0) return 0;  // all weights zero: defined as 0 (docs/algorithms.md §4.6)
  if (n_groups == 1) return math::f32_to_f16(sum);
  return math::f32_to_f16(sum / static_cast<float>(n_valid_groups));
}

// Minimum f16 log rank of a row (the neighbour's "not expressed" value). Non-negative f16 values
// order like their bit patterns.
GSMAP_HD f16_bits row_minimum_f16(const f16_bits* row, std::size_t n_genes) {
  f16_bits minimum = 0xffff;
  for (std::size_t g = 0; g < n_genes; ++g) minimum = row[g] < minimum ? row[g] : minimum;
  return minimum;
}

}  // namespace gsmap::gss
