#include "gsmap/cauchy/ldsc_csv.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "csv_fields.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::cauchy {
namespace {

constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);

std::size_t find_column(const std::vector<std::string>& header, std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  return kAbsent;
}

double parse_number(std::string_view field, const io::CsvReader& reader, std::string_view column) {
  if (is_missing_token(field)) return std::nan("");
  std::string_view text = field;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);  // from_chars rejects '+'
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw InputError(reader.path(), fmt::format("line {}, column {}", reader.line_number(), column),
                     fmt::format("'{}' is not a number", field),
                     "the file must be a spatial-LDSC result (spot,beta,se,z,p,neg_log10_p)");
  }
  return value;
}

}  // namespace

TraitPValues read_ldsc_csv(const std::string& path, const std::string& trait,
                           LdscCsvReadStats* stats) {
  io::CsvReader reader(path);  // RFC 4180: spot names may be quoted, even across lines
  std::vector<std::string_view> fields;
  if (!reader.next(fields)) {
    throw InputError(path, "line 1", "empty file, expected a header spot,beta,se,z,p,neg_log10_p",
                     "re-run spatial-ldsc for this trait");
  }
  const std::vector<std::string> header(fields.begin(), fields.end());
  const std::size_t spot_col = find_column(header, "spot");
  const std::size_t p_col = find_column(header, "p");
  const std::size_t floored_col = find_column(header, "neg_log10_p");
  for (auto [index, name] : {std::pair{spot_col, "spot"}, std::pair{p_col, "p"}}) {
    if (index == kAbsent) {
      throw InputError(path, "header",
                       fmt::format("no column '{}' in '{}'", name, fmt::join(header, ",")),
                       "the file must be a spatial-LDSC result (spot,beta,se,z,p,neg_log10_p)");
    }
  }

  TraitPValues result;
  result.trait = trait;
  result.source = path;
  LdscCsvReadStats counts;
  while (reader.next(fields)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line, as pandas skips it
    if (fields.size() != header.size()) {
      throw InputError(path, fmt::format("line {}", reader.line_number()),
                       fmt::format("{} fields, the header has {}", fields.size(), header.size()),
                       "the file is damaged; re-run spatial-ldsc for this trait");
    }
    ++counts.rows;
    const double p = parse_number(fields[p_col], reader, "p");
    const double floored =
        floored_col == kAbsent ? 0.0 : parse_number(fields[floored_col], reader, "neg_log10_p");
    bool missing = std::isnan(p) || std::isnan(floored);
    for (std::size_t c = 0; c < fields.size() && !missing; ++c) {
      missing = is_missing_token(fields[c]);
    }
    if (missing) {
      ++counts.dropped_rows;
      continue;
    }
    result.spots.emplace_back(fields[spot_col]);
    result.p.push_back(p);
    if (floored_col != kAbsent) result.neg_log10_p.push_back(floored);
  }
  if (stats != nullptr) *stats = counts;
  return result;
}

std::string ldsc_result_path(const std::string& dir, const std::string& project,
                             const std::string& trait) {
  return (std::filesystem::path(dir) / fmt::format("{}_{}.csv.gz", project, trait)).string();
}

}  // namespace gsmap::cauchy
