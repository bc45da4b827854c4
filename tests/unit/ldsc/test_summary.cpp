#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gsmap/ldsc/summary.hpp"
#include "test_support.hpp"

namespace gsmap::ldsc {
namespace {

TEST(LdscSummary, HandDerivedCounts) {
  const double nan = std::nan("");
  const std::vector<double> p = {1e-4, 2e-4, 3e-4, 0.5, nan, 0.02};
  std::vector<double> nl;
  for (double v : p) nl.push_back(std::isnan(v) ? nan : -std::log10(v));
  const TraitSummary s = summarize_trait(p, nl);
  EXPECT_EQ(s.n_spots, 6);
  EXPECT_EQ(s.n_nan, 1);
  EXPECT_DOUBLE_EQ(s.max_neg_log10_p, 4.0);
  EXPECT_EQ(s.n_nominal, 4);                        // 1e-4, 2e-4, 3e-4, 0.02
  EXPECT_DOUBLE_EQ(s.bonferroni_threshold, 0.05 / 6);
  EXPECT_EQ(s.n_bonferroni, 3);                     // < 0.008333
  // BH over the 5 valid p: sorted 1e-4,2e-4,3e-4,0.02,0.5; p*m/k = 5e-4, 5e-4, 5e-4, 0.025, 0.5.
  EXPECT_EQ(s.n_fdr, 3);
  const auto lines = summary_log_lines(s, "T", 0, 6);
  ASSERT_GE(lines.size(), 6u);
  EXPECT_NE(lines[2].find("4.00"), std::string::npos);
  EXPECT_NE(lines.back().find("1"), std::string::npos);
}

TEST(LdscSummary, BenjaminiHochbergStepUpMatchesNumpy) {
  // Step-up: a large p rejected only because a later one qualifies.
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> p;
  for (int i = 0; i < 500; ++i) p.push_back(i < 60 ? 1e-6 * u(rng) * (i + 1) : u(rng));
  const TraitSummary s = summarize_trait(p, p);
  // statsmodels' fdr_bh, written out in numpy.
  const std::string out = test::run_python(fmt::format(R"(
import numpy as np
p=np.array([{}]); m=len(p); o=np.argsort(p); ps=p[o]
adj=np.minimum.accumulate((ps*m/np.arange(1,m+1))[::-1])[::-1]
print(int((np.minimum(adj,1)<=0.001).sum()), int((p<0.05/m).sum()), int((p<0.05).sum()))
)",
                                                       fmt::join(p, ",")));
  std::istringstream in(out);
  std::int64_t fdr = 0, bonf = 0, nominal = 0;
  in >> fdr >> bonf >> nominal;
  EXPECT_EQ(s.n_fdr, fdr);
  EXPECT_EQ(s.n_bonferroni, bonf);
  EXPECT_EQ(s.n_nominal, nominal);
  EXPECT_GT(s.n_fdr, 0);
}

}  // namespace
}  // namespace gsmap::ldsc
