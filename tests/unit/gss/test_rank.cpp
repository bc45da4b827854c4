// Hand-derived ranks (average ties over all G genes, docs/algorithms.md §1.2) and the exact
// fixed-point accumulator of the global gene statistics.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <vector>

#include "gsmap/core/error.hpp"
#include "gsmap/gss/rank.hpp"
#include "test_support.hpp"

namespace gsmap::gss {
namespace {

std::vector<float> rank_row(std::int64_t n_genes, const std::vector<float>& values,
                            const std::vector<std::int32_t>& columns) {
  RowRanker ranker(n_genes);
  std::vector<float> ln(static_cast<std::size_t>(n_genes), -1.0f);
  ranker.rank(values, columns, ln);
  return ln;
}

// Expected ln ranks from hand-derived ranks.
std::vector<float> logs(const std::vector<double>& ranks) {
  std::vector<float> out;
  for (const double r : ranks) out.push_back(numpy_logf(static_cast<float>(r)));
  return out;
}

TEST(RowRanker, ImplicitZerosShareTheirAverageRank) {
  // Dense row [0, 3, 0, 1, 3]: zeros occupy ranks 1-2 -> 1.5; 1 -> 3; the two 3s ranks 4-5 -> 4.5.
  const auto ln = rank_row(5, {3.0f, 1.0f, 3.0f}, {1, 3, 4});
  EXPECT_EQ(ln, logs({1.5, 4.5, 1.5, 3.0, 4.5}));
}

TEST(RowRanker, ExplicitZeroIsAnOrdinaryZero) {
  // Dense row [0 (stored), 3, 0 (absent)]: two zeros -> 1.5; 3 -> 3.
  RowRanker ranker(3);
  std::vector<float> ln(3);
  const std::vector<float> values{0.0f, 3.0f};
  const std::vector<std::int32_t> columns{0, 1};
  ranker.rank(values, columns, ln);
  EXPECT_EQ(ln, logs({1.5, 3.0, 1.5}));
  // The stored zero does not count as expressed.
  ASSERT_EQ(ranker.nonzero_columns().size(), 1u);
  EXPECT_EQ(ranker.nonzero_columns()[0], 1);
}

TEST(RowRanker, NegativeValuesRankBelowZeros) {
  // Dense row [5, 0, -2, 0]: -2 -> 1; zeros ranks 2-3 -> 2.5; 5 -> 4.
  const auto ln = rank_row(4, {-2.0f, 5.0f}, {2, 0});
  EXPECT_EQ(ln, logs({4.0, 2.5, 1.0, 2.5}));
}

TEST(RowRanker, NegativeAndExplicitZeroTies) {
  // Dense row [-1, -1, 0 (stored), 0, 2]: -1,-1 -> 1.5; zeros (one stored) ranks 3-4 -> 3.5; 2
  // -> 5.
  const auto ln = rank_row(5, {-1.0f, 0.0f, -1.0f, 2.0f}, {1, 2, 0, 4});
  EXPECT_EQ(ln, logs({1.5, 1.5, 3.5, 3.5, 5.0}));
}

TEST(RowRanker, RowWithoutZeros) {
  // Every column stored: [2, 7, 2, 1] -> 1 -> 1; 2,2 -> 2.5; 7 -> 4.
  const auto ln = rank_row(4, {2.0f, 7.0f, 2.0f, 1.0f}, {0, 1, 2, 3});
  EXPECT_EQ(ln, logs({2.5, 4.0, 2.5, 1.0}));
}

TEST(RowRanker, EmptyRowIsAllTied) {
  const auto ln = rank_row(4, {}, {});
  EXPECT_EQ(ln, logs({2.5, 2.5, 2.5, 2.5}));
}

TEST(RowRanker, RepeatedColumnsAreSummed) {
  // Non-canonical CSR: column 1 stored twice (2 + 3 = 5); dense [0, 5, 4] -> 1, 3, 2.
  RowRanker ranker(3);
  std::vector<float> ln(3);
  const std::vector<float> values{2.0f, 4.0f, 3.0f};
  const std::vector<std::int32_t> columns{1, 2, 1};
  ranker.rank(values, columns, ln);
  EXPECT_EQ(ln, logs({1.0, 3.0, 2.0}));
  // Stored values that cancel (1 + -1) are a zero.
  const std::vector<float> cancel{1.0f, -1.0f};
  const std::vector<std::int32_t> same{0, 0};
  ranker.rank(cancel, same, ln);
  EXPECT_EQ(ln, logs({2.0, 2.0, 2.0}));
  EXPECT_TRUE(ranker.nonzero_columns().empty());
}

TEST(RowRanker, Int64IndicesAndScratchReuse) {
  RowRanker ranker(6);
  std::vector<float> ln(6);
  const std::vector<float> values{1.0f, 1.0f, 9.0f};
  const std::vector<std::int64_t> columns{5, 0, 3};
  ranker.rank(values, columns, ln);
  // Dense [1, 0, 0, 9, 0, 1]: zeros ranks 1-3 -> 2; 1,1 -> 4.5; 9 -> 6.
  EXPECT_EQ(ln, logs({4.5, 2.0, 2.0, 6.0, 2.0, 4.5}));
  // A second row through the same scratch is independent of the first.
  const std::vector<float> v2{3.0f};
  const std::vector<std::int64_t> c2{5};
  ranker.rank(v2, c2, ln);
  EXPECT_EQ(ln, logs({3.0, 3.0, 3.0, 3.0, 3.0, 6.0}));
}

TEST(RowRanker, RejectsColumnsOutsideTheGeneRange) {
  RowRanker ranker(3);
  std::vector<float> ln(3);
  const std::vector<float> values{1.0f, 2.0f};
  const std::vector<std::int32_t> columns{0, 3};
  EXPECT_THROW(ranker.rank(values, columns, ln), InputError);
  // The failed row leaves no state behind.
  const std::vector<std::int32_t> ok{0, 2};
  ranker.rank(values, ok, ln);
  EXPECT_EQ(ln, logs({2.0, 1.0, 3.0}));
}

// Average-tie ranks by a dense comparison sort (the definition, docs/algorithms.md §1.2): NaN above
// every number, NaNs tied, -0 tied with +0.
std::vector<float> reference_ln_ranks(std::int64_t n_genes, const std::vector<float>& values,
                                      const std::vector<std::int32_t>& columns) {
  std::vector<float> dense(static_cast<std::size_t>(n_genes), 0.0f);
  for (std::size_t k = 0; k < values.size(); ++k) dense[static_cast<std::size_t>(columns[k])] += values[k];
  const auto less = [](float a, float b) { return std::isnan(a) ? false : (std::isnan(b) || a < b); };
  std::vector<float> ln(dense.size());
  for (std::size_t g = 0; g < dense.size(); ++g) {
    std::int64_t smaller = 0, equal = 0;
    for (const float v : dense) {
      if (less(v, dense[g])) ++smaller;
      else if (!less(dense[g], v)) ++equal;
    }
    ln[g] = numpy_logf(static_cast<float>(2 * smaller + equal + 1) * 0.5f);
  }
  return ln;
}

TEST(RowRanker, RadixSortedRowsMatchTheDefinition) {
  // Rows long enough for the radix sort (>= 64 stored values), with negatives, -0 and +0, NaNs of
  // both signs, infinities, repeated columns, small counts (keys sharing bytes) and wide values;
  // every row also through rank_sparse + write_f16 + add_ranked against the dense path.
  constexpr std::int64_t kGenes = 300;
  RowRanker ranker(kGenes);
  std::vector<float> ln(kGenes);
  std::vector<f16_bits> f16(kGenes), expected_f16(kGenes);
  GeneStatsAccumulator dense_acc(kGenes), sparse_acc(kGenes);
  std::uint32_t state = 99;
  const auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (int row = 0; row < 40; ++row) {
    std::vector<float> values;
    std::vector<std::int32_t> columns;
    const int stored = row % 5 == 4 ? static_cast<int>(kGenes) + 20 : 64 + static_cast<int>(next() % 200);
    for (int k = 0; k < stored; ++k) {
      const std::uint32_t r = next();
      float v = static_cast<float>((r >> 8) % 9);  // small counts
      switch ((r >> 4) % 16) {
        case 0: v = -v; break;
        case 1: v = -0.0f; break;
        case 2: v = row % 2 ? std::nanf("") : -std::nanf(""); break;
        case 3: v = math::bits_float(r | 0x3f800000u) * 1e6f; break;
        case 4: v = row % 3 ? INFINITY : -INFINITY; break;
        default: break;
      }
      values.push_back(v);
      columns.push_back(static_cast<std::int32_t>(stored > kGenes ? k % kGenes : next() % kGenes));
    }
    ranker.rank(values, columns, ln);
    const auto expected = reference_ln_ranks(kGenes, values, columns);
    ASSERT_EQ(ln.size(), expected.size());
    for (std::size_t g = 0; g < ln.size(); ++g) {
      ASSERT_EQ(math::float_bits(ln[g]), math::float_bits(expected[g])) << "row " << row << " gene " << g;
    }
    dense_acc.add_cell(ln, ranker.nonzero_columns());
    ranker.rank_sparse(values, columns);
    ranker.write_f16(f16);
    ln_ranks_to_f16(expected, expected_f16);
    EXPECT_EQ(f16, expected_f16) << "row " << row;
    sparse_acc.add_ranked(ranker);
  }
  EXPECT_EQ(sparse_acc.sum_ln_fixed(), dense_acc.sum_ln_fixed());
  EXPECT_TRUE(std::equal(sparse_acc.nonzero_counts().begin(), sparse_acc.nonzero_counts().end(),
                         dense_acc.nonzero_counts().begin()));
  EXPECT_EQ(sparse_acc.finalize().g_mean, dense_acc.finalize().g_mean);
  EXPECT_EQ(sparse_acc.finalize().frac, dense_acc.finalize().frac);
}

TEST(NumpyLogf, MatchesNumpyOnRanksAndRandomFloats) {
  // Every half-integer rank up to 50000, and 20000 pseudo-random positive floats over the whole
  // range (subnormals included), against np.log on an f32 array.
  std::vector<float> x;
  for (int t = 2; t <= 100000; ++t) x.push_back(static_cast<float>(t) * 0.5f);
  std::uint32_t state = 4242;
  for (int i = 0; i < 20000; ++i) {
    state = state * 1664525u + 1013904223u;
    x.push_back(math::bits_float(state & 0x7f7fffffu));  // positive and finite
  }
  const test::TempDir dir("numpy_logf");
  const auto input = dir.path() / "x.f32";
  {
    std::ofstream f(input, std::ios::binary);
    f.write(reinterpret_cast<const char*>(x.data()),
            static_cast<std::streamsize>(x.size() * sizeof(float)));
  }
  const auto output = dir.path() / "ln.f32";
  test::run_python("import numpy as np\nnp.log(np.fromfile('" + input.string() +
                   "', dtype=np.float32)).tofile('" + output.string() + "')\n");
  std::vector<float> expected(x.size());
  std::ifstream f(output, std::ios::binary);
  f.read(reinterpret_cast<char*>(expected.data()),
         static_cast<std::streamsize>(expected.size() * sizeof(float)));
  ASSERT_TRUE(f) << "numpy output missing";
  std::size_t differ = 0, differ_glibc = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    differ += math::float_bits(numpy_logf(x[i])) != math::float_bits(expected[i]);
    differ_glibc += math::float_bits(std::log(x[i])) != math::float_bits(expected[i]);
  }
  std::printf("[ numpy_logf ] %zu of %zu differ from np.log (glibc logf: %zu)\n", differ, x.size(),
              differ_glibc);
  EXPECT_EQ(differ, 0u);
  // Special values.
  EXPECT_EQ(numpy_logf(1.0f), 0.0f);
  EXPECT_TRUE(std::isinf(numpy_logf(0.0f)) && numpy_logf(0.0f) < 0.0f);
  EXPECT_TRUE(std::isnan(numpy_logf(-1.0f)));
  EXPECT_TRUE(std::isinf(numpy_logf(INFINITY)));
}

TEST(RowRanker, F16StorageRoundsToNearest) {
  // ln 3 = 1.0986123 -> f16 1.0986328125 (0x3C65); ln 1.5 = 0.4054651 -> 0.40551758 (0x367D).
  std::vector<f16_bits> bits(2);
  ln_ranks_to_f16(std::vector<float>{numpy_logf(3.0f), numpy_logf(1.5f)}, bits);
  EXPECT_EQ(bits[0], 0x3C65);
  EXPECT_EQ(bits[1], 0x367D);
}

TEST(GeneStatsAccumulator, FixedPointIsExactForEveryRank) {
  // Every half-integer rank up to 100000 genes: ln is a multiple of 2^-25, so the int64 image
  // converts back to the same float.
  for (int twice_rank = 2; twice_rank <= 200000; ++twice_rank) {
    const float ln = numpy_logf(static_cast<float>(twice_rank * 0.5));
    const std::int64_t fixed = GeneStatsAccumulator::to_fixed(ln);
    ASSERT_EQ(std::ldexp(static_cast<double>(fixed), -25), static_cast<double>(ln)) << twice_rank;
  }
  EXPECT_EQ(GeneStatsAccumulator::to_fixed(0.0f), 0);
  EXPECT_THROW(GeneStatsAccumulator::to_fixed(0.1f), ComputeError);  // not a log rank
  EXPECT_THROW(GeneStatsAccumulator::to_fixed(-1.0f), ComputeError);
}

TEST(GeneStatsAccumulator, MeansAndFractionsByHand) {
  // Cell A dense [0, 2, 5]: ranks 1, 2, 3. Cell B dense [4, 0, 0]: ranks 3, 1.5, 1.5.
  RowRanker ranker(3);
  GeneStatsAccumulator acc(3);
  std::vector<float> ln(3);
  ranker.rank(std::vector<float>{2.0f, 5.0f}, std::vector<std::int32_t>{1, 2}, ln);
  acc.add_cell(ln, ranker.nonzero_columns());
  ranker.rank(std::vector<float>{4.0f}, std::vector<std::int32_t>{0}, ln);
  acc.add_cell(ln, ranker.nonzero_columns());
  const GeneStats stats = acc.finalize();
  ASSERT_EQ(stats.n_cells, 2);
  const auto mean = [](float a, float b) { return (static_cast<double>(a) + b) / 2.0; };
  EXPECT_EQ(stats.g_mean[0], mean(numpy_logf(1.0f), numpy_logf(3.0f)));
  EXPECT_EQ(stats.g_mean[1], mean(numpy_logf(2.0f), numpy_logf(1.5f)));
  EXPECT_EQ(stats.g_mean[2], mean(numpy_logf(3.0f), numpy_logf(1.5f)));
  EXPECT_EQ(stats.frac, (std::vector<double>{0.5, 0.5, 0.5}));
}

TEST(GeneStatsAccumulator, MergeIsOrderIndependentAndRawIsAllreduceable) {
  // 60 pseudo-random rows, accumulated in one pass, and in three parts merged in another order:
  // the raw int64 arrays are identical.
  constexpr std::int64_t kGenes = 37;
  RowRanker ranker(kGenes);
  std::vector<float> ln(kGenes);
  GeneStatsAccumulator whole(kGenes);
  std::vector<GeneStatsAccumulator> parts(3, GeneStatsAccumulator(kGenes));
  std::uint32_t state = 12345;
  for (int cell = 0; cell < 60; ++cell) {
    std::vector<float> values;
    std::vector<std::int32_t> columns;
    for (std::int32_t g = 0; g < kGenes; ++g) {
      state = state * 1664525u + 1013904223u;
      if ((state >> 28) < 6) {
        columns.push_back(g);
        values.push_back(static_cast<float>((state >> 8) % 7) - 1.0f);  // includes 0 and -1
      }
    }
    ranker.rank(values, columns, ln);
    whole.add_cell(ln, ranker.nonzero_columns());
    parts[static_cast<std::size_t>(cell % 3)].add_cell(ln, ranker.nonzero_columns());
  }
  GeneStatsAccumulator merged(kGenes);
  merged.merge(parts[2]);
  merged.merge(parts[0]);
  merged.merge(parts[1]);
  ASSERT_EQ(merged.raw().size(), static_cast<std::size_t>(2 + 2 * kGenes));
  EXPECT_TRUE(std::equal(merged.raw().begin(), merged.raw().end(), whole.raw().begin()));
  EXPECT_EQ(merged.n_cells(), 60);
  // An element-wise sum of raw arrays (what MPI_Allreduce does) is the same thing.
  GeneStatsAccumulator summed(kGenes);
  for (const auto& p : parts) {
    for (std::size_t i = 0; i < p.raw().size(); ++i) summed.raw()[i] += p.raw()[i];
  }
  EXPECT_EQ(summed.finalize().g_mean, whole.finalize().g_mean);
  EXPECT_EQ(summed.finalize().frac, whole.finalize().frac);
}

TEST(ReferenceGeneMean, ChunksPerSample) {
  const std::vector<std::int64_t> per_sample{1001, 3};
  const auto chunks = rank_chunks(per_sample, 500);
  ASSERT_EQ(chunks.size(), 4u);
  const std::vector<std::array<std::int64_t, 3>> expected{
      {0, 0, 500}, {0, 500, 1000}, {0, 1000, 1001}, {1, 1001, 1004}};
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    EXPECT_EQ(chunks[c].sample, expected[c][0]);
    EXPECT_EQ(chunks[c].begin, expected[c][1]);
    EXPECT_EQ(chunks[c].end, expected[c][2]);
  }
}

TEST(ReferenceGeneMean, F32WithinSamplesF64Across) {
  // Rows summed in f32 within a chunk: 2^24 + 1 loses the 1.
  ChunkSumF32 chunk(1);
  chunk.add_row(std::vector<float>{16777216.0f});
  chunk.add_row(std::vector<float>{1.0f});
  EXPECT_EQ(chunk.sums()[0], 16777216.0f);
  EXPECT_EQ(chunk.rows(), 2);
  // Chunk sums in f32 within a sample (the 1 is lost again), samples in f64 (kept).
  ReferenceGeneMean mean(1);
  mean.add_chunk(0, chunk.sums(), 2);
  mean.add_chunk(0, std::vector<float>{1.0f}, 1);
  mean.add_chunk(1, std::vector<float>{1.0f}, 1);
  ASSERT_EQ(mean.n_cells(), 4);
  EXPECT_EQ(mean.g_mean()[0], 16777217.0 / 4.0);
}

TEST(GeneStatsAccumulator, FinalizeWithoutCellsThrows) {
  GeneStatsAccumulator acc(4);
  EXPECT_THROW(acc.finalize(), ComputeError);
}

}  // namespace
}  // namespace gsmap::gss
