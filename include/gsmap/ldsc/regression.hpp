#pragma once
// CPU driver of the per-spot weighted block-jackknife regression (docs/algorithms.md §7, §8) for
// one trait and one chunk of spots. Pure function of its inputs: call it from any number of threads.
#include <cstdint>
#include <span>
#include <vector>

#include "gsmap/ldsc/cpu_simd.hpp"
#include "gsmap/ldsc/regression_math.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "gsmap/ldsc/trait.hpp"

namespace gsmap::ldsc {

// Per-spot results of one chunk, in spot order.
struct TraitChunkResult {
  std::vector<double> beta;         // jackknife mean of the spot-LD slope / N-bar
  std::vector<double> se;           // jackknife standard error / N-bar
  std::vector<double> z;            // beta / se
  std::vector<double> p;            // 1 - Phi(z)
  std::vector<double> neg_log10_p;  // -log10(max(p, 1e-300))
  std::vector<double> beta_full;    // full-data estimate / N-bar (diagnostics)
  std::int64_t n_singular = 0;      // spots whose systems were singular or non-finite: all NaN

  std::int64_t n_spots() const { return static_cast<std::int64_t>(beta.size()); }

  // Stores spot `spot`'s statistics from its jackknife estimate (divided by N-bar, docs/algorithms.md
  // §7.6) and counts it when its systems were singular.
  void store(std::size_t spot, const JackknifeEstimate& e, double nbar) {
    if (!e.ok) ++n_singular;
    const SpotStatistics st = spot_statistics(e.mean / nbar, e.se / nbar);
    beta[spot] = st.beta;
    se[spot] = st.se;
    z[spot] = st.z;
    p[spot] = st.p;
    neg_log10_p[spot] = st.neg_log10_p;
    beta_full[spot] = e.full / nbar;
  }
};

// Regresses every spot of `ld` for `trait`. ld_rows[k] is the row of `ld` holding the trait's k-th
// kept SNP (SpotLdPlan::trait_rows), so ld_rows.size() == trait.m(). Each spot's numbers depend
// only on its own spot LD (not on the chunk, the other spots or `simd`).
TraitChunkResult regress_spots(const TraitData& trait, const SpotLd& ld,
                               std::span<const std::int64_t> ld_rows,
                               CpuSimd simd = CpuSimd::kAuto);

}  // namespace gsmap::ldsc
