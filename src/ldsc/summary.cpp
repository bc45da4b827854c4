#include "gsmap/ldsc/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace gsmap::ldsc {

TraitSummary summarize_trait(std::span<const double> p, std::span<const double> neg_log10_p) {
  TraitSummary s;
  s.n_spots = static_cast<std::int64_t>(p.size());
  s.bonferroni_threshold = s.n_spots > 0 ? kNominalAlpha / static_cast<double>(s.n_spots) : 0.0;
  s.max_neg_log10_p = std::numeric_limits<double>::quiet_NaN();
  for (const double v : neg_log10_p)
    if (!std::isnan(v) && !(v <= s.max_neg_log10_p)) s.max_neg_log10_p = v;

  std::vector<double> valid;
  valid.reserve(p.size());
  for (const double v : p) {
    if (std::isnan(v)) {
      ++s.n_nan;
      continue;
    }
    valid.push_back(v);
    if (v < kNominalAlpha) ++s.n_nominal;
    if (v < s.bonferroni_threshold) ++s.n_bonferroni;
  }
  std::sort(valid.begin(), valid.end());
  const double m = static_cast<double>(valid.size());
  for (std::size_t k = valid.size(); k > 0; --k) {
    if (valid[k - 1] * m / static_cast<double>(k) <= kFdrAlpha) {
      s.n_fdr = static_cast<std::int64_t>(k);
      break;
    }
  }
  return s;
}

std::vector<std::string> summary_log_lines(const TraitSummary& s, const std::string& trait,
                                           std::int64_t range_start, std::int64_t range_end) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("STATISTICAL SUMMARY - {}", trait));
  lines.push_back(fmt::format("Total spots: {} (cells [{}, {}))", s.n_spots, range_start,
                              range_end));
  lines.push_back(fmt::format("Max -log10(p): {:.2f}", s.max_neg_log10_p));
  lines.push_back(fmt::format("Nominally significant (p < 0.05): {}", s.n_nominal));
  lines.push_back(fmt::format("Bonferroni threshold: 0.05/{} = {:.2e}; significant: {}", s.n_spots,
                              s.bonferroni_threshold, s.n_bonferroni));
  lines.push_back(fmt::format("FDR significant (Benjamini-Hochberg, alpha=0.001): {}", s.n_fdr));
  if (s.n_nan > 0)
    lines.push_back(fmt::format("Spots without a result (singular regression, NaN): {}", s.n_nan));
  return lines;
}

}  // namespace gsmap::ldsc
