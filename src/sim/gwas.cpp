// GWAS summary statistics under the stratified LDSC model.
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "gsmap/sim/model.hpp"
#include "gsmap/sim/random.hpp"

namespace gsmap::sim {
namespace {

constexpr double kLinkedWeight = 1.0;  // P(s) >= 1: SNP in real LD with a planted marker

enum class EdgeCase : std::uint8_t { kNone, kAbsent, kMissingZ, kOutlier, kDuplicated };

void append_row(std::string& out, const Genome& g, std::size_t s, const std::string& z,
                std::int64_t n) {
  out += g.snp_id[s];
  out += '\t';
  out += g.a1[s];
  out += '\t';
  out += g.a2[s];
  out += '\t';
  out += z;
  out += '\t';
  out += fmt::format("{}\n", n);
}

}  // namespace

SimulatedTrait simulate_trait(const SimulateOptions& o, const Genome& genome,
                              const io::CsrRows& weights, const GeneDesign& design,
                              const std::string& name, double h2_planted, int trait_index) {
  Rng rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kGwas),
                   static_cast<std::uint64_t>(trait_index)));
  const auto n = static_cast<std::size_t>(weights.n_rows());

  // Which weight columns are the planted type's markers.
  std::vector<std::uint8_t> planted_column(static_cast<std::size_t>(weights.n_cols), 0);
  std::vector<std::uint8_t> is_marker(design.st_genes.size(), 0);
  for (auto g : design.type_markers[static_cast<std::size_t>(o.planted_type)])
    is_marker[static_cast<std::size_t>(g)] = 1;
  for (std::size_t j = 0; j < design.weight_gene_st_index.size(); ++j) {
    const auto st = design.weight_gene_st_index[j];
    if (st >= 0 && is_marker[static_cast<std::size_t>(st)]) planted_column[j] = 1;
  }

  // base(s) as spatial LDSC derives it (all columns, Unmapped included) and P(s).
  std::vector<double> base(n, 0.0), planted(n, 0.0);
  double base_sum = 0.0, planted_sum = 0.0;
  for (std::size_t s = 0; s < n; ++s) {
    for (auto k = weights.indptr[s]; k < weights.indptr[s + 1]; ++k) {
      const double v = weights.data[static_cast<std::size_t>(k)];
      base[s] += v;
      if (planted_column[static_cast<std::size_t>(weights.indices[static_cast<std::size_t>(k)])])
        planted[s] += v;
    }
    base_sum += base[s];
    planted_sum += planted[s];
  }
  const double base_scale = base_sum > 0 ? o.h2_base * static_cast<double>(n) / base_sum : 0.0;
  const double planted_scale =
      planted_sum > 0 ? h2_planted * static_cast<double>(n) / planted_sum : 0.0;

  // The fixtures' edge cases (opt-in), from their own stream so that the Z values stay the same:
  // SNPs absent from the GWAS, missing Z ('.'), chi-square outliers above chisq_max, duplicated
  // SNP rows.
  std::vector<EdgeCase> edge(n, EdgeCase::kNone);
  Rng edge_rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kGwas),
                        100 + static_cast<std::uint64_t>(trait_index)));
  if (o.edge_cases) {
    const auto n_absent = static_cast<std::int64_t>(n / 300);
    const std::vector<std::pair<EdgeCase, std::int64_t>> plan = {{EdgeCase::kAbsent, n_absent},
                                                                 {EdgeCase::kMissingZ, 5},
                                                                 {EdgeCase::kOutlier, 3},
                                                                 {EdgeCase::kDuplicated, 5}};
    std::int64_t total = 0;
    for (const auto& p : plan) total += p.second;
    auto chosen = edge_rng.sample_without_replacement(static_cast<std::int64_t>(n), total);
    edge_rng.shuffle(chosen);
    std::size_t next = 0;
    for (const auto& [kind, count] : plan) {
      for (std::int64_t k = 0; k < count; ++k)
        edge[static_cast<std::size_t>(chosen[next++])] = kind;
    }
  }

  SimulatedTrait trait;
  TraitStats& st = trait.stats;
  st.name = name;
  st.h2_base = o.h2_base;
  st.h2_planted = h2_planted;
  std::string& out = trait.sumstats_text;
  out.reserve(n * 32);
  out += "SNP\tA1\tA2\tZ\tN\n";
  double observed_sum = 0.0;
  std::int64_t observed_n = 0;
  double exp_linked = 0.0, exp_unlinked = 0.0, obs_linked = 0.0, obs_unlinked = 0.0;
  for (std::size_t s = 0; s < n; ++s) {
    const auto sample_n =
        static_cast<std::int64_t>(std::floor(o.gwas_n * (0.9 + 0.1 * rng.uniform())));
    const double enrichment = base_scale * base[s] + planted_scale * planted[s];
    const double expected = 1.0 + static_cast<double>(sample_n) / o.gwas_n * enrichment;
    const double z = std::sqrt(expected) * rng.normal();
    // Values as written (4 decimals, like format-sumstats' output): statistics match the file.
    const std::string z_text = fmt::format("{:.4f}", z);
    double z_written = 0.0;
    std::from_chars(z_text.data(), z_text.data() + z_text.size(), z_written);
    const double chi2 = z_written * z_written;
    const bool linked = planted[s] >= kLinkedWeight;
    st.mean_expected_chi2 += 1.0 + enrichment;
    (linked ? exp_linked : exp_unlinked) += 1.0 + enrichment;
    (linked ? obs_linked : obs_unlinked) += chi2;
    if (linked) ++st.n_linked;
    observed_sum += chi2;
    ++observed_n;

    switch (edge[s]) {
      case EdgeCase::kNone:
        append_row(out, genome, s, z_text, sample_n);
        break;
      case EdgeCase::kAbsent:
        break;
      case EdgeCase::kMissingZ:
        append_row(out, genome, s, ".", sample_n);
        break;
      case EdgeCase::kOutlier:
        append_row(out, genome, s,
                   fmt::format("{:.4f}", (z < 0 ? -1.0 : 1.0) * edge_rng.uniform(12.0, 20.0)),
                   sample_n);
        break;
      case EdgeCase::kDuplicated:  // the first row counts
        append_row(out, genome, s, z_text, sample_n);
        append_row(out, genome, s, fmt::format("{:.4f}", edge_rng.normal()), sample_n);
        break;
    }
  }
  const auto dn = static_cast<double>(n);
  st.mean_expected_chi2 /= dn;
  st.mean_observed_chi2 = observed_sum / static_cast<double>(observed_n);
  const auto n_unlinked = static_cast<double>(static_cast<std::int64_t>(n) - st.n_linked);
  if (st.n_linked > 0) {
    st.mean_expected_chi2_linked = exp_linked / static_cast<double>(st.n_linked);
    st.mean_observed_chi2_linked = obs_linked / static_cast<double>(st.n_linked);
  }
  if (n_unlinked > 0) {
    st.mean_expected_chi2_unlinked = exp_unlinked / n_unlinked;
    st.mean_observed_chi2_unlinked = obs_unlinked / n_unlinked;
  }
  return trait;
}

}  // namespace gsmap::sim
