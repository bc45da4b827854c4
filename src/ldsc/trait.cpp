#include "gsmap/ldsc/trait.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/ldsc/reference_sums.hpp"
#include "gsmap/ldsc/regression_math.hpp"

namespace gsmap::ldsc {
namespace {

using Index = std::int64_t;

// λGC denominator of spatial LDSC (docs/algorithms.md §6.4: format-sumstats uses 0.4549).
constexpr double kLambdaGcMedian = 0.4559364;
constexpr Index kFewSnpsWarning = 200000;

double median_of_finite(std::vector<float> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](float x) { return std::isnan(x); }), v.end());
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  if (v.size() % 2 == 1) return v[mid];
  const float upper = v[mid];
  const float lower = *std::max_element(v.begin(), v.begin() + mid);
  return 0.5 * (static_cast<double>(lower) + upper);
}

}  // namespace

TraitData prepare_trait(const CommonResources& common, const io::SumStats& sumstats,
                        const std::string& trait_name, const TraitOptions& options) {
  if (options.n_blocks < 2)
    throw UsageError(fmt::format(
        "--n-blocks {}: the block jackknife needs at least 2 blocks (it divides by B(B-1)). "
        "Fix: use the default 200",
        options.n_blocks));
  const Index n_rows = static_cast<Index>(sumstats.snp.size());
  if (sumstats.z.size() != sumstats.snp.size() || sumstats.n.size() != sumstats.snp.size())
    throw ComputeError(fmt::format("{}: SNP, Z and N columns differ in length", sumstats.path));

  TraitData t;
  t.name = trait_name;
  t.sumstats_path = sumstats.path;
  t.n_sumstats_snps = n_rows;
  t.n_blocks = options.n_blocks;
  t.n_features = common.n_features();

  // Step 1: chi2 = Z^2 in f32; strict filter chi2 < chisq_max (NaN fails it).
  std::vector<float> chisq(n_rows);
  Index n_missing_z = 0;
  for (Index i = 0; i < n_rows; ++i) {
    chisq[i] = sumstats.z[i] * sumstats.z[i];
    if (std::isnan(chisq[i])) ++n_missing_z;
  }
  if (n_missing_z == n_rows)
    throw InputError(sumstats.path, "column Z",
                     n_rows == 0 ? "no SNP rows" : "every Z value is missing",
                     "give summary statistics with a numeric Z column (gsmap-mpi format-sumstats)");
  t.lambda_gc = median_of_finite(chisq) / kLambdaGcMedian;
  t.chisq_max = options.chisq_max ? *options.chisq_max : io::default_chisq_max(sumstats);

  // Step 2: C = C0 ∩ sumstats, in W order.
  std::vector<Index> sumstats_row_of_common(common.n_snps(), -1);
  for (Index i = 0; i < n_rows; ++i) {
    if (!(static_cast<double>(chisq[i]) < t.chisq_max)) {
      ++t.n_chisq_removed;
      continue;
    }
    const Index c = common.index_of_snp(sumstats.snp[i]);
    if (c >= 0 && sumstats_row_of_common[c] < 0) sumstats_row_of_common[c] = i;
  }
  std::vector<Index> common_index;
  for (Index c = 0; c < common.n_snps(); ++c)
    if (sumstats_row_of_common[c] >= 0) common_index.push_back(c);
  t.n_common_snps = static_cast<Index>(common_index.size());
  if (t.n_common_snps == 0)
    throw InputError(
        sumstats.path, "column SNP",
        fmt::format("none of the {} SNPs passing chi2 < {} is among the {} SNPs shared by the "
                    "weight matrix {} and the LD weights {}",
                    n_rows - t.n_chisq_removed, t.chisq_max, common.n_snps(),
                    common.paths.weight_matrix, common.paths.ld_weight_dir),
        "check that the summary statistics use rsIDs of the same reference (gsmap "
        "format-sumstats)");
  if (t.n_common_snps < t.n_blocks)
    throw InputError(sumstats.path, "column SNP",
                     fmt::format("only {} SNPs in common with the weight matrix and LD weights, "
                                 "fewer than the {} jackknife blocks",
                                 t.n_common_snps, t.n_blocks),
                     "use genome-wide summary statistics or lower --n-blocks");

  // Step 4: N-bar over all of C, before truncation.
  std::vector<float> n_common(t.n_common_snps);
  for (Index k = 0; k < t.n_common_snps; ++k)
    n_common[k] = sumstats.n[sumstats_row_of_common[common_index[k]]];
  t.nbar = reference_f32_mean(n_common);

  // Step 5: keep the first block_size * B SNPs.
  t.block_size = t.n_common_snps / t.n_blocks;
  t.n_snps_used = t.block_size * t.n_blocks;
  t.n_dropped_by_truncation = t.n_common_snps - t.n_snps_used;
  common_index.resize(t.n_snps_used);

  // Steps 3, 7: per-SNP arrays and the static design.
  const Index m = t.n_snps_used;
  const int p = common.n_baseline();
  const float nbar = t.nbar;
  t.common_index = std::move(common_index);
  t.chisq.resize(m);
  t.n.resize(m);
  t.baseline_sum.resize(m);
  t.ld_term.resize(m);
  t.design.resize(static_cast<std::size_t>(m) * (p + 1));
  double sum_chisq = 0.0;
  for (Index k = 0; k < m; ++k) {
    const Index c = t.common_index[k];
    const Index row = sumstats_row_of_common[c];
    const float n = sumstats.n[row];
    t.chisq[k] = chisq[row];
    t.n[k] = n;
    t.ld_term[k] = ld_weight_term(common.ld_weight[c]);
    // The static arrays carry the reference's f32 roundings: a_i is numpy's f32 row sum (of a
    // pandas frame), the scaled baseline is (A_ia * N_i) / N-bar in f32.
    const float* baseline = common.baseline.data() + c * p;
    t.baseline_sum[k] = numpy_pairwise_sum(baseline, p);
    double* design = t.design.data() + k * (p + 1);
    for (int j = 0; j < p; ++j) design[j] = (baseline[j] * n) / nbar;
    design[p] = 1.0;
    sum_chisq += t.chisq[k];
    t.sum_baseline_times_n += t.baseline_sum[k] * t.n[k];
  }
  t.mean_chisq = sum_chisq / static_cast<double>(m);

  for (const auto& line : t.log_lines()) GSMAP_LOG_INFO("{}", line);
  if (t.n_common_snps < kFewSnpsWarning)
    GSMAP_LOG_WARN("Trait {}: only {} SNPs in common (fewer than {}); estimates may be noisy",
                   t.name, t.n_common_snps, kFewSnpsWarning);
  return t;
}

std::vector<std::string> TraitData::log_lines() const {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("Trait {}: {} summary-statistic SNPs from {}; lambda GC {:.4f}", name,
                              n_sumstats_snps, sumstats_path, lambda_gc));
  lines.push_back(fmt::format("Trait {}: {} SNPs removed by chi^2 < {} (incl. missing Z); {} SNPs "
                              "in common; N-bar {}",
                              name, n_chisq_removed, chisq_max, n_common_snps, nbar));
  lines.push_back(fmt::format("Trait {}: {} SNPs used in {} blocks of {}; {} SNPs dropped at the "
                              "end to make equal blocks",
                              name, n_snps_used, n_blocks, block_size, n_dropped_by_truncation));
  return lines;
}

SparseRowsF32 trait_gene_weights(const CommonResources& common, const TraitData& trait) {
  const SparseRowsF32& w = common.gene_weights;
  std::vector<std::int64_t> outer(trait.common_index.size() + 1, 0);
  for (std::size_t k = 0; k < trait.common_index.size(); ++k) {
    const auto c = trait.common_index[k];
    outer[k + 1] = outer[k] + (w.outerIndexPtr()[c + 1] - w.outerIndexPtr()[c]);
  }
  std::vector<std::int64_t> inner(outer.back());
  std::vector<float> values(outer.back());
  for (std::size_t k = 0; k < trait.common_index.size(); ++k) {
    const auto c = trait.common_index[k];
    const auto begin = w.outerIndexPtr()[c], end = w.outerIndexPtr()[c + 1];
    std::copy(w.innerIndexPtr() + begin, w.innerIndexPtr() + end, inner.begin() + outer[k]);
    std::copy(w.valuePtr() + begin, w.valuePtr() + end, values.begin() + outer[k]);
  }
  return csr_from_arrays(static_cast<std::int64_t>(trait.common_index.size()), w.cols(), outer,
                         inner, values);
}

}  // namespace gsmap::ldsc
