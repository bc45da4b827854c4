#pragma once
// Per-trait data of spatial LDSC (docs/algorithms.md §6.6): chi2 filter, SNPs in common, N-bar,
// truncation to equal jackknife blocks, the static part of the design. Read-only once built.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gsmap/io/gwas.hpp"
#include "gsmap/ldsc/reference_sums.hpp"
#include "gsmap/ldsc/resources.hpp"

namespace gsmap::ldsc {

struct TraitOptions {
  std::optional<double> chisq_max;  // --chisq-max; default max(0.001 max N, 80)
  int n_blocks = 200;               // --n-blocks, >= 2
};

struct TraitData {
  std::string name;
  std::string sumstats_path;

  // Counts for the log.
  std::int64_t n_sumstats_snps = 0;        // rows after the reader's duplicate / missing-N drops
  std::int64_t n_chisq_removed = 0;        // rows failing chi2 < chisq_max (incl. missing Z)
  std::int64_t n_common_snps = 0;          // |C|
  std::int64_t n_snps_used = 0;            // m = block_size * n_blocks
  std::int64_t n_dropped_by_truncation = 0;
  int n_blocks = 0;
  std::int64_t block_size = 0;
  double chisq_max = 0.0;
  double lambda_gc = 0.0;  // median(chi2 of non-missing Z, before the filter) / 0.4559364
  float nbar = 0.0f;       // mean N over all of C, before truncation (f32, as the reference)

  // Per kept SNP i < m, in regression (W) order.
  std::vector<std::int64_t> common_index;  // position in C0 (row of CommonResources::gene_weights)
  std::vector<double> chisq;
  std::vector<double> n;
  std::vector<double> baseline_sum;  // a_i = sum of the unscaled baseline row (f32 sum)
  std::vector<double> ld_term;       // 1 / (2 max(w_i, 1)), see regression_math.hpp
  // Static design X^base (m x (p+1), row-major): baseline columns times N_i / N-bar (f32 products,
  // as the reference), then 1.
  std::vector<double> design;

  // Per-trait constants of the weight formula.
  double mean_chisq = 0.0;             // mean chi2 over the m SNPs
  double sum_baseline_times_n = 0.0;   // sum_i a_i N_i

  int n_features = 0;  // P = p + 2
  std::int64_t m() const { return n_snps_used; }

  // "Trait X: ... SNPs in common, ... used, ... dropped ..., chisq_max ..., N-bar ..." lines.
  std::vector<std::string> log_lines() const;
};

// docs/algorithms.md §6.6 steps 1-7. UsageError: n_blocks < 2. InputError (naming the files): every
// Z missing, no SNP in common with the weight matrix and LD weights, fewer common SNPs than blocks.
// Logs lambda GC and a warning when fewer than 200,000 SNPs are in common.
TraitData prepare_trait(const CommonResources& common, const io::SumStats& sumstats,
                        const std::string& trait_name, const TraitOptions& options);

// W_T: rows of W_G for the trait's kept SNPs (m x genes, CSR). The chunk pipeline does not need it
// (SpotLdPlan multiplies the union of all traits' rows once); for single-trait tools and checks.
SparseRowsF32 trait_gene_weights(const CommonResources& common, const TraitData& trait);

}  // namespace gsmap::ldsc
