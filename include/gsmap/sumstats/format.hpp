#pragma once
// `gsmap-mpi format-sumstats`: a raw GWAS table munged into gsMap's `<out>.sumstats.gz`
// (SNP A1 A2 Z N) or a COJO table (docs/sumstats.md). Options keep gsMap3D's names and defaults
// (docs/sumstats.md §1); the steps run in the order of docs/sumstats.md §2-§8. Serial (one process).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gsmap::sumstats {

enum class Format { kGsMap, kCojo };

struct Options {
  std::string sumstats;  // input table (required)
  std::string out;       // output prefix (required): <out>.sumstats.gz or <out>.cojo.gz
  // Names of the input columns holding each quantity (empty: not given).
  std::string snp, a1, a2, info, beta, se, p, frq, z, odds_ratio, se_or;
  std::string n;  // a number (constant sample size) or the name of the N column
  std::string chr = "Chr";
  std::string pos = "Pos";
  std::string dbsnp;  // chromosome/position -> rsID table (docs/sumstats.md §5)
  std::int64_t chunksize = 1000000;  // accepted for gsMap3D's command lines; no effect
  Format format = Format::kGsMap;
  double info_min = 0.9;
  double maf_min = 0.01;
  bool keep_chr_pos = false;
};

// The start-up rules (UsageError): required options. Reads no file.
void check_options(const Options& options);

// --n: a numeric literal is a constant sample size (an integer literal gives an integer column),
// anything else a column name (docs/sumstats.md §1, F4).
struct ConstantN {
  bool is_constant = false;
  bool is_integer = false;
  double value = 0;
};
ConstantN parse_constant_n(const std::string& text);

// What a run did (the log's numbers; docs/sumstats.md §7).
struct Summary {
  std::string output_path;
  std::int64_t rows_read = 0;
  std::int64_t rsid_unmatched = 0;  // rows dropped by the chromosome/position -> rsID step
  std::int64_t removed_missing = 0;
  std::int64_t removed_info = 0;
  std::int64_t removed_frq = 0;
  std::int64_t removed_p = 0;
  std::int64_t removed_alleles = 0;
  std::int64_t removed_duplicates = 0;
  std::int64_t removed_n = 0;
  std::int64_t removed_nonfinite_z = 0;
  std::int64_t rows_written = 0;
  std::int64_t info_out_of_range = 0;  // warning: INFO outside [0, 2]
  std::int64_t frq_out_of_range = 0;   // warning: FRQ outside [0, 1]
  double n_min = 0;                    // q90(N) / 1.5
  double mean_chisq = 0, lambda_gc = 0, max_chisq = 0;
  std::int64_t chisq_over_29 = 0;
  std::string z_source;  // "Z", "P", "BETA/SE"
  std::string n_source;  // "column", "--n", "N_CAS+N_CON"
  // Column -> values that are not numbers, treated as missing (F2).
  std::vector<std::pair<std::string, std::int64_t>> unparsable;
  // Column -> rows of the missing-value filter with a missing value there (F9).
  std::vector<std::pair<std::string, std::int64_t>> missing_by_column;
};

// Reads, checks, filters and writes `<out>.sumstats.gz` / `<out>.cojo.gz` atomically (gzip with
// mtime 0). Every problem of the header is an InputError before any data row is used; nothing is
// written on error.
Summary format_sumstats(const Options& options);

}  // namespace gsmap::sumstats
