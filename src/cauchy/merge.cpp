#include "gsmap/cauchy/merge.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gsmap/cauchy/ldsc_csv.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::cauchy {
namespace {

namespace fs = std::filesystem;

// A non-empty run of decimal digits that fits in int64.
std::optional<std::int64_t> parse_index(std::string_view text) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string file_name(const std::string& path) { return fs::path(path).filename().string(); }

constexpr const char* kRangeFix =
    "run spatial-ldsc with --cell-indices-range for the missing range, or remove the "
    "overlapping file, so that the ranges tile all spots exactly once";

}  // namespace

std::vector<PartialLdscFile> list_partial_ldsc(const std::string& dir, const std::string& project,
                                               const std::string& trait) {
  const std::string prefix = project + "_" + trait + "_cells_";
  const std::string suffix = ".csv.gz";
  std::vector<PartialLdscFile> files;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw IoError(fmt::format("cannot list {}: {}", dir, ec.message()));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw IoError(fmt::format("cannot list {}: {}", dir, ec.message()));
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
        !name.ends_with(suffix)) {
      continue;
    }
    // The middle must be exactly <start>_<end>: this also rejects a longer trait name that
    // happens to share the prefix (trait "X" vs files of trait "X_cells_0_5").
    const std::string_view middle =
        std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    const std::size_t sep = middle.find('_');
    if (sep == std::string_view::npos) continue;
    const auto start = parse_index(middle.substr(0, sep));
    const auto end = parse_index(middle.substr(sep + 1));
    if (!start || !end) continue;
    files.push_back({it->path().string(), *start, *end});
  }
  std::sort(files.begin(), files.end(), [](const PartialLdscFile& a, const PartialLdscFile& b) {
    return a.start != b.start ? a.start < b.start : a.end < b.end;
  });
  return files;
}

void check_partial_coverage(const std::vector<PartialLdscFile>& files,
                            std::optional<std::int64_t> total_spots, const std::string& dir) {
  if (files.empty()) {
    throw InputError(dir, "",
                     "no partial spatial-LDSC files <project>_<trait>_cells_<start>_<end>.csv.gz",
                     "check --workdir, --project-name and the trait name");
  }
  for (const auto& f : files) {
    if (f.start >= f.end) {
      throw InputError(f.path, "file name",
                       fmt::format("empty range: start {} >= end {}", f.start, f.end),
                       "remove or rename this file");
    }
  }
  if (files.front().start != 0) {
    throw InputError(dir, file_name(files.front().path),
                     fmt::format("the first partial file starts at spot {}; spots [0, {}) are "
                                 "missing",
                                 files.front().start, files.front().start),
                     kRangeFix);
  }
  for (std::size_t i = 1; i < files.size(); ++i) {
    const auto& prev = files[i - 1];
    const auto& cur = files[i];
    if (cur.start > prev.end) {
      throw InputError(
          dir, file_name(prev.path) + " and " + file_name(cur.path),
          fmt::format("gap: spots [{}, {}) are in no partial file", prev.end, cur.start),
          kRangeFix);
    }
    if (cur.start < prev.end) {
      throw InputError(dir, file_name(prev.path) + " and " + file_name(cur.path),
                       fmt::format("overlap: spots [{}, {}) are in both files", cur.start,
                                   std::min(prev.end, cur.end)),
                       kRangeFix);
    }
  }
  if (total_spots && files.back().end != *total_spots) {
    throw InputError(dir, file_name(files.back().path),
                     fmt::format("the last partial file ends at spot {}, but there are {} spots",
                                 files.back().end, *total_spots),
                     files.back().end < *total_spots
                         ? std::string(kRangeFix)
                         : std::string("these files belong to a different data set; remove them"));
  }
}

std::string merge_partial_ldsc(const std::string& dir, const std::string& project,
                               const std::string& trait, std::optional<std::int64_t> total_spots) {
  const auto files = list_partial_ldsc(dir, project, trait);
  check_partial_coverage(files, total_spots, dir);

  std::string merged;
  std::vector<std::string> header;
  std::vector<std::string_view> fields;
  // Records, not lines: a quoted spot name may hold a line break (RFC 4180). Each record is
  // written back with the same minimal quoting, so the merged rows equal the partial ones.
  auto append_record = [&merged](const auto& record) {
    for (std::size_t c = 0; c < record.size(); ++c) {
      if (c) merged += ',';
      io::append_csv_field(merged, record[c]);
    }
    merged += '\n';
  };
  for (const auto& f : files) {
    GSMAP_LOG_INFO("merge: {} (spots {}..{})", file_name(f.path), f.start, f.end);
    io::CsvReader reader(f.path);
    if (!reader.next(fields)) {
      throw InputError(f.path, "line 1", "empty file, expected a header", "re-run this range");
    }
    if (header.empty()) {
      header.assign(fields.begin(), fields.end());
      append_record(header);
    } else if (!std::equal(fields.begin(), fields.end(), header.begin(), header.end())) {
      throw InputError(f.path, "line 1",
                       fmt::format("header '{}' differs from '{}' of {}", fmt::join(fields, ","),
                                   fmt::join(header, ","), file_name(files.front().path)),
                       "merge only files written by the same spatial-ldsc version");
    }
    std::int64_t rows = 0;
    while (reader.next(fields)) {
      if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
      append_record(fields);
      ++rows;
    }
    if (rows != f.end - f.start) {
      throw InputError(f.path, "",
                       fmt::format("{} data rows, but its name says spots [{}, {}) = {} rows", rows,
                                   f.start, f.end, f.end - f.start),
                       "the file is incomplete or misnamed; re-run this range");
    }
  }
  const std::string out = ldsc_result_path(dir, project, trait);
  io::write_file_atomic(out, io::gzip_compress(merged));
  GSMAP_LOG_INFO("merge: wrote {} from {} partial files", out, files.size());
  return out;
}

}  // namespace gsmap::cauchy
