#include "gsmap/io/gwas.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::io {
namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::vector<std::string> to_strings(const std::vector<std::string_view>& views) {
  return {views.begin(), views.end()};
}

int find_column(const std::vector<std::string>& header, std::string_view name) {
  auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

// The ids of all rows of a file in one buffer while it is read: one growing char array instead of
// a std::string per row, which a 10-million-row file would reallocate and move many times over.
class IdArena {
 public:
  void add(std::string_view id) {
    chars_.append(id);
    ends_.push_back(chars_.size());
  }
  std::size_t size() const { return ends_.size(); }
  std::string_view operator[](std::size_t i) const {
    const std::size_t begin = i ? ends_[i - 1] : 0;
    return {chars_.data() + begin, ends_[i] - begin};
  }

 private:
  std::string chars_;
  std::vector<std::size_t> ends_;
};

// Tells whether a row's id is seen for the first time. Open addressing over 8-byte (hash tag,
// row) slots at load <= 0.75: a 10-million-SNP file is deduplicated with about one cache miss per
// row in 128 MiB, where std::unordered_set's nodes cost several misses and far more memory.
class FirstOccurrenceFilter {
 public:
  explicit FirstOccurrenceFilter(const IdArena& ids) : ids_(ids) {
    if (ids.size() >= kEmpty) {
      throw std::length_error(fmt::format("{} rows: more than 2^32 - 1 per file", ids.size()));
    }
    std::size_t cap = 16;
    while (cap * 3 < ids.size() * 4) cap <<= 1;
    slots_.assign(cap, Slot{0, kEmpty});
    mask_ = cap - 1;
  }
  bool insert(std::size_t row) {
    const std::string_view id = ids_[row];
    const std::uint64_t h = std::hash<std::string_view>{}(id);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.row == kEmpty) {
        s = Slot{tag, static_cast<std::uint32_t>(row)};
        return true;
      }
      if (s.tag == tag && ids_[s.row] == id) return false;
    }
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  struct Slot {
    std::uint32_t tag;
    std::uint32_t row;
  };
  const IdArena& ids_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

template <typename T>
void select_in_place(std::vector<T>& v, const std::vector<std::size_t>& keep) {
  // keep is increasing, so moving forward in place is safe.
  for (std::size_t j = 0; j < keep.size(); ++j) {
    if (keep[j] != j) v[j] = std::move(v[keep[j]]);
  }
  v.resize(keep.size());
}

[[noreturn]] void throw_not_a_number(const std::string& path, std::int64_t line,
                                     std::string_view column, std::string_view token) {
  throw InputError(path, fmt::format("line {}, column {}", line, column),
                   fmt::format("'{}' is not a number", token),
                   "the column must hold numbers; '.' or 'NA' mark a missing value");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Summary statistics

namespace {

// The header of a sumstats file (the first non-blank line) and its SNP, Z, N columns; the reader is
// left on the first data line. InputError for bzip2, an empty file or missing columns.
struct SumstatsHeader {
  std::vector<std::string> names;
  int snp = -1, z = -1, n = -1;
};
SumstatsHeader read_sumstats_header(const std::string& path, LineReader& reader) {
  std::string_view line;
  std::vector<std::string_view> fields;
  do {
    if (!reader.next_view(line)) {
      throw InputError(path, "", "empty file: no header line",
                       "summary statistics need a header with columns SNP, Z and N (as written "
                       "by `gsmap-mpi format-sumstats`)");
    }
    split_whitespace(line, fields);
  } while (fields.empty());
  const std::int64_t header_line = reader.line_number();
  SumstatsHeader h;
  h.names = to_strings(fields);
  h.snp = find_column(h.names, "SNP");
  h.z = find_column(h.names, "Z");
  h.n = find_column(h.names, "N");
  std::vector<std::string> missing;
  if (h.snp < 0) missing.emplace_back("SNP");
  if (h.z < 0) missing.emplace_back("Z");
  if (h.n < 0) missing.emplace_back("N");
  if (!missing.empty()) {
    throw InputError(path, fmt::format("header (line {})", header_line),
                     fmt::format("missing required column(s) {}; the header found is: {}",
                                 join(missing, ", "), join(h.names, " ")),
                     "the file needs whitespace-separated columns SNP, Z and N (exact, "
                     "case-sensitive names); convert raw GWAS files with `gsmap-mpi format-sumstats`");
  }
  return h;
}

void refuse_bzip2(const std::string& path) {
  if (path.ends_with(".bz2")) {
    throw InputError(path, "", "bzip2-compressed summary statistics are not supported",
                     "decompress it (bunzip2) or recompress it with gzip");
  }
}

}  // namespace

void check_sumstats_header(const std::string& path) {
  refuse_bzip2(path);
  LineReader reader(path);
  read_sumstats_header(path, reader);
}

SumStats read_sumstats(const std::string& path) {
  refuse_bzip2(path);
  LineReader reader(path);
  const SumstatsHeader h = read_sumstats_header(path, reader);
  const std::vector<std::string>& header = h.names;
  const int col_snp = h.snp, col_z = h.z, col_n = h.n;
  std::string_view line;
  std::vector<std::string_view> fields;

  SumStats s;
  s.path = path;
  IdArena snp;
  std::vector<float> z;
  std::vector<float> n;
  const std::size_t ncols = header.size();
  while (reader.next_view(line)) {
    split_whitespace(line, fields);
    if (fields.empty()) continue;  // blank lines are skipped, as pandas does
    if (fields.size() != ncols) {
      throw InputError(
          path, fmt::format("line {}", reader.line_number()),
          fmt::format("{} fields, but the header has {} columns", fields.size(), ncols),
          "every row needs one value per header column; mark missing values with "
          "'NA'");
    }
    double zv = 0, nv = 0;
    if (!parse_number(fields[col_z], zv)) {
      throw_not_a_number(path, reader.line_number(), "Z", fields[col_z]);
    }
    if (!parse_number(fields[col_n], nv)) {
      throw_not_a_number(path, reader.line_number(), "N", fields[col_n]);
    }
    // Values that would silently change every p value (docs/troubleshooting.md "Summary
    // statistics"): an infinite Z, or an N that is not a positive finite number. A missing Z or N
    // ('NA', '.') keeps its documented rule (missing N: row dropped; missing Z: fails chi2 filter).
    if (std::isinf(zv)) {
      throw InputError(path, fmt::format("line {}, column Z", reader.line_number()),
                       fmt::format("Z = '{}' is infinite", fields[col_z]),
                       "Z must be a finite z-score; fix or remove the row ('NA' marks a "
                       "missing Z, which drops the row)");
    }
    if (!std::isnan(nv) && !(nv > 0.0 && std::isfinite(nv))) {
      throw InputError(path, fmt::format("line {}, column N", reader.line_number()),
                       fmt::format("N = '{}' is not a positive sample size", fields[col_n]),
                       "N is the GWAS sample size of the SNP and must be > 0; fix the column "
                       "(re-run `gsmap-mpi format-sumstats` with the right --n) or mark it 'NA' to "
                       "drop the row");
    }
    snp.add(fields[col_snp]);
    // pandas reads float64 and the reference converts to f32: round through double the same way.
    z.push_back(static_cast<float>(zv));
    n.push_back(static_cast<float>(nv));
  }
  s.n_rows_read = static_cast<std::int64_t>(snp.size());
  if (snp.size() == 0) {
    throw InputError(path, "", "no data rows after the header", "check that the file is complete");
  }

  // 1) duplicated SNP ids: keep the first occurrence (the reference's rule); 2) rows with missing
  // N: dropped (docs/algorithms.md §6.4; the reference would poison the regression weights with
  // NaN).
  std::vector<std::size_t> keep;
  keep.reserve(snp.size());
  std::string first_dup;
  {
    FirstOccurrenceFilter filter(snp);
    for (std::size_t i = 0; i < snp.size(); ++i) {
      if (!filter.insert(i)) {
        if (s.n_duplicates_dropped++ == 0) first_dup = snp[i];
      } else if (std::isnan(n[i])) {
        ++s.n_missing_n_dropped;
      } else {
        keep.push_back(i);
      }
    }
  }
  s.snp.reserve(keep.size());
  for (std::size_t i : keep) s.snp.emplace_back(snp[i]);
  select_in_place(z, keep);
  select_in_place(n, keep);
  s.n_missing_z = std::count_if(z.begin(), z.end(), [](float v) { return std::isnan(v); });
  s.z = std::move(z);
  s.n = std::move(n);

  GSMAP_LOG_INFO(
      "{}: {} rows read, {} SNPs kept ({} duplicated SNP rows dropped, {} rows with "
      "missing N dropped, {} with missing Z)",
      path, s.n_rows_read, s.snp.size(), s.n_duplicates_dropped, s.n_missing_n_dropped,
      s.n_missing_z);
  if (s.n_duplicates_dropped > 0) {
    GSMAP_LOG_WARN("{}: {} duplicated SNP rows (first: {}); the first occurrence of each is kept",
                   path, s.n_duplicates_dropped, first_dup);
  }
  if (s.n_missing_n_dropped > 0) {
    GSMAP_LOG_WARN("{}: {} rows have a missing N and were dropped", path, s.n_missing_n_dropped);
  }
  return s;
}

double default_chisq_max(const SumStats& s) {
  double max_n = -std::numeric_limits<double>::infinity();
  for (float v : s.n) {
    if (!std::isnan(v)) max_n = std::max(max_n, static_cast<double>(v));
  }
  return std::max(0.001 * max_n, 80.0);
}

// ---------------------------------------------------------------------------------------------
// Trait declarations

std::vector<Trait> traits_from_yaml(const std::string& yaml_path) {
  std::error_code ec;
  if (!fs::exists(yaml_path, ec)) {
    throw InputError(yaml_path, "", "sumstats config file not found",
                     "check --sumstats-config-file");
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(yaml_path);
  } catch (const YAML::ParserException& e) {
    throw InputError(yaml_path, fmt::format("line {}", e.mark.line + 1),
                     fmt::format("invalid YAML ({})", e.msg),
                     "write one 'trait_name: path/to/file.sumstats.gz' per line");
  } catch (const YAML::Exception& e) {
    throw InputError(yaml_path, "", fmt::format("cannot read the YAML file ({})", e.what()));
  }
  if (!root.IsMap() || root.size() == 0) {
    throw InputError(yaml_path, "", "expected a non-empty mapping of trait name to sumstats file",
                     "write one 'trait_name: path/to/file.sumstats.gz' per line");
  }
  const fs::path base = fs::path(yaml_path).parent_path();
  std::vector<Trait> traits;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
      throw InputError(yaml_path, fmt::format("line {}", kv.first.Mark().line + 1),
                       "each entry must be 'trait_name: path'", "remove nested lists or maps");
    }
    std::string name = kv.first.as<std::string>();
    fs::path p(kv.second.as<std::string>());
    if (p.is_relative() && !base.empty()) p = base / p;
    const std::string resolved = p.lexically_normal().string();
    if (!fs::exists(resolved, ec)) {
      throw InputError(yaml_path, fmt::format("trait '{}'", name),
                       fmt::format("sumstats file not found: {}", resolved),
                       "fix the path (relative paths are resolved against the YAML file's "
                       "folder)");
    }
    auto dup =
        std::find_if(traits.begin(), traits.end(), [&](const Trait& t) { return t.name == name; });
    if (dup != traits.end()) {
      // Python dict semantics: the later path wins, the first position is kept.
      GSMAP_LOG_WARN("{}: trait '{}' is listed twice; using the later path {}", yaml_path, name,
                     resolved);
      dup->sumstats_path = resolved;
    } else {
      traits.push_back({std::move(name), resolved});
    }
  }
  return traits;
}

// ---------------------------------------------------------------------------------------------
// LD weights

namespace {

// weights.<chr>.l2.ldscore<anything> -> chr (1..22), else 0.
int ld_weight_chromosome(const std::string& name) {
  constexpr std::string_view kPrefix = "weights.";
  constexpr std::string_view kSuffix = ".l2.ldscore";
  if (!name.starts_with(kPrefix)) return 0;
  const char* p = name.data() + kPrefix.size();
  const char* end = name.data() + name.size();
  int chr = 0;
  auto res = std::from_chars(p, end, chr);
  if (res.ec != std::errc() || res.ptr == p) return 0;
  if (!std::string_view(res.ptr, static_cast<std::size_t>(end - res.ptr)).starts_with(kSuffix)) {
    return 0;
  }
  return (chr >= 1 && chr <= 22) ? chr : 0;
}

struct LdRows {
  IdArena snp;
  std::vector<float> weight;
  std::vector<double> chr;
  std::vector<double> bp;
  bool all_have_chr_bp = true;
};

void read_ld_weight_file(const std::string& path, LdRows& rows) {
  LineReader reader(path);
  std::string_view line;
  std::vector<std::string_view> fields;
  if (!reader.next_view(line)) {
    throw InputError(path, "", "empty file: no header line",
                     "an LD-weight file is tab-separated with a header such as "
                     "CHR SNP BP CM MAF L2");
  }
  split_char(line, '\t', fields);
  const std::vector<std::string> header = to_strings(fields);
  static const std::unordered_set<std::string_view> kDropped = {"MAF", "CM",  "Gene",
                                                                "TSS", "CHR", "BP"};
  const int col_chr = find_column(header, "CHR");
  const int col_bp = find_column(header, "BP");
  std::vector<int> remaining;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (!kDropped.contains(header[i])) remaining.push_back(static_cast<int>(i));
  }
  if (remaining.size() < 2) {
    throw InputError(path, "header (line 1)",
                     fmt::format("need a SNP column and a weight column besides MAF/CM/Gene/TSS/"
                                 "CHR/BP; the header found is: {}",
                                 join(header, " ")),
                     "the file must be tab-separated, e.g. CHR SNP BP CM MAF L2");
  }
  const int col_snp = remaining[0];
  const int col_w = remaining[1];
  const bool has_chr_bp = col_chr >= 0 && col_bp >= 0;
  if (!has_chr_bp) rows.all_have_chr_bp = false;

  while (reader.next_view(line)) {
    if (line.empty()) continue;
    split_char(line, '\t', fields);
    if (fields.size() != header.size()) {
      throw InputError(path, fmt::format("line {}", reader.line_number()),
                       fmt::format("{} tab-separated fields, but the header has {} columns",
                                   fields.size(), header.size()),
                       "the file must be tab-separated with one value per header column");
    }
    double w = 0;
    if (!parse_number(fields[col_w], w)) {
      throw_not_a_number(path, reader.line_number(), header[col_w], fields[col_w]);
    }
    if (!std::isfinite(w)) {
      throw InputError(path, fmt::format("line {}, column {}", reader.line_number(), header[col_w]),
                       fmt::format("LD weight '{}' is missing or infinite", fields[col_w]),
                       "every row of an LD-weight file needs a finite weight; fix or remove the "
                       "row, or use the weights_hm3_no_hla files that gsMap ships");
    }
    rows.snp.add(fields[col_snp]);
    rows.weight.push_back(static_cast<float>(w));
    if (has_chr_bp) {
      double c = 0, b = 0;
      if (!parse_number(fields[col_chr], c)) {
        throw_not_a_number(path, reader.line_number(), "CHR", fields[col_chr]);
      }
      if (!parse_number(fields[col_bp], b)) {
        throw_not_a_number(path, reader.line_number(), "BP", fields[col_bp]);
      }
      rows.chr.push_back(c);
      rows.bp.push_back(b);
    }
  }
}

// pandas sort_values(['CHR', 'BP']): stable, NaN last.
std::vector<std::size_t> chr_bp_order(const LdRows& rows) {
  std::vector<std::size_t> order(rows.snp.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto less_nan_last = [](double a, double b) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
    return a < b;
  };
  auto before = [&](std::size_t a, std::size_t b) {
    if (less_nan_last(rows.chr[a], rows.chr[b])) return true;
    if (less_nan_last(rows.chr[b], rows.chr[a])) return false;
    return less_nan_last(rows.bp[a], rows.bp[b]);
  };
  // The shipped files are already in (CHR, BP) order: checking is cheaper than sorting.
  if (!std::is_sorted(order.begin(), order.end(), before)) {
    std::stable_sort(order.begin(), order.end(), before);
  }
  return order;
}

}  // namespace

LdWeights read_ld_weights(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError(dir, "", "LD-weight directory not found",
                     "pass --w-ld-dir with the folder of weights.<chr>.l2.ldscore.gz files "
                     "(e.g. weights_hm3_no_hla)");
  }
  // chromosome -> file names (sorted, so the choice among duplicates is deterministic).
  std::map<int, std::vector<std::string>> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const int chr = ld_weight_chromosome(name);
    if (chr > 0 && !entry.is_directory(ec)) files[chr].push_back(entry.path().string());
  }
  if (files.empty()) {
    throw InputError(dir, "", "no LD-weight files (weights.<chr>.l2.ldscore[.gz], chr 1-22)",
                     "pass --w-ld-dir with the folder of weights.<chr>.l2.ldscore.gz files");
  }

  LdRows rows;
  LdWeights out;
  for (auto& [chr, names] : files) {
    std::sort(names.begin(), names.end());
    const std::string& path = names.front();
    if (names.size() > 1) {
      GSMAP_LOG_WARN("{}: {} files for chromosome {}; using {}", dir, names.size(), chr, path);
    }
    if (path.ends_with(".feather") || path.ends_with(".parquet")) {
      throw InputError(path, "", "Feather/Parquet LD-weight files are not supported",
                       "convert them to tab-separated .l2.ldscore.gz text files");
    }
    if (path.ends_with(".bz2")) {
      throw InputError(path, "", "bzip2-compressed LD-weight files are not supported",
                       "decompress them (bunzip2) or recompress them with gzip");
    }
    read_ld_weight_file(path, rows);
    out.chromosomes_found.push_back(chr);
  }
  if (out.chromosomes_found.size() < 22) {
    GSMAP_LOG_WARN(
        "{}: LD weights found for only {} of 22 chromosomes; SNPs on the others are "
        "not used",
        dir, out.chromosomes_found.size());
  }
  if (rows.snp.size() == 0) {
    throw InputError(dir, "", "the LD-weight files hold no data rows",
                     "check that the files are complete");
  }

  std::vector<std::size_t> order;
  if (rows.all_have_chr_bp) {
    order = chr_bp_order(rows);
  } else {
    order.resize(rows.snp.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
  }
  std::vector<std::size_t> keep;
  keep.reserve(order.size());
  std::int64_t duplicates = 0;
  std::string first_dup;
  {
    FirstOccurrenceFilter filter(rows.snp);
    for (std::size_t i : order) {
      if (filter.insert(i)) {
        keep.push_back(i);
      } else if (duplicates++ == 0) {
        first_dup = rows.snp[i];
      }
    }
  }
  out.snp.reserve(keep.size());
  out.weight.reserve(keep.size());
  for (std::size_t i : keep) {
    out.snp.emplace_back(rows.snp[i]);
    out.weight.push_back(rows.weight[i]);
  }
  if (duplicates > 0) {
    GSMAP_LOG_WARN(
        "{}: {} duplicated SNP ids in the LD weights (first: {}); the first occurrence "
        "of each is kept",
        dir, duplicates, first_dup);
  }
  GSMAP_LOG_INFO("{}: LD weights for {} SNPs on {} chromosomes", dir, out.snp.size(),
                 out.chromosomes_found.size());
  return out;
}

}  // namespace gsmap::io
