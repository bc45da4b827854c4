// The GSMAP_HD regression arithmetic against numpy (lstsq jackknife written in the test) and
// hand-derived cases.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gsmap/ldsc/regression_math.hpp"
#include "test_support.hpp"

namespace gsmap::ldsc {
namespace {

struct Problem {
  int n_features = 4;
  int n_blocks = 2;
  int block_size = 3;
  std::vector<double> x;  // rows x n_features
  std::vector<double> y;
  std::vector<double> q;  // squared weights
  int rows() const { return n_blocks * block_size; }
};

Problem random_problem(int n_blocks, int block_size, std::uint64_t seed) {
  Problem pr;
  pr.n_blocks = n_blocks;
  pr.block_size = block_size;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < pr.rows(); ++i) {
    const double ld = 5.0 * u(rng), base = 10.0 + 20.0 * u(rng), all_gene = 0.5 * base + u(rng);
    pr.x.insert(pr.x.end(), {ld, base, all_gene, 1.0});
    pr.y.push_back(1.0 + 0.3 * ld + 0.05 * base + 0.5 * (u(rng) - 0.5));
    pr.q.push_back(0.1 + u(rng));
  }
  return pr;
}

std::vector<double> block_moments(const Problem& pr) {
  const int K = moment_count(pr.n_features);
  std::vector<double> m(static_cast<std::size_t>(pr.n_blocks) * K, 0.0);
  for (int i = 0; i < pr.rows(); ++i) {
    const int b = i / pr.block_size;
    accumulate_moments(pr.n_features, pr.q[i], &pr.x[i * pr.n_features], pr.y[i],
                       m.data() + b * K, 1);
  }
  return m;
}

JackknifeEstimate run(const Problem& pr) {
  const auto m = block_moments(pr);
  std::vector<double> work(jackknife_work_size(pr.n_features));
  return jackknife_first_coefficient(pr.n_features, pr.n_blocks, m.data(), 1, work.data());
}

// numpy: weighted least squares with lstsq on sqrt(q)-scaled rows, delete-one by dropping rows.
std::vector<double> numpy_jackknife(const Problem& pr) {
  const std::string script = fmt::format(R"(
import numpy as np
P={P}; B={B}; s={s}
X=np.array([{x}]).reshape(-1,P); y=np.array([{y}]); q=np.array([{q}])
w=np.sqrt(q); Xw=X*w[:,None]; yw=y*w
est=np.linalg.lstsq(Xw,yw,rcond=None)[0]
dele=[]
for b in range(B):
    keep=np.ones(len(y),bool); keep[b*s:(b+1)*s]=False
    dele.append(np.linalg.lstsq(Xw[keep],yw[keep],rcond=None)[0])
dele=np.array(dele)
pv=B*est-(B-1)*dele
mean=pv.mean(0); se=np.sqrt(np.cov(pv.T,ddof=1).diagonal()/B) if B>1 else None
print(repr(float(est[0])), repr(float(mean[0])), repr(float(se[0])))
)",
                                         fmt::arg("P", pr.n_features), fmt::arg("B", pr.n_blocks),
                                         fmt::arg("s", pr.block_size),
                                         fmt::arg("x", fmt::join(pr.x, ",")),
                                         fmt::arg("y", fmt::join(pr.y, ",")),
                                         fmt::arg("q", fmt::join(pr.q, ",")));
  std::istringstream out(test::run_python(script));
  std::vector<double> v(3);
  out >> v[0] >> v[1] >> v[2];
  return v;
}

TEST(LdscMath, JackknifeMatchesNumpyLstsq) {
  // Tiny m and B = 2..4 (m = 6 is the smallest that leaves a solvable delete-one system for B=2
  // with P=4), up to a longer case.
  const std::vector<std::pair<int, int>> shapes = {{2, 5}, {3, 4}, {4, 3}, {4, 25}, {7, 11}};
  std::uint64_t seed = 1;
  for (const auto& [B, s] : shapes) {
    const Problem pr = random_problem(B, s, seed++);
    const JackknifeEstimate e = run(pr);
    ASSERT_TRUE(e.ok) << "B=" << B;
    const auto ref = numpy_jackknife(pr);
    EXPECT_NEAR(e.full, ref[0], 1e-9 * std::abs(ref[0])) << "B=" << B << " s=" << s;
    EXPECT_NEAR(e.mean, ref[1], 1e-9 * std::abs(ref[1])) << "B=" << B << " s=" << s;
    EXPECT_NEAR(e.se, ref[2], 1e-8 * std::abs(ref[2])) << "B=" << B << " s=" << s;
    EXPECT_GT(e.se, 0.0);
  }
}

TEST(LdscMath, ExactlyLinearResponseHasZeroStandardError) {
  Problem pr = random_problem(4, 6, 42);
  const double beta[4] = {0.25, 0.5, -0.125, 2.0};  // binary fractions: y below is exact
  for (int i = 0; i < pr.rows(); ++i) {
    double y = 0;
    for (int k = 0; k < 4; ++k) y += beta[k] * pr.x[i * 4 + k];
    pr.y[i] = y;
  }
  const JackknifeEstimate e = run(pr);
  ASSERT_TRUE(e.ok);
  EXPECT_NEAR(e.full, 0.25, 1e-12);
  EXPECT_NEAR(e.mean, 0.25, 1e-10);
  EXPECT_LT(e.se, 1e-10);
}

TEST(LdscMath, SingularSystemsGiveNaN) {
  // Spot LD identically zero: XtX has a zero row and column.
  Problem zero_ld = random_problem(3, 5, 7);
  for (int i = 0; i < zero_ld.rows(); ++i) zero_ld.x[i * 4] = 0.0;
  JackknifeEstimate e = run(zero_ld);
  EXPECT_FALSE(e.ok);
  EXPECT_TRUE(std::isnan(e.mean));
  EXPECT_TRUE(std::isnan(e.se));
  EXPECT_TRUE(std::isnan(e.full));

  // Spot LD a multiple of the intercept: exactly collinear columns.
  Problem constant_ld = random_problem(3, 5, 8);
  for (int i = 0; i < constant_ld.rows(); ++i) constant_ld.x[i * 4] = 3.0;
  e = run(constant_ld);
  EXPECT_FALSE(e.ok);
  EXPECT_TRUE(std::isnan(e.mean));

  // Only the delete-one system of block 0 is singular: spot LD non-zero in block 0 only.
  Problem one_block = random_problem(3, 5, 9);
  for (int i = 5; i < one_block.rows(); ++i) one_block.x[i * 4] = 0.0;
  e = run(one_block);
  EXPECT_FALSE(e.ok);

  // NaN input.
  Problem nan_input = random_problem(3, 5, 10);
  nan_input.x[4] = std::nan("");
  e = run(nan_input);
  EXPECT_FALSE(e.ok);
}

TEST(LdscMath, SolveSpdHandDerived) {
  // A = [[4,2,0],[2,5,2],[0,2,5]] (packed upper), x = [1,-1,2] -> b = A x = [2,1,8].
  const double packed[6] = {4, 2, 0, 5, 2, 5};
  const double b[3] = {2, 1, 8};
  double work[9], x[3];
  ASSERT_TRUE(solve_spd(3, packed, b, work, x));
  EXPECT_NEAR(x[0], 1.0, 1e-15);
  EXPECT_NEAR(x[1], -1.0, 1e-15);
  EXPECT_NEAR(x[2], 2.0, 1e-15);
  const double not_pd[3] = {1, 2, 1};  // [[1,2],[2,1]] is indefinite
  EXPECT_FALSE(solve_spd(2, not_pd, b, work, x));
}

TEST(LdscMath, RegressionWeightFormula) {
  // w^2 = 1 / (2 (1 + c max(x,1))^2 max(w_ld,1)) (docs/algorithms.md §7.2 step 3).
  EXPECT_DOUBLE_EQ(squared_regression_weight(3.0, 0.5, ld_weight_term(4.0)),
                   1.0 / (2.0 * 2.5 * 2.5 * 4.0));
  EXPECT_DOUBLE_EQ(squared_regression_weight(0.2, 0.5, ld_weight_term(0.3)),
                   1.0 / (2.0 * 1.5 * 1.5 * 1.0));  // both clipped at 1
  EXPECT_TRUE(std::isnan(squared_regression_weight(std::nan(""), 0.5, 0.5)));
  EXPECT_DOUBLE_EQ(clipped_heritability(1.5, 1e6), 0.005);  // 1e4 * 0.5 / 1e6
  EXPECT_EQ(clipped_heritability(0.9, 1e6), 0.0);
  EXPECT_EQ(clipped_heritability(3.0, 1.0), 1.0);
  EXPECT_TRUE(std::isnan(clipped_heritability(1.5, std::nan(""))));
}

TEST(LdscMath, SpotStatisticsMatchScipy) {
  // scipy.stats.norm.sf values.
  SpotStatistics s = spot_statistics(2.0, 1.0);
  EXPECT_DOUBLE_EQ(s.z, 2.0);
  EXPECT_NEAR(s.p, 0.022750131948179195, 1e-16);
  EXPECT_NEAR(s.neg_log10_p, 1.6430160801409373, 1e-13);
  s = spot_statistics(-3.0, 1.0);
  EXPECT_NEAR(s.p, 0.9986501019683699, 1e-15);
  s = spot_statistics(8.0, 1.0);
  EXPECT_NEAR(s.p, 6.22096057427174e-16, 1e-12 * 6.22e-16);
  s = spot_statistics(30.0, 1.0);  // far tail: erfc keeps relative accuracy
  EXPECT_NEAR(s.p, 4.906713927147908e-198, 1e-10 * 4.9e-198);
  s = spot_statistics(40.0, 1.0);  // p underflows: floored at 1e-300
  EXPECT_EQ(s.p, 0.0);
  EXPECT_DOUBLE_EQ(s.neg_log10_p, 300.0);
  s = spot_statistics(0.0, 1.0);
  EXPECT_DOUBLE_EQ(s.p, 0.5);
  s = spot_statistics(std::nan(""), std::nan(""));
  EXPECT_TRUE(std::isnan(s.z));
  EXPECT_TRUE(std::isnan(s.p));
  EXPECT_TRUE(std::isnan(s.neg_log10_p));
}

}  // namespace
}  // namespace gsmap::ldsc
