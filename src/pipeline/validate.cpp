// Input validation shared by the steps, quick-mode and --dry-run (docs/usage.md "What is
// validated"; every message is listed with its fix in docs/troubleshooting.md).
#include "gsmap/pipeline/validate.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <unordered_map>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/gwas.hpp"
#include "gsmap/io/samples.hpp"
#include "gsmap/pipeline/ldsc_outputs.hpp"
#include "gsmap/pipeline/outputs.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;

std::vector<std::string> cauchy_annotations(const CauchyConfig& c);  // cauchy_step.cpp

namespace {

std::string join_first(const std::vector<std::string>& v, std::size_t k) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < k; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > k) s += fmt::format(", ... ({} in all)", v.size());
  return s.empty() ? "(none)" : s;
}

const char* what_is_wrong(float v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return "infinite";
  return "negative";
}

}  // namespace

void check_expression_block(const io::CsrRows& block, const SampleCells& sample,
                            const std::vector<std::string>& genes) {
  std::int64_t bad = 0, first_row = -1;
  std::int32_t first_col = 0;
  float first_value = 0.0f;
  const auto& kept = sample.kept_rows;
  for (std::int64_t r = 0; r < block.n_rows(); ++r) {
    // Cells removed by the filters are never ranked: their values cannot matter.
    if (!std::binary_search(kept.begin(), kept.end(), block.row0 + r)) continue;
    for (auto e = block.indptr[r]; e < block.indptr[r + 1]; ++e) {
      const float v = block.data[static_cast<std::size_t>(e)];
      if (v >= 0.0f && std::isfinite(v)) continue;  // NaN fails v >= 0
      if (bad++ == 0) {
        first_row = block.row0 + r;
        first_col = block.indices[static_cast<std::size_t>(e)];
        first_value = v;
      }
    }
  }
  if (bad == 0) return;
  const std::string layer = sample.layer == "X" ? "X" : "layers/" + sample.layer;
  const std::string gene = first_col >= 0 && static_cast<std::size_t>(first_col) < genes.size()
                               ? genes[static_cast<std::size_t>(first_col)]
                               : "?";
  throw InputError(
      sample.sample.path,
      fmt::format("sample '{}', {} row {} (0-based), gene '{}' (column {})", sample.sample.name,
                  layer, first_row, gene, first_col),
      fmt::format("expression value {} is {} ({} NaN, infinite or negative values in the kept "
                  "cells of rows [{}, {}))",
                  first_value, what_is_wrong(first_value), bad, block.row0,
                  block.row0 + block.n_rows()),
      "the ranking needs finite, non-negative expression (raw or normalised counts): fix the "
      "matrix (e.g. adata.X.data = np.nan_to_num(adata.X.data)) or choose another --data-layer");
}

void check_unique_names(const std::vector<std::string>& names, const std::string& file,
                        const std::string& where) {
  std::unordered_map<std::string_view, std::size_t> first;
  first.reserve(names.size());
  std::int64_t repeats = 0;
  std::size_t a = 0, b = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto [it, inserted] = first.try_emplace(names[i], i);
    if (!inserted && repeats++ == 0) {
      a = it->second;
      b = i;
    }
  }
  if (repeats == 0) return;
  throw InputError(file, where,
                   fmt::format("gene name '{}' appears at positions {} and {} ({} repeated "
                               "names in {})",
                               names[a], a, b, repeats, names.size()),
                   "gene names must be unique, or a gene would be counted twice: sum or drop "
                   "the repeated genes, or make the names unique (adata.var_names_make_unique())");
}

void require_obs_columns(const io::H5adReader& obs, const std::vector<std::string>& columns,
                         const std::string& option) {
  for (const auto& c : columns) {
    if (obs.has_obs_column(c)) continue;
    throw InputError(obs.path(), "obs/" + c, "annotation column not found",
                     fmt::format("set {} to columns of this file; its obs columns are: {}", option,
                                 join_first(obs.obs_column_names(), 30)));
  }
}

void preflight_quick_mode(const Config& cfg, MPI_Comm) {
  const auto in_range = [&](Step s) { return cfg.start_step <= s && s <= cfg.stop_step; };
  if (in_range(Step::kSpatialLdsc)) {
    for (const auto& t : traits_of(cfg.ldsc)) io::check_sumstats_header(t.sumstats_path);
    const auto& w = cfg.ldsc.snp_gene_weight_adata_path;
    std::error_code ec;
    if (!fs::is_regular_file(w, ec)) {
      throw InputError(w, "", "SNP-gene weight matrix not found",
                       "check --snp-gene-weight-adata-path");
    }
  }
  if (in_range(Step::kCauchyCombination) && in_range(Step::kLatentToGene)) {
    // The Cauchy annotations come from the samples' obs (carried into marker_scores.h5ad).
    const auto paths = LatentToGenePaths::of(cfg.common);
    const auto annotations = cauchy_annotations(cfg.cauchy);
    if (io::is_complete(paths.marker_scores)) {
      require_obs_columns(io::H5adReader(paths.marker_scores), annotations,
                          "--annotation / --cauchy-annotations");
    } else {
      const auto& c = cfg.l2g;
      for (const auto& s : io::resolve_samples(c.h5ad_path, c.h5ad_yaml, c.h5ad_list_file,
                                               paths.find_latent_metadata)) {
        require_obs_columns(io::H5adReader(s.path), annotations,
                            "--annotation / --cauchy-annotations");
      }
    }
  }
}

}  // namespace gsmap::pipeline
