#include "gsmap/sim/random.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

namespace gsmap::sim {
namespace {

// ln 2 split so that k * kLn2Hi is exact for |k| < 2^20 (fdlibm's constants).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kPi = 3.14159265358979323846;
constexpr double kHalfPi = 1.57079632679489661923;
constexpr double kTwoPi = 6.28318530717958647693;

}  // namespace

double det_log(double x) {
  if (!(x > 0.0))
    return x == 0.0 ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(x)) return x;
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  // ln m = 2 atanh(f) = 2 (f + f^3/3 + f^5/5 + ...), |f| <= 0.1716.
  const double f = (m - 1.0) / (m + 1.0);
  const double f2 = f * f;
  double poly = 1.0 / 23.0;
  for (int k = 21; k >= 1; k -= 2) poly = poly * f2 + 1.0 / k;
  const double ln_m = 2.0 * f * poly;
  const double de = static_cast<double>(e);
  return de * kLn2Hi + (de * kLn2Lo + ln_m);
}

double det_exp(double x) {
  if (std::isnan(x)) return x;
  if (x > 709.78) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0.0;
  // x = k ln2 + r, |r| <= ln2 / 2; exp(r) by its Taylor series (error < 1e-17 at 14 terms).
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0;
  for (int i = 14; i >= 1; --i) p = 1.0 + p * r / i;
  return std::ldexp(p, static_cast<int>(k));
}

double det_sin(double x) {
  // Reduce to [-pi, pi], then to [-pi/2, pi/2] with sin(pi - y) = sin(y).
  double y = x - kTwoPi * std::floor(x / kTwoPi + 0.5);
  if (y > kHalfPi) y = kPi - y;
  if (y < -kHalfPi) y = -kPi - y;
  const double y2 = y * y;
  double poly = 1.0;
  // sin y = y (1 - y^2/(2*3) (1 - y^2/(4*5) (1 - ...))), 12 factors: error < 1e-18.
  for (int n = 24; n >= 2; n -= 2) poly = 1.0 - poly * y2 / (static_cast<double>(n) * (n + 1));
  return y * poly;
}

double log_factorial(std::int64_t k) {
  static const std::array<double, 1024> table = [] {
    std::array<double, 1024> t{};
    t[0] = 0.0;
    for (std::size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] + det_log(static_cast<double>(i));
    return t;
  }();
  if (k < 0) return std::numeric_limits<double>::quiet_NaN();
  if (k < static_cast<std::int64_t>(table.size())) return table[static_cast<std::size_t>(k)];
  // Stirling series for ln Gamma(n), n = k + 1 > 1024: truncation error < 1e-20.
  const double n = static_cast<double>(k) + 1.0;
  const double inv = 1.0 / n;
  const double inv2 = inv * inv;
  const double series = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0)));
  return (n - 0.5) * det_log(n) - n + 0.91893853320467274178 + series;
}

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b) {
  auto splitmix = [](std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  std::uint64_t h = splitmix(seed);
  h = splitmix(h ^ stream);
  h = splitmix(h ^ a);
  h = splitmix(h ^ b);
  return h;
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Values below `threshold` would make r % n favour small results; reject them.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = engine_();
    if (r >= threshold) return r % n;
  }
}

double Rng::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  double u = 0.0, v = 0.0, s = 0.0;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * det_log(s) / s);
  spare_normal_ = v * factor;
  has_spare_normal_ = true;
  return u * factor;
}

double Rng::gamma(double shape) {
  if (!(shape > 0.0)) return 0.0;
  if (shape < 1.0) {
    const double g = gamma(shape + 1.0);
    return g * det_exp(det_log(uniform_open()) / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0.0, v = 0.0;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform_open();
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
    if (det_log(u) < 0.5 * x2 + d * (1.0 - v + det_log(v))) return d * v;
  }
}

std::int64_t Rng::poisson(double lambda) {
  if (!(lambda > 0.0)) return 0;
  if (lambda < 10.0) {
    const double limit = det_exp(-lambda);
    std::int64_t k = 0;
    double p = uniform();
    while (p > limit) {
      ++k;
      p *= uniform();
    }
    return k;
  }
  // PTRS (W. Hormann, "The transformed rejection method for generating Poisson random
  // variables", 1993), as in numpy's legacy generator.
  const double slam = std::sqrt(lambda);
  const double loglam = det_log(lambda);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::fabs(u);
    const double kd = std::floor((2.0 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::int64_t>(kd);
    if (kd < 0.0 || (us < 0.013 && v > us)) continue;
    const auto k = static_cast<std::int64_t>(kd);
    if (det_log(v) + det_log(invalpha) - det_log(a / (us * us) + b) <=
        -lambda + kd * loglam - log_factorial(k)) {
      return k;
    }
  }
}

std::int64_t Rng::negative_binomial(double mu, double dispersion) {
  if (!(mu > 0.0)) return 0;
  if (!(dispersion > 0.0)) return poisson(mu);
  const double shape = 1.0 / dispersion;
  if (mu >= 30.0) return poisson(gamma(shape) * dispersion * mu);
  // Small means (nearly every entry of a count matrix): inversion of the pmf with one uniform,
  // P(0) = (1 + d mu)^(-1/d), P(k+1) = P(k) (k + 1/d) / (k + 1) q with q = d mu / (1 + d mu).
  // Four times faster than the mixture; the expected number of steps is mu.
  const double q = dispersion * mu / (1.0 + dispersion * mu);
  double p = det_exp(-shape * det_log(1.0 + dispersion * mu));
  double cdf = p;
  const double u = uniform();
  std::int64_t k = 0;
  while (u >= cdf) {
    p *= (static_cast<double>(k) + shape) / static_cast<double>(k + 1) * q;
    ++k;
    const double next = cdf + p;
    if (next == cdf) break;  // the remaining tail is below double resolution
    cdf = next;
  }
  return k;
}

std::vector<std::int64_t> Rng::sample_without_replacement(std::int64_t n, std::int64_t k) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
  std::iota(idx.begin(), idx.end(), std::int64_t{0});
  k = std::clamp<std::int64_t>(k, 0, n);
  for (std::int64_t i = 0; i < k; ++i) {
    const auto j = i + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(n - i)));
    std::swap(idx[static_cast<std::size_t>(i)], idx[static_cast<std::size_t>(j)]);
  }
  idx.resize(static_cast<std::size_t>(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace gsmap::sim
