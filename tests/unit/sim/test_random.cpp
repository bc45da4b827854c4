// The simulator's own distributions: they must follow their laws (checked against closed-form
// moments) and use nothing platform-dependent.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gsmap/sim/random.hpp"

using gsmap::sim::det_exp;
using gsmap::sim::det_log;
using gsmap::sim::det_sin;
using gsmap::sim::log_factorial;
using gsmap::sim::mix_seed;
using gsmap::sim::Rng;

namespace {

struct Moments {
  double mean = 0, var = 0;
};
template <class Draw>
Moments moments(int n, Draw&& draw) {
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = static_cast<double>(draw());
    s += x;
    s2 += x * x;
  }
  Moments m;
  m.mean = s / n;
  m.var = s2 / n - m.mean * m.mean;
  return m;
}

}  // namespace

TEST(SimRandom, EngineIsTheStandardMt19937_64) {
  // [rand.predef]: the 10000th output of a default-constructed mt19937_64 (seed 5489).
  Rng rng(5489u);
  std::uint64_t x = 0;
  for (int i = 0; i < 10000; ++i) x = rng.next_u64();
  EXPECT_EQ(x, 9981545732273789042ULL);
}

TEST(SimRandom, DeterministicElementaryFunctionsMatchLibm) {
  for (double x = 1e-300; x < 1e300; x *= 1.37) {
    EXPECT_NEAR(det_log(x), std::log(x), 4e-16 * std::fabs(std::log(x)) + 1e-300) << x;
  }
  for (double x = 0.01; x < 20.0; x += 0.0137) {
    EXPECT_NEAR(det_log(x), std::log(x), 5e-16 * std::max(1.0, std::fabs(std::log(x)))) << x;
  }
  for (double x = -700.0; x < 700.0; x += 0.731) {
    EXPECT_NEAR(det_exp(x) / std::exp(x), 1.0, 1e-15) << x;
  }
  EXPECT_EQ(det_exp(-800.0), 0.0);
  EXPECT_TRUE(std::isinf(det_exp(800.0)));
  EXPECT_EQ(det_exp(0.0), 1.0);
  EXPECT_EQ(det_log(1.0), 0.0);
  for (double x = -50.0; x < 50.0; x += 0.0173) {
    EXPECT_NEAR(det_sin(x), std::sin(x), 2e-15) << x;
  }
  for (std::int64_t k : {0, 1, 2, 10, 170, 1023, 1024, 1025, 5000, 123456}) {
    const double ref = std::lgamma(static_cast<double>(k) + 1.0);
    EXPECT_NEAR(log_factorial(k), ref, 1e-13 * std::max(1.0, ref)) << k;
  }
}

TEST(SimRandom, SeedMixingSeparatesStreams) {
  EXPECT_NE(mix_seed(1, 2), mix_seed(1, 3));
  EXPECT_NE(mix_seed(1, 2, 0), mix_seed(1, 2, 1));
  EXPECT_NE(mix_seed(1, 2, 1, 0), mix_seed(1, 2, 0, 1));
  EXPECT_EQ(mix_seed(7, 4, 2, 9), mix_seed(7, 4, 2, 9));
}

TEST(SimRandom, UniformAndBelow) {
  Rng rng(11);
  const auto m = moments(200000, [&] { return rng.uniform(); });
  EXPECT_NEAR(m.mean, 0.5, 0.003);
  EXPECT_NEAR(m.var, 1.0 / 12.0, 0.001);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) ++counts[rng.below(7)];
  double chi2 = 0;
  for (int c : counts) chi2 += (c - 10000.0) * (c - 10000.0) / 10000.0;
  EXPECT_LT(chi2, 22.46);  // chi-square(6) 0.999 quantile
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.uniform_open();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(SimRandom, NormalMoments) {
  Rng rng(12);
  int inside = 0;
  const int n = 400000;
  const auto m = moments(n, [&] {
    const double z = rng.normal();
    inside += std::fabs(z) < 1.0;
    return z;
  });
  EXPECT_NEAR(m.mean, 0.0, 0.006);
  EXPECT_NEAR(m.var, 1.0, 0.008);
  EXPECT_NEAR(static_cast<double>(inside) / n, 0.682689, 0.003);
}

TEST(SimRandom, GammaMoments) {
  Rng rng(13);
  for (double shape : {0.4, 1.0, 2.2, 15.0}) {
    const auto m = moments(200000, [&] { return rng.gamma(shape); });
    EXPECT_NEAR(m.mean, shape, 0.02 * shape) << shape;
    EXPECT_NEAR(m.var, shape, 0.05 * shape) << shape;
  }
}

TEST(SimRandom, PoissonMoments) {
  Rng rng(14);
  for (double lambda : {0.3, 3.0, 9.9, 10.0, 47.0, 800.0}) {
    int zeros = 0;
    const auto m = moments(200000, [&] {
      const auto k = rng.poisson(lambda);
      zeros += k == 0;
      return k;
    });
    EXPECT_NEAR(m.mean, lambda, 0.01 * lambda + 0.005) << lambda;
    EXPECT_NEAR(m.var, lambda, 0.03 * lambda + 0.005) << lambda;
    EXPECT_NEAR(zeros / 200000.0, std::exp(-lambda), 0.003) << lambda;
  }
}

TEST(SimRandom, NegativeBinomialMoments) {
  Rng rng(15);
  for (auto [mu, disp] : std::vector<std::pair<double, double>>{
           {0.2, 0.5}, {5.0, 0.5}, {29.0, 1.5}, {40.0, 0.2}, {3.0, 0.0}}) {
    const auto m = moments(200000, [&] { return rng.negative_binomial(mu, disp); });
    EXPECT_NEAR(m.mean, mu, 0.015 * mu) << mu;
    EXPECT_NEAR(m.var, mu + disp * mu * mu, 0.05 * (mu + disp * mu * mu)) << mu;
  }
  // pmf at 0 and 1 for mu = 5, d = 0.5: (1 + d mu)^(-1/d) = 3.5^-2, then x (1/d) q, q = 2.5/3.5.
  int zeros = 0, ones = 0;
  for (int i = 0; i < 200000; ++i) {
    const auto k = rng.negative_binomial(5.0, 0.5);
    zeros += k == 0;
    ones += k == 1;
  }
  EXPECT_NEAR(zeros / 200000.0, 1.0 / 12.25, 0.002);
  EXPECT_NEAR(ones / 200000.0, 1.0 / 12.25 * 2.0 * (2.5 / 3.5), 0.002);
}

TEST(SimRandom, ShuffleAndSampleWithoutReplacement) {
  Rng rng(16);
  auto s = rng.sample_without_replacement(100, 30);
  ASSERT_EQ(s.size(), 30u);
  for (std::size_t i = 1; i < s.size(); ++i) EXPECT_LT(s[i - 1], s[i]);
  EXPECT_GE(s.front(), 0);
  EXPECT_LT(s.back(), 100);
  // Every position equally likely to receive element 0 after a shuffle.
  std::vector<int> where(5, 0);
  for (int r = 0; r < 50000; ++r) {
    std::vector<int> v = {0, 1, 2, 3, 4};
    rng.shuffle(v);
    for (int p = 0; p < 5; ++p)
      where[static_cast<std::size_t>(p)] += v[static_cast<std::size_t>(p)] == 0;
  }
  for (int c : where) EXPECT_NEAR(c / 50000.0, 0.2, 0.01);
}
