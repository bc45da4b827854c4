// Numerics of the Cauchy combination against values printed by numpy 1.24.2 / scipy 1.10.1
// (/usr/bin/python3, the reference's own expressions) and hand-derived special cases.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "gsmap/cauchy/statistics.hpp"
#include "gsmap/core/error.hpp"

namespace gsmap::cauchy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(CauchyNumpy, PairwiseSumMatchesNumpyBitForBit) {
  // x_i = (-1)^i / (i+1) * sqrt(i+3): np.sum over 20000 (two 8192 buffers and a rest), 1000 and
  // 100 elements; a plain left-to-right sum differs in the last digits (1.142807706043042).
  std::vector<double> x(20000);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = ((i % 2 == 0) ? 1.0 : -1.0) / (static_cast<double>(i) + 1.0) *
           std::sqrt(static_cast<double>(i) + 3.0);
  }
  EXPECT_EQ(numpy_sum(x), 1.1428077060430393);
  EXPECT_EQ(numpy_sum(std::span(x).first(1000)), 1.1305201454236036);
  EXPECT_EQ(numpy_sum(std::span(x).first(100)), 1.0959745628342257);
  EXPECT_EQ(numpy_sum({}), 0.0);
}

TEST(CauchyNumpy, PercentilesAndMedianLikeNumpy) {
  std::vector<double> a = {0.05, 0.1, 0.5, 0.7, 1.25, 2.0, 3.5};  // sorted
  EXPECT_EQ(numpy_quantile_sorted(a, 0.75), 1.625);
  EXPECT_EQ(numpy_quantile_sorted(a, 0.25), 0.3);
  EXPECT_EQ(numpy_quantile_sorted(a, 0.95), 3.049999999999999);  // numpy's lerp rounding
  EXPECT_EQ(numpy_median_sorted(a), 0.7);
  EXPECT_EQ(numpy_median_sorted(std::span(a).first(6)), 0.6);
  // One element: numpy's "above bounds" branch returns the element.
  std::vector<double> one = {0.25};
  EXPECT_EQ(numpy_quantile_sorted(one, 0.95), 0.25);
  EXPECT_EQ(numpy_median_sorted(one), 0.25);
}

TEST(CauchyNumpy, InfinitePercentilesGiveNanLikeNumpy) {
  // np.percentile([1,2,3,inf,inf], [75, 25]) -> [nan, 2.0]; np.median -> 3.0
  std::vector<double> a = {1.0, 2.0, 3.0, kInf, kInf};
  EXPECT_TRUE(std::isnan(numpy_quantile_sorted(a, 0.75)));
  EXPECT_EQ(numpy_quantile_sorted(a, 0.25), 2.0);
  EXPECT_EQ(numpy_median_sorted(a), 3.0);
  std::vector<double> single_inf = {kInf};
  EXPECT_TRUE(std::isnan(numpy_quantile_sorted(single_inf, 0.75)));
}

TEST(CauchyAcat, MatchesReferenceExpressions) {
  // numpy's tan (SVML on AVX-512 machines) and glibc's differ by an ulp here: 0.028448082212118364
  // in numpy, ...253 with math.tan; both are the same ACAT to 4e-15.
  EXPECT_NEAR(acat(std::vector<double>{0.01, 0.02, 0.5, 0.9}), 0.028448082212118364, 1e-15);
  EXPECT_DOUBLE_EQ(acat(std::vector<double>{0.3}), 0.30000000000000004);
  // 1 - cdf(T) is quantised to multiples of 2^-53 for small results: bit-exact agreement needed.
  EXPECT_EQ(acat(std::vector<double>{1e-12, 0.5, 0.6}), 2.9999336348396355e-12);
}

TEST(CauchyAcat, SpecialCases) {
  // Any p == 0 -> 0, whatever the others.
  EXPECT_EQ(acat(std::vector<double>{0.5, 0.0, 1.0}), 0.0);
  // All p == 1 -> 1.
  EXPECT_EQ(acat(std::vector<double>{1.0, 1.0, 1.0}), 1.0);
  // Mixed 1s: tan(-pi/2) = -1.6e16 dominates, T << 0, result 1.
  EXPECT_EQ(acat(std::vector<double>{1.0, 1.0, 0.5}), 1.0);
  // p < 1e-16 uses (w/p)/pi; T = 0.5e20/pi + tan(0.2 pi)/2 > 1e15 -> (1/T)/pi ~ 2p.
  EXPECT_DOUBLE_EQ(acat(std::vector<double>{1e-20, 0.3}), 2e-20);
  // Both tiny: T = (0.5/1e-20 + 0.5/1e-18)/pi -> 1/(T pi) = 1/(0.5e20 + 0.5e18).
  EXPECT_DOUBLE_EQ(acat(std::vector<double>{1e-20, 1e-18}), 1.9801980198019804e-20);
  // One term below 1e-16: T = 1/(1e-17 pi) = 3.2e16 > 1e15 -> (1/T)/pi = 1e-17.
  EXPECT_DOUBLE_EQ(acat(std::vector<double>{1e-17}), 1e-17);
  // T = tan((0.5 - 1e-14) pi) ~ 3.2e13 < 1e15: 1 - cdf(T) is computed next to 1 and lands on a
  // multiple of 2^-53 (1.1e-16) near 1e-14 -- the quantisation seen in gsMap3D's outputs.
  const double near_1e14 = acat(std::vector<double>{1e-14});
  EXPECT_NEAR(near_1e14, 1e-14, 1.2e-16);
  EXPECT_EQ(std::fmod(near_1e14, std::ldexp(1.0, -53)), 0.0);
}

TEST(CauchyAcat, RejectsInvalidInput) {
  EXPECT_THROW(acat(std::vector<double>{}), ComputeError);
  EXPECT_THROW(acat(std::vector<double>{0.5, std::nan("")}), ComputeError);
  EXPECT_THROW(acat(std::vector<double>{0.5, 1.5}), ComputeError);
  EXPECT_THROW(acat(std::vector<double>{-0.1}), ComputeError);
}

TEST(CauchyGroup, AllEqualQKeepsNothing) {
  // IQR = 0 and the strict q < median drops every spot (docs/algorithms.md §9.2).
  std::vector<double> q(10, 2.0);
  const GroupStatistics s = combine_group(q, 1e-3, 3.0);
  EXPECT_EQ(s.p_cauchy, 1.0);
  EXPECT_EQ(s.p_median, 1.0);
  EXPECT_EQ(s.top_95_quantile, 0.0);
  EXPECT_EQ(s.sig_spots, 0);
  EXPECT_EQ(s.total_spots, 0);
}

TEST(CauchyGroup, OutlierCutIsStrict) {
  // q = 0,1,2,3,4,5,6,7,8,100: median 4.5, P25 2.25, P75 6.75, IQR 4.5, cut 4.5 + 3*4.5 = 18.
  std::vector<double> q = {0, 1, 2, 3, 4, 5, 6, 7, 8, 100};
  GroupStatistics s = combine_group(q, 1e-5, 3.0);
  EXPECT_EQ(s.total_spots, 9);
  // Kept p = 10^-0..10^-8: median 1e-4; sig: p < 1e-5 -> 1e-6, 1e-7, 1e-8.
  EXPECT_DOUBLE_EQ(s.p_median, 1e-4);
  EXPECT_EQ(s.sig_spots, 3);
  EXPECT_DOUBLE_EQ(s.top_95_quantile, 7.6);  // 0.95 * 8 = 7.6 in [0..8]
  // With factor 0 the cut is the median 4.5: keeps 0..4 (strict).
  s = combine_group(q, 1e-5, 0.0);
  EXPECT_EQ(s.total_spots, 5);
  // A value exactly on the cut is dropped: q = {0, 1, 2}: median 1, IQR 1, factor 1 -> cut 2.
  s = combine_group(std::vector<double>{0, 1, 2}, 1e-5, 1.0);
  EXPECT_EQ(s.total_spots, 2);
}

TEST(CauchyGroup, UnflooredZeroPSpotsAreDroppedAsOutliers) {
  // Two of eight spots have p = 0 (q = inf): the quartiles stay finite, the inf spots fail q < cut.
  std::vector<double> q = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, kInf, kInf};
  GroupStatistics s = combine_group(q, 0.05 / 8, 3.0);
  EXPECT_EQ(s.total_spots, 6);
  EXPECT_GT(s.p_cauchy, 0.0);
  // Half of the group at p = 0: the median is (0.4 + inf)/2 = inf and the 75th percentile
  // interpolates inf with inf -> NaN, so every spot is dropped and the strongest group reads
  // p_cauchy = 1 (docs/algorithms.md §9.2, reproduced by default).
  std::vector<double> half_zero = {0.1, 0.2, 0.3, 0.4, kInf, kInf, kInf, kInf};
  s = combine_group(half_zero, 0.05 / 8, 3.0);
  EXPECT_EQ(s.total_spots, 0);
  EXPECT_EQ(s.p_cauchy, 1.0);
  EXPECT_EQ(s.p_median, 1.0);
  // The floored column (q = 300 for p = 0): median 150.2, IQR 300 - 0.275, cut ~1050 keeps all.
  std::vector<double> floored = {0.1, 0.2, 0.3, 0.4, 300, 300, 300, 300};
  s = combine_group(floored, 0.05 / 8, 3.0);
  EXPECT_EQ(s.total_spots, 8);
  EXPECT_EQ(s.sig_spots, 4);
  EXPECT_LT(s.p_cauchy, 1e-290);  // 1e-300 terms: (w/p)/pi dominates, 1/(T pi) ~ 8e-300
  EXPECT_GT(s.p_cauchy, 0.0);
  EXPECT_DOUBLE_EQ(s.p_median, (std::pow(10.0, -0.4) + 1e-300) / 2.0);
  EXPECT_DOUBLE_EQ(s.top_95_quantile, 300.0);
}

TEST(CauchyGroup, FlooredValuesStillTieWhenThreeQuartersSaturate) {
  // Known limit of the floored fix: when >= 75 % of a group sits at the floor (q = 300), the
  // quartiles are equal (IQR 0) and the strict rule q < median keeps only the smaller values.
  std::vector<double> floored = {0.1, 300, 300, 300, 300, 300, 300, 300};
  const GroupStatistics s = combine_group(floored, 0.05 / 8, 3.0);
  EXPECT_EQ(s.total_spots, 1);
  EXPECT_DOUBLE_EQ(s.p_median, std::pow(10.0, -0.1));
}

}  // namespace
}  // namespace gsmap::cauchy
