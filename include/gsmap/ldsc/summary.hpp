#pragma once
// Per-trait statistical summary logged after spatial LDSC (docs/algorithms.md §7.6).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gsmap::ldsc {

inline constexpr double kNominalAlpha = 0.05;
inline constexpr double kFdrAlpha = 0.001;

struct TraitSummary {
  std::int64_t n_spots = 0;        // all spots, NaN ones included (the Bonferroni denominator)
  std::int64_t n_nan = 0;          // spots without a p value (singular regressions)
  double max_neg_log10_p = 0.0;    // NaN when every spot is NaN
  std::int64_t n_nominal = 0;      // p < 0.05
  double bonferroni_threshold = 0.0;  // 0.05 / n_spots
  std::int64_t n_bonferroni = 0;   // p < threshold
  std::int64_t n_fdr = 0;          // Benjamini-Hochberg rejections at alpha 0.001
};

// BH over the spots that have a p value (NaN excluded from the count m): the largest k with
// p_(k) * m / k <= alpha (statsmodels' fdr_bh "reject"). The reference logs the SUM of the adjusted
// p values under this label (a bug in spatial_ldsc_jax.py); we log the rejection count it names.
TraitSummary summarize_trait(std::span<const double> p, std::span<const double> neg_log10_p);

// The log block: total spots, processed range [range_start, range_end), max -log10 p, nominal,
// Bonferroni and FDR counts, and the number of NaN spots when there are any.
std::vector<std::string> summary_log_lines(const TraitSummary& summary, const std::string& trait,
                                           std::int64_t range_start, std::int64_t range_end);

}  // namespace gsmap::ldsc
