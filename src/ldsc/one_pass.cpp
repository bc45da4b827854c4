// The CPU backend of the spatial-LDSC engine: one pass over the SNPs per spot tile
// (docs/algorithms.md §7).
//
// For a tile of spots, h comes from mean(x N) = (u . g + sum_i a_i N_i) / m with u = W_T^T N
// (LdscProblem::gene_times_n), so no SNP pass is needed for it. Then, for each tile of plan rows
// (the union of the traits' kept SNPs), the spot LD of the tile (rows x spots, f32, each entry
// accumulated over the row's genes in W's column order, exactly as compute_spot_ld) is computed in
// cache and folded at once into the block moments of every trait. A trait's kept SNPs are ascending
// in plan order, so a row tile maps to a contiguous range of its SNP indices; jackknife blocks may
// straddle row tiles (the moments of a block simply persist across tiles). The per-(SNP, spot)
// arithmetic is squared_regression_weight() and accumulate_moments_fma() (regression_math.hpp),
// operation for operation (docs/algorithms.md §7.5); the jackknife runs over the tile's spots in
// vectors with jackknife_first_coefficient()'s operations. Every ISA copy gives the same bits.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>

#include <fmt/format.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "gsmap/core/error.hpp"
#include "gsmap/core/memory.hpp"
#include "gsmap/ldsc/engine.hpp"
#include "gsmap/ldsc/regression_math.hpp"

// The vector helpers below pass GCC vector types by value between always_inline functions that
// are only ever inlined into the ISA clones; the ABI note about such parameters does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace gsmap::ldsc {
namespace {

using Index = std::int64_t;
// CPU time of the calling thread: the spot-LD / regression split stays meaningful on a loaded
// machine (wall time would count the time the thread waited for a core).
struct Clock {
  using time_point = double;
  static double now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
};
double seconds(double a, double b) { return b - a; }
// A cheap counter for the spot-LD / regression split inside a spot tile (two readings per SNP
// tile): CLOCK_THREAD_CPUTIME_ID is a system call, which cost ~3 % of the worker's time when read
// per SNP tile. The tile's CPU time (Clock, twice per spot tile) is split in the counter's
// proportion.
inline double ticks() {
#if defined(__x86_64__)
  return static_cast<double>(__rdtsc());
#else
  return Clock::now();
#endif
}

// Spot tiles are padded to a multiple of this many lanes (the widest vector: 16 floats, 8 doubles);
// padded spots have all-zero GSS and their results are dropped.
constexpr Index kPad = 16;

template <int W>
struct Lanes;
template <>
struct Lanes<2> {
  using D [[gnu::vector_size(16)]] = double;
  using F [[gnu::vector_size(8)]] = float;
  using F2 [[gnu::vector_size(16)]] = float;  // a full vector of floats
};
template <>
struct Lanes<4> {
  using D [[gnu::vector_size(32)]] = double;
  using F [[gnu::vector_size(16)]] = float;
  using F2 [[gnu::vector_size(32)]] = float;
};
template <>
struct Lanes<8> {
  using D [[gnu::vector_size(64)]] = double;
  using F [[gnu::vector_size(32)]] = float;
  using F2 [[gnu::vector_size(64)]] = float;
};

// One run of a trait's SNPs [k0, k1) inside one jackknife block and one row tile.
struct Fold {
  const TraitData* trait;
  const float* ld;         // row tile: plan row r at ld + (r - r0) * sp
  const Index* rows;       // the trait's plan rows (SpotLdPlan::trait_rows)
  Index r0;
  Index k0, k1;
  const double* h_over_m;  // sp values
  double* moments;         // this block's record: K x sp
  Index sp;
  bool intercept_is_one;  // the design's last column is exactly 1 for every SNP of the trait
};


// a * b + c with one rounding, and the square root (both IEEE, correctly rounded): one overload
// per vector width, each compiled for the clone that uses it; the baseline copy computes the
// same roundings with std::fma and SSE2's sqrt.
using D2 = Lanes<2>::D;
using D4 = Lanes<4>::D;
using D8 = Lanes<8>::D;
[[gnu::always_inline]] inline D2 fmadd(D2 a, D2 b, D2 c) {
  return D2{std::fma(a[0], b[0], c[0]), std::fma(a[1], b[1], c[1])};
}
[[gnu::always_inline]] inline D2 vsqrt(D2 a) {
#if defined(__x86_64__)
  return reinterpret_cast<D2>(_mm_sqrt_pd(reinterpret_cast<__m128d>(a)));
#else
  return D2{std::sqrt(a[0]), std::sqrt(a[1])};
#endif
}
#if GSMAP_LDSC_HAVE_AVX2_CLONES
GSMAP_LDSC_TARGET_AVX2 inline D4 fmadd(D4 a, D4 b, D4 c) {
  return reinterpret_cast<D4>(_mm256_fmadd_pd(reinterpret_cast<__m256d>(a),
                                              reinterpret_cast<__m256d>(b),
                                              reinterpret_cast<__m256d>(c)));
}
GSMAP_LDSC_TARGET_AVX2 inline D4 vsqrt(D4 a) {
  return reinterpret_cast<D4>(_mm256_sqrt_pd(reinterpret_cast<__m256d>(a)));
}
GSMAP_LDSC_TARGET_AVX512 inline D8 fmadd(D8 a, D8 b, D8 c) {
  return reinterpret_cast<D8>(_mm512_fmadd_pd(reinterpret_cast<__m512d>(a),
                                              reinterpret_cast<__m512d>(b),
                                              reinterpret_cast<__m512d>(c)));
}
GSMAP_LDSC_TARGET_AVX512 inline D8 vsqrt(D8 a) {
  // The masked form with every lane selected (GCC 12's _mm512_sqrt_pd trips
  // -Wmaybe-uninitialized on its undefined pass-through operand).
  const __m512d v = reinterpret_cast<__m512d>(a);
  return reinterpret_cast<D8>(_mm512_mask_sqrt_pd(v, static_cast<__mmask8>(0xff), v));
}
#endif

// Every lane v. GCC 12 builds a 64-byte vector from a scalar (a loop of lane stores, or a scalar
// operand of a vector operation) lane by lane, with 8 masked broadcasts; the broadcasts are
// therefore spelled out per width, and the moment loop never mixes scalars into vector operations
// (this alone made the regression 1.7x faster; the operations and their bits are unchanged).
[[gnu::always_inline]] inline D2 dsplat(D2*, double v) { return D2{v, v}; }
#if GSMAP_LDSC_HAVE_AVX2_CLONES
GSMAP_LDSC_TARGET_AVX2 inline D4 dsplat(D4*, double v) {
  return reinterpret_cast<D4>(_mm256_set1_pd(v));
}
GSMAP_LDSC_TARGET_AVX512 inline D8 dsplat(D8*, double v) {
  return reinterpret_cast<D8>(_mm512_set1_pd(v));
}
#endif
template <int W>
[[gnu::always_inline]] inline typename Lanes<W>::D splat(double v) {
  return dsplat(static_cast<typename Lanes<W>::D*>(nullptr), v);
}

// f32 -> f64 of W lanes in one instruction (GCC 12 splits the 8-lane __builtin_convertvector into
// two 4-lane conversions and an insert), and max(1, x) with at_least_one's semantics in one
// instruction: MAXPD returns its second operand when the first is not greater, so a NaN x passes
// and x >= 1 stays x. Both exact, so the bits are those of the scalar functions.
using F2v = Lanes<2>::F;
[[gnu::always_inline]] inline D2 widen(F2v f) { return __builtin_convertvector(f, D2); }
[[gnu::always_inline]] inline D2 at_least_one(D2 one, D2 x) {
#if defined(__x86_64__)
  return reinterpret_cast<D2>(_mm_max_pd(reinterpret_cast<__m128d>(one), reinterpret_cast<__m128d>(x)));
#else
  return x < one ? one : x;
#endif
}
#if GSMAP_LDSC_HAVE_AVX2_CLONES
GSMAP_LDSC_TARGET_AVX2 inline D4 widen(Lanes<4>::F f) {
  return reinterpret_cast<D4>(_mm256_cvtps_pd(reinterpret_cast<__m128>(f)));
}
GSMAP_LDSC_TARGET_AVX2 inline D4 at_least_one(D4 one, D4 x) {
  return reinterpret_cast<D4>(
      _mm256_max_pd(reinterpret_cast<__m256d>(one), reinterpret_cast<__m256d>(x)));
}
GSMAP_LDSC_TARGET_AVX512 inline D8 widen(Lanes<8>::F f) {
  // The zero-masked forms with every lane selected (the plain ones trip GCC 12's
  // -Wmaybe-uninitialized on their undefined pass-through operand, as in vsqrt).
  return reinterpret_cast<D8>(_mm512_maskz_cvtps_pd(static_cast<__mmask8>(0xff), reinterpret_cast<__m256>(f)));
}
GSMAP_LDSC_TARGET_AVX512 inline D8 at_least_one(D8 one, D8 x) {
  return reinterpret_cast<D8>(
      _mm512_maskz_max_pd(static_cast<__mmask8>(0xff), reinterpret_cast<__m512d>(one),
                          reinterpret_cast<__m512d>(x)));
}
#endif

// W spots at a time with the block's K moments in registers; kP > 0 fixes P at compile time.
// Per (SNP, spot): squared_regression_weight in f64, then accumulate_moments_fma. The SNPs go in
// groups of kGroup: first the weights of the group (their divisions are independent of each
// other and of the moment chains), then its moments in SNP order, so that the divider and the FMA
// units work side by side. kOne: the last design column is exactly 1 (the intercept), so the
// products by it are skipped (fma(qa, 1, m) == m + qa and q * 1 == q: the same bits).
template <int W, int kP, bool kOne>
[[gnu::always_inline]] inline void fold_vector(const Fold& f) {
  using D = typename Lanes<W>::D;
  using F = typename Lanes<W>::F;
  constexpr int P = kP;
  constexpr int K = moment_count(P);
  constexpr int n_upper = P * (P + 1) / 2;
  constexpr int width = P - 1;
  constexpr int kGroup = 8;
  const TraitData& t = *f.trait;
  const double* tn = t.n.data();
  const double* ta = t.baseline_sum.data();
  const double* tw = t.ld_term.data();
  const double* tc = t.chisq.data();
  const double* tx = t.design.data();
  const D one = splat<W>(1.0);
  for (Index j = 0; j < f.sp; j += W) {
    D acc[K];
    for (int k = 0; k < K; ++k) std::memcpy(&acc[k], f.moments + k * f.sp + j, sizeof(D));
    D h;
    std::memcpy(&h, f.h_over_m + j, sizeof(D));
    for (Index i0 = f.k0; i0 < f.k1; i0 += kGroup) {
      const int n_group = static_cast<int>(std::min<Index>(kGroup, f.k1 - i0));
      D lg[kGroup], qg[kGroup];
      for (int g = 0; g < n_group; ++g) {
        const Index i = i0 + g;
        F lf;
        std::memcpy(&lf, f.ld + (f.rows[i] - f.r0) * f.sp + j, sizeof(F));
        const D l = widen(lf);
        // squared_regression_weight(l + a, h N / M, ld_term)
        const D x = l + splat<W>(ta[i]);
        const D xm = at_least_one(one, x);
        const D c = h * splat<W>(tn[i]);
        const D d = one + c * xm;
        lg[g] = l;
        qg[g] = splat<W>(tw[i]) / (d * d);
      }
      for (int g = 0; g < n_group; ++g) {
        const Index i = i0 + g;
        const D q = qg[g];
        const D chi = splat<W>(tc[i]);
        const double* xb = tx + i * width;
        D u[P];  // u = [l, xb...]
        u[0] = lg[g];
        for (int c = 1; c < P; ++c) u[c] = splat<W>(xb[c - 1]);
        int k = 0;
        for (int r = 0; r < P; ++r) {
          const D qa = (kOne && r == P - 1) ? q : q * u[r];
          for (int c = r; c < P; ++c, ++k)
            acc[k] = (kOne && c == P - 1) ? acc[k] + qa : fmadd(qa, u[c], acc[k]);
          acc[n_upper + r] = fmadd(qa, chi, acc[n_upper + r]);
        }
      }
    }
    for (int k = 0; k < K; ++k) std::memcpy(f.moments + k * f.sp + j, &acc[k], sizeof(D));
  }
}

// Any P: the two functions of regression_math.hpp themselves, one spot at a time.
inline void fold_scalar(const Fold& f) {
  const TraitData& t = *f.trait;
  const int P = t.n_features;
  const int width = P - 1;
  std::vector<double> u(static_cast<std::size_t>(P));
  for (Index i = f.k0; i < f.k1; ++i) {
    const auto s = static_cast<std::size_t>(i);
    const float* L = f.ld + (f.rows[i] - f.r0) * f.sp;
    const double* xb = t.design.data() + i * width;
    for (int c = 1; c < P; ++c) u[c] = xb[c - 1];
    for (Index j = 0; j < f.sp; ++j) {
      const double l = L[j];
      u[0] = l;
      const double q =
          squared_regression_weight(l + t.baseline_sum[s], f.h_over_m[j] * t.n[s], t.ld_term[s]);
      accumulate_moments_fma(P, q, u.data(), t.chisq[s], f.moments + j, static_cast<int>(f.sp));
    }
  }
}

template <int W>
[[gnu::always_inline]] inline void fold(const Fold& f) {
  switch (f.trait->n_features) {
    case 4: f.intercept_is_one ? fold_vector<W, 4, true>(f) : fold_vector<W, 4, false>(f); return;
    case 5: f.intercept_is_one ? fold_vector<W, 5, true>(f) : fold_vector<W, 5, false>(f); return;
    case 6: f.intercept_is_one ? fold_vector<W, 6, true>(f) : fold_vector<W, 6, false>(f); return;
    default: fold_scalar(f); return;
  }
}

// solve_spd (regression_math.hpp) for W systems at once, each lane its own packed system m (K
// entries, then the right-hand side); returns x[0] and clears the `ok` lanes whose pivot fails.
template <int W, int P>
[[gnu::always_inline]] inline typename Lanes<W>::D solve_first(
    const typename Lanes<W>::D* m, decltype(typename Lanes<W>::D{} < typename Lanes<W>::D{})& ok) {
  using D = typename Lanes<W>::D;
  constexpr int n_upper = P * (P + 1) / 2;
  const D ratio = splat<W>(kSingularPivotRatio);
  D r[P][P];
  int k = 0;
  for (int i = 0; i < P; ++i)
    for (int j = i; j < P; ++j) r[i][j] = m[k++];
  for (int i = 0; i < P; ++i) {
    const D diagonal = r[i][i];
    D s = diagonal;
    for (int q = 0; q < i; ++q) s -= r[q][i] * r[q][i];
    ok &= s > ratio * diagonal;
    const D pivot = vsqrt(s);
    r[i][i] = pivot;
    for (int j = i + 1; j < P; ++j) {
      D t = r[i][j];
      for (int q = 0; q < i; ++q) t -= r[q][i] * r[q][j];
      r[i][j] = t / pivot;
    }
  }
  D x[P];
  for (int i = 0; i < P; ++i) {
    D t = m[n_upper + i];
    for (int q = 0; q < i; ++q) t -= r[q][i] * x[q];
    x[i] = t / r[i][i];
  }
  for (int i = P - 1; i >= 0; --i) {
    D t = x[i];
    for (int q = i + 1; q < P; ++q) t -= r[i][q] * x[q];
    x[i] = t / r[i][i];
  }
  return x[0];
}

// jackknife_first_coefficient (regression_math.hpp) for W spots at once, lane j of every vector
// being spot j0 + j: the same operations in the same order (solve_spd's Cholesky, Welford), so
// each lane's result has the bits of the scalar function. A lane whose solve fails is marked and
// its (meaningless) arithmetic carries on; its estimate is reported as singular.
template <int W, int kP>
[[gnu::always_inline]] inline void jackknife_lanes(int n_blocks, const double* blocks, Index sp,
                                                   JackknifeEstimate* out) {
  using D = typename Lanes<W>::D;
  using M = decltype(D{} < D{});  // lane masks
  constexpr int P = kP;
  constexpr int K = moment_count(P);
  M ok = D{} == D{};
  D total[K], deleted[K];
  for (int k = 0; k < K; ++k) total[k] = D{};
  for (int b = 0; b < n_blocks; ++b)
    for (int k = 0; k < K; ++k) {
      D v;
      std::memcpy(&v, blocks + (b * K + k) * sp, sizeof(D));
      total[k] += v;
    }
  const D full = solve_first<W, P>(total, ok);
  D mean_d{}, m2_d{};
  for (int b = 0; b < n_blocks; ++b) {
    for (int k = 0; k < K; ++k) {
      D v;
      std::memcpy(&v, blocks + (b * K + k) * sp, sizeof(D));
      deleted[k] = total[k] - v;
    }
    const D d = full - solve_first<W, P>(deleted, ok);
    const D delta = d - mean_d;
    mean_d += delta / splat<W>(b + 1.0);
    m2_d += delta * (d - mean_d);
  }
  const double bm1 = n_blocks - 1.0;
  const D mean = full + bm1 * mean_d;
  const D se = vsqrt(bm1 * bm1 * (m2_d / bm1) / static_cast<double>(n_blocks));
  for (int i = 0; i < W; ++i) {
    if (!ok[i]) {
      out[i] = JackknifeEstimate{};
      continue;
    }
    out[i].full = full[i];
    out[i].mean = mean[i];
    out[i].se = se[i];
    out[i].ok = true;
  }
}

// Per-worker scratch of one spot tile.
struct TileScratch {
  std::vector<float> scores;               // genes x sp (gene-major), f32 of the f16 GSS
  std::vector<float> ld;                   // snp_tile x sp
  std::vector<std::vector<double>> h;      // per trait: sp values of h / M
  std::vector<std::vector<double>> blocks; // per trait: B x K x sp
  std::vector<Index> cursor;               // per trait: next SNP index
  std::vector<char> intercept_is_one;      // per trait, see Fold
  std::vector<double> work;                // jackknife workspace (scalar path)
  std::vector<JackknifeEstimate> estimates;  // sp per trait, from the jackknife
};

// Spot LD of plan rows [r0, r1) for the tile: out row r = sum of w_e * scores[gene_e] over the
// row's entries in W's column order, starting from 0 (f32 multiply, then add; exactly the
// operations of compute_spot_ld per entry). Eight (then four, then one) vectors of spots are
// accumulated in registers: the loop over a row's entries is paid once per 128 spots (AVX-512).
template <int W>
[[gnu::always_inline]] inline void spot_ld_rows(const SparseRowsF32& w, const Index* rows, Index r0,
                                                Index r1, const float* scores, Index sp,
                                                float* out) {
  constexpr int FL = 2 * W;  // floats per vector
  using FV [[gnu::vector_size(FL * sizeof(float))]] = float;
  const Index* outer = w.outerIndexPtr();
  const Index* gene = w.innerIndexPtr();
  const float* weight = w.valuePtr();
  for (Index r = r0; r < r1; ++r) {
    float* ld = out + (r - r0) * sp;
    const Index c = rows[r];
    const Index e0 = outer[c], e1 = outer[c + 1];
    Index j = 0;
    for (; j + 8 * FL <= sp; j += 8 * FL) {
      FV a[8] = {};
      for (Index e = e0; e < e1; ++e) {
        const float v = weight[e];
        const float* s = scores + gene[e] * sp + j;
        for (int k = 0; k < 8; ++k) {
          FV sk;
          std::memcpy(&sk, s + k * FL, sizeof(FV));
          a[k] += v * sk;
        }
      }
      for (int k = 0; k < 8; ++k) std::memcpy(ld + j + k * FL, &a[k], sizeof(FV));
    }
    for (; j + 4 * FL <= sp; j += 4 * FL) {
      FV a0 = {}, a1 = {}, a2 = {}, a3 = {};
      for (Index e = e0; e < e1; ++e) {
        const float v = weight[e];
        const float* s = scores + gene[e] * sp + j;
        FV s0, s1, s2, s3;
        std::memcpy(&s0, s, sizeof(FV));
        std::memcpy(&s1, s + FL, sizeof(FV));
        std::memcpy(&s2, s + 2 * FL, sizeof(FV));
        std::memcpy(&s3, s + 3 * FL, sizeof(FV));
        a0 += v * s0;
        a1 += v * s1;
        a2 += v * s2;
        a3 += v * s3;
      }
      std::memcpy(ld + j, &a0, sizeof(FV));
      std::memcpy(ld + j + FL, &a1, sizeof(FV));
      std::memcpy(ld + j + 2 * FL, &a2, sizeof(FV));
      std::memcpy(ld + j + 3 * FL, &a3, sizeof(FV));
    }
    for (; j < sp; j += FL) {  // sp is a multiple of kPad >= FL
      FV a0 = {};
      for (Index e = e0; e < e1; ++e) {
        FV s0;
        std::memcpy(&s0, scores + gene[e] * sp + j, sizeof(FV));
        a0 += weight[e] * s0;
      }
      std::memcpy(ld + j, &a0, sizeof(FV));
    }
  }
}

struct TileJob {
  const LdscProblem* problem;
  Index snp_tile;
  Index sp;       // padded spot count (multiple of kPad)
  TileScratch* s;
  double* t_spot_ld;     // ticks() of the spot LD
  double* t_regression;  // ticks() of the folds
};

// Row tiles of one spot tile: spot LD, then every trait's SNPs of the tile. The scores and h are
// already in the scratch; block moments are zeroed.
template <int W>
[[gnu::always_inline]] inline void run_row_tiles(const TileJob& job) {
  const LdscProblem& p = *job.problem;
  TileScratch& s = *job.s;
  const Index n_rows = p.plan.n_rows();
  const Index* plan_rows = p.plan.common_rows().data();
  const std::size_t n_traits = p.traits.size();
  double spot_ld = 0.0, regression = 0.0;
  for (Index r0 = 0; r0 < n_rows; r0 += job.snp_tile) {
    const Index r1 = std::min(n_rows, r0 + job.snp_tile);
    const double t0 = ticks();
    spot_ld_rows<W>(p.common->gene_weights, plan_rows, r0, r1, s.scores.data(), job.sp,
                    s.ld.data());
    const double t1 = ticks();
    for (std::size_t t = 0; t < n_traits; ++t) {
      const TraitData& trait = *p.traits[t];
      const Index* rows = p.plan.trait_rows(t).data();
      const Index m = trait.m();
      const Index K = moment_count(trait.n_features);
      Index k = s.cursor[t];
      while (k < m && rows[k] < r1) {
        const Index b = k / trait.block_size;
        Index end = std::min(m, (b + 1) * trait.block_size);
        // The SNPs of block b inside this tile: rows ascend, so stop at the first row >= r1.
        end = std::lower_bound(rows + k, rows + end, r1) - rows;
        const Fold f{&trait,      s.ld.data(),     rows, r0, k, end, s.h[t].data(),
                     s.blocks[t].data() + b * K * job.sp, job.sp, s.intercept_is_one[t] != 0};
        fold<W>(f);
        k = end;
      }
      s.cursor[t] = k;
    }
    const double t2 = ticks();
    spot_ld += t1 - t0;
    regression += t2 - t1;
  }
  *job.t_spot_ld += spot_ld;
  *job.t_regression += regression;
}

// The jackknife of every spot of the tile (sp lanes, padded spots included) for one trait, into
// out[0 .. sp).
template <int W>
[[gnu::always_inline]] inline void run_jackknife(const TraitData& t, const double* blocks, Index sp,
                                                 double* work, JackknifeEstimate* out) {
  for (Index j = 0; j < sp; j += W) {
    switch (t.n_features) {
      case 4: jackknife_lanes<W, 4>(t.n_blocks, blocks + j, sp, out + j); break;
      case 5: jackknife_lanes<W, 5>(t.n_blocks, blocks + j, sp, out + j); break;
      case 6: jackknife_lanes<W, 6>(t.n_blocks, blocks + j, sp, out + j); break;
      default:
        for (Index v = j; v < j + W; ++v)
          out[v] = jackknife_first_coefficient(t.n_features, t.n_blocks, blocks + v,
                                               static_cast<int>(sp), work);
    }
  }
}

void run_row_tiles_baseline(const TileJob& job) { run_row_tiles<2>(job); }
void run_jackknife_baseline(const TraitData& t, const double* blocks, Index sp, double* work,
                            JackknifeEstimate* out) {
  run_jackknife<2>(t, blocks, sp, work, out);
}
#if GSMAP_LDSC_HAVE_AVX2_CLONES
GSMAP_LDSC_TARGET_AVX2 void run_row_tiles_avx2(const TileJob& job) { run_row_tiles<4>(job); }
GSMAP_LDSC_TARGET_AVX512 void run_row_tiles_avx512(const TileJob& job) { run_row_tiles<8>(job); }
GSMAP_LDSC_TARGET_AVX2 void run_jackknife_avx2(const TraitData& t, const double* blocks, Index sp,
                                               double* work, JackknifeEstimate* out) {
  run_jackknife<4>(t, blocks, sp, work, out);
}
GSMAP_LDSC_TARGET_AVX512 void run_jackknife_avx512(const TraitData& t, const double* blocks,
                                                   Index sp, double* work,
                                                   JackknifeEstimate* out) {
  run_jackknife<8>(t, blocks, sp, work, out);
}
#endif

using RowTilesFunction = void (*)(const TileJob&);
using JackknifeFunction = void (*)(const TraitData&, const double*, Index, double*,
                                   JackknifeEstimate*);

RowTilesFunction select_row_tiles(CpuSimd simd) {
#if GSMAP_LDSC_HAVE_AVX2_CLONES
  if (use_avx512(simd)) return &run_row_tiles_avx512;
  if (use_avx2(simd)) return &run_row_tiles_avx2;
#endif
  (void)simd;
  return &run_row_tiles_baseline;
}

JackknifeFunction select_jackknife(CpuSimd simd) {
#if GSMAP_LDSC_HAVE_AVX2_CLONES
  if (use_avx512(simd)) return &run_jackknife_avx512;
  if (use_avx2(simd)) return &run_jackknife_avx2;
#endif
  (void)simd;
  return &run_jackknife_baseline;
}

class CpuWorker final : public LdscWorker {
 public:
  CpuWorker(const LdscProblem& problem, const CpuBackendOptions& o)
      : p_(problem),
        snp_tile_(o.snp_tile),
        spot_tile_(o.spot_tile),
        row_tiles_(select_row_tiles(o.simd)),
        jackknife_(select_jackknife(o.simd)) {
    const Index sp = padded(spot_tile_);
    const auto n_genes = static_cast<Index>(p_.common->genes.size());
    s_.scores.resize(static_cast<std::size_t>(n_genes * sp));
    s_.ld.resize(static_cast<std::size_t>(snp_tile_ * sp));
    s_.h.resize(p_.n_traits());
    s_.blocks.resize(p_.n_traits());
    s_.cursor.resize(p_.n_traits());
    s_.intercept_is_one.resize(p_.n_traits());
    s_.estimates.resize(static_cast<std::size_t>(sp));
    int max_features = 1;
    std::int64_t bytes =
        static_cast<std::int64_t>((s_.scores.size() + s_.ld.size()) * sizeof(float) +
                                  s_.estimates.size() * sizeof(JackknifeEstimate));
    for (std::size_t t = 0; t < p_.n_traits(); ++t) {
      const TraitData& trait = *p_.traits[t];
      s_.h[t].resize(static_cast<std::size_t>(sp));
      s_.blocks[t].resize(static_cast<std::size_t>(trait.n_blocks * moment_count(trait.n_features) * sp));
      bytes += static_cast<std::int64_t>((s_.h[t].size() + s_.blocks[t].size()) * sizeof(double));
      max_features = std::max(max_features, trait.n_features);
      bool one = trait.n_features >= 2;
      const auto width = static_cast<std::size_t>(trait.n_features - 1);
      for (std::size_t i = 0; one && i < static_cast<std::size_t>(trait.m()); ++i)
        one = trait.design[i * width + width - 1] == 1.0;
      s_.intercept_is_one[t] = one ? 1 : 0;
    }
    s_.work.resize(static_cast<std::size_t>(jackknife_work_size(max_features)));
    ledger_ = std::make_unique<core::MemoryPart>("LDSC tiles", bytes);
  }

  void regress_chunk(const math::f16_bits* gss, Index n_spots, std::vector<TraitChunkResult>& out,
                     BackendTimes& times) override {
    const std::size_t n_traits = p_.n_traits();
    out.resize(n_traits);
    for (auto& r : out) {
      for (auto* v : {&r.beta, &r.se, &r.z, &r.p, &r.neg_log10_p, &r.beta_full})
        v->assign(static_cast<std::size_t>(n_spots), std::numeric_limits<double>::quiet_NaN());
      r.n_singular = 0;
    }
    for (Index j0 = 0; j0 < n_spots; j0 += spot_tile_)
      tile(gss, j0, std::min(spot_tile_, n_spots - j0), out, times);
  }

 private:
  static Index padded(Index n) { return (n + kPad - 1) / kPad * kPad; }

  void tile(const math::f16_bits* gss, Index j0, Index count, std::vector<TraitChunkResult>& out,
            BackendTimes& times) {
    const CommonResources& common = *p_.common;
    const Index sp = padded(count);
    const auto n_genes = static_cast<Index>(common.genes.size());
    const auto t0 = Clock::now();
    // Aligned genes, gene-major (one weight updates all spots of the tile at once); padded spots 0.
    float* scores = s_.scores.data();
    for (Index g = 0; g < n_genes; ++g) {
      float* row = scores + g * sp;
      const Index column = common.marker_column[g];
      for (Index j = 0; j < count; ++j)
        row[j] = math::f16_to_f32(gss[(j0 + j) * common.n_marker_genes + column]);
      std::fill(row + count, row + sp, 0.0f);
    }
    const auto t1 = Clock::now();
    // h per trait from u . g (docs/algorithms.md §7), then zeroed block moments.
    for (std::size_t t = 0; t < p_.n_traits(); ++t) {
      const TraitData& trait = *p_.traits[t];
      const double* u = p_.gene_times_n[t].data();
      double* h = s_.h[t].data();
      std::fill_n(h, sp, 0.0);
      for (Index g = 0; g < n_genes; ++g) {
        const double ug = u[g];
        const float* row = scores + g * sp;
        for (Index j = 0; j < sp; ++j) h[j] += ug * static_cast<double>(row[j]);
      }
      for (Index j = 0; j < sp; ++j) {
        const double mean_xn = (h[j] + trait.sum_baseline_times_n) / static_cast<double>(trait.m());
        h[j] = clipped_heritability(trait.mean_chisq, mean_xn) / kHeritabilityM;
      }
      std::fill_n(s_.blocks[t].data(), trait.n_blocks * moment_count(trait.n_features) * sp, 0.0);
      s_.cursor[t] = 0;
    }
    double spot_ld = seconds(t0, t1);
    const auto t2 = Clock::now();
    double regression = seconds(t1, t2);
    double spot_ld_ticks = 0.0, fold_ticks = 0.0;
    row_tiles_(TileJob{&p_, snp_tile_, sp, &s_, &spot_ld_ticks, &fold_ticks});
    // Jackknife and statistics per spot and trait.
    const auto t3 = Clock::now();
    const double row_tiles = seconds(t2, t3);
    const double all_ticks = spot_ld_ticks + fold_ticks;
    const double spot_ld_share = all_ticks > 0.0 ? spot_ld_ticks / all_ticks : 0.0;
    spot_ld += row_tiles * spot_ld_share;
    regression += row_tiles * (1.0 - spot_ld_share);
    for (std::size_t t = 0; t < p_.n_traits(); ++t) {
      const TraitData& trait = *p_.traits[t];
      TraitChunkResult& r = out[t];
      const double nbar = trait.nbar;
      jackknife_(trait, s_.blocks[t].data(), sp, s_.work.data(), s_.estimates.data());
      for (Index j = 0; j < count; ++j)
        r.store(static_cast<std::size_t>(j0 + j), s_.estimates[static_cast<std::size_t>(j)], nbar);
    }
    const double jackknife = seconds(t3, Clock::now());
    regression += jackknife;
    times.spot_ld += spot_ld;
    times.regression += regression;
    times.jackknife += jackknife;
  }

  const LdscProblem& p_;
  Index snp_tile_, spot_tile_;
  RowTilesFunction row_tiles_;
  JackknifeFunction jackknife_;
  TileScratch s_;
  std::unique_ptr<core::MemoryPart> ledger_;
};

class CpuBackend final : public LdscBackend {
 public:
  explicit CpuBackend(const CpuBackendOptions& o) : o_(o) {
    if (o_.snp_tile < 1 || o_.spot_tile < 1)
      throw UsageError(fmt::format("LDSC tiles of {} SNPs x {} spots: both must be >= 1",
                                   o_.snp_tile, o_.spot_tile));
  }
  std::string name() const override {
    return fmt::format("CPU one-pass ({}, tiles of {} SNPs x {} spots)",
                       use_avx512(o_.simd) ? "AVX-512" : use_avx2(o_.simd) ? "AVX2" : "baseline",
                       o_.snp_tile, o_.spot_tile);
  }
  std::int64_t chunk_multiple() const override { return o_.spot_tile; }
  std::unique_ptr<LdscWorker> make_worker(const LdscProblem& problem) override {
    return std::make_unique<CpuWorker>(problem, o_);
  }

 private:
  CpuBackendOptions o_;
};

}  // namespace

std::unique_ptr<LdscBackend> make_cpu_backend(const CpuBackendOptions& options) {
  return std::make_unique<CpuBackend>(options);
}

}  // namespace gsmap::ldsc
