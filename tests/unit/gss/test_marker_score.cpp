// GSS formula (docs/algorithms.md §4, §10.3 steps 8-12) on hand-made cases. Expected values are
// derived by hand (exact f16 arithmetic) or by a plain double-precision evaluation of the recipe
// ("textbook" below) where the f16 result is far from a rounding boundary.
#include <gtest/gtest.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gsmap/core/error.hpp"
#include "gsmap/gss/marker_score.hpp"
#include "test_support.hpp"

namespace gsmap::gss {
namespace {

using math::f16_to_f32;
using math::f32_to_f16;

constexpr f16_bits kF16Inf = 0x7c00;
constexpr f16_bits kEMinus1 = 0x3ee0;  // f16(e - 1) = 1.71875: the GSS of R = 1 exactly

f16_bits h(float v) { return f32_to_f16(v); }

// A small batch: each row of log ranks given as floats (rounded to f16), slots and weights per
// cell.
struct HandBatch {
  std::size_t n_genes = 0;
  std::vector<f16_bits> log_ranks;
  std::vector<std::int32_t> slot_rows;
  std::vector<f16_bits> weights;

  void add_row(const std::vector<float>& row) {
    n_genes = row.size();
    for (float v : row) log_ranks.push_back(h(v));
  }
  void add_cell(const std::vector<std::int32_t>& rows, const std::vector<float>& w) {
    slot_rows.insert(slot_rows.end(), rows.begin(), rows.end());
    for (float v : w) weights.push_back(h(v));
  }
  NeighbourRankBatch view(std::size_t slots) const {
    NeighbourRankBatch b;
    b.n_genes = n_genes;
    b.n_rows = log_ranks.size() / n_genes;
    b.n_cells = slot_rows.size() / slots;
    b.log_ranks = log_ranks;
    b.slot_rows = slot_rows;
    b.weights = weights;
    return b;
  }
};

struct Result {
  std::vector<f16_bits> gss;
  std::vector<std::uint8_t> flags;
  MarkerScoreBatchStats stats;
};

Result compute(const HandBatch& hb, const MarkerScoreOptions& options,
               const std::vector<float>& g_mean, const std::vector<float>& frac) {
  const NeighbourRankBatch batch = hb.view(static_cast<std::size_t>(options.slots_per_cell()));
  Result r;
  r.gss.assign(batch.n_cells * batch.n_genes, 0xffff);
  r.flags.assign(batch.n_cells, 0xff);
  r.stats = compute_marker_scores(options, g_mean, frac, batch, r.gss, r.flags);
  return r;
}

MarkerScoreOptions whole_row(int k, int s = 1, bool no_fraction = false) {
  return {k, s, MarkerScorePooling::kWholeRow, no_fraction};
}

// ---------------------------------------------------------------------------------------------

TEST(MarkerScoreMath, RankRatioKeepsExactlyOneAndZeroesBelow) {
  EXPECT_EQ(rank_ratio(1.0f, 1.0f), 1.0f);  // exp(0) = 1 exactly, kept
  EXPECT_EQ(rank_ratio(0.5f, 0.50001f), 0.0f);
  EXPECT_NEAR(rank_ratio(2.0f, 2.0f - std::log(3.0f)), 3.0f, 3e-6f);
  EXPECT_EQ(gss_from_ratio(0.0f), 0.0f);
  EXPECT_EQ(h(gss_from_ratio(1.0f)), kEMinus1);
}

TEST(MarkerScoreMath, ExpressionFractionIsF16AndStrict) {
  EXPECT_EQ(expression_fraction(0, 0), 0.0f);
  EXPECT_EQ(expression_fraction(1, 3), f16_to_f32(0x3555));  // round_f16(1/3) = 0.333251953125
  EXPECT_EQ(expression_fraction(2, 3), f16_to_f32(0x3955));  // 0.66650390625
  EXPECT_FALSE(passes_fraction_filter(0.5f, 0.5f));
  EXPECT_TRUE(passes_fraction_filter(0.5f, 0.49999997f));
  // f16(1/3) = 0.33325 is below 1/3 as f32: a global fraction of exactly 1/3 is not exceeded.
  EXPECT_FALSE(passes_fraction_filter(expression_fraction(1, 3), 1.0f / 3.0f));
}

TEST(MarkerScoreMath, WeightNormalisationInF16) {
  const std::vector<f16_bits> w = {h(0.5f), h(0.25f), h(0.125f)};
  const std::vector<std::int32_t> rows = {0, 1, -1};
  EXPECT_EQ(group_weight_sum(w.data(), rows.data(), 3), 0.75f);   // the padded slot is skipped
  EXPECT_EQ(normalised_weight(w[0], 0.75f), f16_to_f32(0x3955));  // round_f16(2/3)
  EXPECT_EQ(normalised_weight(w[1], 0.75f), f16_to_f32(0x3555));  // round_f16(1/3)
}

// Two neighbours of weight 0.5 (w_hat = 0.5 exactly), log ranks chosen so that m is exact.
TEST(MarkerScore, HandCaseRatioOneAndStrictFraction) {
  HandBatch hb;
  hb.add_row({1.0f, 0.0f, 2.0f, 0.5f});  // row minimum 0 (gene 1)
  hb.add_row({1.0f, 0.0f, 0.0f, 0.5f});  // row minimum 0 (genes 1, 2)
  hb.add_cell({0, 1}, {0.5f, 0.5f});
  // m = [1, 0, 1, 0.5]; G_Mean = m (R = 1) except gene 3 (R slightly below 1).
  const std::vector<float> g_mean = {1.0f, 0.0f, 1.0f, 0.50001f};
  std::vector<float> frac = {0.5f, 0.0f, 0.5f, 0.0f};
  Result r = compute(hb, whole_row(2), g_mean, frac);
  // gene 0: both express, f = 1 > 0.5; gene 1: f = 0 not > 0; gene 2: f = 0.5 not > 0.5.
  EXPECT_EQ(r.gss, (std::vector<f16_bits>{kEMinus1, 0, 0, 0}));
  EXPECT_EQ(r.stats.zero_weight_cells, 0u);
  EXPECT_EQ(r.flags[0], 0);

  frac[2] = 0.49f;
  r = compute(hb, whole_row(2), g_mean, frac);
  EXPECT_EQ(r.gss, (std::vector<f16_bits>{kEMinus1, 0, kEMinus1, 0}));

  // Without the filter only the R < 1 rule remains.
  r = compute(hb, whole_row(2, 1, true), g_mean, frac);
  EXPECT_EQ(r.gss, (std::vector<f16_bits>{kEMinus1, kEMinus1, kEMinus1, 0}));
}

// R > ~4.97 overflows the f16 store to +inf; R ~ 4.9 stays finite (4.9^1.5 = 10.8466,
// e^10.8466 - 1 = 51358.9 -> f16 51360, 1604.96 f16 steps).
TEST(MarkerScore, LargeRatiosOverflowToInfinity) {
  HandBatch hb;
  hb.add_row({2.0f, 2.0f, 2.0f, 0.0f});
  hb.add_cell({0}, {0.75f});
  const std::vector<float> g_mean = {static_cast<float>(2.0 - std::log(5.0)),
                                     static_cast<float>(2.0 - std::log(4.9)),
                                     static_cast<float>(2.0 - std::log(30.0)), 0.0f};
  const std::vector<float> frac = {0.5f, 0.5f, 0.5f, 0.5f};
  const Result r = compute(hb, whole_row(1), g_mean, frac);
  EXPECT_EQ(r.gss[0], kF16Inf);
  EXPECT_EQ(f16_to_f32(r.gss[1]), 51360.0f);
  EXPECT_EQ(r.gss[2], kF16Inf);  // already +inf in f32 (R^1.5 > 88.7)
  EXPECT_EQ(r.gss[3], 0);        // not expressed (row minimum)
}

TEST(MarkerScore, AllZeroWeightsGiveZeroAndAreFlagged) {
  HandBatch hb;
  hb.add_row({3.0f, 1.0f, 0.0f});
  hb.add_row({2.0f, 2.0f, 0.0f});
  hb.add_cell({0, 1, -1}, {0.0f, 0.0f, 0.0f});    // all zero
  hb.add_cell({0, 1, 1}, {0.5f, 0.25f, 0.25f});   // normal
  hb.add_cell({-1, -1, -1}, {0.0f, 0.0f, 0.0f});  // no neighbour at all
  const std::vector<float> g_mean = {0.1f, 0.1f, 0.1f};
  const std::vector<float> frac = {0.0f, 0.0f, 0.0f};
  for (bool no_fraction : {false, true}) {
    const Result r = compute(hb, whole_row(3, 1, no_fraction), g_mean, frac);
    EXPECT_EQ(r.stats.zero_weight_cells, 2u);
    EXPECT_EQ(r.flags, (std::vector<std::uint8_t>{1, 0, 1}));
    for (std::size_t g = 0; g < 3; ++g) {
      EXPECT_EQ(r.gss[g], 0) << "gene " << g << (no_fraction ? " without" : " with") << " fraction";
      EXPECT_EQ(r.gss[6 + g], 0);
    }
    EXPECT_NE(r.gss[3], 0);  // the normal cell has specific genes
  }
  // Hierarchical: all blocks invalid is the same case.
  const Result r =
      compute(hb, MarkerScoreOptions{1, 3, MarkerScorePooling::kHierarchical, true}, g_mean, frac);
  EXPECT_EQ(r.flags, (std::vector<std::uint8_t>{1, 0, 1}));
  EXPECT_EQ(r.gss[0], 0);
}

// A padded slot (-1) is never read and never counts, whatever weight it carries.
TEST(MarkerScore, PaddedSlotsAreSkipped) {
  HandBatch padded, compact;
  for (HandBatch* hb : {&padded, &compact}) {
    hb->add_row({1.5f, 0.0f, 2.5f, 0.75f});
    hb->add_row({2.5f, 0.5f, 0.0f, 0.75f});
  }
  padded.add_cell({0, -1, 1}, {0.25f, 0.5f, 0.25f});  // malformed weight on the padded slot
  compact.add_cell({0, 1}, {0.25f, 0.25f});
  const std::vector<float> g_mean = {1.0f, 0.1f, 1.0f, 0.5f};
  const std::vector<float> frac = {0.5f, 0.4f, 0.4f, 0.9f};
  const Result a = compute(padded, whole_row(3), g_mean, frac);
  const Result b = compute(compact, whole_row(2), g_mean, frac);
  EXPECT_EQ(a.gss, b.gss);
  // By hand: w_hat = 0.5 each, m = [2, 0.25, 1.25, 0.75], R = e^[1, 0.15, 0.25, 0.25];
  // expressing (!= row minimum 0): gene 0 both, gene 1 row 1, gene 2 row 0, gene 3 both, so
  // f = [1, 0.5, 0.5, 1] all above frac. GSS = e^(R^1.5) - 1 = [87.38, 2.4985, 3.2844, 3.2844]
  // -> f16 [87.375, 2.498046875, 3.28515625, 3.28515625] (each > 0.1 f16 step from a tie).
  EXPECT_EQ(b.gss, (std::vector<f16_bits>{0x5576, 0x40ff, 0x4292, 0x4292}));
}

TEST(MarkerScore, RejectsSlotRowsOutsideTheBlock) {
  HandBatch hb;
  hb.add_row({1.0f, 0.0f});
  hb.add_cell({0, 1}, {0.5f, 0.5f});
  EXPECT_THROW(compute(hb, whole_row(2), {0.0f, 0.0f}, {0.0f, 0.0f}), ComputeError);
  HandBatch hb2;
  hb2.add_row({1.0f, 0.0f});
  hb2.add_cell({0, -2}, {0.5f, 0.5f});
  EXPECT_THROW(compute(hb2, whole_row(2), {0.0f, 0.0f}, {0.0f, 0.0f}), ComputeError);
  EXPECT_THROW(compute(hb2, whole_row(2), {0.0f}, {0.0f}), ComputeError);  // gene count
}

// hierarchical_pool: three slice blocks of K = 2; the middle one has only zero weights (invalid)
// and must not enter the mean; a valid block whose score is 0 does.
TEST(MarkerScore, HierarchicalMeanOverValidBlocks) {
  HandBatch hb;
  hb.add_row({1.0f, 2.0f, 0.0f});  // rows 0 and 1: block 0
  hb.add_row({1.0f, 2.0f, 0.0f});
  hb.add_row({0.0f, 2.0f, 1.0f});  // row 2: block 2
  hb.add_row({5.0f, 5.0f, 0.0f});  // row 3: only in the invalid block
  hb.add_cell({0, 1, 3, 3, 2, -1}, {0.5f, 0.5f, 0.0f, 0.0f, 1.0f, 0.0f});
  const std::vector<float> g_mean = {1.0f, 2.0f, 0.5f};
  const std::vector<float> frac = {0.5f, 0.5f, 0.5f};
  const Result r =
      compute(hb, MarkerScoreOptions{2, 3, MarkerScorePooling::kHierarchical, false}, g_mean, frac);
  // Block scores (block 0, block 2): gene 0 (e - 1, 0); gene 1 (e - 1, e - 1);
  // gene 2 (0, e^(e^0.75) - 1 = 7.30618). Means over 2 blocks: 0.859141 -> f16 0x3ae0
  // (1759.52 f16 steps), 1.71875, 3.65309 -> f16 0x434e (935.19 steps).
  EXPECT_EQ(r.gss, (std::vector<f16_bits>{0x3ae0, kEMinus1, 0x434e}));
  EXPECT_EQ(r.flags[0], 0);

  // The same slots pooled as one row (per_slice_pool / global_pool) give a different answer:
  // W = 2, w_hat = [0.25, 0.25, 0, 0, 0.5, 0], m = [0.5, 2, 0.5] -> gene 1 only.
  const Result row = compute(hb, whole_row(2, 3), g_mean, frac);
  EXPECT_EQ(row.gss, (std::vector<f16_bits>{0, kEMinus1, 0}));
}

// docs/algorithms.md §10.3 steps 8-12 for one pooling group, written out plainly; transcendental
// functions in double. Returns the f32-equivalent score and whether the group is valid.
struct Textbook {
  double score = 0.0;
  bool valid = false;
};
Textbook textbook_group(const std::vector<f16_bits>& log_ranks, std::size_t n_genes,
                        const std::int32_t* rows, const f16_bits* w, int n, bool hierarchical,
                        std::size_t gene, float g_mean, float frac, bool use_fraction) {
  float w_sum = 0.0f;
  for (int k = 0; k < n; ++k) w_sum += rows[k] >= 0 ? f16_to_f32(w[k]) : 0.0f;
  const float big_w = math::round_f16(w_sum);
  if (big_w == 0.0f) return {};
  float m = 0.0f;
  int expressing = 0, n_valid = 0;
  for (int k = 0; k < n; ++k) {
    if (rows[k] < 0) continue;
    const float w_hat = math::round_f16(f16_to_f32(w[k]) / big_w);
    const f16_bits* row = log_ranks.data() + static_cast<std::size_t>(rows[k]) * n_genes;
    m += w_hat * f16_to_f32(row[gene]);
    const bool valid = hierarchical ? f16_to_f32(w[k]) > 0.0f : w_hat > 0.0f;
    f16_bits minimum = row[0];
    for (std::size_t g = 1; g < n_genes; ++g) minimum = std::min(minimum, row[g]);
    n_valid += valid;
    expressing += valid && row[gene] != minimum;
  }
  m = math::round_f16(m);
  double ratio = std::exp(static_cast<double>(m - g_mean));
  if (ratio < 1.0) ratio = 0.0;
  const float f = n_valid ? math::round_f16(static_cast<float>(expressing) / n_valid) : 0.0f;
  if (use_fraction && !(f > frac)) ratio = 0.0;
  return {ratio == 0.0 ? 0.0 : std::exp(std::pow(ratio, 1.5)) - 1.0, true};
}

// Distance of a value from the nearest f16 rounding tie, in f16 steps (0.5 = exactly on a value).
double f16_tie_margin(double v) {
  if (v == 0.0 || !std::isfinite(v) || v > 65000.0) return 0.5;
  const int e = std::max(std::ilogb(v), -14);
  const double steps = v / std::ldexp(1.0, e - 10);
  return std::abs(steps - std::floor(steps) - 0.5);
}

struct RandomCells {
  std::size_t n_rows = 40, n_genes = 37, n_cells = 30;
  std::vector<f16_bits> log_ranks, weights;
  std::vector<std::int32_t> slot_rows;
  std::vector<float> g_mean, frac;

  RandomCells(int slots, unsigned seed, std::size_t genes = 37) : n_genes(genes) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    for (std::size_t r = 0; r < n_rows; ++r) {
      for (std::size_t g = 0; g < n_genes; ++g) {
        // ln ranks with a block of tied zeros (rank (z+1)/2) like real rows
        const float rank = unit(rng) < 0.4f ? 8.5f : 16.0f + std::floor(unit(rng) * 21.0f);
        log_ranks.push_back(math::f32_to_f16(std::log(rank)));
      }
    }
    for (std::size_t c = 0; c < n_cells; ++c) {
      for (int k = 0; k < slots; ++k) {
        const bool padded = unit(rng) < 0.15f;
        slot_rows.push_back(padded ? -1 : static_cast<std::int32_t>(unit(rng) * n_rows));
        weights.push_back(padded || unit(rng) < 0.2f ? 0 : math::f32_to_f16(unit(rng)));
      }
    }
    for (std::size_t g = 0; g < n_genes; ++g) {
      g_mean.push_back(2.4f + 0.5f * unit(rng));
      frac.push_back(0.6f * unit(rng));
    }
  }
  NeighbourRankBatch view() const {
    return {n_cells, n_rows, n_genes, log_ranks, slot_rows, weights, {}};
  }
};

// global_pool (documented semantics: the standard path over all K*S slots) and hierarchical_pool
// against the textbook evaluation, on entries whose f16 value is not near a rounding tie.
TEST(MarkerScore, GlobalPoolAndHierarchicalMatchTextbook) {
  for (auto pooling : {MarkerScorePooling::kWholeRow, MarkerScorePooling::kHierarchical}) {
    for (bool no_fraction : {false, true}) {
      const MarkerScoreOptions options{3, 3, pooling, no_fraction};
      const RandomCells cells(options.slots_per_cell(), 7);
      std::vector<f16_bits> gss(cells.n_cells * cells.n_genes);
      compute_marker_scores(options, cells.g_mean, cells.frac, cells.view(), gss);
      std::size_t compared = 0, non_zero = 0;
      for (std::size_t c = 0; c < cells.n_cells; ++c) {
        for (std::size_t g = 0; g < cells.n_genes; ++g) {
          double sum = 0.0;
          int n_valid = 0;
          const int groups = options.n_groups(), n = options.slots_per_group();
          for (int b = 0; b < groups; ++b) {
            const std::size_t o = c * options.slots_per_cell() + b * n;
            const Textbook t = textbook_group(cells.log_ranks, cells.n_genes,
                                              cells.slot_rows.data() + o, cells.weights.data() + o,
                                              n, pooling == MarkerScorePooling::kHierarchical, g,
                                              cells.g_mean[g], cells.frac[g], !no_fraction);
            sum += t.valid ? t.score : 0.0;
            n_valid += t.valid;
          }
          const double expected = n_valid ? sum / n_valid : 0.0;
          if (f16_tie_margin(expected) < 0.01) continue;
          ++compared;
          non_zero += expected != 0.0;
          EXPECT_EQ(gss[c * cells.n_genes + g], math::f32_to_f16(static_cast<float>(expected)))
              << "cell " << c << " gene " << g << " expected " << expected;
        }
      }
      EXPECT_GT(compared, cells.n_cells * cells.n_genes * 95 / 100);
      EXPECT_GT(non_zero, compared / 10);
    }
  }
}

// The CPU batch loop and the per-gene device functions (prepare_group + cell_gene_gss) give the
// same bits, padding and zero weights included; with 1,197 genes the slot accumulation runs over
// blocks of 64 genes, two of 16 and a masked one of 13 (AVX-512 copy) or blocks of 32 and 13
// scalar genes (AVX2 copy), each copy where the CPU has it.
TEST(MarkerScore, BatchPathEqualsPerGeneDevicePath) {
  for (const std::size_t n_genes : {std::size_t{37}, std::size_t{1197}})
  for (const auto simd : {MarkerScoreCalculator::Simd::kAuto, MarkerScoreCalculator::Simd::kAvx2})
  for (auto pooling : {MarkerScorePooling::kWholeRow, MarkerScorePooling::kHierarchical}) {
    for (bool no_fraction : {false, true}) {
      const MarkerScoreOptions options{4, 3, pooling, no_fraction};
      const RandomCells cells(options.slots_per_cell(), 11, n_genes);
      std::vector<f16_bits> gss(cells.n_cells * cells.n_genes);
      MarkerScoreCalculator calculator(options, cells.g_mean, cells.frac);
      calculator.limit_simd(simd);
      calculator.compute(cells.view(), gss);
      std::vector<f16_bits> row_min(cells.n_rows);
      for (std::size_t r = 0; r < cells.n_rows; ++r) {
        row_min[r] = row_minimum_f16(cells.log_ranks.data() + r * cells.n_genes, cells.n_genes);
      }
      const int slots = options.slots_per_cell(), n = options.slots_per_group();
      std::vector<float> w_hat(slots);
      std::vector<std::uint8_t> in_fraction(slots);
      std::vector<PreparedGroup> groups(options.n_groups());
      std::size_t non_zero = 0;
      for (std::size_t c = 0; c < cells.n_cells; ++c) {
        for (int b = 0; b < options.n_groups(); ++b) {
          const std::size_t o = c * slots + b * n;
          groups[b] = prepare_group(cells.weights.data() + o, cells.slot_rows.data() + o, n,
                                    pooling, w_hat.data() + b * n, in_fraction.data() + b * n);
        }
        for (std::size_t g = 0; g < cells.n_genes; ++g) {
          const f16_bits one = cell_gene_gss(groups.data(), options.n_groups(),
                                             cells.log_ranks.data(), cells.n_genes, row_min.data(),
                                             g, cells.g_mean[g], cells.frac[g], !no_fraction);
          ASSERT_EQ(one, gss[c * cells.n_genes + g]) << "cell " << c << " gene " << g;
          non_zero += one != 0;
        }
      }
      EXPECT_GT(non_zero, 50u);
    }
  }
}

// exp is numpy's f32 SIMD kernel transcribed: bit-identical to np.exp on float32 arrays on x86
// machines where numpy uses it (AVX2+FMA3 or AVX512F), within 3 ulp of libm everywhere.
TEST(MarkerScoreMath, ExpMatchesNumpyFloat32Kernel) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> wide(-87.0f, 88.7f), narrow(-3.0f, 12.0f);
  std::vector<float> xs = {
      0.0f,  -0.0f, 1.0f, -1.0f, 88.72283935546875f, 88.7228f, -103.97208404541015625f,
      1e-8f, -1e-8f};
  for (int i = 0; i < 4000; ++i) xs.push_back(i % 2 ? wide(rng) : narrow(rng));
  for (float x : xs) {
    const float ours = numpy_expf(x), libm = std::exp(x);
    if (std::isinf(libm) || std::isinf(ours)) continue;
    const auto ulps = std::abs(static_cast<std::int64_t>(math::float_bits(ours)) -
                               static_cast<std::int64_t>(math::float_bits(libm)));
    ASSERT_LE(ulps, 3) << x;
  }
  EXPECT_EQ(numpy_expf(0.0f), 1.0f);
  EXPECT_TRUE(std::isinf(numpy_expf(88.72283935546875f)));
  EXPECT_EQ(numpy_expf(-103.97208404541015625f), 0.0f);
  EXPECT_TRUE(std::isnan(numpy_expf(std::numeric_limits<float>::quiet_NaN())));

  std::ostringstream script;
  script << "import numpy as np\nnp.seterr(all='ignore')\n"
            "f = np.core._multiarray_umath.__cpu_features__\n"
            "if not (f.get('AVX512F') or (f.get('AVX2') and f.get('FMA3'))):\n"
            "    print('SKIP'); raise SystemExit\n"
            "x = np.array([";
  for (float x : xs) script << "0x" << std::hex << math::float_bits(x) << ",";
  script << "], dtype=np.uint32).view(np.float32)\n"
            "print(' '.join(str(v) for v in np.exp(x).view(np.uint32)))\n";
  const std::string out = test::run_python(script.str());
  if (out.rfind("SKIP", 0) == 0) GTEST_SKIP() << "numpy does not use its SIMD exp on this CPU";
  std::istringstream values(out);
  std::size_t mismatches = 0;
  for (float x : xs) {
    std::uint32_t bits = 0;
    values >> bits;
    mismatches += bits != math::float_bits(numpy_expf(x));
  }
  EXPECT_EQ(mismatches, 0u) << out.substr(0, 200);
}

TEST(MarkerScoreMath, PowThreeHalvesIsCorrectlyRoundedOnSamples) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> ratio(1.0f, 20.0f);
  for (int i = 0; i < 10000; ++i) {
    const float r = ratio(rng);
    const double exact = std::pow(static_cast<double>(r), 1.5);
    ASSERT_EQ(pow_three_halves(r), static_cast<float>(exact)) << r;
  }
  EXPECT_EQ(pow_three_halves(4.0f), 8.0f);
  EXPECT_EQ(pow_three_halves(1.0f), 1.0f);
}

// The branch-free helpers of the batch loops agree with math/f16.hpp on every kind of input.
TEST(MarkerScoreMath, BranchFreeF16HelpersMatchF16Header) {
  std::vector<std::uint32_t> patterns;
  // Every f16 value and every rounding neighbourhood around it (tie, +-1 f32 ulp), plus specials.
  for (std::uint32_t h16 = 0; h16 < 0x7c00u; ++h16) {
    const std::uint32_t base = math::float_bits(f16_to_f32(static_cast<f16_bits>(h16)));
    for (std::uint32_t d : {0u, 1u, 0xfffu, 0x1000u, 0x1001u, 0x1fffu})
      patterns.push_back(base + d);
    if (base > 0) patterns.push_back(base - 1);
  }
  for (std::uint32_t e = 0; e < 256; ++e) {  // every f32 exponent, several mantissas
    for (std::uint32_t m : {0u, 1u, 0x1000u, 0x3ff000u, 0x400000u, 0x7fffffu}) {
      patterns.push_back((e << 23) | m);
    }
  }
  std::size_t checked = 0;
  for (std::uint32_t magnitude : patterns) {
    for (std::uint32_t sign : {0u, 0x80000000u}) {
      const float v = math::bits_float(magnitude | sign);
      ASSERT_EQ(f32_to_f16_select(v), math::f32_to_f16(v)) << std::hex << (magnitude | sign);
      if (sign == 0 && std::isfinite(v)) {
        ASSERT_EQ(math::float_bits(round_f16_nonnegative(v)), math::float_bits(math::round_f16(v)))
            << std::hex << magnitude;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 300000u);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// The batch loop of x86-64-v3 CPUs rounds to f16 with F16C (vcvtps2ph, round to nearest even),
// and so does the neighbour selection (gss/neighbors.cpp): on every finite f32 and infinity, all
// 2^32 - 2^24 + 2 of them, the f16 bits must be math::f32_to_f16's and, for v >= 0, the value
// round_f16_nonnegative's. Sanitizer builds (-O0, every access checked: hours for all floats)
// check every 61st block of 8; the Release test phase checks them all.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::uint32_t kF16cBlockStride = 8 * 61;
#else
constexpr std::uint32_t kF16cBlockStride = 8;
#endif
__attribute__((target("arch=x86-64-v3"))) std::uint64_t f16c_rounding_mismatches() {
  std::uint64_t mismatches = 0;
  alignas(32) std::uint32_t bits[8];
  alignas(16) std::uint16_t plus[8], minus[8];
  constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  constexpr std::uint32_t kInfinity = 0x7f800000u;
  for (std::uint32_t u = 0;; u = std::min(u + kF16cBlockStride, kInfinity)) {
    const __m256i lanes =
        _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(u)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256 v = _mm256_castsi256_ps(lanes);
    const __m128i h = _mm256_cvtps_ph(v, kRound);
    _mm_store_si128(reinterpret_cast<__m128i*>(plus), h);
    _mm_store_si128(reinterpret_cast<__m128i*>(minus), _mm256_cvtps_ph(_mm256_or_ps(v, sign), kRound));
    _mm256_store_si256(reinterpret_cast<__m256i*>(bits), _mm256_castps_si256(_mm256_cvtph_ps(h)));
    const std::uint32_t n = u == kInfinity ? 1 : 8;  // infinity, then stop
    for (std::uint32_t l = 0; l < n; ++l) {
      const float value = math::bits_float(u + l);
      mismatches += bits[l] != math::float_bits(round_f16_nonnegative(value));
      mismatches += plus[l] != math::f32_to_f16(value);
      mismatches += minus[l] != math::f32_to_f16(-value);
    }
    if (u == kInfinity) break;
  }
  return mismatches;
}

TEST(MarkerScoreMath, F16cRoundingEqualsHelpersOnEveryFloat) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("f16c") ||
      !__builtin_cpu_supports("fma")) {
    GTEST_SKIP() << "no x86-64-v3 CPU: the F16C path is not used here";
  }
  EXPECT_EQ(f16c_rounding_mismatches(), 0u);
}
#endif

// The batch loop skips the exp of genes with x = round_f16(m) - G_Mean below -2^-20: exp(x) < 1
// there. Every f32 in [-2^-10, -2^-20) is checked; below -2^-10 exp is farther still from 1.
TEST(MarkerScoreMath, ExpBelowRatioFloorIsBelowOne) {
  const std::uint32_t first = math::float_bits(-0x1p-20f) + 1, last = math::float_bits(-0x1p-10f);
  for (std::uint32_t u = first; u <= last; ++u) {
    ASSERT_LT(numpy_expf(math::bits_float(u)), 1.0f) << std::hex << u;
  }
  EXPECT_LT(numpy_expf(-0.5f), 1.0f);
  EXPECT_EQ(numpy_expf(-0x1p-26f), 1.0f);  // just above the floor R can still be 1: exp is run
}

// Genes whose x lies at and around 0 and the floor, in full 8-gene blocks and in the tail: the
// batch loop (packed on x86-64-v3 CPUs) gives the per-gene device function's bits.
TEST(MarkerScore, RatiosNearOneMatchPerGenePath) {
  const std::vector<float> deltas = {0.0f,     0x1p-26f, 0x1p-24f, 0x1p-21f, 0x1p-20f,
                                     0x1p-19f, -0x1p-24f, 0x1p-12f, -0x1p-12f, 1e-3f, 0.25f};
  const std::size_t n_genes = 8 * deltas.size() + 5;
  for (bool no_fraction : {false, true}) {
    HandBatch hb;
    std::mt19937 rng(17);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    for (int r = 0; r < 2; ++r) {
      std::vector<float> row(n_genes);
      for (auto& v : row) v = unit(rng) < 0.3f ? 0.5f : 1.0f + 4.0f * unit(rng);
      hb.add_row(row);
    }
    hb.add_cell({0, 1}, {0.5f, 0.5f});
    std::vector<float> g_mean(n_genes), frac(n_genes);
    for (std::size_t g = 0; g < n_genes; ++g) {
      // m = 0.5 L0 + 0.5 L1 in f32 (w_hat = 0.5 exactly), as the batch loop sums it.
      const float m = 0.5f * f16_to_f32(hb.log_ranks[g]) + 0.5f * f16_to_f32(hb.log_ranks[n_genes + g]);
      g_mean[g] = math::round_f16(m) + deltas[(g / 3) % deltas.size()];
      frac[g] = (g % 5 == 0) ? 0.5f : 0.2f;
    }
    const MarkerScoreOptions options = whole_row(2, 1, no_fraction);
    const Result r = compute(hb, options, g_mean, frac);
    const NeighbourRankBatch batch = hb.view(2);
    std::vector<float> w_hat(2);
    std::vector<std::uint8_t> in_fraction(2);
    const PreparedGroup group = prepare_group(batch.weights.data(), batch.slot_rows.data(), 2,
                                              options.pooling, w_hat.data(), in_fraction.data());
    std::vector<f16_bits> row_min(2);
    for (std::size_t k = 0; k < 2; ++k) row_min[k] = row_minimum_f16(hb.log_ranks.data() + k * n_genes, n_genes);
    std::size_t kept_at_one = 0;
    for (std::size_t g = 0; g < n_genes; ++g) {
      const f16_bits one = cell_gene_gss(&group, 1, hb.log_ranks.data(), n_genes, row_min.data(), g,
                                         g_mean[g], frac[g], !no_fraction);
      ASSERT_EQ(one, r.gss[g]) << "gene " << g;
      kept_at_one += one == kEMinus1;
    }
    EXPECT_GT(kept_at_one, 3u);
  }
}

TEST(MarkerScoreOptions, LayoutPerDatasetAndStrategy) {
  const auto two_d = MarkerScoreOptions::for_run(21, false, 0, true, false);
  EXPECT_EQ(two_d.slots_per_cell(), 21);
  EXPECT_EQ(two_d.pooling, MarkerScorePooling::kWholeRow);
  const auto hierarchical = MarkerScoreOptions::for_run(21, true, 1, true, false);
  EXPECT_EQ(hierarchical.slots_per_cell(), 63);
  EXPECT_EQ(hierarchical.n_groups(), 3);
  EXPECT_EQ(hierarchical.slots_per_group(), 21);
  const auto global = MarkerScoreOptions::for_run(10, true, 2, false, true);
  EXPECT_EQ(global.slots_per_cell(), 50);
  EXPECT_EQ(global.n_groups(), 1);
  EXPECT_EQ(global.slots_per_group(), 50);
  EXPECT_TRUE(global.no_expression_fraction);
}

}  // namespace
}  // namespace gsmap::gss
