#pragma once
// Per-spot arithmetic of the spatial LDSC regression (docs/algorithms.md §7, §8), shared by the
// CPU driver (ldsc/regression.hpp) and a CUDA kernel: everything here is GSMAP_HD, allocation-free
// and works on caller-provided storage, so one thread (or one CPU loop) per spot can use it.
//
// Two identities keep the hot loop small; both leave the estimates unchanged in exact arithmetic:
//  * The regression weight only enters squared (X = w u, y = w chi2 give XtX = sum w^2 u u^T and
//    Xty = sum w^2 chi2 u), so we never take its square root.
//  * The normalisation w / sum(w) scales every (delete-one) XtX and Xty by the same factor, which
//    cancels in every solve; it is skipped.
// Moments are accumulated and solved in f64 (docs/algorithms.md §10.1).
#include <cmath>

#include "gsmap/math/f16.hpp"  // GSMAP_HD

namespace gsmap::ldsc {

// M in h = M (mean(chi2) - 1) / mean(x N) and c = h N / M (docs/algorithms.md §7.2 steps 2-3).
inline constexpr double kHeritabilityM = 10000.0;
// p values are floored here before -log10 (docs/algorithms.md §7.6).
inline constexpr double kPValueFloor = 1e-300;
// A Cholesky pivot below this fraction of its diagonal entry (1 - R^2 of that column on the
// previous ones) counts as singular: the column is collinear to f64 precision and the solve would
// return noise. The reference (no threshold) returns inf/NaN or noise there; we return NaN.
inline constexpr double kSingularPivotRatio = 1e-12;

// Entries of one moment record: packed upper triangle of XtX (row by row), then Xty.
GSMAP_HD constexpr int moment_count(int n_features) {
  return n_features * (n_features + 1) / 2 + n_features;
}

// h clipped to [0, 1]; NaN passes through (like jnp.clip), so a spot with NaN LD stays NaN.
GSMAP_HD double clipped_heritability(double mean_chisq, double mean_x_times_n) {
  const double h = kHeritabilityM * (mean_chisq - 1.0) / mean_x_times_n;
  if (h < 0.0) return 0.0;
  if (h > 1.0) return 1.0;
  return h;
}

// max(v, 1) that keeps NaN (jnp.maximum semantics).
GSMAP_HD double at_least_one(double v) { return v < 1.0 ? 1.0 : v; }

// Per-SNP constant of the weight: 1 / (2 max(w_ld, 1)).
GSMAP_HD double ld_weight_term(double w_ld) { return 1.0 / (2.0 * at_least_one(w_ld)); }

// Squared regression weight w^2 = 1 / (2 (1 + c max(x, 1))^2 max(w_ld, 1)) with c = h N / M
// (docs/algorithms.md §7.2 step 3, before normalisation). `c` is h N_i / M, `ld_term` is
// ld_weight_term(w_ld).
GSMAP_HD double squared_regression_weight(double x, double c, double ld_term) {
  const double d = 1.0 + c * at_least_one(x);
  return ld_term / (d * d);
}

// Adds one SNP's weighted row to a moment record: XtX += q u u^T (upper triangle), Xty += q chi2 u,
// where q is the squared weight and u = [spot LD, scaled baseline..., 1]. Entry k of the record is
// at moments[k * stride]. The two-pass CPU driver (regress_spots) and the CUDA kernels perform
// exactly these operations in this order; the one-pass CPU backend uses accumulate_moments_fma.
GSMAP_HD void accumulate_moments(int n_features, double q, const double* u, double chisq,
                                 double* moments, int stride) {
  int k = 0;
  const int n_upper = n_features * (n_features + 1) / 2;
  for (int a = 0; a < n_features; ++a) {
    const double qa = q * u[a];
    for (int b = a; b < n_features; ++b, ++k) moments[k * stride] += qa * u[b];
    moments[(n_upper + a) * stride] += qa * chisq;
  }
}

// accumulate_moments with each product-and-add fused into one rounding, the moment arithmetic of
// the CPU one-pass driver (docs/algorithms.md §7.5): for a = 0..P-1, qa = q u[a] (rounded), then
// XtX[a][b] = fma(qa, u[b], XtX[a][b]) for b = a..P-1 and Xty[a] = fma(qa, chisq, Xty[a]). FMA is
// IEEE-exact, so every CPU instruction set (the baseline copy uses std::fma) and any rank or
// thread count give the same bits; against accumulate_moments (the two-pass CPU driver and the
// CUDA kernels) the estimates differ in the last bits only. A column of ones gives qa = q and
// fma(qa, 1, m) = m + qa exactly, so loops may add instead.
GSMAP_HD void accumulate_moments_fma(int n_features, double q, const double* u, double chisq,
                                     double* moments, int stride) {
  int k = 0;
  const int n_upper = n_features * (n_features + 1) / 2;
  for (int a = 0; a < n_features; ++a) {
    const double qa = q * u[a];
    for (int b = a; b < n_features; ++b, ++k)
      moments[k * stride] = fma(qa, u[b], moments[k * stride]);
    moments[(n_upper + a) * stride] = fma(qa, chisq, moments[(n_upper + a) * stride]);
  }
}

// Solves A x = b for a symmetric positive definite P x P system given as a packed upper triangle
// (row by row), by Cholesky A = R^T R. `work` holds P*P doubles. Returns false (x untouched) when a
// pivot is not clearly positive (singular or NaN input).
GSMAP_HD bool solve_spd(int n, const double* packed_upper, const double* b, double* work,
                        double* x) {
  double* r = work;  // r[i*n + j], upper triangle used
  int k = 0;
  for (int i = 0; i < n; ++i)
    for (int j = i; j < n; ++j) r[i * n + j] = packed_upper[k++];
  for (int i = 0; i < n; ++i) {
    const double diagonal = r[i * n + i];
    double s = diagonal;
    for (int m = 0; m < i; ++m) s -= r[m * n + i] * r[m * n + i];
    if (!(s > kSingularPivotRatio * diagonal)) return false;  // also catches NaN and inf
    const double pivot = sqrt(s);
    r[i * n + i] = pivot;
    for (int j = i + 1; j < n; ++j) {
      double t = r[i * n + j];
      for (int m = 0; m < i; ++m) t -= r[m * n + i] * r[m * n + j];
      r[i * n + j] = t / pivot;
    }
  }
  // R^T z = b, then R x = z (z kept in x).
  for (int i = 0; i < n; ++i) {
    double t = b[i];
    for (int m = 0; m < i; ++m) t -= r[m * n + i] * x[m];
    x[i] = t / r[i * n + i];
  }
  for (int i = n - 1; i >= 0; --i) {
    double t = x[i];
    for (int m = i + 1; m < n; ++m) t -= r[i * n + m] * x[m];
    x[i] = t / r[i * n + i];
  }
  return true;
}

// Block-jackknife estimate of the first coefficient (the spot-LD slope).
struct JackknifeEstimate {
  double full = NAN;  // beta-hat[0] from all blocks
  double mean = NAN;  // mean of the pseudovalues (what the reference reports)
  double se = NAN;    // sqrt(var(pseudovalues, ddof=1) / B)
  bool ok = false;    // false: a solve was singular; all fields NaN
};

// Workspace (doubles) needed by jackknife_first_coefficient.
GSMAP_HD constexpr int jackknife_work_size(int n_features) {
  return 2 * moment_count(n_features) + n_features * n_features + n_features;
}

// docs/algorithms.md §7.2 steps 5-8 from per-block moment records. Block b's entry k is at
// block_moments[(b * moment_count(P) + k) * stride]. Totals are summed in block order; each
// delete-one system is total - block. With d_b = beta-hat - beta-hat_(b), the pseudovalues are
// pi_b = beta-hat + (B-1) d_b, so their mean is beta-hat + (B-1) mean(d) and their variance
// (B-1)^2 var(d); mean and variance of d come from Welford's update (stable, O(1) memory).
GSMAP_HD JackknifeEstimate jackknife_first_coefficient(int n_features, int n_blocks,
                                                       const double* block_moments, int stride,
                                                       double* work) {
  const int n_moments = moment_count(n_features);
  const int n_upper = n_features * (n_features + 1) / 2;
  double* total = work;
  double* deleted = total + n_moments;
  double* solve_work = deleted + n_moments;
  double* solution = solve_work + n_features * n_features;

  JackknifeEstimate out;
  for (int k = 0; k < n_moments; ++k) total[k] = 0.0;
  for (int b = 0; b < n_blocks; ++b)
    for (int k = 0; k < n_moments; ++k) total[k] += block_moments[(b * n_moments + k) * stride];
  if (!solve_spd(n_features, total, total + n_upper, solve_work, solution)) return out;
  const double full = solution[0];

  double mean_d = 0.0, m2_d = 0.0;
  for (int b = 0; b < n_blocks; ++b) {
    for (int k = 0; k < n_moments; ++k)
      deleted[k] = total[k] - block_moments[(b * n_moments + k) * stride];
    if (!solve_spd(n_features, deleted, deleted + n_upper, solve_work, solution)) return out;
    const double d = full - solution[0];
    const double delta = d - mean_d;
    mean_d += delta / (b + 1);
    m2_d += delta * (d - mean_d);
  }
  const double bm1 = n_blocks - 1.0;
  out.full = full;
  out.mean = full + bm1 * mean_d;
  out.se = sqrt(bm1 * bm1 * (m2_d / bm1) / n_blocks);
  out.ok = true;
  return out;
}

// Per-spot statistics of docs/algorithms.md §7.6 in f64: z = beta / se, one-sided p = 1 - Phi(z)
// computed as erfc(z / sqrt 2) / 2 (accurate far into the upper tail), -log10(max(p, 1e-300)); NaN
// stays NaN.
struct SpotStatistics {
  double beta = NAN;
  double se = NAN;
  double z = NAN;
  double p = NAN;
  double neg_log10_p = NAN;
};

GSMAP_HD SpotStatistics spot_statistics(double beta, double se) {
  SpotStatistics s;
  s.beta = beta;
  s.se = se;
  s.z = beta / se;
  s.p = 0.5 * erfc(s.z * 0.70710678118654752440);
  s.neg_log10_p = -log10(s.p < kPValueFloor ? kPValueFloor : s.p);
  return s;
}

}  // namespace gsmap::ldsc
