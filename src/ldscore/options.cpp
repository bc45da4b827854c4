// Start-up checks of ldscore-weight-matrix (docs/ldscore.md §1, D7).
#include "gsmap/ldscore/options.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/atomic_file.hpp"

namespace gsmap::ldscore {
namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

std::vector<int> parse_chromosomes(const std::string& text) {
  if (text == "all") {
    std::vector<int> all;
    for (int c = 1; c <= 22; ++c) all.push_back(c);
    return all;
  }
  std::vector<int> out;
  std::set<int> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    std::string token = text.substr(start, end - start);
    token.erase(0, token.find_first_not_of(' '));
    token.erase(token.find_last_not_of(' ') + 1);
    int value = 0;
    const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (token.empty() || ec != std::errc() || ptr != token.data() + token.size() || value < 1) {
      throw UsageError(fmt::format(
          "--chromosomes {}: '{}' is not a chromosome number (allowed: all, or a comma-separated "
          "list of positive integers such as 22 or 1,2,22; no ranges, no X)",
          text, token));
    }
    if (!seen.insert(value).second) {
      throw UsageError(fmt::format("--chromosomes {}: chromosome {} is listed twice", text, value));
    }
    out.push_back(value);
    start = end + 1;
  }
  return out;
}

void require_directory(const std::string& path, const std::string& option) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    throw UsageError(fmt::format("--{} {}: not an existing directory", option, path));
  }
}

void require_file(const std::string& path, const std::string& option) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw UsageError(fmt::format("--{} {}: no such file", option, path));
  }
}

}  // namespace

std::string bfile_prefix(const std::string& root, int chromosome) {
  const std::string templ = root.find("{chr}") == std::string::npos ? root + ".{chr}" : root;
  return replace_all(templ, "{chr}", std::to_string(chromosome));
}

std::string annot_path(const std::string& templ, int chromosome) {
  return replace_all(replace_all(templ, "{chromosome}", std::to_string(chromosome)), "{chr}",
                     std::to_string(chromosome));
}

void check_options(Options& o) {
  if (o.bfile_root.empty()) {
    throw UsageError("--bfile-root is required (the PLINK prefix, with {chr} for the chromosome: "
                     "e.g. data/1000G.EUR.QC.{chr})");
  }
  if (o.bfile_root.find("{chr}") == std::string::npos) {
    o.warnings.push_back(fmt::format("--bfile-root {} has no {{chr}}: using {}.{{chr}}",
                                     o.bfile_root, o.bfile_root));
  }
  if (o.hm3_snp_dir.empty()) {
    throw UsageError("--hm3-snp-dir is required (the folder of per-chromosome regression-SNP "
                     "lists, e.g. hm.22.snp)");
  }
  require_directory(o.hm3_snp_dir, "hm3-snp-dir");
  if (o.output_dir.empty()) throw UsageError("--output-dir is required (created if missing)");
  io::require_safe_name(o.output_filename, "--output-filename");

  if (o.mapping_type == "bed") {
    o.mapping = MappingType::kBed;
  } else if (o.mapping_type == "dict") {
    o.mapping = MappingType::kDict;
  } else {
    throw UsageError(fmt::format("--mapping-type: '{}' is not a known value (allowed: bed, dict)",
                                 o.mapping_type));
  }
  static const std::pair<const char*, Strategy> kStrategies[] = {
      {"score", Strategy::kScore},
      {"tss", Strategy::kTss},
      {"center", Strategy::kCenter},
      {"allow_repeat", Strategy::kAllowRepeat}};
  bool known = false;
  for (const auto& [name, value] : kStrategies) {
    if (o.strategy == name) {
      o.strategy_kind = value;
      known = true;
    }
  }
  if (!known) {
    throw UsageError(fmt::format(
        "--strategy: '{}' is not a known value (allowed: score, tss, center, allow_repeat)",
        o.strategy));
  }
  const std::string unit = upper(o.ld_unit);
  if (unit == "CM") {
    o.unit = LdUnit::kCm;
  } else if (unit == "KB") {
    o.unit = LdUnit::kKb;
  } else if (unit == "SNP") {
    o.unit = LdUnit::kSnp;
  } else {
    throw UsageError(
        fmt::format("--ld-unit: '{}' is not a known value (allowed: CM, KB, SNP)", o.ld_unit));
  }
  if (o.ld_window_mode == "batch") {
    o.window = WindowMode::kBatch;
  } else if (o.ld_window_mode == "snp") {
    o.window = WindowMode::kSnp;
  } else {
    throw UsageError(fmt::format(
        "--ld-window-mode: '{}' is not a known value (allowed: batch, snp)", o.ld_window_mode));
  }
  if (!(o.ld_wind >= 0)) throw UsageError("--ld-wind must be >= 0");
  if (o.feature_window_size < 0) throw UsageError("--feature-window-size must be >= 0");
  if (o.batch_size_hm3 < 1) throw UsageError("--batch-size-hm3 must be >= 1");
  o.chromosome_list = parse_chromosomes(o.chromosomes);

  if (!o.annot_file.empty()) {
    if (!o.mapping_file.empty()) {
      o.warnings.push_back("--annot-file takes precedence: --mapping-file " + o.mapping_file +
                           " is not used");
    }
  } else if (o.mapping_file.empty()) {
    throw UsageError("give --mapping-file (a BED of features, or with --mapping-type dict a SNP -> "
                     "feature table) or --annot-file (per-chromosome annotation matrices)");
  } else {
    require_file(o.mapping_file, "mapping-file");
  }
  if (!o.omics_h5ad_path.empty()) {
    require_file(o.omics_h5ad_path, "omics-h5ad-path");
    o.warnings.push_back("--omics-h5ad-path " + o.omics_h5ad_path +
                         " is accepted for compatibility and not read");
  }
  if (o.w_ld_dir.empty()) o.w_ld_dir = o.output_dir + "/w_ld";
  if (o.kernel == "auto") {
    o.kernel_kind = Kernel::kAuto;
  } else if (o.kernel == "eigen") {
    o.kernel_kind = Kernel::kEigen;
  } else if (o.kernel == "blocked") {
    o.kernel_kind = Kernel::kBlocked;
  } else {
    throw UsageError(fmt::format(
        "--ldscore-kernel: '{}' is not a known value (allowed: auto, eigen, blocked)", o.kernel));
  }
  if (o.compute_workers < 0) throw UsageError("--ldscore-compute-workers must be >= 0");
}

}  // namespace gsmap::ldscore
