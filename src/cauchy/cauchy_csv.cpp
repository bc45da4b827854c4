// Reading back the Cauchy result CSVs (cauchy/cauchy_csv.hpp).
#include "gsmap/cauchy/cauchy_csv.hpp"

#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::cauchy {
namespace {

constexpr const char* kFix = "re-run cauchy-combination for this trait";

std::size_t column(const std::vector<std::string>& header, std::string_view name,
                   const std::string& path, bool required) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  if (required) {
    throw InputError(path, "header", fmt::format("no column '{}'", name),
                     "the file must be a Cauchy result; " + std::string(kFix));
  }
  return header.size();
}

double number(std::string_view field, const io::CsvReader& reader, std::string_view name) {
  double value = 0.0;
  if (!io::parse_number(field, value)) {
    throw InputError(reader.path(), fmt::format("line {}, column {}", reader.line_number(), name),
                     fmt::format("'{}' is not a number", field), kFix);
  }
  return value;
}

std::int64_t count(std::string_view field, const io::CsvReader& reader, std::string_view name) {
  const double v = number(field, reader, name);
  if (!(v >= 0) || v > 9e15 || v != std::floor(v)) {
    throw InputError(reader.path(), fmt::format("line {}, column {}", reader.line_number(), name),
                     fmt::format("'{}' is not a count", field), kFix);
  }
  return static_cast<std::int64_t>(v);
}

}  // namespace

std::vector<CauchyRow> read_cauchy_csv(const std::string& path) {
  // RFC 4180 records (docs/formats.md "CSV"): annotation labels may hold commas and quotes.
  io::CsvReader reader(path);
  std::vector<std::string_view> fields;
  if (!reader.next(fields)) throw InputError(path, "line 1", "empty file, expected a header", kFix);
  const std::vector<std::string> header(fields.begin(), fields.end());
  const std::size_t c_trait = column(header, "trait", path, false);
  const std::size_t c_name = column(header, "annotation_name", path, false);
  const std::size_t c_label = column(header, "annotation", path, true);
  const std::size_t c_p = column(header, "p_cauchy", path, true);
  const std::size_t c_median = column(header, "p_median", path, true);
  const std::size_t c_top = column(header, "top_95_quantile", path, false);
  const std::size_t c_sig = column(header, "sig_spots", path, true);
  const std::size_t c_total = column(header, "total_spots", path, true);
  const std::size_t c_sample = column(header, "sample_name", path, false);
  std::vector<CauchyRow> rows;
  while (reader.next(fields)) {
    const auto& f = fields;
    if (f.size() == 1 && f[0].empty()) continue;  // a blank line
    if (f.size() != header.size()) {
      throw InputError(path, fmt::format("line {}", reader.line_number()),
                       fmt::format("{} fields, the header has {}", f.size(), header.size()), kFix);
    }
    CauchyRow r;
    if (c_trait < f.size()) r.trait = std::string(f[c_trait]);
    if (c_name < f.size()) r.annotation_name = std::string(f[c_name]);
    r.annotation = std::string(f[c_label]);
    r.p_cauchy = number(f[c_p], reader, "p_cauchy");
    r.p_median = number(f[c_median], reader, "p_median");
    if (c_top < f.size()) r.top_95_quantile = number(f[c_top], reader, "top_95_quantile");
    r.sig_spots = count(f[c_sig], reader, "sig_spots");
    r.total_spots = count(f[c_total], reader, "total_spots");
    if (c_sample < f.size()) r.sample_name = std::string(f[c_sample]);
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace gsmap::cauchy
