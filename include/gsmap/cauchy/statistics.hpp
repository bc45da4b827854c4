#pragma once
// The numerics of gsMap3D's Cauchy combination (docs/algorithms.md §9), written to follow
// numpy 1.24 / scipy 1.10 step by step: the results must agree with the reference where the
// outputs are quantised (p_cauchy = 1 - cdf(T) is a multiple of 2^-53 near 0), and inf values
// (p = 0 spots, docs/algorithms.md §9.2) must propagate exactly as they do in numpy.
#include <cstdint>
#include <span>
#include <vector>

namespace gsmap::cauchy {

// np.sum of a contiguous float64 array: pairwise summation (8-way unrolled blocks of <= 128)
// over buffers of 8192 elements, the buffer sums added left to right starting from 0.0.
double numpy_sum(std::span<const double> values);

// np.median of ascending-sorted values: the middle value, or the mean (a + b) / 2 of the two
// middle values. NaN for an empty input (numpy warns and returns NaN).
double numpy_median_sorted(std::span<const double> sorted);

// np.quantile(x, fraction) with the default 'linear' method on ascending-sorted values,
// including numpy's interpolation formula (so inf neighbours give NaN, not inf): virtual index
// (n-1)*fraction, lerp(a, b, t) = a + (b-a)*t, or b - (b-a)*(1-t) when t >= 0.5.
// np.percentile(x, P) is numpy_quantile_sorted(x, P / 100.0).
double numpy_quantile_sorted(std::span<const double> sorted, double fraction);

// Aggregated Cauchy association test with equal weights 1/K (gsMap3D _acat_test):
// any p == 0 -> 0; all p == 1 -> 1; T = sum_{p<1e-16} (w/p)/pi + sum_{p>=1e-16} w*tan((0.5-p)*pi);
// T > 1e15 -> (1/T)/pi, else 1 - (0.5 + (1/pi)*atan(T)) (scipy's Cauchy cdf, evaluated as scipy
// does). Throws ComputeError for an empty input, NaN, or p outside [0, 1].
double acat(std::span<const double> p);

struct GroupStatistics {
  double p_cauchy = 1.0;
  double p_median = 1.0;
  double top_95_quantile = 0.0;
  std::int64_t sig_spots = 0;
  std::int64_t total_spots = 0;  // spots kept by the outlier rule
};

// One group (one annotation label, or one (label, sample) pair) of one trait.
// `q` are the group's -log10 p values in spot order (the order matters only for the ACAT sum's
// rounding). Outlier rule: keep q < median + iqr_factor * (P75 - P25), strictly. Then p = 10^-q,
// p_cauchy = ACAT(p), p_median = median(p), top_95_quantile = quantile(kept q, 0.95),
// sig_spots = #{p < sig_threshold}, total_spots = kept count. Nothing kept (empty group, IQR = 0
// with all q equal, or NaN quartiles from inf values) -> p_cauchy 1, p_median 1, top 0.
GroupStatistics combine_group(std::span<const double> q, double sig_threshold, double iqr_factor);

}  // namespace gsmap::cauchy
