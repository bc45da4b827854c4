#pragma once
// Portable, seed-deterministic random numbers for the simulator.
//
// std::mt19937_64 is fully specified by the C++ standard, but std::normal_distribution and friends
// are not (libstdc++, libc++ and MSVC use different algorithms), and libm's log/exp/sin may differ
// in the last bit between C libraries. The distributions here use only the engine's raw 64-bit
// output, IEEE-754 + - * / sqrt, frexp/ldexp and the det_* functions below (polynomials built
// from those operations, compiled with -ffp-contract=off), so one seed gives the same numbers, and
// therefore the same output bytes, on every conforming platform.
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace gsmap::sim {

// Deterministic elementary functions (relative error ~1e-16; not correctly rounded, but the same
// everywhere). det_log: x > 0 and finite. det_exp: any x (underflows to 0, overflows to inf).
// det_sin: |x| < 1e9.
double det_log(double x);
double det_exp(double x);
double det_sin(double x);
inline double det_cos(double x) { return det_sin(x + 1.57079632679489661923); }
// ln(k!) for k >= 0 (table up to 1023, Stirling series above).
double log_factorial(std::int64_t k);

// SplitMix64 finaliser: derives independent seeds for the simulator's streams from the user seed,
// so that, e.g., the weight matrix does not change when only --n-cells changes.
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t a = 0,
                       std::uint64_t b = 0);

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next_u64() { return engine_(); }
  // Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform on (0, 1): safe to take the log of.
  double uniform_open() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Unbiased integer in [0, n) (n >= 1) by rejection of the engine's top remainder.
  std::uint64_t below(std::uint64_t n);
  bool bernoulli(double p) { return uniform() < p; }

  // Standard normal (Marsaglia polar method; the second value of each pair is kept for the next
  // call).
  double normal();
  double normal(double mean, double sd) { return mean + sd * normal(); }
  // Gamma(shape, scale 1) by Marsaglia & Tsang; shape < 1 via the U^(1/shape) boost.
  double gamma(double shape);
  // Poisson: multiplication method below 10, Hormann's PTRS transformed rejection above.
  std::int64_t poisson(double lambda);
  // Negative binomial with mean mu and variance mu + dispersion * mu^2 (inversion below mu = 30,
  // the Poisson-gamma mixture above).
  std::int64_t negative_binomial(double mu, double dispersion);

  // Fisher-Yates with below().
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      std::size_t j = static_cast<std::size_t>(below(i));
      std::swap(v[i - 1], v[j]);
    }
  }
  // k distinct indices of [0, n), ascending (partial Fisher-Yates over an index vector).
  std::vector<std::int64_t> sample_without_replacement(std::int64_t n, std::int64_t k);

 private:
  std::mt19937_64 engine_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace gsmap::sim
