#pragma once
// Embedding preparation and similarities of the homogeneous-neighbour search, following the f16
// recipe of docs/algorithms.md §10.3 steps 3-5 bit for bit (§3.2):
//   * cell embedding: round to f16 from the stored type, then normalise in f16 arithmetic;
//   * niche embedding: normalise in the stored type, then round to f16; no niche = [1] per cell;
//   * similarity: dot product of f16 vectors accumulated in f32, rounded to f16.
// Norms add their squares in numpy's pairwise order (what np.linalg.norm does on a row), so that
// the f16 vectors match the reference's bit for bit on real data.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gsmap/math/f16.hpp"

namespace gsmap::gss {

using math::f16_bits;

// The on-disk type of an obsm embedding (values may travel as f64 either way; an f32 embedding's
// values are exact in f64).
enum class StoredFloat { kF32, kF64 };

// Rows of unit-norm f16 vectors, row-major. With `slot`, only some rows are held: cell i's vector
// is stored row slot[i] of `values` (-1: not held, never read), so a rank keeps only the rows its
// neighbour search reads (docs/algorithms.md §5.2).
struct NormalizedEmbedding {
  std::int64_t rows = 0;
  int dim = 0;
  std::vector<f16_bits> values;  // rows x dim, or (held rows) x dim with slot
  // null = every row held; may be shared by embeddings that hold the same rows
  std::shared_ptr<const std::vector<std::int32_t>> slot;

  const f16_bits* row(std::int64_t i) const {
    const auto r = slot ? static_cast<std::size_t>((*slot)[static_cast<std::size_t>(i)])
                        : static_cast<std::size_t>(i);
    return values.data() + r * static_cast<std::size_t>(dim);
  }
};

// f64 -> f16 with a single rounding to nearest even (numpy's float64.astype(float16)); going
// through f32 with round-to-nearest could round twice. Round to odd into f32 first: f32 has
// 24 >= 2 * 11 + 2 significand bits, so the final f16 rounding is then correct.
GSMAP_HD f16_bits f64_to_f16(double value) {
  float narrow = static_cast<float>(value);
  if (narrow - narrow == 0.0f && static_cast<double>(narrow) != value) {  // finite and inexact
    std::uint32_t bits = math::float_bits(narrow);
    if (std::fabs(static_cast<double>(narrow)) > std::fabs(value)) --bits;  // truncate magnitude
    narrow = math::bits_float(bits | 1u);                                   // sticky bit
  }
  return math::f32_to_f16(narrow);
}

// Step 5: sim = round_f16(sum_d f32(a_d) * f32(b_d)) accumulated in f32. The products of two f16
// values are exact in f32; the order of the additions is numpy's einsum dot kernel (4 lanes,
// blocks of 16 added back to front, zero-padded tail, lanes summed as (l0 + l1) + (l2 + l3)): the
// fixtures' similarities were computed that way, and it matches them bit for bit.
// einsum_dot_finish adds the tail from element d on to `lane` and rounds; `product(k)` is the f32
// product of element k (callers choose how the operands are widened, e.g. a query row widened
// once, or a table lookup).
template <typename Product>
GSMAP_HD f16_bits einsum_dot_finish(float lane[4], int d, int dim, const Product& product) {
  for (; d < dim; d += 4) {
    for (int l = 0; l < 4; ++l) {
      const int k = d + l;
      const float p = k < dim ? product(k) : 0.0f;
      lane[l] = p + lane[l];
    }
  }
  return math::f32_to_f16((lane[0] + lane[1]) + (lane[2] + lane[3]));
}

template <typename Product>
GSMAP_HD f16_bits einsum_dot(int dim, const Product& product) {
  float lane[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  int d = 0;
  for (; dim - d >= 16; d += 16) {
    for (int block = 3; block >= 0; --block) {
      for (int l = 0; l < 4; ++l) lane[l] = product(d + 4 * block + l) + lane[l];
    }
  }
  return einsum_dot_finish(lane, d, dim, product);
}

// The products of two f16 rows; `widen` turns an f16 into its f32 value (exactly).
template <typename Widen>
struct F16Product {
  const f16_bits* a;
  const f16_bits* b;
  Widen widen;
  GSMAP_HD float operator()(int k) const { return widen(a[k]) * widen(b[k]); }
};

template <typename Widen>
GSMAP_HD f16_bits einsum_dot_f16(const f16_bits* a, const f16_bits* b, int dim, Widen widen) {
  return einsum_dot(dim, F16Product<Widen>{a, b, widen});
}

struct WidenF16 {
  GSMAP_HD float operator()(f16_bits h) const { return math::f16_to_f32(h); }
};

GSMAP_HD f16_bits similarity_f16(const f16_bits* a, const f16_bits* b, int dim) {
  return einsum_dot_f16(a, b, dim, WidenF16{});
}

// numpy's pairwise summation (add.reduce along a contiguous axis): blocks of 8 partial sums below
// 128 elements, recursive halving above. Exposed for tests and the GPU kernels.
float pairwise_sum(const float* x, std::size_t n);
double pairwise_sum(const double* x, std::size_t n);

// Step 3. `stored` holds rows x dim values in row-major order; `type` says how they were stored
// (f64 values are rounded to f16 directly). `what` names the source in errors, e.g.
// "<file>: obsm/emb_cell". Throws InputError naming the first row with a NaN or an infinity.
// An all-zero row normalises to NaN (0/0 in f16, as in the reference).
NormalizedEmbedding normalize_cell_embedding(std::span<const double> stored, std::int64_t rows,
                                             int dim, StoredFloat type, const std::string& what);
NormalizedEmbedding normalize_cell_embedding(std::span<const float> stored, std::int64_t rows,
                                             int dim, const std::string& what);

// Step 4: x / (||x|| + 1e-8) in the stored type (f32 or f64), then round each component to f16.
NormalizedEmbedding normalize_niche_embedding(std::span<const double> stored, std::int64_t rows,
                                              int dim, StoredFloat type, const std::string& what);
NormalizedEmbedding normalize_niche_embedding(std::span<const float> stored, std::int64_t rows,
                                              int dim, const std::string& what);

// No niche embedding: every cell gets [1], so every niche similarity is exactly 1.
NormalizedEmbedding unit_niche_embedding(std::int64_t rows);

// Similarity of two rows of one embedding (step 5).
inline f16_bits row_similarity(const NormalizedEmbedding& e, std::int64_t a, std::int64_t b) {
  return similarity_f16(e.row(a), e.row(b), e.dim);
}

}  // namespace gsmap::gss
