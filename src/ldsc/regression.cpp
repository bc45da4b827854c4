#include "gsmap/ldsc/regression.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/ldsc/regression_math.hpp"

namespace gsmap::ldsc {
namespace {

using Index = std::int64_t;

// Spots regressed together: their accumulators (moment_count(P) x kTileSpots doubles) stay in L1
// and every loop over them vectorises; the L row of a SNP is read once per pass for the whole tile.
constexpr Index kTileSpots = 64;

struct Scratch {
  std::vector<double> h_over_m;  // per spot: clipped h / M
  std::vector<double> q;         // per spot: squared weight of the current SNP
  std::vector<double> ld;        // per spot: spot LD of the current SNP
  std::vector<double> qa;        // per spot: q * u[a]
  std::vector<double> acc;       // K x tile: moments of the current block
  std::vector<double> blocks;    // B x K x tile
  std::vector<double> work;      // jackknife workspace
};

// One tile of `count` spots starting at spot j0. kP > 0 fixes the number of features at compile
// time (loops unrolled); kP == 0 takes `runtime_features`. The arithmetic per (SNP, spot) is
// accumulate_moments()'s, operation for operation, so a device kernel built on regression_math.hpp
// gives the same numbers; here it is reorganised feature-outer / spot-inner for SIMD.
template <int kP>
[[gnu::always_inline]] inline void regress_tile(const TraitData& t, const SpotLd& ld,
                                                std::span<const Index> rows, Index j0, Index count,
                                                int runtime_features, Scratch& s,
                                                TraitChunkResult& out) {
  const int P = kP > 0 ? kP : runtime_features;
  const int width = P - 1;  // design columns: scaled baseline + intercept
  const int K = moment_count(P);
  const int n_upper = P * (P + 1) / 2;
  const Index m = t.m();
  const Index G = count;

  // Pass 1: h per spot from mean(x N) = (sum L N + sum a N) / m.
  double* h_over_m = s.h_over_m.data();
  std::fill_n(h_over_m, G, 0.0);
  for (Index i = 0; i < m; ++i) {
    const float* L = ld.row(rows[i]) + j0;
    const double n = t.n[i];
    for (Index j = 0; j < G; ++j) h_over_m[j] += static_cast<double>(L[j]) * n;
  }
  for (Index j = 0; j < G; ++j) {
    const double mean_xn = (h_over_m[j] + t.sum_baseline_times_n) / static_cast<double>(m);
    h_over_m[j] = clipped_heritability(t.mean_chisq, mean_xn) / kHeritabilityM;
  }

  // Pass 2: block moments.
  double* acc = s.acc.data();
  double* q = s.q.data();
  double* lv = s.ld.data();
  double* qa = s.qa.data();
  for (Index b = 0; b < t.n_blocks; ++b) {
    std::fill_n(acc, K * G, 0.0);
    for (Index i = b * t.block_size; i < (b + 1) * t.block_size; ++i) {
      const float* L = ld.row(rows[i]) + j0;
      const double n = t.n[i], a = t.baseline_sum[i], ld_term = t.ld_term[i], chi = t.chisq[i];
      const double* xb = t.design.data() + i * width;
      for (Index j = 0; j < G; ++j) {
        const double l = L[j];
        lv[j] = l;
        q[j] = squared_regression_weight(l + a, h_over_m[j] * n, ld_term);
      }
      // Feature 0 (spot LD): row 0 of XtX and Xty[0].
      for (Index j = 0; j < G; ++j) qa[j] = q[j] * lv[j];
      for (Index j = 0; j < G; ++j) acc[j] += qa[j] * lv[j];
      for (int c = 1; c < P; ++c) {
        const double u = xb[c - 1];
        double* row = acc + c * G;
        for (Index j = 0; j < G; ++j) row[j] += qa[j] * u;
      }
      {
        double* row = acc + n_upper * G;
        for (Index j = 0; j < G; ++j) row[j] += qa[j] * chi;
      }
      // Features 1.. (baseline, intercept): spot-dependent only through q.
      int k = P;
      for (int r = 1; r < P; ++r) {
        const double ur = xb[r - 1];
        for (Index j = 0; j < G; ++j) qa[j] = q[j] * ur;
        for (int c = r; c < P; ++c, ++k) {
          const double u = xb[c - 1];
          double* row = acc + k * G;
          for (Index j = 0; j < G; ++j) row[j] += qa[j] * u;
        }
        double* row = acc + (n_upper + r) * G;
        for (Index j = 0; j < G; ++j) row[j] += qa[j] * chi;
      }
    }
    std::copy_n(acc, K * G, s.blocks.data() + b * K * G);
  }

  // Jackknife and statistics per spot.
  const double nbar = t.nbar;
  for (Index j = 0; j < G; ++j) {
    const JackknifeEstimate e = jackknife_first_coefficient(
        P, t.n_blocks, s.blocks.data() + j, static_cast<int>(G), s.work.data());
    out.store(static_cast<std::size_t>(j0 + j), e, nbar);
  }
}

using TileFunction = void (*)(const TraitData&, const SpotLd&, std::span<const Index>, Index, Index,
                              int, Scratch&, TraitChunkResult&);

// The same tile compiled for the baseline ISA and for AVX2 (see cpu_simd.hpp).
template <int kP>
void regress_tile_baseline(const TraitData& t, const SpotLd& ld, std::span<const Index> rows,
                           Index j0, Index count, int runtime_features, Scratch& s,
                           TraitChunkResult& out) {
  regress_tile<kP>(t, ld, rows, j0, count, runtime_features, s, out);
}

#if GSMAP_LDSC_HAVE_AVX2_CLONES
template <int kP>
GSMAP_LDSC_TARGET_AVX2 void regress_tile_avx2(const TraitData& t, const SpotLd& ld,
                                              std::span<const Index> rows, Index j0, Index count,
                                              int runtime_features, Scratch& s,
                                              TraitChunkResult& out) {
  regress_tile<kP>(t, ld, rows, j0, count, runtime_features, s, out);
}
#endif

template <int kP>
TileFunction tile_function(bool avx2) {
#if GSMAP_LDSC_HAVE_AVX2_CLONES
  if (avx2) return &regress_tile_avx2<kP>;
#endif
  (void)avx2;
  return &regress_tile_baseline<kP>;
}

// Compile-time feature counts for the common cases (P = 4: no extra baseline); others run the
// same code with a runtime count.
TileFunction select_tile(int n_features, bool avx2) {
  switch (n_features) {
    case 4: return tile_function<4>(avx2);
    case 5: return tile_function<5>(avx2);
    case 6: return tile_function<6>(avx2);
    default: return tile_function<0>(avx2);
  }
}

}  // namespace

TraitChunkResult regress_spots(const TraitData& trait, const SpotLd& ld,
                               std::span<const std::int64_t> ld_rows, CpuSimd simd) {
  if (static_cast<Index>(ld_rows.size()) != trait.m())
    throw ComputeError(fmt::format("trait {}: {} spot-LD rows given for {} SNPs", trait.name,
                                   ld_rows.size(), trait.m()));
  for (const Index r : ld_rows)
    if (r < 0 || r >= ld.n_rows)
      throw ComputeError(fmt::format("trait {}: spot-LD row {} outside [0, {})", trait.name, r,
                                     ld.n_rows));
  const Index n_spots = ld.n_spots;
  TraitChunkResult out;
  for (auto* v : {&out.beta, &out.se, &out.z, &out.p, &out.neg_log10_p, &out.beta_full})
    v->assign(n_spots, std::numeric_limits<double>::quiet_NaN());
  if (n_spots == 0) return out;

  const int P = trait.n_features;
  const Index K = moment_count(P);
  const Index tile = std::min(kTileSpots, n_spots);
  Scratch s;
  s.h_over_m.resize(tile);
  s.q.resize(tile);
  s.ld.resize(tile);
  s.qa.resize(tile);
  s.acc.resize(K * tile);
  s.blocks.resize(trait.n_blocks * K * tile);
  s.work.resize(jackknife_work_size(P));

  const TileFunction run_tile = select_tile(P, use_avx2(simd));
  for (Index j0 = 0; j0 < n_spots; j0 += tile)
    run_tile(trait, ld, ld_rows, j0, std::min(tile, n_spots - j0), P, s, out);
  return out;
}

}  // namespace gsmap::ldsc
