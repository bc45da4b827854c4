#include "gsmap/gss/embedding.hpp"

#include <cmath>
#include <type_traits>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "gsmap/core/error.hpp"

namespace gsmap::gss {

namespace {

using math::f16_to_f32;
using math::f32_to_f16;
using math::round_f16;

template <typename T>
T pairwise_sum_impl(const T* x, std::size_t n) {
  constexpr std::size_t kBlock = 128;  // numpy's PW_BLOCKSIZE
  if (n < 8) {
    T sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += x[i];
    return sum;
  }
  if (n <= kBlock) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = x[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (std::size_t j = 0; j < 8; ++j) r[j] += x[i + j];
    }
    T sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += x[i];
    return sum;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return pairwise_sum_impl(x, half) + pairwise_sum_impl(x + half, n - half);
}

void check_shape(std::size_t size, std::int64_t rows, int dim, const std::string& what) {
  if (rows < 0 || dim <= 0 ||
      size != static_cast<std::size_t>(rows) * static_cast<std::size_t>(dim)) {
    throw ComputeError(
        fmt::format("{}: {} values do not form {} rows of {} columns", what, size, rows, dim));
  }
}

template <typename T>
void check_finite(std::span<const T> stored, int dim, const std::string& what) {
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (!std::isfinite(stored[i])) {
      const std::size_t row = i / static_cast<std::size_t>(dim);
      throw InputError(what, fmt::format("row {} (0-based, concatenated cell order)", row),
                       fmt::format("embedding value {} in column {} is not finite", stored[i],
                                   i % static_cast<std::size_t>(dim)),
                       "recompute the embedding (find-latent) or drop the cells with NaN values");
    }
  }
}

// Rows are normalised independently of each other: ranges of rows on all workers give the
// bytes of one pass over them (Stage B's search waits for this: docs/performance.md "GSS stages:
// cores busy").
template <typename F>
void for_row_ranges(std::int64_t rows, F&& body) {
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, rows, 2048),
                    [&](const tbb::blocked_range<std::int64_t>& r) { body(r.begin(), r.end()); });
}

// Step 3 for one row whose values were already rounded to f16 (`e`).
void normalize_f16_row(const f16_bits* e, int dim, float* squares, f16_bits* out) {
  for (int d = 0; d < dim; ++d) {
    const float v = f16_to_f32(e[d]);
    squares[d] = round_f16(v * v);
  }
  const float sum = round_f16(pairwise_sum(squares, static_cast<std::size_t>(dim)));
  // + 1e-8 rounds to +0 in f16 and changes nothing.
  const float norm = round_f16(std::sqrt(sum));
  for (int d = 0; d < dim; ++d) out[d] = f32_to_f16(f16_to_f32(e[d]) / norm);
}

template <typename T>
NormalizedEmbedding normalize_cell_impl(std::span<const T> stored, std::int64_t rows, int dim,
                                        const std::string& what) {
  check_shape(stored.size(), rows, dim, what);
  check_finite(stored, dim, what);
  NormalizedEmbedding out;
  out.rows = rows;
  out.dim = dim;
  out.values.resize(stored.size());
  for_row_ranges(rows, [&](std::int64_t r0, std::int64_t r1) {
    std::vector<f16_bits> e(static_cast<std::size_t>(dim));
    std::vector<float> squares(static_cast<std::size_t>(dim));
    for (std::int64_t r = r0; r < r1; ++r) {
      const T* x = stored.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(dim);
      for (int d = 0; d < dim; ++d) {
        if constexpr (std::is_same_v<T, double>)
          e[static_cast<std::size_t>(d)] = f64_to_f16(x[d]);
        else
          e[static_cast<std::size_t>(d)] = f32_to_f16(x[d]);
      }
      normalize_f16_row(
          e.data(), dim, squares.data(),
          out.values.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(dim));
    }
  });
  return out;
}

template <typename T>
NormalizedEmbedding normalize_niche_impl(std::span<const T> stored, std::int64_t rows, int dim,
                                         const std::string& what) {
  check_shape(stored.size(), rows, dim, what);
  check_finite(stored, dim, what);
  NormalizedEmbedding out;
  out.rows = rows;
  out.dim = dim;
  out.values.resize(stored.size());
  const T epsilon = static_cast<T>(1e-8);
  for_row_ranges(rows, [&](std::int64_t r0, std::int64_t r1) {
    std::vector<T> squares(static_cast<std::size_t>(dim));
    for (std::int64_t r = r0; r < r1; ++r) {
      const T* x = stored.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(dim);
      for (int d = 0; d < dim; ++d) squares[static_cast<std::size_t>(d)] = x[d] * x[d];
      const T norm = std::sqrt(pairwise_sum(squares.data(), squares.size())) + epsilon;
      f16_bits* o = out.values.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(dim);
      for (int d = 0; d < dim; ++d) {
        const T v = x[d] / norm;
        if constexpr (std::is_same_v<T, double>)
          o[d] = f64_to_f16(v);
        else
          o[d] = f32_to_f16(v);
      }
    }
  });
  return out;
}

std::vector<float> narrow_exact_f32(std::span<const double> stored, const std::string& what) {
  std::vector<float> values(stored.size());
  for (std::size_t i = 0; i < stored.size(); ++i) {
    values[i] = static_cast<float>(stored[i]);
    if (static_cast<double>(values[i]) != stored[i] && std::isfinite(stored[i])) {
      throw ComputeError(
          fmt::format("{}: value {} declared f32 is not an f32 value", what, stored[i]));
    }
  }
  return values;
}

}  // namespace

float pairwise_sum(const float* x, std::size_t n) { return pairwise_sum_impl(x, n); }
double pairwise_sum(const double* x, std::size_t n) { return pairwise_sum_impl(x, n); }

NormalizedEmbedding normalize_cell_embedding(std::span<const double> stored, std::int64_t rows,
                                             int dim, StoredFloat type, const std::string& what) {
  if (type == StoredFloat::kF64) return normalize_cell_impl(stored, rows, dim, what);
  const std::vector<float> values = narrow_exact_f32(stored, what);
  return normalize_cell_impl(std::span<const float>(values), rows, dim, what);
}

NormalizedEmbedding normalize_cell_embedding(std::span<const float> stored, std::int64_t rows,
                                             int dim, const std::string& what) {
  return normalize_cell_impl(stored, rows, dim, what);
}

NormalizedEmbedding normalize_niche_embedding(std::span<const double> stored, std::int64_t rows,
                                              int dim, StoredFloat type, const std::string& what) {
  if (type == StoredFloat::kF64) return normalize_niche_impl(stored, rows, dim, what);
  const std::vector<float> values = narrow_exact_f32(stored, what);
  return normalize_niche_impl(std::span<const float>(values), rows, dim, what);
}

NormalizedEmbedding normalize_niche_embedding(std::span<const float> stored, std::int64_t rows,
                                              int dim, const std::string& what) {
  return normalize_niche_impl(stored, rows, dim, what);
}

NormalizedEmbedding unit_niche_embedding(std::int64_t rows) {
  NormalizedEmbedding out;
  out.rows = rows;
  out.dim = 1;
  out.values.assign(static_cast<std::size_t>(rows), f32_to_f16(1.0f));
  return out;
}

}  // namespace gsmap::gss
