#pragma once
// CPU batch computation of the Gene Specificity Score (docs/algorithms.md §4, §10.3 steps 8-12):
// the per-element arithmetic of marker_score_math.hpp applied to a reader batch (gathered
// neighbour log-rank rows + slot -> row map + weights), gene loops innermost and vectorised,
// bit-identical to cell_gene_gss() (tested).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "gsmap/gss/marker_score_math.hpp"

namespace gsmap::gss {

// The neighbour log ranks of a batch of cells, as the reader stage assembles them: each distinct
// neighbour row once (`log_ranks`, n_rows x n_genes f16 bits, row-major), and per cell and slot
// the row it refers to (`slot_rows`, n_cells x slots_per_cell, -1 = padded) and its weight
// (`weights`, f16 bits, same shape). `row_minimum` may hold precomputed per-row minima (n_rows) or
// be empty.
struct NeighbourRankBatch {
  std::size_t n_cells = 0;
  std::size_t n_rows = 0;
  std::size_t n_genes = 0;
  std::span<const f16_bits> log_ranks;
  std::span<const std::int32_t> slot_rows;
  std::span<const f16_bits> weights;
  std::span<const f16_bits> row_minimum;
};

struct MarkerScoreBatchStats {
  std::size_t cells = 0;
  std::size_t zero_weight_cells = 0;  // all weights 0 (hierarchical: all blocks invalid) -> GSS 0
};

// Computes GSS for batches; holds the global gene statistics and reusable scratch, so one
// instance per compute worker (not thread-safe).
class MarkerScoreCalculator {
 public:
  // g_mean: per-gene global log geometric mean (f32); frac: global expression fraction (f32).
  MarkerScoreCalculator(const MarkerScoreOptions& options, std::span<const float> g_mean,
                        std::span<const float> frac);

  // Writes n_cells x n_genes f16 bits to `gss` (row-major). If `zero_weight_flags` is non-empty
  // (n_cells entries) it receives 1 for cells whose weights were all zero. Throws ComputeError on
  // inconsistent shapes or a slot row outside the block.
  MarkerScoreBatchStats compute(const NeighbourRankBatch& batch, std::span<f16_bits> gss,
                                std::span<std::uint8_t> zero_weight_flags = {});

  // Which vector copy of the gene loops runs on x86-64 (the results are the same bits either
  // way): kAuto picks AVX-512 or AVX2 by the CPU; kAvx2 stops at AVX2 (tests compare the copies).
  enum class Simd { kAuto, kAvx2 };
  void limit_simd(Simd simd);

  const MarkerScoreOptions& options() const { return options_; }
  std::size_t n_genes() const { return g_mean_.size(); }

 private:
  void check_batch(const NeighbourRankBatch& batch, std::size_t gss_size,
                   std::size_t flags_size) const;
  // Steps 9 and 11 over all genes for one valid group: f32 sums and expressing counts.
  void accumulate_group(const PreparedGroup& group, const NeighbourRankBatch& batch,
                        const f16_bits* row_minimum);
  // Steps 10-12 for all genes of the group just accumulated -> f32 group scores.
  void score_group(int n_valid, float* group_gss);
  // Steps 10-12 and the f16 store of a one-group cell on x86-64-v3 CPUs: only the genes that can
  // be kept are scored (same bits as score_group + store_f16).
  void score_store_compact(int n_valid, f16_bits* out);

  MarkerScoreOptions options_;
  std::vector<float> g_mean_, frac_;
  std::vector<float> accumulated_;         // n_genes
  std::vector<std::uint16_t> expressing_;  // n_genes
  std::vector<float> ratios_, powers_;     // n_genes: kept R and R^1.5 of the current group
  std::vector<float> group_gss_;           // n_genes
  std::vector<float> group_sum_;           // n_genes (hierarchical)
  std::vector<float> w_hat_;               // slots_per_cell
  std::vector<std::uint8_t> in_fraction_;  // slots_per_cell
  std::vector<PreparedGroup> groups_;      // n_groups
  std::vector<f16_bits> row_minimum_;      // scratch when the batch carries none
  // The present slots of the group being accumulated (the fused x86-64-v3 pass).
  std::vector<const f16_bits*> slot_row_ptrs_;
  std::vector<float> slot_weights_;
  std::vector<std::uint8_t> slot_counts_;
  std::vector<f16_bits> slot_minima_;
  // score_store_compact: genes that may be kept (their f32 scores in ratios_ .. group_gss_).
  std::vector<std::int32_t> compact_genes_;
  std::vector<f16_bits> compact_f16_;
  bool use_v4_ = false;  // AVX-512 copy of the slot accumulation
};

// Convenience: one-shot batch computation (allocates scratch).
MarkerScoreBatchStats compute_marker_scores(const MarkerScoreOptions& options,
                                            std::span<const float> g_mean,
                                            std::span<const float> frac,
                                            const NeighbourRankBatch& batch,
                                            std::span<f16_bits> gss,
                                            std::span<std::uint8_t> zero_weight_flags = {});

}  // namespace gsmap::gss
