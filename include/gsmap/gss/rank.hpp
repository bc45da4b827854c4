#pragma once
// Stage A of latent-to-gene (docs/algorithms.md §1–§2, §10.3 steps 1-2): per-cell average-tie ranks
// of an expression row over all G genes, their natural log in f32 (stored as f16), and the global
// per-gene statistics G_Mean (mean ln rank) and frac (share of cells with a non-zero value).
//
// Two accumulations of the ln-rank sums, both independent of the MPI partition and thread count:
//  * ReferenceGeneMean (use it for G_Mean): gsMap3D's own summation order
//    (docs/algorithms.md §2.2): f32 sums over chunks of rank_batch_size (500) consecutive kept
//    cells of a sample, chunk sums added in f32 per sample, samples added in f64. With numpy_logf
//    ln ranks it reproduces the fixtures' mean_frac.csv G_Mean exactly (difference 0). It is
//    partition-independent when every chunk is summed by one worker in row order (e.g. by the MPI
//    rank that owns the chunk's first row, ranking up to 499 rows past its own range) and the chunk
//    sums are folded in chunk order (e.g. on rank 0, receiving the ranks' chunk sums in rank
//    order).
//  * GeneStatsAccumulator: exact (int64 fixed point, below), mergeable with one MPI_Allreduce.
//    Gives frac (identical to the reference's) and the exact mean, which differs from gsMap3D's f32
//    summation by up to 7e-6 on the fixtures: above the README's 1e-6 tolerance, and enough to move
//    f16 GSS values, so it is not the G_Mean to use when matching gsMap3D.
//
// Exactness of the fixed-point accumulator (docs/algorithms.md §2.3): every rank is a half-integer
// >= 1, so its f32 logarithm is either 0 (rank 1) or >= ln 1.5 > 2^-2. An f32 value >= 2^-2 has a
// unit in the last place of at least 2^-2 * 2^-23 = 2^-25, hence every ln rank is an exact multiple
// of 2^-25. Scaled by 2^25 it is an integer below 2^30 (ln G < 32 for any G < 2^46), so per-gene
// sums of up to 2^33 cells are exact in int64. Integer sums do not depend on the order of
// additions: any partition of the cells over MPI ranks and threads gives the same bits.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "gsmap/math/f16.hpp"

namespace gsmap::gss {

using math::f16_bits;

// ln(x) in f32 as numpy computes np.log on f32 arrays on every x86-64 machine with AVX2+FMA3 or
// AVX512F (numpy's simd_log_FLOAT, loops_exponent_log.dispatch.c.src): x = m * 2^e with
// m in [sqrt(1/2), sqrt(2)), then e * ln 2 + P5(m - 1) / Q5(m - 1) evaluated with fused
// multiply-adds (max error 3.83 ulp, numpy's measurement). The reference (and the fixtures) take
// their f32 ln ranks from it; glibc's logf differs in the last place for ~3 % of ranks, which
// moves G_Mean by up to 5e-7 and, for large G, an occasional f16 log rank. Constants are f32 bit
// patterns. Requires a true fused multiply-add (glibc fmaf and CUDA fmaf are).
GSMAP_HD float numpy_logf(float x) {
  constexpr std::uint32_t kP[6] = {0x00000000u, 0x3f800000u, 0x4007361cu,
                                   0x3fbd70a9u, 0x3ec30333u, 0x3cd42bcdu};
  constexpr std::uint32_t kQ[6] = {0x3f800000u, 0x4027361cu, 0x401cfe0du,
                                   0x3f7c8ae4u, 0x3e1e5bf3u, 0x3bc083dfu};
  constexpr std::uint32_t kLn2 = 0x3f317218u;                                       // NPY_LOGE2f
  constexpr std::uint32_t kSqrtHalf = 0x3f3504f3u;                                  // NPY_SQRT1_2f
  if (!(x > 0.0f)) return math::bits_float(x == 0.0f ? 0xff800000u : 0x7fc00000u);  // -inf, NaN
  if (x == math::bits_float(0x7f800000u)) return x;                                 // +inf
  // Subnormals are scaled by 2^100 first (numpy's AVX2 path; AVX512's getexp is equivalent).
  float exponent_offset = 126.0f;
  if (x < 1.17549435e-38f) {
    x *= 1.26765060022822940e30f;  // 2^100
    exponent_offset += 100.0f;
  }
  const std::uint32_t bits = math::float_bits(x);
  float exponent = static_cast<float>(static_cast<std::int32_t>(bits >> 23)) - exponent_offset;
  float m = math::bits_float((bits & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  if (m <= math::bits_float(kSqrtHalf)) {
    m = m + m;
    exponent = exponent - 1.0f;
  }
  const float y = m - 1.0f;
  float num = fmaf(math::bits_float(kP[5]), y, math::bits_float(kP[4]));
  float den = fmaf(math::bits_float(kQ[5]), y, math::bits_float(kQ[4]));
  for (int i = 3; i >= 0; --i) {
    num = fmaf(num, y, math::bits_float(kP[i]));
    den = fmaf(den, y, math::bits_float(kQ[i]));
  }
  return fmaf(exponent, math::bits_float(kLn2), num / den);
}

// Ranks one CSR expression row at a time. Holds scratch so that ranking allocates nothing after
// the first rows; use one object per thread (an object is not thread-safe, the class is).
class RowRanker {
 public:
  explicit RowRanker(std::int64_t n_genes);

  std::int64_t n_genes() const { return n_genes_; }

  // Writes ln(rank) (f32, numpy_logf) of every gene of one row into `ln_ranks` (n_genes elements).
  // `values[k]` is stored at column `columns[k]`; absent columns are 0. Ranks use the "average"
  // tie rule over all G genes: r = #{smaller} + (#{equal} + 1) / 2. Stored zeros, absent zeros and
  // negative values are ordinary values. Repeated columns are summed in storage order (what
  // densifying a non-canonical scipy CSR row does). NaN ranks above every number, NaNs tie.
  // Cost: O(nnz + G) (radix sort). Throws InputError for a column outside [0, n_genes) or mismatched
  // spans.
  void rank(std::span<const float> values, std::span<const std::int32_t> columns,
            std::span<float> ln_ranks);
  void rank(std::span<const float> values, std::span<const std::int64_t> columns,
            std::span<float> ln_ranks);

  // The same ranking without writing the dense row (Stage A's path, O(nnz) plus a radix sort of
  // the stored values): every gene not listed in ranked() has the ln rank fill_ln() (the tied
  // value 0, present whenever some column is absent: has_fill()); ranked() lists each distinct
  // stored column once with its ln rank (stored zeros included, with the fill value). write_f32 /
  // write_f16 expand the last ranked row; its f16 values are f32_to_f16 of the f32 ones.
  void rank_sparse(std::span<const float> values, std::span<const std::int32_t> columns);
  void rank_sparse(std::span<const float> values, std::span<const std::int64_t> columns);
  struct Ranked {
    std::int32_t column;
    std::uint32_t twice_rank;  // 2 * rank (an integer: ranks are half-integers)
  };
  bool has_fill() const { return fill_twice_rank_ > 0; }
  float fill_ln() const { return ln_of_twice_rank_[fill_twice_rank_]; }
  std::span<const Ranked> ranked() const { return ranked_; }
  float ln_of(const Ranked& r) const { return ln_of_twice_rank_[r.twice_rank]; }
  void write_f32(std::span<float> ln_ranks) const;
  void write_f16(std::span<f16_bits> ln_ranks) const;

  // Columns of the last ranked row whose (summed) value is non-zero, in storage order of first
  // occurrence. This is what the expression fraction counts (explicit zeros do not count).
  std::span<const std::int64_t> nonzero_columns() const { return nonzero_columns_; }

 private:
  template <typename Index>
  void rank_impl(std::span<const float> values, std::span<const Index> columns);
  void sort_entries();

  struct Entry {
    std::uint32_t key;  // order-preserving image of the value (ties <=> equal keys)
    float value;
    std::int32_t column;
  };
  std::int64_t n_genes_;
  std::vector<float> ln_of_twice_rank_;       // numpy_logf(t / 2) for t = 0 .. 2 * n_genes
  std::vector<f16_bits> f16_of_twice_rank_;   // f32_to_f16 of the same
  std::vector<std::int32_t> slot_of_column_;  // -1, or the entry holding that column
  std::vector<Entry> entries_, sort_scratch_;
  std::vector<Ranked> ranked_;
  std::uint32_t fill_twice_rank_ = 0;          // 0: every column is stored (no fill)
  std::vector<std::int64_t> nonzero_columns_;
};

// f16 storage of ln ranks (round to nearest even), as written to the rank matrix.
void ln_ranks_to_f16(std::span<const float> ln_ranks, std::span<f16_bits> out);

// Global statistics of docs/algorithms.md §2.1 after all cells were accumulated.
struct GeneStats {
  std::int64_t n_cells = 0;
  std::vector<double> g_mean;  // SL_g / n: mean of the f32 ln ranks
  std::vector<double> frac;    // NZ_g / n: share of cells with a non-zero value
};

// Exact, order-independent accumulator of SL_g (sum of f32 ln ranks, as int64 fixed point with
// kFractionBits fractional bits) and NZ_g (non-zero counts). Merge partial accumulators with
// merge(), or across MPI ranks with MPI_Allreduce(MPI_IN_PLACE, raw().data(), raw().size(),
// MPI_INT64_T, MPI_SUM, comm) (layout below).
class GeneStatsAccumulator {
 public:
  static constexpr int kFractionBits = 25;

  explicit GeneStatsAccumulator(std::int64_t n_genes);

  std::int64_t n_genes() const { return n_genes_; }
  std::int64_t n_cells() const { return raw_[0]; }

  // Adds one cell: its f32 ln ranks (n_genes) and its non-zero columns (RowRanker).
  // Throws ComputeError if an ln rank is not a non-negative multiple of 2^-25 (not a log rank).
  void add_cell(std::span<const float> ln_ranks, std::span<const std::int64_t> nonzero_columns);
  // Adds the row last ranked by `ranker` (rank_sparse or rank) in O(stored columns): the fill
  // value goes to one common sum shared by all genes, each stored column adds its difference
  // from it. The same integers as add_cell of the dense row.
  void add_ranked(const RowRanker& ranker);
  void merge(const GeneStatsAccumulator& other);
  // [n_cells | common | SL_g - common (G) | NZ_g (G)]: element-wise sums of raw arrays are the
  // statistics of the union of the cells (what MPI_Allreduce computes).
  std::span<std::int64_t> raw() { return raw_; }
  std::span<const std::int64_t> raw() const { return raw_; }
  // SL_g in fixed point (common + per-gene part).
  std::vector<std::int64_t> sum_ln_fixed() const;
  std::span<const std::int64_t> nonzero_counts() const {
    return std::span<const std::int64_t>(raw_).subspan(2 + static_cast<std::size_t>(n_genes_));
  }
  // G_Mean and frac in f64. Throws ComputeError when no cell was added.
  GeneStats finalize() const;

  // The fixed-point image of one ln rank (exact; see the header comment).
  static std::int64_t to_fixed(float ln_rank);

 private:
  std::int64_t n_genes_;
  std::vector<std::int64_t> raw_;
};

// gsMap3D's ranking chunks (docs/algorithms.md §1.4): consecutive runs of `chunk_rows` kept cells
// within a sample; a sample's last chunk may be shorter. Global cell indices, samples in order.
struct RankChunk {
  std::int32_t sample = 0;
  std::int64_t begin = 0, end = 0;  // [begin, end) in the concatenated cell order
};
std::vector<RankChunk> rank_chunks(std::span<const std::int64_t> cells_per_sample,
                                   std::int64_t chunk_rows = 500);

// The f32 per-gene sum of one chunk's ln ranks, rows added in row order (as numpy's
// chunk.sum(axis=0) on an f32 array).
class ChunkSumF32 {
 public:
  explicit ChunkSumF32(std::int64_t n_genes);
  void add_row(std::span<const float> ln_ranks);
  std::span<const float> sums() const { return sums_; }
  std::int64_t rows() const { return rows_; }
  void clear();

 private:
  std::vector<float> sums_;
  std::int64_t rows_ = 0;
};

// Folds chunk sums in chunk order: f32 per sample, f64 across samples; G_Mean = total / n.
class ReferenceGeneMean {
 public:
  explicit ReferenceGeneMean(std::int64_t n_genes);
  // Chunks must come in global chunk order; a change of `sample` starts a new f32 accumulator.
  void add_chunk(std::int32_t sample, std::span<const float> chunk_sums, std::int64_t rows);
  std::int64_t n_cells() const { return n_cells_; }
  // Throws ComputeError when no cell was added.
  std::vector<double> g_mean() const;

 private:
  std::int64_t n_genes_;
  std::int64_t n_cells_ = 0;
  std::int32_t sample_ = -1;
  std::vector<float> sample_sums_;
  std::vector<double> total_;
};

}  // namespace gsmap::gss
