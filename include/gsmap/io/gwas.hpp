#pragma once
// GWAS-side inputs of spatial LDSC: summary statistics, trait declarations, LD weights
// (docs/algorithms.md §6.1, §6.4, §6.5).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gsmap::io {

// Parsed .sumstats[.gz]: columns SNP, Z, N (+ optional A1/A2). '.' / 'NA' = missing (NaN).
// Duplicated SNPs keep the first occurrence. Rows with missing N are dropped
// (docs/algorithms.md §6.4); rows with missing Z are kept (NaN chi2 fails the chi2 filter later).
struct SumStats {
  std::string path;
  std::vector<std::string> snp;
  std::vector<float> z;
  std::vector<float> n;
  std::int64_t n_rows_read = 0;
  std::int64_t n_duplicates_dropped = 0;
  std::int64_t n_missing_n_dropped = 0;
  std::int64_t n_missing_z = 0;
};
// InputError: missing file, empty file, no SNP/Z/N column (names the missing column and lists the
// header found), non-numeric Z or N (names the line), truncated gzip.
SumStats read_sumstats(const std::string& path);
// The header checks of read_sumstats alone (format, SNP/Z/N columns), for start-up checks of
// later steps: reads only up to the header line.
void check_sumstats_header(const std::string& path);

// chi2 filter (docs/algorithms.md §6.4): chisq_max given, else max(0.001 * max N, 80).
double default_chisq_max(const SumStats& s);

// Traits in declaration order: --trait-name + --sumstats-file, or --sumstats-config-file (YAML
// mapping trait -> path, relative paths resolved against the YAML's folder; every file must exist).
struct Trait {
  std::string name;
  std::string sumstats_path;
};
std::vector<Trait> traits_from_yaml(const std::string& yaml_path);

// LD weights: weights.<chr>.l2.ldscore[.gz] for chr 1..22, read in chromosome order; rows sorted by
// CHR, BP when present; MAF/CM/Gene/TSS/CHR/BP dropped; first remaining column = SNP, second = L2.
// Duplicate SNPs keep the first (warning). Fewer than 22 files -> warning.
struct LdWeights {
  std::vector<std::string> snp;
  std::vector<float> weight;
  std::vector<int> chromosomes_found;
};
LdWeights read_ld_weights(const std::string& dir);

}  // namespace gsmap::io
