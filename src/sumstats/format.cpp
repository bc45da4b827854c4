// format-sumstats (docs/sumstats.md): read a whitespace table, interpret its header, derive Z,
// look rsIDs up from chromosome/position, filter, write gsMap's or COJO's table.
#include "gsmap/sumstats/format.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <boost/math/special_functions/gamma.hpp>
#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::sumstats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- tokens (docs/sumstats.md §2) --------------------------------------------------------------

// '.', 'NA' and pandas' (>= 2.0) default missing-value markers, 'None' included (F11).
bool is_missing(std::string_view t) {
  static constexpr std::string_view kMissing[] = {
      "",       ".",        "NA",    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
      "1.#IND", "1.#QNAN", "<NA>", "N/A",  "NULL",     "NaN", "None",    "n/a",      "nan",  "null"};
  if (t.size() > 8) return false;
  for (std::string_view m : kMissing) {
    if (t == m) return true;
  }
  return false;
}

// An integer literal as pandas reads it: [+-]digits, within int64.
bool parse_int_literal(std::string_view t, std::int64_t& v) {
  const char* p = t.data();
  const char* end = p + t.size();
  if (p < end && *p == '+') ++p;
  if (p == end) return false;
  if (*p == '-' && (t.front() == '+' || p + 1 == end)) return false;
  const auto [ptr, ec] = std::from_chars(p, end, v);
  return ec == std::errc() && ptr == end;
}

// A number as pandas reads it (decimal or scientific, inf/infinity in any case; 'NAN' and other
// NaN spellings that are not missing markers are text). Correctly rounded.
bool parse_float(std::string_view t, double& v) {
  const char* p = t.data();
  const char* end = p + t.size();
  if (p < end && *p == '+') {
    ++p;
    if (p < end && *p == '-') return false;
  }
  if (p == end) return false;
  auto [ptr, ec] = std::from_chars(p, end, v);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    const std::string copy(p, end);
    v = std::strtod(copy.c_str(), nullptr);
    return true;
  }
  return ec == std::errc() && ptr == end && !std::isnan(v);
}

// The type pandas infers for a whole column: integer (every token an integer literal, none
// missing), floating (every non-missing token a number), text otherwise (docs/sumstats.md §2).
enum class Kind { kInt, kFloat, kText };

struct TypeTrack {
  bool all_int = true, all_num = true, any_missing = false;
  void see(std::string_view t) {
    if (is_missing(t)) {
      any_missing = true;
      return;
    }
    if (!all_num) return;
    std::int64_t i = 0;
    if (all_int && parse_int_literal(t, i)) return;
    all_int = false;
    double d = 0;
    if (!parse_float(t, d)) all_num = false;
  }
  Kind kind() const {
    if (!all_num) return Kind::kText;
    return all_int && !any_missing ? Kind::kInt : Kind::kFloat;
  }
};

// ---- header (docs/sumstats.md §3) --------------------------------------------------------------

const std::unordered_map<std::string, std::string>& aliases() {
  static const std::unordered_map<std::string, std::string> table = {
      {"SNP", "SNP"},           {"RS", "SNP"},         {"RSID", "SNP"},
      {"RS_NUMBER", "SNP"},     {"RS_NUMBERS", "SNP"}, {"P", "P"},
      {"PVALUE", "P"},          {"P_VALUE", "P"},      {"PVAL", "P"},
      {"P_VAL", "P"},           {"GC_PVALUE", "P"},    {"p", "P"},
      {"A1", "A1"},             {"ALLELE1", "A1"},     {"ALLELE_1", "A1"},
      {"EFFECT_ALLELE", "A1"},  {"REFERENCE_ALLELE", "A1"}, {"INC_ALLELE", "A1"},
      {"EA", "A1"},             {"A2", "A2"},          {"ALLELE2", "A2"},
      {"ALLELE_2", "A2"},       {"OTHER_ALLELE", "A2"}, {"NON_EFFECT_ALLELE", "A2"},
      {"DEC_ALLELE", "A2"},     {"NEA", "A2"},         {"N", "N"},
      {"NCASE", "N_CAS"},       {"CASES_N", "N_CAS"},  {"N_CASE", "N_CAS"},
      {"N_CASES", "N_CAS"},     {"N_CONTROLS", "N_CON"}, {"N_CAS", "N_CAS"},
      {"N_CON", "N_CON"},       {"NCONTROL", "N_CON"}, {"CONTROLS_N", "N_CON"},
      {"N_CONTROL", "N_CON"},   {"WEIGHT", "N"},       {"ZSCORE", "Z"},
      {"Z-SCORE", "Z"},         {"GC_ZSCORE", "Z"},    {"Z", "Z"},
      {"OR", "OR"},             {"B", "BETA"},         {"BETA", "BETA"},
      {"LOG_ODDS", "LOG_ODDS"}, {"EFFECTS", "BETA"},   {"EFFECT", "BETA"},
      {"b", "BETA"},            {"beta", "BETA"},      {"se", "SE"},
      {"INFO", "INFO"},         {"Info", "INFO"},      {"EAF", "FRQ"},
      {"FRQ", "FRQ"},           {"MAF", "FRQ"},        {"FRQ_U", "FRQ"},
      {"F_U", "FRQ"},           {"frq_A1", "FRQ"},     {"frq", "FRQ"},
      {"freq", "FRQ"},
  };
  return table;
}

// Columns whose values are numbers (F2: a token that is no number is missing there).
bool numeric_role(const std::string& name) {
  for (const char* n : {"BETA", "SE", "P", "Z", "N", "FRQ", "INFO", "OR", "SE_OR", "Pos", "N_CAS",
                        "N_CON"}) {
    if (name == n) return true;
  }
  return false;
}
bool text_role(const std::string& name) {
  return name == "SNP" || name == "A1" || name == "A2" || name == "Chr";
}

struct Column {
  std::string name;      // after aliases and --snp/--a1/... renames
  std::string raw_name;  // in the file (a repeated name as NAME.1, NAME.2, ...)
  int field = -1;        // field of the line; -1: not from the file
  bool numeric = false;  // values kept
  bool text = false;     // tokens kept
  bool derived = false;  // missing = NaN value (constant / computed columns)
  TypeTrack type;
  Kind kind_override = Kind::kText;
  bool has_kind_override = false;
  std::vector<double> values;
  std::string arena;
  std::vector<std::uint64_t> offsets{0};
  std::int64_t unparsable = 0;

  Kind kind() const {
    if (has_kind_override) return kind_override;
    const Kind k = type.kind();
    return numeric && k == Kind::kText ? Kind::kFloat : k;
  }
  std::string_view token(std::int64_t row) const {
    return std::string_view(arena).substr(offsets[row], offsets[row + 1] - offsets[row]);
  }
};

struct Table {
  std::string path;
  std::vector<Column> columns;
  std::int64_t rows = 0;
  std::size_t words = 1;           // missing-mask words per row
  std::vector<std::uint64_t> mask;  // bit c of row r: file column c is missing there

  int find(const std::string& name) const {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
  bool has(const std::string& name) const { return find(name) >= 0; }
  Column& col(const std::string& name) { return columns[static_cast<std::size_t>(find(name))]; }
  bool missing(std::size_t c, std::int64_t row) const {
    const Column& column = columns[c];
    if (column.derived) return std::isnan(column.values[static_cast<std::size_t>(row)]);
    return (mask[static_cast<std::size_t>(row) * words + c / 64] >> (c % 64)) & 1u;
  }
  std::string header_text() const {
    std::string s;
    for (const auto& c : columns) {
      if (c.field < 0) continue;
      if (!s.empty()) s += ' ';
      s += c.raw_name;
    }
    return s;
  }
};

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string fmt3(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// ---- Z (docs/sumstats.md §4) ---------------------------------------------------------------------

// sqrt(chi^2_1 upper-tail quantile of p), signed: chi2.isf(p, 1) = 2 * Q^-1(1/2, p).
double z_from_p(double p, double beta) {
  double chi2 = kNaN;
  if (p == 0) {
    chi2 = std::numeric_limits<double>::infinity();
  } else if (p > 0 && p <= 1) {
    try {
      chi2 = 2.0 * boost::math::gamma_q_inv(0.5, p);
    } catch (const std::exception&) {
      chi2 = std::numeric_limits<double>::infinity();  // p below the smallest representable tail
    }
  }
  return std::sqrt(chi2) * (beta < 0 ? -1.0 : 1.0);
}

// numpy's linear-interpolation quantile (position q * (k - 1), numpy's lerp).
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double h = static_cast<double>(v.size() - 1) * q;
  const double lo = std::floor(h);
  const auto i = static_cast<std::size_t>(lo);
  const std::size_t j = std::min(i + 1, v.size() - 1);
  const double t = h - lo;
  const double a = v[i], b = v[j];
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

double median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const std::size_t k = v.size();
  return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

// ---- reading ----------------------------------------------------------------------------------

void refuse_bzip2(const std::string& path, const char* what) {
  if (path.ends_with("bz2")) {
    throw InputError(path, "", fmt::format("bzip2-compressed {} are not supported", what),
                     "decompress it (bunzip2) or recompress it with gzip");
  }
}

// Header names with repeated ones renamed NAME.1, NAME.2 (F13).
std::vector<std::string> mangle(const std::vector<std::string_view>& fields) {
  std::vector<std::string> names;
  std::unordered_map<std::string, int> seen;
  for (std::string_view f : fields) {
    std::string name(f);
    auto it = seen.find(name);
    if (it != seen.end()) {
      std::string candidate;
      do {
        candidate = fmt::format("{}.{}", name, ++it->second);
      } while (seen.count(candidate));
      seen.emplace(candidate, 0);
      names.push_back(candidate);
    } else {
      seen.emplace(name, 0);
      names.push_back(name);
    }
  }
  return names;
}

// The header: raw names -> constant N -> aliases -> user names -> duplicate check (§3).
void interpret_header(Table& t, const std::vector<std::string>& raw, const Options& o,
                      const ConstantN& n, std::int64_t header_line) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    Column c;
    c.raw_name = raw[i];
    c.name = raw[i];
    c.field = static_cast<int>(i);
    t.columns.push_back(std::move(c));
  }
  if (n.is_constant) {
    // Set before the aliases; a column literally named N is replaced by the constant.
    int idx = t.find("N");
    if (idx < 0) {
      Column c;
      c.name = c.raw_name = "N";
      t.columns.push_back(std::move(c));
      idx = static_cast<int>(t.columns.size()) - 1;
    }
    Column& c = t.columns[static_cast<std::size_t>(idx)];
    c.derived = true;
    c.numeric = true;
    c.has_kind_override = true;
    c.kind_override = n.is_integer ? Kind::kInt : Kind::kFloat;
  }
  for (auto& c : t.columns) {
    auto it = aliases().find(c.name);
    if (it != aliases().end()) c.name = it->second;
  }
  const std::string n_name = n.is_constant ? std::string("N") : o.n;
  const std::pair<const char*, const std::string*> renames[] = {
      {"SNP", &o.snp}, {"A1", &o.a1},    {"A2", &o.a2},    {"INFO", &o.info},
      {"BETA", &o.beta}, {"SE", &o.se},  {"P", &o.p},      {"FRQ", &o.frq},
      {"N", &n_name},  {"Z", &o.z},      {"Chr", &o.chr},  {"Pos", &o.pos},
      {"OR", &o.odds_ratio}, {"SE_OR", &o.se_or}};
  for (const auto& [canonical, given] : renames) {
    if (given->empty()) continue;
    bool found = false;
    for (auto& c : t.columns) {
      if (c.name == *given) {
        c.name = canonical;
        found = true;
      }
    }
    // gsMap3D ignores such a name silently; say so (the defaults Chr/Pos are often absent).
    const bool default_name = (std::string(canonical) == "Chr" && *given == "Chr") ||
                              (std::string(canonical) == "Pos" && *given == "Pos");
    if (!found && !default_name && !(std::string(canonical) == "N" && n.is_constant)) {
      GSMAP_LOG_WARN("{}: no column '{}' in the header after gsMap's aliases (a name an alias "
                     "already renamed is not found): the option naming the {} column is ignored",
                     t.path, *given, canonical);
    }
  }
  for (const auto& c : t.columns) {
    std::vector<std::string> sources;
    for (const auto& d : t.columns) {
      if (d.name == c.name) sources.push_back(d.field < 0 ? "--n" : d.raw_name);
    }
    if (sources.size() > 1) {
      throw InputError(t.path, fmt::format("header (line {})", header_line),
                       fmt::format("Found {} different {} columns ({}), please check your {} "
                                   "column",
                                   sources.size(), c.name, join(sources, ", "), c.name),
                       "keep one of them in the file, or name the one to use with the matching "
                       "option (--p, --n, ...) after renaming the others");
    }
  }
  for (auto& c : t.columns) {
    if (c.derived) continue;
    c.numeric = numeric_role(c.name);
    c.text = text_role(c.name);
  }
  t.words = (t.columns.size() + 63) / 64;
}

// The up-front checks of §4, §5, §7.9: which statistic gives Z, where SNP ids and N come from.
void check_header(const Table& t, const Options& o, std::int64_t header_line) {
  const std::string where = fmt::format("header (line {})", header_line);
  const std::string found = "; the header found is: " + t.header_text();
  const bool odds = t.has("OR") && t.has("SE_OR");
  const bool beta = t.has("BETA") || odds;
  const bool se = t.has("SE") || odds;
  if (o.format == Format::kGsMap) {
    if (!t.has("P") && !t.has("Z") && !(beta && se)) {
      throw InputError(t.path, where,
                       "no statistic to derive Z from: gsMap format needs a Z column, a P column "
                       "(signed by BETA), or BETA and SE" + found,
                       "name the columns with --z, --p, --beta and --se (or --or and --se-or)");
    }
    if (!t.has("Z") && t.has("P") && !beta) {
      throw InputError(t.path, where,
                       "cannot sign Z: give BETA, an OR/SE_OR pair, or Z (the P column alone has "
                       "no direction)" + found,
                       "name the effect column with --beta (or --or and --se-or), or the signed "
                       "statistic with --z");
    }
  } else {
    std::vector<std::string> absent;
    for (const char* c : {"A1", "A2", "FRQ", "BETA", "SE", "P", "N"}) {
      const bool present = std::string(c) == "BETA" ? beta : std::string(c) == "SE" ? se : t.has(c);
      const bool n_ok = std::string(c) == "N" && t.has("N_CAS") && t.has("N_CON");
      if (!present && !n_ok) absent.push_back(c);
    }
    if (!absent.empty()) {
      throw InputError(t.path, where,
                       "COJO format needs the columns A1, A2, FRQ, BETA, SE, P and N; missing: " +
                           join(absent, ", ") + found,
                       "name them with --a1, --a2, --frq, --beta, --se, --p, --n");
    }
  }
  if (!t.has("SNP")) {
    if (!(t.has("Chr") && t.has("Pos"))) {
      throw InputError(t.path, where,
                       fmt::format("no SNP id column, and not both a chromosome column ('{}') and "
                                   "a position column ('{}') to look rsIDs up from{}",
                                   o.chr, o.pos, found),
                       "name the id column with --snp, or the chromosome and position columns "
                       "with --chr and --pos together with --dbsnp");
    }
    if (o.dbsnp.empty()) {
      throw InputError(t.path, where,
                       "no SNP id column: rsIDs must be looked up from chromosome and position, "
                       "which needs a dbSNP table",
                       "give --dbsnp TABLE (TAB-separated chr pos ref alt rsid, one header line), "
                       "or name the id column with --snp");
    }
  }
  if (!t.has("N") && !(t.has("N_CAS") && t.has("N_CON"))) {
    throw InputError(t.path, where,
                     "no sample size: no N column (N, WEIGHT), no numeric --n, and not both case "
                     "and control counts" + found,
                     "give the sample size with --n 50000, or name the N column with --n NAME");
  }
  for (const char* a : {"A1", "A2"}) {
    if (!t.has(a)) {
      throw InputError(t.path, where,
                       fmt::format("no {} column ({} allele){}", a,
                                   std::string(a) == "A1" ? "effect" : "other", found),
                       fmt::format("name it with --{}", std::string(a) == "A1" ? "a1" : "a2"));
    }
  }
}

void read_rows(io::LineReader& in, Table& t) {
  const std::size_t ncol = t.columns.size();
  std::vector<Column*> file_cols(ncol, nullptr);
  std::size_t nfields = 0;
  for (std::size_t c = 0; c < ncol; ++c) {
    if (t.columns[c].field >= 0) {
      file_cols[c] = &t.columns[c];
      ++nfields;
    }
  }
  // Only columns whose type matters are typed; every column's missing values are marked.
  std::vector<bool> typed(ncol);
  for (std::size_t c = 0; c < ncol; ++c) {
    const Column& col = t.columns[c];
    typed[c] = col.numeric || col.text;
  }
  std::vector<std::string_view> fields;
  std::string_view line;
  std::vector<std::uint64_t> row_mask(t.words);
  while (in.next_view(line)) {
    io::split_whitespace(line, fields);
    if (fields.empty()) continue;  // blank line
    if (fields.size() > nfields) {
      throw InputError(t.path, fmt::format("line {}", in.line_number()),
                       fmt::format("{} fields, but the header has {} columns", fields.size(),
                                   nfields),
                       "every line needs one value per header column (missing values as NA)");
    }
    std::fill(row_mask.begin(), row_mask.end(), 0);
    for (std::size_t c = 0; c < ncol; ++c) {
      Column* col = file_cols[c];
      if (!col || col->derived) {
        continue;  // not in the file, or replaced by the constant --n
      }
      const auto f = static_cast<std::size_t>(col->field);
      const std::string_view tok = f < fields.size() ? fields[f] : std::string_view();
      const bool miss = is_missing(tok);
      if (typed[c]) col->type.see(tok);
      if (col->numeric) {
        double v = kNaN;
        if (!miss && !parse_float(tok, v)) {
          ++col->unparsable;  // F2
          v = kNaN;
        }
        col->values.push_back(v);
        if (std::isnan(v)) row_mask[c / 64] |= std::uint64_t{1} << (c % 64);
      } else if (miss) {
        row_mask[c / 64] |= std::uint64_t{1} << (c % 64);
      }
      if (col->text) {
        col->arena.append(tok);
        col->offsets.push_back(col->arena.size());
      }
    }
    t.mask.insert(t.mask.end(), row_mask.begin(), row_mask.end());
    ++t.rows;
  }
}

// ---- rsIDs from chromosome and position (§5, F6) ------------------------------------------------

std::string_view strip_chr(std::string_view c) {
  if (c.size() >= 3 && std::tolower(static_cast<unsigned char>(c[0])) == 'c' &&
      std::tolower(static_cast<unsigned char>(c[1])) == 'h' &&
      std::tolower(static_cast<unsigned char>(c[2])) == 'r') {
    c.remove_prefix(3);
  }
  return c;
}

bool integral_position(double v, std::int64_t& out) {
  if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15) return false;
  out = static_cast<std::int64_t>(v);
  return true;
}

std::string position_key(std::string_view chr, std::int64_t pos) {
  std::string key(strip_chr(chr));
  key += '\t';
  key += std::to_string(pos);
  return key;
}

// Returns the GWAS rows in dbSNP order; `snp` receives their rsIDs (by GWAS row index).
std::vector<std::int64_t> lookup_rsids(const Table& t, const Options& o, Column& snp) {
  const Column& chr = t.columns[static_cast<std::size_t>(t.find("Chr"))];
  const Column& pos = t.columns[static_cast<std::size_t>(t.find("Pos"))];
  const std::size_t chr_index = static_cast<std::size_t>(t.find("Chr"));
  std::unordered_map<std::string, std::int64_t> gwas;  // key -> first row
  gwas.reserve(static_cast<std::size_t>(t.rows));
  for (std::int64_t r = 0; r < t.rows; ++r) {
    std::int64_t p = 0;
    if (t.missing(chr_index, r) || !integral_position(pos.values[static_cast<std::size_t>(r)], p)) {
      continue;
    }
    gwas.emplace(position_key(chr.token(r), p), r);
  }
  refuse_bzip2(o.dbsnp, "dbSNP tables");
  io::LineReader in(o.dbsnp);
  std::string_view line;
  std::vector<std::string_view> fields;
  struct Match {
    std::string rsid;
    bool rsid_missing;
    std::int64_t row;
  };
  std::vector<Match> matches;
  bool first = true;
  while (in.next_view(line)) {
    if (first) {  // the header line is skipped
      first = false;
      continue;
    }
    if (line.empty()) continue;
    io::split_char(line, '\t', fields);
    if (fields.size() < 5) {
      throw InputError(o.dbsnp, fmt::format("line {}", in.line_number()),
                       fmt::format("{} TAB-separated fields; a dbSNP table has 5: chr pos ref alt "
                                   "rsid",
                                   fields.size()),
                       "give a TAB-separated table with one header line and the columns chr, pos, "
                       "ref, alt, rsid");
    }
    double pv = 0;
    std::int64_t p = 0;
    if (is_missing(fields[0]) || !parse_float(fields[1], pv) || !integral_position(pv, p)) continue;
    auto it = gwas.find(position_key(fields[0], p));
    if (it == gwas.end()) continue;
    matches.push_back({std::string(fields[4]), is_missing(fields[4]), it->second});
  }
  // Later copies of an rsID, then later copies of a position, are dropped (dbSNP file order).
  std::vector<std::int64_t> out;
  std::unordered_set<std::string> seen_rsid;
  bool seen_missing = false;
  std::unordered_set<std::int64_t> seen_row;
  std::vector<const Match*> kept;
  for (const auto& m : matches) {
    if (m.rsid_missing ? std::exchange(seen_missing, true) : !seen_rsid.insert(m.rsid).second) {
      continue;
    }
    kept.push_back(&m);
  }
  snp.name = snp.raw_name = "SNP";
  snp.derived = true;
  snp.text = true;
  snp.has_kind_override = true;
  snp.kind_override = Kind::kText;
  snp.values.assign(static_cast<std::size_t>(t.rows), kNaN);  // NaN: no rsID (missing)
  std::vector<std::string_view> id(static_cast<std::size_t>(t.rows));
  for (const Match* m : kept) {
    if (!seen_row.insert(m->row).second) continue;
    out.push_back(m->row);
    if (!m->rsid_missing) {
      snp.values[static_cast<std::size_t>(m->row)] = 0;
      id[static_cast<std::size_t>(m->row)] = m->rsid;
    }
  }
  for (std::int64_t r = 0; r < t.rows; ++r) {
    snp.arena.append(id[static_cast<std::size_t>(r)]);
    snp.offsets.push_back(snp.arena.size());
  }
  return out;
}

// ---- output -----------------------------------------------------------------------------------

void append_cell(std::string& out, const Column& c, std::int64_t row, bool upper, bool g6) {
  const auto r = static_cast<std::size_t>(row);
  char buf[64];
  switch (c.kind()) {
    case Kind::kInt:
      if (c.numeric || c.derived) {
        out += std::to_string(static_cast<std::int64_t>(c.values[r]));
      } else {
        std::int64_t v = 0;
        parse_int_literal(c.token(row), v);
        out += std::to_string(v);
      }
      return;
    case Kind::kFloat: {
      double v = 0;
      if (c.numeric || (c.derived && !c.text)) {
        v = c.values[r];
      } else {
        parse_float(c.token(row), v);
      }
      std::snprintf(buf, sizeof buf, g6 ? "%.6g" : "%.3f", v);
      out += buf;
      return;
    }
    case Kind::kText: {
      const std::string_view tok = c.token(row);
      if (!upper) {
        out += tok;
      } else {
        for (char ch : tok) out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      return;
    }
  }
}

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return u;
}

}  // namespace

ConstantN parse_constant_n(const std::string& text) {
  ConstantN n;
  std::int64_t i = 0;
  double d = 0;
  if (parse_int_literal(text, i)) {
    n.is_constant = n.is_integer = true;
    n.value = static_cast<double>(i);
  } else if (parse_float(text, d) && std::isfinite(d)) {
    n.is_constant = true;
    n.value = d;
  }
  return n;
}

void check_options(const Options& o) {
  if (o.sumstats.empty()) throw UsageError("format-sumstats: --sumstats PATH is required");
  if (o.out.empty()) {
    throw UsageError("format-sumstats: --out PREFIX is required (writes PREFIX.sumstats.gz, or "
                     "PREFIX.cojo.gz with --format COJO)");
  }
}

Summary format_sumstats(const Options& o) {
  check_options(o);
  Summary s;
  s.output_path = o.out + (o.format == Format::kCojo ? ".cojo.gz" : ".sumstats.gz");
  {
    namespace fs = std::filesystem;
    const fs::path parent = fs::path(s.output_path).parent_path();
    std::error_code ec;
    if (!parent.empty() && !fs::is_directory(parent, ec)) {
      throw IoError(fmt::format("--out {}: the folder {} does not exist. Fix: create it first "
                                "(mkdir -p {})",
                                o.out, parent.string(), parent.string()));
    }
    if (!o.dbsnp.empty() && !fs::exists(o.dbsnp, ec)) {
      throw InputError(o.dbsnp, "", "the dbSNP table (--dbsnp) does not exist",
                       "give the path of an existing file");
    }
  }
  const ConstantN n = parse_constant_n(o.n);

  // 1. the table (§2)
  refuse_bzip2(o.sumstats, "summary statistics");
  Table t;
  t.path = o.sumstats;
  io::LineReader in(o.sumstats);
  std::string_view line;
  std::vector<std::string_view> fields;
  std::int64_t header_line = 0;
  while (in.next_view(line)) {
    io::split_whitespace(line, fields);
    if (!fields.empty()) {
      header_line = in.line_number();
      break;
    }
  }
  if (fields.empty()) {
    throw InputError(o.sumstats, "", "the file is empty (no header line)",
                     "give a whitespace-separated table whose first line names the columns");
  }
  // 2.-3. constant N, aliases, user names, duplicates; 4.-5. what the header allows
  interpret_header(t, mangle(fields), o, n, header_line);
  check_header(t, o, header_line);
  {
    std::vector<std::string> roles;
    for (const auto& c : t.columns) {
      if (c.name != c.raw_name) roles.push_back(c.name + " <- " + c.raw_name);
    }
    GSMAP_LOG_INFO("format-sumstats: {}: columns {}{}{}", o.sumstats, t.header_text(),
                   roles.empty() ? "" : "; read as ", join(roles, ", "));
  }
  read_rows(in, t);
  s.rows_read = t.rows;
  GSMAP_LOG_INFO("read {} rows from {}", t.rows, o.sumstats);
  for (auto& c : t.columns) {
    if (c.derived && c.name == "N" && n.is_constant) {
      c.values.assign(static_cast<std::size_t>(t.rows), n.value);
    }
    if (c.unparsable > 0) {
      s.unparsable.emplace_back(c.raw_name, c.unparsable);
      GSMAP_LOG_WARN("column {} ({}): {} value(s) that are not numbers, treated as missing",
                     c.raw_name, c.name, c.unparsable);
    }
  }
  const auto rows_u = static_cast<std::size_t>(t.rows);

  // N (F4)
  if (n.is_constant) {
    s.n_source = "--n";
    GSMAP_LOG_INFO("sample size N = {} for every SNP (--n)", o.n);
  } else if (t.has("N")) {
    s.n_source = "column";
  } else {
    const Column& cas = t.col("N_CAS");
    const Column& con = t.col("N_CON");
    Column c;
    c.name = c.raw_name = "N";
    c.derived = c.numeric = true;
    c.has_kind_override = true;
    c.kind_override =
        cas.kind() == Kind::kInt && con.kind() == Kind::kInt ? Kind::kInt : Kind::kFloat;
    c.values.resize(rows_u);
    for (std::size_t r = 0; r < rows_u; ++r) c.values[r] = cas.values[r] + con.values[r];
    t.columns.push_back(std::move(c));
    s.n_source = "N_CAS+N_CON";
    GSMAP_LOG_INFO("no N column: N = cases ({}) + controls ({})", cas.raw_name, con.raw_name);
  }

  // Odds ratios (§3): BETA = ln OR, SE = ln SE_OR, missing where not > 0.
  if (t.has("OR") && t.has("SE_OR")) {
    const std::pair<const char*, const char*> conv[] = {{"BETA", "OR"}, {"SE", "SE_OR"}};
    for (const auto& [to, from] : conv) {
      std::vector<double> v(rows_u);
      const Column& src = t.col(from);
      for (std::size_t r = 0; r < rows_u; ++r) {
        const double x = src.values[r];
        v[r] = x > 0 ? std::log(x) : kNaN;
      }
      if (!t.has(to)) {
        Column c;
        c.name = c.raw_name = to;
        t.columns.push_back(std::move(c));
      }
      Column& c = t.col(to);
      c.derived = c.numeric = true;
      c.has_kind_override = true;
      c.kind_override = Kind::kFloat;
      c.values = std::move(v);
    }
    GSMAP_LOG_INFO("BETA = ln(OR), SE = ln(SE_OR) from the odds-ratio columns");
  }

  // Z (§4)
  const bool cojo = o.format == Format::kCojo;
  if (t.has("Z") && !cojo) {
    s.z_source = "Z";
  } else {
    std::vector<double> z(rows_u);
    if (t.has("P")) {
      const Column& p = t.col("P");
      const Column& beta = t.col("BETA");
      for (std::size_t r = 0; r < rows_u; ++r) z[r] = z_from_p(p.values[r], beta.values[r]);
      s.z_source = "P";
    } else {
      const Column& beta = t.col("BETA");
      const Column& se = t.col("SE");
      for (std::size_t r = 0; r < rows_u; ++r) z[r] = beta.values[r] / se.values[r];
      s.z_source = "BETA/SE";
    }
    if (!t.has("Z")) {
      Column c;
      c.name = c.raw_name = "Z";
      t.columns.push_back(std::move(c));
    }
    Column& c = t.col("Z");
    c.derived = c.numeric = true;
    c.has_kind_override = true;
    c.kind_override = Kind::kFloat;
    c.values = std::move(z);
  }
  GSMAP_LOG_INFO("Z: {}", s.z_source == "Z"   ? "the Z column as given"
                          : s.z_source == "P" ? "from P, signed by BETA"
                                              : "BETA / SE");

  // Row order: the input's, or dbSNP's after a chromosome/position lookup (§5).
  std::vector<std::int64_t> rows;
  if (!t.has("SNP")) {
    Column snp;
    rows = lookup_rsids(t, o, snp);
    t.columns.push_back(std::move(snp));
    s.rsid_unmatched = t.rows - static_cast<std::int64_t>(rows.size());
    GSMAP_LOG_INFO("rsIDs from {}: {} rows matched; removed {} rows without a match or with a "
                   "repeated chromosome/position",
                   o.dbsnp, rows.size(), s.rsid_unmatched);
  } else {
    rows.resize(rows_u);
    for (std::size_t r = 0; r < rows_u; ++r) rows[r] = static_cast<std::int64_t>(r);
  }

  const auto keep_if = [&rows](auto&& pred) {
    const std::size_t before = rows.size();
    std::vector<std::int64_t> kept;
    kept.reserve(before);
    for (std::int64_t r : rows) {
      if (pred(r)) kept.push_back(r);
    }
    rows = std::move(kept);
    return static_cast<std::int64_t>(before - rows.size());
  };

  // 1. missing values in any column but INFO (F9: counted per column)
  {
    std::vector<std::size_t> checked;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      if (t.columns[c].name != "INFO") checked.push_back(c);
    }
    std::vector<std::int64_t> per_column(t.columns.size(), 0);
    s.removed_missing = keep_if([&](std::int64_t r) {
      bool any = false;
      for (std::size_t c : checked) {
        if (t.missing(c, r)) {
          any = true;
          ++per_column[c];
        }
      }
      return !any;
    });
    std::vector<std::string> parts;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      if (per_column[c] == 0) continue;
      s.missing_by_column.emplace_back(t.columns[c].raw_name, per_column[c]);
      parts.push_back(fmt::format("{} {}", t.columns[c].raw_name, per_column[c]));
    }
    GSMAP_LOG_INFO("removed {} rows with a missing value{}{}{}", s.removed_missing,
                   parts.empty() ? "" : " (rows missing per column: ", join(parts, ", "),
                   parts.empty() ? "" : ")");
  }
  // 2. INFO >= --info-min
  if (t.has("INFO")) {
    const Column& info = t.col("INFO");
    for (std::int64_t r : rows) {
      const double v = info.values[static_cast<std::size_t>(r)];
      if (!std::isnan(v) && (v > 2.0 || v < 0)) ++s.info_out_of_range;
    }
    if (s.info_out_of_range > 0) {
      GSMAP_LOG_WARN("{} SNPs had INFO outside of [0, 2]: is the INFO column mislabeled?",
                     s.info_out_of_range);
    }
    s.removed_info = keep_if([&](std::int64_t r) {
      return info.values[static_cast<std::size_t>(r)] >= o.info_min;
    });
    GSMAP_LOG_INFO("removed {} rows with INFO < {} (or missing)", s.removed_info, o.info_min);
  }
  // 3. 0 <= FRQ <= 1 and MAF > --maf-min
  if (t.has("FRQ")) {
    const Column& frq = t.col("FRQ");
    for (std::int64_t r : rows) {
      const double v = frq.values[static_cast<std::size_t>(r)];
      if (v < 0 || v > 1) ++s.frq_out_of_range;
    }
    if (s.frq_out_of_range > 0) {
      GSMAP_LOG_WARN("{} SNPs had FRQ outside of [0, 1]: is the FRQ column mislabeled?",
                     s.frq_out_of_range);
    }
    s.removed_frq = keep_if([&](std::int64_t r) {
      const double f = frq.values[static_cast<std::size_t>(r)];
      return !(f < 0 || f > 1) && std::min(f, 1 - f) > o.maf_min;
    });
    GSMAP_LOG_INFO("removed {} rows with MAF <= {} or FRQ outside [0, 1]", s.removed_frq,
                   o.maf_min);
  }
  // 4. 0 < P <= 1
  if (t.has("P")) {
    const Column& p = t.col("P");
    s.removed_p = keep_if([&](std::int64_t r) {
      const double v = p.values[static_cast<std::size_t>(r)];
      return v > 0 && v <= 1;
    });
    GSMAP_LOG_INFO("removed {} rows with P outside (0, 1]", s.removed_p);
  }
  // 5. strand-unambiguous SNP alleles (F10: the count of this step alone)
  const Column& a1 = t.col("A1");
  const Column& a2 = t.col("A2");
  {
    static const std::unordered_set<std::string> kValid = {"AC", "AG", "CA", "CT",
                                                           "GA", "GT", "TC", "TG"};
    s.removed_alleles = keep_if([&](std::int64_t r) {
      const std::string_view x = a1.token(r), y = a2.token(r);
      if (x.size() != 1 || y.size() != 1) return false;
      return kValid.count(upper(x) + upper(y)) > 0;
    });
    GSMAP_LOG_INFO("removed {} rows whose alleles are not a strand-unambiguous SNP",
                   s.removed_alleles);
  }
  // 6. duplicate SNP ids: the first is kept
  const Column& snp = t.col("SNP");
  {
    std::unordered_set<std::string> seen;
    seen.reserve(rows.size());
    const Kind kind = snp.kind();
    s.removed_duplicates = keep_if([&](std::int64_t r) {
      // Ids compare as pandas compares the column's values (numbers for a numeric column).
      std::string key;
      if (kind == Kind::kText) {
        key = std::string(snp.token(r));
      } else {
        double v = 0;
        parse_float(snp.token(r), v);
        key = fmt::format("{}", v);
      }
      return seen.insert(std::move(key)).second;
    });
    GSMAP_LOG_INFO("removed {} rows with a duplicated SNP id", s.removed_duplicates);
  }
  // 7. N >= q90(N) / 1.5
  {
    const Column& nc = t.col("N");
    std::vector<double> values;
    values.reserve(rows.size());
    for (std::int64_t r : rows) values.push_back(nc.values[static_cast<std::size_t>(r)]);
    s.n_min = quantile(std::move(values), 0.9) / 1.5;
    const double n_min = s.n_min;
    s.removed_n = keep_if(
        [&](std::int64_t r) { return nc.values[static_cast<std::size_t>(r)] >= n_min; });
    GSMAP_LOG_INFO("removed {} rows with N < {} (90th percentile of N / 1.5)", s.removed_n,
                   fmt3(s.n_min));
  }
  // F8: a non-finite Z (SE = 0) is dropped
  const Column& z = t.col("Z");
  if (!cojo) {
    s.removed_nonfinite_z = keep_if(
        [&](std::int64_t r) { return std::isfinite(z.values[static_cast<std::size_t>(r)]); });
    if (s.removed_nonfinite_z > 0) {
      GSMAP_LOG_INFO("removed {} rows with an infinite Z (SE = 0)", s.removed_nonfinite_z);
    }
  }

  // Summary (§7)
  {
    std::vector<double> chi2;
    chi2.reserve(rows.size());
    double sum = 0;
    for (std::int64_t r : rows) {
      const double v = z.values[static_cast<std::size_t>(r)];
      chi2.push_back(v * v);
      sum += v * v;
      if (v * v > 29) ++s.chisq_over_29;
    }
    s.mean_chisq = chi2.empty() ? kNaN : sum / static_cast<double>(chi2.size());
    s.max_chisq = chi2.empty() ? kNaN : *std::max_element(chi2.begin(), chi2.end());
    s.lambda_gc = median(std::move(chi2)) / 0.4549;
    GSMAP_LOG_INFO("mean chi^2 = {}, lambda GC = {}, max chi^2 = {}, {} SNPs with chi^2 > 29",
                   fmt3(s.mean_chisq), fmt3(s.lambda_gc), fmt3(s.max_chisq), s.chisq_over_29);
    if (s.mean_chisq < 1.02) GSMAP_LOG_WARN("mean chi^2 = {} may be too small", fmt3(s.mean_chisq));
  }

  // Output (§8)
  std::vector<std::string> keep = cojo ? std::vector<std::string>{"SNP", "A1", "A2", "FRQ", "BETA",
                                                                  "SE", "P", "N"}
                                       : std::vector<std::string>{"SNP", "A1", "A2", "Z", "N"};
  if (o.keep_chr_pos && t.has("Chr") && t.has("Pos")) {
    keep.push_back("Chr");
    keep.push_back("Pos");
  }
  std::vector<const Column*> out_cols;
  for (const auto& name : keep) out_cols.push_back(&t.col(name));
  std::string text = join(keep, "\t") + "\n";
  text.reserve(text.size() + rows.size() * 32);
  for (std::int64_t r : rows) {
    for (std::size_t k = 0; k < out_cols.size(); ++k) {
      if (k) text += '\t';
      const std::string& name = keep[k];
      const bool g6 = cojo && (name == "FRQ" || name == "BETA" || name == "SE" || name == "P");
      append_cell(text, *out_cols[k], r, name == "A1" || name == "A2", g6);
    }
    text += '\n';
  }
  s.rows_written = static_cast<std::int64_t>(rows.size());
  io::write_file_atomic(s.output_path, io::gzip_compress(text));
  GSMAP_LOG_INFO("wrote {} SNPs to {}", s.rows_written, s.output_path);
  return s;
}

}  // namespace gsmap::sumstats
