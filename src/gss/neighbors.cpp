#include "gsmap/gss/neighbors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "gsmap/core/error.hpp"
#include "gsmap/core/progress.hpp"
#include "gsmap/gss/umap.hpp"

namespace gsmap::gss {

namespace {

using math::f16_to_f32;
using math::f32_to_f16;
using math::round_f16;

constexpr float kInvalidScore = -100.0f;

// f16 -> f32 through a 64K-entry table (256 KiB, cache resident): the similarity loop is the hot
// spot of the selection and the bit-twiddling conversion dominated it.
const float* f16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (std::uint32_t h = 0; h < 65536; ++h) t[h] = f16_to_f32(static_cast<f16_bits>(h));
    return t;
  }();
  return table.data();
}

constexpr std::size_t kQueryGrain = 32;  // query cells per TBB task

// einsum_dot_f16 (gss/embedding.hpp, docs/algorithms.md §3.2) of a query row already widened to
// f32 and a candidate's f16 row: the same f32 products and the same additions in the same order
// (per 16-element block, the four 4-wide blocks back to front into four lanes; the tail and the
// final (l0 + l1) + (l2 + l3) as in the scalar kernel), so the bits are the scalar kernel's.
// Products of two f16 values are exact in f32, and nothing is fused (no FMA in the target).
// The product of element k: the query's f32 value times the candidate's f16 value from the table.
struct WidenedProduct {
  const float* a;
  const f16_bits* b;
  const float* table;
  float operator()(int k) const { return a[k] * table[b[k]]; }
};

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(GSMAP_NO_CPU_DISPATCH)
#define GSMAP_SIM_DISPATCH 1
// The four lane sums of a · widen(b) over the whole 16-element blocks of [0, dim); d is left at
// the first element after them (shared by both dot products below, same operations and order).
__attribute__((target("avx2,f16c"), always_inline)) inline void dot_blocks_f16c(
    const float* a, const f16_bits* b, int dim, int& d, float* lane) {
  __m128 lanes = _mm_setzero_ps();
  d = 0;
  for (; dim - d >= 16; d += 16) {
    const __m256 lo = _mm256_mul_ps(
        _mm256_loadu_ps(a + d),
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + d))));
    const __m256 hi = _mm256_mul_ps(
        _mm256_loadu_ps(a + d + 8),
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + d + 8))));
    lanes = _mm_add_ps(_mm256_extractf128_ps(hi, 1), lanes);    // block 3
    lanes = _mm_add_ps(_mm256_castps256_ps128(hi), lanes);      // block 2
    lanes = _mm_add_ps(_mm256_extractf128_ps(lo, 1), lanes);    // block 1
    lanes = _mm_add_ps(_mm256_castps256_ps128(lo), lanes);      // block 0
  }
  _mm_storeu_ps(lane, lanes);
}

__attribute__((target("avx2,f16c"))) f16_bits dot_widened_f16c(const float* a, const f16_bits* b,
                                                               int dim, const float* table) {
  alignas(16) float lane[4];
  int d = 0;
  dot_blocks_f16c(a, b, dim, d, lane);
  return einsum_dot_finish(lane, d, dim, WidenedProduct{a, b, table});
}

// f32 -> f16 bits with F16C (round to nearest even, as math::f32_to_f16 for every non-NaN input;
// NaN takes the scalar conversion, whose payload rule differs).
__attribute__((target("avx2,f16c"), always_inline)) inline f16_bits to_f16_f16c(float v) {
  if (v != v) return math::f32_to_f16(v);
  return static_cast<f16_bits>(_mm_extract_epi16(
      _mm_cvtps_ph(_mm_set_ss(v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), 0));
}

// dot_widened_f16c inlined into the candidate loop, the same operations in the same order (tail
// as einsum_dot_finish), the final rounding through to_f16_f16c.
__attribute__((target("avx2,f16c"), always_inline)) inline f16_bits dot_inline_f16c(
    const float* a, const f16_bits* b, int dim, const float* table) {
  alignas(16) float lane[4];
  int d = 0;
  dot_blocks_f16c(a, b, dim, d, lane);
  for (; d < dim; d += 4) {
    for (int l = 0; l < 4; ++l) {
      const int k = d + l;
      const float p = k < dim ? a[k] * table[b[k]] : 0.0f;
      lane[l] = p + lane[l];
    }
  }
  return to_f16_f16c((lane[0] + lane[1]) + (lane[2] + lane[3]));
}

// select_block's candidate loop (similarities, thresholds, scores) with the dot products inlined
// and the f16 roundings through F16C; the same bits as the portable loop there.
__attribute__((target("avx2,f16c"))) void score_candidates_f16c(
    std::span<const std::int32_t> candidates, const NormalizedEmbedding& cell,
    const NormalizedEmbedding* niche, const float* cell_q, const float* niche_q,
    const SelectThresholds& thresholds, const float* table, float* score, f16_bits* cs_out,
    f16_bits* ns_out) {
  const std::size_t m = candidates.size();
  const f16_bits one = math::f32_to_f16(1.0f);
  constexpr std::size_t kPrefetchAhead = 8;
  for (std::size_t j = 0; j < m; ++j) {
    if (j + kPrefetchAhead < m && candidates[j + kPrefetchAhead] >= 0) {
      __builtin_prefetch(cell.row(candidates[j + kPrefetchAhead]));
      if (niche) __builtin_prefetch(niche->row(candidates[j + kPrefetchAhead]));
    }
    const std::int32_t c = candidates[j];
    if (c < 0) {
      score[j] = kInvalidScore;
      cs_out[j] = ns_out[j] = 0;
      continue;
    }
    const f16_bits sim = dot_inline_f16c(cell_q, cell.row(c), cell.dim, table);
    const f16_bits cs = table[sim] >= thresholds.cell ? sim : f16_bits{0};
    const f16_bits ns = niche ? dot_inline_f16c(niche_q, niche->row(c), niche->dim, table) : one;
    const float bonus = table[ns] >= thresholds.niche ? 2.0f : 0.0f;
    score[j] = table[to_f16_f16c(table[cs] + bonus)];
    cs_out[j] = cs;
    ns_out[j] = ns;
  }
}
#else
#define GSMAP_SIM_DISPATCH 0
#endif

f16_bits dot_widened_portable(const float* a, const f16_bits* b, int dim, const float* table) {
  return einsum_dot(dim, WidenedProduct{a, b, table});
}

bool cpu_has_f16c() {
#if GSMAP_SIM_DISPATCH
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  return yes;
#else
  return false;
#endif
}

// docs/algorithms.md §3.3: sum of squared differences in f64, column order, no FMA (this
// translation unit is compiled with -ffp-contract=off).
double squared_distance(const double* a, const double* b, int dim) {
  double sum = 0.0;
  for (int c = 0; c < dim; ++c) {
    const double diff = a[c] - b[c];
    sum += diff * diff;
  }
  return sum;
}

// Points of one search pool, contiguous, in ascending global cell order (so a local index orders
// like the global one).
struct PointCloud {
  int dim = 0;
  std::vector<double> points;       // size() x dim
  std::vector<std::int64_t> cells;  // global ids, ascending

  const double* point(std::uint32_t i) const {
    return points.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(dim);
  }
};

struct Hit {
  double d2;
  std::uint32_t local;
  bool operator<(const Hit& o) const { return d2 < o.d2 || (d2 == o.d2 && local < o.local); }
};

// A grid-search hit ordered by (d2, local index) as one 128-bit integer, so that selecting and
// sorting the k nearest compare once per pair (about a quarter faster than Hit's two-field
// comparison). The order is Hit's: d2 is a sum of squares of finite coordinate differences
// (checked when the finder is built), so it is +0, positive or +inf, never negative or NaN, and
// the bits of such doubles order like their values.
__extension__ using GridKey = unsigned __int128;
struct GridHit {
  GridKey key;
  static GridHit of(double d2, std::uint32_t local) {
    return {(static_cast<GridKey>(std::bit_cast<std::uint64_t>(d2)) << 32) | local};
  }
  double d2() const { return std::bit_cast<double>(static_cast<std::uint64_t>(key >> 32)); }
  std::uint32_t local() const { return static_cast<std::uint32_t>(key); }
  bool operator<(const GridHit& o) const { return key < o.key; }
};

// Exact k-nearest search over one pool (docs/algorithms.md §3.3): a uniform grid over the first
// two coordinates, about kPerCell points per grid cell, points stored cell by cell. A query visits
// rings of grid cells around its own cell, collecting every point with its exact d2; once k points
// are collected and the k-th smallest d2 (by (d2, index)) is below the squared distance from the
// query to the nearest unvisited grid cell (less a margin for rounding), no unvisited point can
// reach or tie the k-th, and the k best are sorted. Any exact search gives the same rows.
class SearchGrid {
 public:
  static constexpr double kPerCell = 4.0;

  void build() {
    const std::size_t n = cloud.cells.size();
    const int dim = cloud.dim;
    nx_ = ny_ = 1;
    x0_ = y0_ = 0.0;
    cell_ = 1.0;
    if (n > 0) {
      double x1 = -std::numeric_limits<double>::infinity(), y1 = x1;
      x0_ = y0_ = std::numeric_limits<double>::infinity();
      for (std::uint32_t i = 0; i < n; ++i) {
        const double* p = cloud.point(i);
        x0_ = std::min(x0_, p[0]);
        x1 = std::max(x1, p[0]);
        const double y = dim > 1 ? p[1] : 0.0;
        y0_ = std::min(y0_, y);
        y1 = std::max(y1, y);
      }
      const double wx = x1 - x0_, wy = y1 - y0_;
      const double cells = std::max(1.0, static_cast<double>(n) / kPerCell);
      double size = 0.0;
      if (wx > 0.0 && wy > 0.0) {
        size = std::sqrt(wx * wy / cells);
      } else if (wx > 0.0 || wy > 0.0) {
        size = std::max(wx, wy) / cells;
      }
      // At most ~4 n + a strip of grid cells whatever the shape (a thin pool gets wider cells).
      const double limit = 4.0 * static_cast<double>(n) + 16.0;
      if (size > 0.0 && std::isfinite(size)) {
        while ((std::floor(wx / size) + 1.0) * (std::floor(wy / size) + 1.0) > limit) size *= 2.0;
        cell_ = size;
        nx_ = static_cast<std::int64_t>(std::floor(wx / size)) + 1;
        ny_ = static_cast<std::int64_t>(std::floor(wy / size)) + 1;
      }
    }
    // Rounding of the grid arithmetic and of d2 is far below this (in coordinate units).
    margin_ = 1e-6 * cell_ + 1e-12 * std::max({std::fabs(x0_), std::fabs(y0_),
                                                std::fabs(x0_ + cell_ * static_cast<double>(nx_)),
                                                std::fabs(y0_ + cell_ * static_cast<double>(ny_))});
    std::vector<std::int64_t> cell_of(n);
    start_.assign(static_cast<std::size_t>(nx_ * ny_) + 1, 0);
    for (std::uint32_t i = 0; i < n; ++i) {
      const double* p = cloud.point(i);
      cell_of[i] = index_x(p[0]) + nx_ * index_y(dim > 1 ? p[1] : 0.0);
      ++start_[static_cast<std::size_t>(cell_of[i]) + 1];
    }
    std::partial_sum(start_.begin(), start_.end(), start_.begin());
    std::vector<std::uint32_t> fill(start_.begin(), start_.end() - 1);
    local_.resize(n);
    sorted_.resize(n * static_cast<std::size_t>(dim));
    for (std::uint32_t i = 0; i < n; ++i) {  // ascending local index within each grid cell
      const std::uint32_t slot = fill[static_cast<std::size_t>(cell_of[i])]++;
      local_[slot] = i;
      std::copy_n(cloud.point(i), dim, sorted_.begin() + static_cast<std::ptrdiff_t>(slot) * dim);
    }
  }

  // The k nearest pool points of `query`, sorted by (d2, index); `out` receives the global ids, the
  // slots beyond the pool size stay untouched. `hits` is the caller's scratch.
  void nearest(const double* query, std::size_t k, std::vector<GridHit>& hits, std::int32_t* out) const {
    const std::size_t n = cloud.cells.size();
    k = std::min(k, n);
    if (k == 0) return;
    const int dim = cloud.dim;
    const double qx = query[0], qy = dim > 1 ? query[1] : 0.0;
    const std::int64_t cx = index_x(qx), cy = index_y(qy);
    hits.clear();
    // Once k points are held, the k-th smallest d2 only falls as rings are added: points beyond it
    // can never enter the k best, so `hits` keeps the k best only and a point is collected only
    // when its d2 does not exceed the current k-th (ties kept: the index decides them).
    double limit = std::numeric_limits<double>::infinity();
    for (std::int64_t r = 0;; ++r) {
      const std::int64_t ix0 = std::max<std::int64_t>(0, cx - r), ix1 = std::min(nx_ - 1, cx + r);
      const std::int64_t iy0 = std::max<std::int64_t>(0, cy - r), iy1 = std::min(ny_ - 1, cy + r);
      for (std::int64_t iy = iy0; iy <= iy1; ++iy) {  // the ring of grid cells at distance r
        if (iy == cy - r || iy == cy + r) {
          for (std::int64_t ix = ix0; ix <= ix1; ++ix) collect(query, iy * nx_ + ix, limit, hits);
        } else {
          if (cx - r >= 0) collect(query, iy * nx_ + cx - r, limit, hits);
          if (cx + r < nx_) collect(query, iy * nx_ + cx + r, limit, hits);
        }
      }
      const bool whole = ix0 == 0 && iy0 == 0 && ix1 == nx_ - 1 && iy1 == ny_ - 1;
      if (whole) break;
      if (hits.size() < k) continue;
      // Distance from the query to the nearest grid cell outside [ix0, ix1] x [iy0, iy1].
      double bound = std::numeric_limits<double>::infinity();
      if (ix0 > 0) bound = std::min(bound, qx - (x0_ + static_cast<double>(ix0) * cell_));
      if (ix1 < nx_ - 1) bound = std::min(bound, x0_ + static_cast<double>(ix1 + 1) * cell_ - qx);
      if (iy0 > 0) bound = std::min(bound, qy - (y0_ + static_cast<double>(iy0) * cell_));
      if (iy1 < ny_ - 1) bound = std::min(bound, y0_ + static_cast<double>(iy1 + 1) * cell_ - qy);
      bound -= margin_;
      std::nth_element(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k - 1), hits.end());
      hits.resize(k);
      limit = hits[k - 1].d2();
      if (bound > 0.0 && limit < bound * bound) break;
    }
    std::nth_element(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k - 1), hits.end());
    std::sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k));
    for (std::size_t j = 0; j < k; ++j) out[j] = static_cast<std::int32_t>(cloud.cells[hits[j].local()]);
  }

  PointCloud cloud;

 private:
  std::int64_t index_x(double x) const { return clamp_index((x - x0_) / cell_, nx_); }
  std::int64_t index_y(double y) const { return clamp_index((y - y0_) / cell_, ny_); }
  static std::int64_t clamp_index(double v, std::int64_t n) {
    if (!(v > 0.0)) return 0;
    if (v >= static_cast<double>(n - 1)) return n - 1;
    return static_cast<std::int64_t>(v);
  }
  void collect(const double* query, std::int64_t cell, double limit, std::vector<GridHit>& hits) const {
    const int dim = cloud.dim;
    const std::uint32_t b = start_[static_cast<std::size_t>(cell)];
    const std::uint32_t e = start_[static_cast<std::size_t>(cell) + 1];
    for (std::uint32_t j = b; j < e; ++j) {
      const double d2 =
          squared_distance(query, sorted_.data() + static_cast<std::size_t>(j) * dim, dim);
      if (!(d2 > limit)) hits.push_back(GridHit::of(d2, local_[j]));
    }
  }

  std::int64_t nx_ = 1, ny_ = 1;
  double x0_ = 0.0, y0_ = 0.0, cell_ = 1.0, margin_ = 0.0;
  std::vector<std::uint32_t> start_;  // grid cell -> first slot (row-major, x fastest)
  std::vector<std::uint32_t> local_;  // slot -> local index
  std::vector<double> sorted_;        // slot -> coordinates
};

float median_f16(std::vector<float>& values) {
  if (values.empty()) return std::numeric_limits<float>::quiet_NaN();
  for (const float v : values) {
    if (std::isnan(v)) return v;
  }
  std::sort(values.begin(), values.end());
  const std::size_t m = values.size();
  if (m % 2 == 1) return values[m / 2];
  // numpy's median of an f16 array: the f16 mean of the two middle values (summed in f32).
  return round_f16((values[m / 2 - 1] + values[m / 2]) / 2.0f);
}

std::string group_label(const CellTable& table, std::int32_t label) {
  if (label >= 0 && static_cast<std::size_t>(label) < table.group_names.size()) {
    return table.group_names[static_cast<std::size_t>(label)];
  }
  return fmt::format("{}", label);
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Parameters

void NeighborParams::validate() const {
  if (k_homogeneous < 1) {
    throw UsageError(fmt::format("--homogeneous-neighbors must be >= 1, got {}", k_homogeneous));
  }
  if (dataset_type == DatasetType::kScRNA) {
    if (n_adjacent != 0) throw UsageError("--n-adjacent-slices applies to spatial3D only");
    return;
  }
  if (k_central < 1)
    throw UsageError(fmt::format("--spatial-neighbors must be >= 1, got {}", k_central));
  if (k_homogeneous > k_central) {
    throw UsageError(fmt::format(
        "--homogeneous-neighbors ({}) must not exceed --spatial-neighbors ({}): the homogeneous "
        "neighbours are chosen among the spatial ones. Raise --spatial-neighbors or lower "
        "--homogeneous-neighbors",
        k_homogeneous, k_central));
  }
  if (dataset_type == DatasetType::kSpatial2D) {
    if (n_adjacent != 0) {
      throw UsageError(
          "--n-adjacent-slices applies to spatial3D only (spatial2D searches one slice)");
    }
    return;
  }
  if (n_adjacent < 1) {
    throw UsageError(fmt::format("spatial3D needs --n-adjacent-slices >= 1, got {}", n_adjacent));
  }
  if (k_adjacent > k_central) {
    throw UsageError(fmt::format(
        "--adjacent-slice-spatial-neighbors ({}) must not exceed --spatial-neighbors ({})",
        k_adjacent, k_central));
  }
  if (k_homogeneous > k_adjacent) {
    throw UsageError(fmt::format(
        "--homogeneous-neighbors ({}) must not exceed --adjacent-slice-spatial-neighbors ({}) for "
        "spatial3D: K neighbours are chosen per adjacent slice",
        k_homogeneous, k_adjacent));
  }
}

SelectThresholds SelectThresholds::from(const NeighborParams& params) {
  return {round_f16(static_cast<float>(params.cell_similarity_threshold)),
          round_f16(static_cast<float>(params.niche_similarity_threshold))};
}

// ------------------------------------------------------------------------------------------------
// SELECT and QC

void select_block(std::int64_t query, std::span<const std::int32_t> candidates, int k,
                  const NormalizedEmbedding& cell, const NormalizedEmbedding* niche,
                  const SelectThresholds& thresholds, SelectScratch& scratch,
                  std::int32_t* out_index, f16_bits* out_cell_sim, f16_bits* out_niche_sim) {
  const std::size_t m = candidates.size();
  scratch.score.resize(m);
  scratch.cs.resize(m);
  scratch.ns.resize(m);
  scratch.order.resize(m);
  const f16_bits one = f32_to_f16(1.0f);
  const float* table = f16_table();
  // The query's rows widened to f32 once (exact), for every candidate's dot product.
  scratch.query_cell.resize(static_cast<std::size_t>(cell.dim));
  for (int d = 0; d < cell.dim; ++d) scratch.query_cell[static_cast<std::size_t>(d)] = table[cell.row(query)[d]];
  if (niche) {
    scratch.query_niche.resize(static_cast<std::size_t>(niche->dim));
    for (int d = 0; d < niche->dim; ++d) {
      scratch.query_niche[static_cast<std::size_t>(d)] = table[niche->row(query)[d]];
    }
  }
  const bool f16c = cpu_has_f16c();
  const auto dot = [&](const float* a, const f16_bits* b, int dim) {
#if GSMAP_SIM_DISPATCH
    if (f16c) return dot_widened_f16c(a, b, dim, table);
#else
    (void)f16c;
#endif
    return dot_widened_portable(a, b, dim, table);
  };
  const float* cell_q = scratch.query_cell.data();
  const float* niche_q = niche ? scratch.query_niche.data() : nullptr;
  constexpr std::size_t kPrefetchAhead = 8;  // candidate rows are scattered: hide the misses
#if GSMAP_SIM_DISPATCH
  if (f16c) {
    score_candidates_f16c(candidates, cell, niche, cell_q, niche_q, thresholds, table,
                          scratch.score.data(), scratch.cs.data(), scratch.ns.data());
  }
  for (std::size_t j = 0; j < (f16c ? 0 : m); ++j) {
#else
  for (std::size_t j = 0; j < m; ++j) {
#endif
    if (j + kPrefetchAhead < m && candidates[j + kPrefetchAhead] >= 0) {
      __builtin_prefetch(cell.row(candidates[j + kPrefetchAhead]));
      if (niche) __builtin_prefetch(niche->row(candidates[j + kPrefetchAhead]));
    }
    const std::int32_t c = candidates[j];
    if (c < 0) {
      scratch.score[j] = kInvalidScore;
      scratch.cs[j] = scratch.ns[j] = 0;
      continue;
    }
    const f16_bits sim = dot(cell_q, cell.row(c), cell.dim);
    const f16_bits cs = table[sim] >= thresholds.cell ? sim : f16_bits{0};
    const f16_bits ns = niche ? dot(niche_q, niche->row(c), niche->dim) : one;
    const float bonus = table[ns] >= thresholds.niche ? 2.0f : 0.0f;
    scratch.score[j] = round_f16(table[cs] + bonus);
    scratch.cs[j] = cs;
    scratch.ns[j] = ns;
  }
  // Stable descending sort == order by (score desc, position asc); only the first k are needed.
  std::iota(scratch.order.begin(), scratch.order.end(), 0);
  const std::size_t chosen = std::min(m, static_cast<std::size_t>(std::max(k, 0)));
  const float* score = scratch.score.data();
  std::partial_sort(scratch.order.begin(),
                    scratch.order.begin() + static_cast<std::ptrdiff_t>(chosen),
                    scratch.order.end(), [score](std::int32_t a, std::int32_t b) {
                      if (score[a] != score[b]) return score[a] > score[b];
                      return a < b;
                    });
  for (int slot = 0; slot < k; ++slot) {
    if (static_cast<std::size_t>(slot) < chosen) {
      const auto j = static_cast<std::size_t>(scratch.order[static_cast<std::size_t>(slot)]);
      out_index[slot] = candidates[j];
      out_cell_sim[slot] = scratch.cs[j];
      out_niche_sim[slot] = scratch.ns[j];
    } else {
      out_index[slot] = -1;
      out_cell_sim[slot] = 0;
      out_niche_sim[slot] = 0;
    }
  }
}

void neighbor_qc(std::span<const f16_bits> cell_sims, std::span<const f16_bits> niche_sims,
                 std::int32_t& count, float& cell_median, float& niche_median) {
  std::vector<float> cs, ns;
  cs.reserve(cell_sims.size());
  ns.reserve(cell_sims.size());
  for (std::size_t j = 0; j < cell_sims.size(); ++j) {
    const float c = f16_to_f32(cell_sims[j]);
    if (c > 0.0f) {
      cs.push_back(c);
      ns.push_back(j < niche_sims.size() ? f16_to_f32(niche_sims[j]) : 0.0f);
    }
  }
  count = static_cast<std::int32_t>(cs.size());
  cell_median = median_f16(cs);
  niche_median = median_f16(ns);
}

// ------------------------------------------------------------------------------------------------
// The finder

struct HomogeneousNeighborFinder::Impl {
  CellTable table;
  NeighborParams params;
  SelectThresholds thresholds;

  std::vector<std::int32_t> group_of;  // dense group per cell (order of first appearance)
  std::vector<std::int32_t> group_label_of_index;      // original label of each dense group
  std::vector<std::vector<std::int64_t>> group_cells;  // ascending

  // Spatial: trees per (group, slice) over pool cells, and each available slice's adjacent trees.
  struct GroupSlices {
    std::map<std::int32_t, std::size_t> tree_of_slice;                   // available slices
    std::map<std::int32_t, std::vector<std::size_t>> adjacent_of_slice;  // ordered blocks
  };
  std::vector<GroupSlices> group_slices;
  std::vector<SearchGrid> trees;  // stable: built once, never resized after construction

  // scRNA: each group's f16 cell embedding as f64, dimension-major (dim x group size), for the
  // blocked exact kNN.
  struct GroupEmbedding {
    std::vector<double> by_dim;
    std::int64_t size = 0;
  };
  std::vector<GroupEmbedding> group_embeddings;

  std::int32_t slice_of(std::int64_t cell) const {
    if (!table.slice_id.empty()) return table.slice_id[static_cast<std::size_t>(cell)];
    if (table.slice_starts.empty()) return 0;
    const auto it = std::upper_bound(table.slice_starts.begin(), table.slice_starts.end(), cell);
    return static_cast<std::int32_t>(it - table.slice_starts.begin()) - 1;
  }
  bool in_pool(std::int64_t cell) const {
    if (!params.high_quality_filter) return true;
    return table.high_quality[static_cast<std::size_t>(cell)] != 0;
  }
  const double* coords_of(std::int64_t cell) const {
    return table.coords.data() +
           static_cast<std::size_t>(cell) * static_cast<std::size_t>(table.coord_dim);
  }

  void check_table() const;
  void index_groups();
  void build_spatial();
  void build_group_embeddings();
  void knn_block(std::size_t group, std::span<const std::int64_t> cells,
                 std::span<const std::size_t> rows, KnnGraph& graph) const;
  std::vector<std::int32_t> adjacent_slices(const GroupSlices& gs, std::int32_t slice,
                                            std::int32_t min_slice, std::int32_t max_slice) const;
  void fill_candidates(std::int64_t cell, std::vector<GridHit>& heap, std::int32_t* row) const;
  void check_query(std::span<const std::int64_t> query) const;
  // `given`: the candidate rows of the query cells (query.size() x candidate_columns()), else
  // searched here.
  NeighborResult find_spatial(std::span<const std::int64_t> query, bool keep_candidates,
                              const std::int32_t* given = nullptr) const;
};

void HomogeneousNeighborFinder::Impl::check_table() const {
  const std::int64_t n = table.n;
  if (n < 0) throw ComputeError("CellTable: negative cell count");
  const auto sized = [n](std::size_t size) {
    return size == 0 || static_cast<std::int64_t>(size) == n;
  };
  if (!sized(table.slice_id.size()) || !sized(table.group.size()) ||
      !sized(table.high_quality.size())) {
    throw ComputeError(fmt::format("CellTable: per-cell arrays must have {} entries or none", n));
  }
  if (!table.cell || table.cell->rows != n || table.cell->dim <= 0) {
    throw ComputeError(fmt::format("CellTable: the cell embedding must have {} rows", n));
  }
  if (table.niche && (table.niche->rows != n || table.niche->dim <= 0)) {
    throw ComputeError(fmt::format("CellTable: the niche embedding must have {} rows", n));
  }
  if (params.spatial()) {
    if (table.coord_dim <= 0 ||
        table.coords.size() !=
            static_cast<std::size_t>(n) * static_cast<std::size_t>(table.coord_dim)) {
      throw ComputeError(fmt::format("CellTable: coordinates must be {} x coord_dim (> 0)", n));
    }
    for (std::size_t i = 0; i < table.coords.size(); ++i) {
      if (!std::isfinite(table.coords[i])) {
        const std::size_t row = i / static_cast<std::size_t>(table.coord_dim);
        throw InputError(fmt::format("obsm/{}", table.spatial_key),
                         fmt::format("row {} (0-based, concatenated cell order)", row),
                         fmt::format("coordinate {} in column {} is not finite", table.coords[i],
                                     i % static_cast<std::size_t>(table.coord_dim)),
                         "fix or drop the cells without valid spatial coordinates");
      }
    }
  }
  if (params.high_quality_filter && table.high_quality.empty() && n > 0) {
    throw UsageError(
        "--high-quality-neighbor-filter needs the obs column High_quality, which the input does "
        "not have. Run without --high-quality-neighbor-filter, or add High_quality (gsMap's "
        "find-latent writes it when given an annotation)");
  }
}

void HomogeneousNeighborFinder::Impl::index_groups() {
  const std::int64_t n = table.n;
  group_of.assign(static_cast<std::size_t>(n), 0);
  std::map<std::int32_t, std::int32_t> dense_of_label;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t label = table.group.empty() ? 0 : table.group[static_cast<std::size_t>(i)];
    auto [it, inserted] =
        dense_of_label.emplace(label, static_cast<std::int32_t>(group_cells.size()));
    if (inserted) {
      group_cells.emplace_back();
      group_label_of_index.push_back(label);
    }
    group_of[static_cast<std::size_t>(i)] = it->second;
    group_cells[static_cast<std::size_t>(it->second)].push_back(i);
  }
}

// docs/algorithms.md §3.4, adjacent blocks: offsets 1..n_adj (s-o then s+o), extended search while
// short, then ordered by (offset, +1 before -1).
std::vector<std::int32_t> adjacent_slices(const std::function<bool(std::int64_t)>& available,
                                          std::int32_t slice, std::int32_t min_slice,
                                          std::int32_t max_slice, int n_adjacent) {
  struct Found {
    std::int32_t slice, offset, direction;
  };
  const auto target = static_cast<std::size_t>(2 * n_adjacent);
  std::vector<Found> found;
  for (std::int32_t o = 1; o <= n_adjacent; ++o) {
    if (available(static_cast<std::int64_t>(slice) - o)) found.push_back({slice - o, o, -1});
    if (available(static_cast<std::int64_t>(slice) + o)) found.push_back({slice + o, o, +1});
  }
  const auto present = [&found](std::int64_t s) {
    return std::any_of(found.begin(), found.end(), [s](const Found& f) { return f.slice == s; });
  };
  const std::int64_t max_offset =
      std::max<std::int64_t>(static_cast<std::int64_t>(max_slice) - min_slice, 10);
  for (std::int64_t o = n_adjacent + 1; found.size() < target && o <= max_offset; ++o) {
    const std::int64_t below = static_cast<std::int64_t>(slice) - o;
    const std::int64_t above = static_cast<std::int64_t>(slice) + o;
    if (below >= min_slice && available(below) && !present(below)) {
      found.push_back({static_cast<std::int32_t>(below), static_cast<std::int32_t>(o), -1});
      if (found.size() >= target) break;
    }
    if (above <= max_slice && available(above) && !present(above)) {
      found.push_back({static_cast<std::int32_t>(above), static_cast<std::int32_t>(o), +1});
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    if (a.offset != b.offset) return a.offset < b.offset;
    return a.direction > b.direction;  // +1 before -1 (the reference code's order)
  });
  std::vector<std::int32_t> slices;
  for (const Found& f : found) slices.push_back(f.slice);
  return slices;
}

std::vector<std::int32_t> HomogeneousNeighborFinder::Impl::adjacent_slices(
    const GroupSlices& gs, std::int32_t slice, std::int32_t min_slice,
    std::int32_t max_slice) const {
  const auto available = [&gs](std::int64_t s) {
    return s >= std::numeric_limits<std::int32_t>::min() &&
           s <= std::numeric_limits<std::int32_t>::max() &&
           gs.tree_of_slice.count(static_cast<std::int32_t>(s)) > 0;
  };
  return gss::adjacent_slices(available, slice, min_slice, max_slice, params.n_adjacent);
}

void HomogeneousNeighborFinder::Impl::build_spatial() {
  const int dim = table.coord_dim;
  // Pool cells per (group, slice), ascending; slice range per group over all its cells.
  std::vector<std::map<std::int32_t, std::vector<std::int64_t>>> pools(group_cells.size());
  std::vector<std::pair<std::int32_t, std::int32_t>> slice_range(group_cells.size());
  for (std::size_t g = 0; g < group_cells.size(); ++g) {
    std::int32_t lo = std::numeric_limits<std::int32_t>::max();
    std::int32_t hi = std::numeric_limits<std::int32_t>::min();
    for (const std::int64_t cell : group_cells[g]) {
      const std::int32_t s = slice_of(cell);
      lo = std::min(lo, s);
      hi = std::max(hi, s);
      if (in_pool(cell)) pools[g][s].push_back(cell);
    }
    slice_range[g] = {lo, hi};
  }
  std::size_t n_trees = 0;
  for (const auto& p : pools) n_trees += p.size();
  trees.resize(n_trees);
  group_slices.resize(group_cells.size());
  std::size_t t = 0;
  for (std::size_t g = 0; g < pools.size(); ++g) {
    for (auto& [slice, cells] : pools[g]) {
      SearchGrid& tree = trees[t];
      tree.cloud.dim = dim;
      tree.cloud.cells = std::move(cells);
      tree.cloud.points.resize(tree.cloud.cells.size() * static_cast<std::size_t>(dim));
      for (std::size_t j = 0; j < tree.cloud.cells.size(); ++j) {
        std::copy_n(coords_of(tree.cloud.cells[j]), dim,
                    tree.cloud.points.begin() +
                        static_cast<std::ptrdiff_t>(j * static_cast<std::size_t>(dim)));
      }
      group_slices[g].tree_of_slice.emplace(slice, t);
      ++t;
    }
  }
  tbb::parallel_for(std::size_t{0}, trees.size(), [this](std::size_t i) { trees[i].build(); });

  if (params.n_adjacent == 0) return;
  for (std::size_t g = 0; g < group_slices.size(); ++g) {
    GroupSlices& gs = group_slices[g];
    for (const auto& [slice, tree_index] : gs.tree_of_slice) {
      std::vector<std::size_t> blocks;
      for (const std::int32_t s :
           adjacent_slices(gs, slice, slice_range[g].first, slice_range[g].second)) {
        blocks.push_back(gs.tree_of_slice.at(s));
      }
      gs.adjacent_of_slice.emplace(slice, std::move(blocks));
    }
  }
}

void HomogeneousNeighborFinder::Impl::build_group_embeddings() {
  const int dim = table.cell->dim;
  for (std::int64_t i = 0; i < table.n; ++i) {
    const f16_bits* e = table.cell->row(i);
    for (int d = 0; d < dim; ++d) {
      if (std::isnan(f16_to_f32(e[d]))) {
        throw InputError("cell embedding",
                         fmt::format("row {} (0-based, concatenated cell order)", i),
                         "the embedding row is all zeros and cannot be normalised",
                         "recompute the embedding or drop that cell");
      }
    }
  }
  group_embeddings.resize(group_cells.size());
  for (std::size_t g = 0; g < group_cells.size(); ++g) {
    const auto size = static_cast<std::int64_t>(group_cells[g].size());
    if (size < params.k_homogeneous) {
      throw InputError(
          table.annotation,
          fmt::format("cell type '{}'", group_label(table, group_label_of_index[g])),
          fmt::format("has {} cells, fewer than --homogeneous-neighbors ({}); the scRNA kNN graph "
                      "needs K cells per cell type",
                      size, params.k_homogeneous),
          "lower --homogeneous-neighbors, or keep --min-cells-per-type at its default (= K) so "
          "that "
          "small cell types are filtered out");
    }
    GroupEmbedding& ge = group_embeddings[g];
    ge.size = size;
    ge.by_dim.resize(static_cast<std::size_t>(size) * static_cast<std::size_t>(dim));
    for (std::int64_t j = 0; j < size; ++j) {
      const f16_bits* e = table.cell->row(group_cells[g][static_cast<std::size_t>(j)]);
      for (int d = 0; d < dim; ++d) {
        ge.by_dim[static_cast<std::size_t>(d) * static_cast<std::size_t>(size) +
                  static_cast<std::size_t>(j)] = static_cast<double>(f16_to_f32(e[d]));
      }
    }
  }
}

// Exact kNN of a block of query cells of one group against every cell of the group, by blocks of
// candidates held in cache. Normalised f16 components are multiples of 2^-24 of magnitude <= ~1,
// so each squared difference is a multiple of 2^-48 below 4 and every partial sum (bounded by
// |a - b|^2 <= ~4) is exact in f64: distances are exact and ties are true ties, broken by index.
void HomogeneousNeighborFinder::Impl::knn_block(std::size_t group,
                                                std::span<const std::int64_t> cells,
                                                std::span<const std::size_t> rows,
                                                KnnGraph& graph) const {
  constexpr std::int64_t kTile = 256;
  const GroupEmbedding& ge = group_embeddings[group];
  const std::vector<std::int64_t>& members = group_cells[group];
  const int dim = table.cell->dim;
  const auto k = static_cast<std::size_t>(params.k_homogeneous);
  const std::size_t n_query = rows.size();
  std::vector<double> query(n_query * static_cast<std::size_t>(dim));
  for (std::size_t b = 0; b < n_query; ++b) {
    const f16_bits* e = table.cell->row(cells[rows[b]]);
    for (int d = 0; d < dim; ++d) {
      query[b * static_cast<std::size_t>(dim) + static_cast<std::size_t>(d)] =
          static_cast<double>(f16_to_f32(e[d]));
    }
  }
  std::vector<std::vector<Hit>> heaps(n_query);
  std::vector<double> tile(n_query * static_cast<std::size_t>(kTile));
  for (std::int64_t first = 0; first < ge.size; first += kTile) {
    const std::int64_t count = std::min(kTile, ge.size - first);
    std::fill(tile.begin(), tile.end(), 0.0);
    for (std::size_t b = 0; b < n_query; ++b) {
      double* t = tile.data() + b * static_cast<std::size_t>(kTile);
      for (int d = 0; d < dim; ++d) {
        const double qd = query[b * static_cast<std::size_t>(dim) + static_cast<std::size_t>(d)];
        const double* x = ge.by_dim.data() +
                          static_cast<std::size_t>(d) * static_cast<std::size_t>(ge.size) +
                          static_cast<std::size_t>(first);
        for (std::int64_t j = 0; j < count; ++j) {
          const double diff = x[j] - qd;
          t[j] += diff * diff;
        }
      }
      std::vector<Hit>& heap = heaps[b];
      for (std::int64_t j = 0; j < count; ++j) {
        const Hit hit{t[j], static_cast<std::uint32_t>(first + j)};
        if (heap.size() < k) {
          heap.push_back(hit);
          std::push_heap(heap.begin(), heap.end());
        } else if (hit < heap.front()) {
          std::pop_heap(heap.begin(), heap.end());
          heap.back() = hit;
          std::push_heap(heap.begin(), heap.end());
        }
      }
    }
  }
  for (std::size_t b = 0; b < n_query; ++b) {
    std::vector<Hit>& heap = heaps[b];
    std::sort_heap(heap.begin(), heap.end());
    // The cell itself goes first (distance 0), even if identical cells have lower indices.
    const std::int64_t cell = cells[rows[b]];
    const auto self_local = static_cast<std::uint32_t>(
        std::lower_bound(members.begin(), members.end(), cell) - members.begin());
    auto self_it = std::find_if(heap.begin(), heap.end(),
                                [self_local](const Hit& h) { return h.local == self_local; });
    if (self_it == heap.end()) self_it = heap.end() - 1;  // k ties at 0 before self: drop the last
    std::rotate(heap.begin(), self_it, self_it + 1);
    heap.front() = Hit{0.0, self_local};
    const std::size_t out = rows[b] * k;
    for (std::size_t j = 0; j < heap.size(); ++j) {
      graph.neighbors[out + j] = members[heap[j].local];
      graph.distances[out + j] = static_cast<float>(std::sqrt(heap[j].d2));
    }
  }
}

void HomogeneousNeighborFinder::Impl::fill_candidates(std::int64_t cell, std::vector<GridHit>& heap,
                                                      std::int32_t* row) const {
  std::fill_n(row, params.candidate_columns(), -1);
  const GroupSlices& gs =
      group_slices[static_cast<std::size_t>(group_of[static_cast<std::size_t>(cell)])];
  const std::int32_t slice = slice_of(cell);
  const auto it = gs.tree_of_slice.find(slice);
  if (it == gs.tree_of_slice.end()) return;  // no pool cell on the own slice: all slots -1
  const double* q = coords_of(cell);
  trees[it->second].nearest(q, static_cast<std::size_t>(params.k_central), heap, row);
  if (params.n_adjacent == 0) return;
  const std::vector<std::size_t>& blocks = gs.adjacent_of_slice.at(slice);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    trees[blocks[b]].nearest(q, static_cast<std::size_t>(params.k_adjacent), heap,
                             row + params.k_central + static_cast<std::ptrdiff_t>(b) * params.k_adjacent);
  }
}

void HomogeneousNeighborFinder::Impl::check_query(std::span<const std::int64_t> query) const {
  for (const std::int64_t q : query) {
    if (q < 0 || q >= table.n) {
      throw ComputeError(fmt::format("neighbour query for cell {} outside [0, {})", q, table.n));
    }
  }
}

namespace {

NeighborResult allocate_result(std::size_t n_query, int k_total, int k_candidates) {
  NeighborResult r;
  r.n_query = static_cast<std::int64_t>(n_query);
  r.k_total = k_total;
  r.k_candidates = k_candidates;
  const std::size_t slots = n_query * static_cast<std::size_t>(k_total);
  r.indices.assign(slots, -1);
  r.cell_sims.assign(slots, 0);
  r.niche_sims.assign(slots, 0);
  r.candidates.assign(n_query * static_cast<std::size_t>(k_candidates), -1);
  r.neighbor_count.assign(n_query, 0);
  r.cell_sim_median.assign(n_query, 0.0f);
  r.niche_sim_median.assign(n_query, 0.0f);
  return r;
}

void fill_qc(NeighborResult& r, std::size_t i) {
  const std::size_t k = static_cast<std::size_t>(r.k_total);
  neighbor_qc(std::span<const f16_bits>(r.cell_sims).subspan(i * k, k),
              std::span<const f16_bits>(r.niche_sims).subspan(i * k, k), r.neighbor_count[i],
              r.cell_sim_median[i], r.niche_sim_median[i]);
}

}  // namespace

NeighborResult HomogeneousNeighborFinder::Impl::find_spatial(std::span<const std::int64_t> query,
                                                             bool keep_candidates,
                                                             const std::int32_t* given) const {
  const int k_total = params.total_columns();
  const int k_cand = params.candidate_columns();
  NeighborResult result = allocate_result(query.size(), k_total, keep_candidates ? k_cand : 0);
  const int K = params.k_homogeneous;

  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, query.size(), kQueryGrain),
      [&](const tbb::blocked_range<std::size_t>& range) {
        std::vector<std::int32_t> row(static_cast<std::size_t>(k_cand));
        std::vector<GridHit> heap;
        SelectScratch scratch;
        for (std::size_t i = range.begin(); i != range.end(); ++i) {
          const std::int64_t q = query[i];
          if (given != nullptr) {
            std::copy_n(given + i * static_cast<std::size_t>(k_cand), k_cand, row.begin());
          } else {
            fill_candidates(q, heap, row.data());
          }
          const std::size_t out = i * static_cast<std::size_t>(k_total);
          std::int32_t* idx = result.indices.data() + out;
          f16_bits* cs = result.cell_sims.data() + out;
          f16_bits* ns = result.niche_sims.data() + out;
          const std::span<const std::int32_t> candidates(row);
          if (params.select_per_block()) {
            select_block(q, candidates.first(static_cast<std::size_t>(params.k_central)), K,
                         *table.cell, table.niche, thresholds, scratch, idx, cs, ns);
            for (int b = 0; b < 2 * params.n_adjacent; ++b) {
              const auto offset =
                  static_cast<std::size_t>(params.k_central + b * params.k_adjacent);
              const auto slot = static_cast<std::ptrdiff_t>((b + 1) * K);
              select_block(
                  q, candidates.subspan(offset, static_cast<std::size_t>(params.k_adjacent)), K,
                  *table.cell, table.niche, thresholds, scratch, idx + slot, cs + slot, ns + slot);
            }
          } else {
            // spatial2D: the row is the central block; spatial3D global_pool: the whole row.
            select_block(q, candidates, k_total, *table.cell, table.niche, thresholds, scratch, idx,
                         cs, ns);
          }
          if (keep_candidates) {
            std::copy(row.begin(), row.end(),
                      result.candidates.begin() +
                          static_cast<std::ptrdiff_t>(i * static_cast<std::size_t>(k_cand)));
          }
          fill_qc(result, i);
        }
        core::progress_add(static_cast<std::int64_t>(range.size()));
      });
  return result;
}

HomogeneousNeighborFinder::HomogeneousNeighborFinder(const CellTable& cells,
                                                     const NeighborParams& params)
    : impl_(std::make_unique<Impl>()) {
  params.validate();
  impl_->table = cells;
  impl_->params = params;
  impl_->thresholds = SelectThresholds::from(params);
  impl_->check_table();
  impl_->index_groups();
  if (params.dataset_type == DatasetType::kSpatial3D) {
    std::map<std::int32_t, bool> slices;
    for (std::int64_t i = 0; i < cells.n; ++i) slices[impl_->slice_of(i)] = true;
    if (static_cast<int>(slices.size()) < 1 + params.n_adjacent) {
      throw UsageError(fmt::format(
          "spatial3D with --n-adjacent-slices {} needs at least {} samples (slices), got {}. Give "
          "more samples, lower --n-adjacent-slices, or use --dataset-type spatial2D",
          params.n_adjacent, 1 + params.n_adjacent, slices.size()));
    }
  }
  if (params.spatial())
    impl_->build_spatial();
  else
    impl_->build_group_embeddings();
}

HomogeneousNeighborFinder::~HomogeneousNeighborFinder() = default;

const NeighborParams& HomogeneousNeighborFinder::params() const { return impl_->params; }

NeighborResult HomogeneousNeighborFinder::find(std::span<const std::int64_t> query,
                                               bool keep_candidates) const {
  impl_->check_query(query);
  if (impl_->params.spatial()) return impl_->find_spatial(query, keep_candidates);

  // scRNA: the kNN graph of every cell of the query cells' groups.
  std::vector<std::uint8_t> needed(impl_->group_cells.size(), 0);
  for (const std::int64_t q : query)
    needed[static_cast<std::size_t>(impl_->group_of[static_cast<std::size_t>(q)])] = 1;
  std::vector<std::int64_t> rows;
  for (std::size_t g = 0; g < needed.size(); ++g) {
    if (needed[g])
      rows.insert(rows.end(), impl_->group_cells[g].begin(), impl_->group_cells[g].end());
  }
  return scrna_select(scrna_knn(rows), query);
}

NeighborResult HomogeneousNeighborFinder::select_from_candidates(
    const CellTable& cells, const NeighborParams& params, std::span<const std::int64_t> query,
    std::span<const std::int32_t> candidates) {
  params.validate();
  if (!params.spatial()) throw ComputeError("select_from_candidates: scRNA has no spatial candidates");
  if (candidates.size() != query.size() * static_cast<std::size_t>(params.candidate_columns())) {
    throw ComputeError("select_from_candidates: candidate rows do not match the query");
  }
  Impl im;
  im.table = cells;
  im.params = params;
  im.thresholds = SelectThresholds::from(params);
  im.check_query(query);
  for (const std::int32_t c : candidates) {
    if (c < -1 || c >= cells.n) throw ComputeError(fmt::format("select_from_candidates: candidate {}", c));
  }
  return im.find_spatial(query, false, candidates.data());
}

std::vector<std::int32_t> HomogeneousNeighborFinder::candidate_row(std::int64_t cell) const {
  if (!impl_->params.spatial())
    throw ComputeError("candidate_row: scRNA has no spatial candidates");
  impl_->check_query(std::span<const std::int64_t>(&cell, 1));
  std::vector<std::int32_t> row(static_cast<std::size_t>(impl_->params.candidate_columns()));
  std::vector<GridHit> heap;
  impl_->fill_candidates(cell, heap, row.data());
  return row;
}

KnnGraph HomogeneousNeighborFinder::scrna_knn(std::span<const std::int64_t> cells) const {
  const Impl& im = *impl_;
  if (im.params.spatial()) throw ComputeError("scrna_knn: the dataset type is not scRNA");
  im.check_query(cells);
  const int k = im.params.k_homogeneous;
  KnnGraph graph;
  graph.k = k;
  graph.cells.assign(cells.begin(), cells.end());
  graph.neighbors.assign(cells.size() * static_cast<std::size_t>(k), -1);
  graph.distances.assign(cells.size() * static_cast<std::size_t>(k), 0.0f);
  // Blocks of up to 64 query rows of one group (rows of `cells` grouped, order kept).
  constexpr std::size_t kQueryBlock = 64;
  std::vector<std::vector<std::size_t>> rows_of_group(im.group_cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    rows_of_group[static_cast<std::size_t>(im.group_of[static_cast<std::size_t>(cells[i])])]
        .push_back(i);
  }
  std::vector<std::pair<std::size_t, std::span<const std::size_t>>> blocks;
  for (std::size_t g = 0; g < rows_of_group.size(); ++g) {
    const std::vector<std::size_t>& rows = rows_of_group[g];
    for (std::size_t first = 0; first < rows.size(); first += kQueryBlock) {
      blocks.emplace_back(g, std::span<const std::size_t>(rows).subspan(
                                 first, std::min(kQueryBlock, rows.size() - first)));
    }
  }
  tbb::parallel_for(std::size_t{0}, blocks.size(), [&](std::size_t b) {
    im.knn_block(blocks[b].first, cells, blocks[b].second, graph);
  });
  return graph;
}

NeighborResult HomogeneousNeighborFinder::scrna_select(const KnnGraph& graph,
                                                       std::span<const std::int64_t> query) const {
  const Impl& im = *impl_;
  if (im.params.spatial()) throw ComputeError("scrna_select: the dataset type is not scRNA");
  im.check_query(query);
  const int k = graph.k;
  if (k != im.params.k_homogeneous ||
      graph.neighbors.size() != graph.cells.size() * static_cast<std::size_t>(k) ||
      graph.distances.size() != graph.neighbors.size()) {
    throw ComputeError("scrna_select: malformed kNN graph");
  }
  const std::int64_t n = im.table.n;
  std::vector<std::int64_t> row_of(static_cast<std::size_t>(n), -1);
  for (std::size_t r = 0; r < graph.cells.size(); ++r) {
    const std::int64_t c = graph.cells[r];
    if (c < 0 || c >= n) throw ComputeError(fmt::format("scrna_select: graph row for cell {}", c));
    row_of[static_cast<std::size_t>(c)] = static_cast<std::int64_t>(r);
  }

  // Groups involved, each complete in the graph; mean distance of each (rows in cell order).
  std::vector<std::uint8_t> involved(im.group_cells.size(), 0);
  for (const std::int64_t q : query)
    involved[static_cast<std::size_t>(im.group_of[static_cast<std::size_t>(q)])] = 1;
  std::vector<float> group_mean(im.group_cells.size(), 0.0f);
  for (std::size_t g = 0; g < involved.size(); ++g) {
    if (!involved[g]) continue;
    double sum = 0.0;
    for (const std::int64_t c : im.group_cells[g]) {
      const std::int64_t r = row_of[static_cast<std::size_t>(c)];
      if (r < 0) {
        throw ComputeError(
            fmt::format("scrna_select: the kNN graph lacks cell {} of cell type '{}'", c,
                        group_label(im.table, im.group_label_of_index[g])));
      }
      for (int j = 0; j < k; ++j)
        sum += graph.distances[static_cast<std::size_t>(r) * static_cast<std::size_t>(k) +
                               static_cast<std::size_t>(j)];
    }
    group_mean[g] = static_cast<float>(sum / (static_cast<double>(im.group_cells[g].size()) * k));
  }

  // Membership strengths of every row of the involved groups.
  std::vector<float> membership(graph.neighbors.size(), 0.0f);
  tbb::parallel_for(std::size_t{0}, graph.cells.size(), [&](std::size_t r) {
    const std::int64_t c = graph.cells[r];
    const auto g = static_cast<std::size_t>(im.group_of[static_cast<std::size_t>(c)]);
    if (!involved[g]) return;
    const std::size_t off = r * static_cast<std::size_t>(k);
    const std::span<const float> dist(graph.distances.data() + off, static_cast<std::size_t>(k));
    const std::span<const std::int64_t> nb(graph.neighbors.data() + off,
                                           static_cast<std::size_t>(k));
    const SmoothKnn smooth = smooth_knn_distance(dist, group_mean[g]);
    membership_strengths(dist, nb, c, smooth,
                         std::span<float>(membership.data() + off, static_cast<std::size_t>(k)));
  });

  // Reverse edges (j -> i with mu_ji > 0), for the transpose term; CSR by target cell.
  std::vector<std::int64_t> reverse_start(static_cast<std::size_t>(n) + 1, 0);
  for (std::size_t e = 0; e < graph.neighbors.size(); ++e) {
    if (membership[e] > 0.0f) ++reverse_start[static_cast<std::size_t>(graph.neighbors[e]) + 1];
  }
  std::partial_sum(reverse_start.begin(), reverse_start.end(), reverse_start.begin());
  std::vector<WeightedNeighbor> reverse(static_cast<std::size_t>(reverse_start.back()));
  {
    std::vector<std::int64_t> fill(reverse_start.begin(), reverse_start.end() - 1);
    for (std::size_t r = 0; r < graph.cells.size(); ++r) {
      for (int j = 0; j < k; ++j) {
        const std::size_t e = r * static_cast<std::size_t>(k) + static_cast<std::size_t>(j);
        if (membership[e] > 0.0f) {
          reverse[static_cast<std::size_t>(fill[static_cast<std::size_t>(graph.neighbors[e])]++)] =
              WeightedNeighbor{graph.cells[r], membership[e]};
        }
      }
    }
  }

  NeighborResult result = allocate_result(query.size(), k, 0);
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, query.size(), kQueryGrain),
      [&](const tbb::blocked_range<std::size_t>& range) {
        std::vector<WeightedNeighbor> forward, backward, edges;
        for (std::size_t i = range.begin(); i != range.end(); ++i) {
          const std::int64_t q = query[i];
          const std::size_t off = static_cast<std::size_t>(row_of[static_cast<std::size_t>(q)]) *
                                  static_cast<std::size_t>(k);
          forward.clear();
          for (int j = 0; j < k; ++j) {
            const float mu = membership[off + static_cast<std::size_t>(j)];
            if (mu > 0.0f)
              forward.push_back({graph.neighbors[off + static_cast<std::size_t>(j)], mu});
          }
          backward.assign(reverse.begin() + reverse_start[static_cast<std::size_t>(q)],
                          reverse.begin() + reverse_start[static_cast<std::size_t>(q) + 1]);
          const auto by_cell = [](const WeightedNeighbor& a, const WeightedNeighbor& b) {
            return a.cell < b.cell;
          };
          std::sort(forward.begin(), forward.end(), by_cell);
          std::sort(backward.begin(), backward.end(), by_cell);
          // Merge: W_qj = (a + b) - a * b over the union of both directions.
          edges.clear();
          std::size_t f = 0, b = 0;
          while (f < forward.size() || b < backward.size()) {
            std::int64_t cell;
            float a = 0.0f, m = 0.0f;
            if (b == backward.size() ||
                (f < forward.size() && forward[f].cell < backward[b].cell)) {
              cell = forward[f].cell;
              a = forward[f++].weight;
            } else if (f == forward.size() || backward[b].cell < forward[f].cell) {
              cell = backward[b].cell;
              m = backward[b++].weight;
            } else {
              cell = forward[f].cell;
              a = forward[f++].weight;
              m = backward[b++].weight;
            }
            const float w = fuzzy_union(a, m);
            if (w != 0.0f && cell != q) edges.push_back({cell, w});
          }
          const std::size_t out = i * static_cast<std::size_t>(k);
          select_strongest(q, edges, k, result.indices.data() + out, result.cell_sims.data() + out);
          fill_qc(result, i);
        }
        core::progress_add(static_cast<std::int64_t>(range.size()));
      });
  return result;
}

NeighborResult find_homogeneous_neighbors(const CellTable& cells, const NeighborParams& params,
                                          std::span<const std::int64_t> query,
                                          bool keep_candidates) {
  const HomogeneousNeighborFinder finder(cells, params);
  return finder.find(query, keep_candidates);
}

}  // namespace gsmap::gss
