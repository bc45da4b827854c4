#include "gsmap/cauchy/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::cauchy {
namespace {

// numpy's pairwise_sum (loops_utils.h.src), PW_BLOCKSIZE 128.
double pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

// numpy's _lerp: a + (b-a)*t, recomputed from the right end where t >= 0.5.
double numpy_lerp(double a, double b, double t) {
  const double diff = b - a;
  if (t >= 0.5) return b - diff * (1.0 - t);
  return a + diff * t;
}

}  // namespace

double numpy_sum(std::span<const double> values) {
  // The reduction machinery hands the inner loop buffers of at most NPY_BUFSIZE elements.
  constexpr std::size_t kNumpyBufferSize = 8192;
  double total = 0.0;
  for (std::size_t start = 0; start < values.size(); start += kNumpyBufferSize) {
    const std::size_t n = std::min(kNumpyBufferSize, values.size() - start);
    total += pairwise_sum(values.data() + start, n);
  }
  return total;
}

double numpy_median_sorted(std::span<const double> sorted) {
  const std::size_t n = sorted.size();
  if (n == 0) return std::nan("");
  if (n % 2 == 1) return sorted[n / 2];
  return (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
}

double numpy_quantile_sorted(std::span<const double> sorted, double fraction) {
  const std::size_t n = sorted.size();
  if (n == 0) return std::nan("");
  const double virtual_index = static_cast<double>(n - 1) * fraction;
  double previous_index = std::floor(virtual_index);
  std::size_t previous = 0;
  std::size_t next = 0;
  if (virtual_index >= static_cast<double>(n - 1)) {
    // numpy sets both indexes to -1 (the last element) and keeps gamma = virtual - (-1).
    previous = next = n - 1;
    previous_index = -1.0;
  } else if (virtual_index < 0.0) {
    previous = next = 0;
    previous_index = 0.0;
  } else {
    previous = static_cast<std::size_t>(previous_index);
    next = previous + 1;
  }
  const double gamma = virtual_index - previous_index;
  return numpy_lerp(sorted[previous], sorted[next], gamma);
}

double acat(std::span<const double> p) {
  if (p.empty()) throw ComputeError("ACAT: no p-values to combine");
  bool any_zero = false;
  bool all_one = true;
  for (double v : p) {
    if (std::isnan(v))
      throw ComputeError("ACAT: a p-value is NaN (missing values must be dropped first)");
    if (v < 0.0 || v > 1.0) {
      throw ComputeError(fmt::format("ACAT: p-value {} outside [0, 1]", v));
    }
    any_zero = any_zero || v == 0.0;
    all_one = all_one && v == 1.0;
  }
  if (any_zero) return 0.0;
  if (all_one) return 1.0;

  constexpr double kPi = std::numbers::pi;
  const double weight = 1.0 / static_cast<double>(p.size());
  std::vector<double> small_terms;
  std::vector<double> large_terms;
  large_terms.reserve(p.size());
  for (double v : p) {
    // Below 1e-16, tan((0.5 - p)*pi) loses all precision; 1/(p*pi) is its asymptote.
    if (v < 1e-16) {
      small_terms.push_back((weight / v) / kPi);
    } else {
      large_terms.push_back(weight * std::tan((0.5 - v) * kPi));
    }
  }
  double statistic = 0.0;
  if (!small_terms.empty()) statistic += numpy_sum(small_terms);
  if (!large_terms.empty()) statistic += numpy_sum(large_terms);

  if (statistic > 1e15) return (1.0 / statistic) / kPi;
  const double cdf = 0.5 + 1.0 / kPi * std::atan(statistic);
  return 1.0 - cdf;
}

GroupStatistics combine_group(std::span<const double> q, double sig_threshold, double iqr_factor) {
  GroupStatistics stats;
  if (q.empty()) return stats;

  std::vector<double> sorted(q.begin(), q.end());
  std::sort(sorted.begin(), sorted.end());
  const double median = numpy_median_sorted(sorted);
  const double iqr = numpy_quantile_sorted(sorted, 0.75) - numpy_quantile_sorted(sorted, 0.25);
  const double cutoff = median + iqr_factor * iqr;  // NaN when quartiles are inf: keeps nothing

  // p in spot order: the ACAT sum's rounding follows numpy's order of the masked array.
  std::vector<double> p;
  p.reserve(q.size());
  for (double v : q) {
    if (v < cutoff) p.push_back(std::pow(10.0, -v));
  }
  if (p.empty()) return stats;

  stats.p_cauchy = acat(p);
  stats.sig_spots = std::count_if(p.begin(), p.end(), [&](double v) { return v < sig_threshold; });
  stats.total_spots = static_cast<std::int64_t>(p.size());

  // The kept q values are a prefix of the sorted group (q < cutoff is monotone in q).
  const auto kept_end =
      std::partition_point(sorted.begin(), sorted.end(), [&](double v) { return v < cutoff; });
  stats.top_95_quantile =
      numpy_quantile_sorted(std::span<const double>(sorted.begin(), kept_end), 0.95);

  // np.median(p) needs only the middle element(s): select them instead of sorting.
  const std::size_t half = p.size() / 2;
  std::nth_element(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(half), p.end());
  if (p.size() % 2 == 1) {
    stats.p_median = p[half];
  } else {
    const double upper = p[half];
    const double lower =
        *std::max_element(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(half));
    stats.p_median = (lower + upper) / 2.0;
  }
  return stats;
}

}  // namespace gsmap::cauchy
