// SNP -> feature mappings (docs/ldscore.md §2.3-§2.5, §4).
#include "gsmap/ldscore/mapping.hpp"

#include <algorithm>
#include <functional>
#include <charconv>
#include <cmath>
#include <numeric>
#include <limits>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::ldscore {
namespace {

bool parse_int64(std::string_view token, std::int64_t& value) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  return !token.empty() && ec == std::errc() && ptr == end;
}

// Sorted distinct names and each row's index among them.
std::vector<std::string> sorted_distinct(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::int32_t index_of(const std::vector<std::string>& sorted, const std::string& name) {
  return static_cast<std::int32_t>(std::lower_bound(sorted.begin(), sorted.end(), name) -
                                   sorted.begin());
}

// Rows of one chromosome sorted by windowed start, with the running maximum of the windowed end,
// so that the rows containing a position are found by a short backward scan.
struct IntervalIndex {
  std::vector<std::int64_t> a, b, max_b;
  std::vector<std::int32_t> row;  // position in the chromosome's rows (file order)
};

IntervalIndex build_index(const std::vector<BedMapping::Row>& rows, std::int64_t window) {
  IntervalIndex index;
  std::vector<std::int32_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  const auto lo = [&](const BedMapping::Row& r) { return std::max<std::int64_t>(0, r.start - window); };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int32_t x, std::int32_t y) { return lo(rows[x]) < lo(rows[y]); });
  std::int64_t running = std::numeric_limits<std::int64_t>::min();
  for (const std::int32_t k : order) {
    index.a.push_back(lo(rows[k]));
    index.b.push_back(rows[k].end + window);
    running = std::max(running, index.b.back());
    index.max_b.push_back(running);
    index.row.push_back(k);
  }
  return index;
}

// Rows k with a_k <= p < b_k (docs/ldscore.md §4.1), in file order.
void candidates(const IntervalIndex& index, std::int64_t p, std::vector<std::int32_t>& out) {
  out.clear();
  auto k = static_cast<std::int64_t>(std::upper_bound(index.a.begin(), index.a.end(), p) -
                                     index.a.begin()) - 1;
  for (; k >= 0 && index.max_b[static_cast<std::size_t>(k)] > p; --k) {
    if (index.b[static_cast<std::size_t>(k)] > p) out.push_back(index.row[static_cast<std::size_t>(k)]);
  }
  std::sort(out.begin(), out.end());
}

// Appends one M row from (column, value) entries: columns ascending, equal columns summed in the
// order given.
void push_row(MappingRows& m, std::vector<std::pair<std::int32_t, double>>& entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && entries[i].first == entries[i - 1].first) {
      m.value.back() += entries[i].second;
    } else {
      m.col.push_back(entries[i].first);
      m.value.push_back(entries[i].second);
    }
  }
  m.ptr.push_back(static_cast<std::int64_t>(m.col.size()));
}

void append_number(std::string& out, double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::abs(v) < 1e15) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<std::int64_t>(v));
  } else {
    io::append_double(out, v);
  }
}

}  // namespace

std::string clean_chromosome(std::string_view chromosome) {
  std::string out;
  out.reserve(chromosome.size());
  std::size_t i = 0;
  while (i < chromosome.size()) {
    if (i + 3 <= chromosome.size() && std::tolower(static_cast<unsigned char>(chromosome[i])) == 'c' &&
        std::tolower(static_cast<unsigned char>(chromosome[i + 1])) == 'h' &&
        std::tolower(static_cast<unsigned char>(chromosome[i + 2])) == 'r') {
      i += 3;
      continue;
    }
    out += chromosome[i++];
  }
  return out;
}

BedMapping read_bed_mapping(const std::string& path, Strategy strategy) {
  io::LineReader reader(path);
  BedMapping bed;
  bed.path = path;
  std::string_view line;
  std::vector<std::string_view> fields, words;
  std::vector<std::string> names;
  struct Pending {
    std::string chrom;
    BedMapping::Row row;
    std::string name;
  };
  std::vector<Pending> pending;
  std::size_t n_fields = 0;
  std::int64_t first_data_line = 0;
  bool first = true;
  while (reader.next_view(line)) {
    const std::int64_t number = reader.line_number();
    if (first) {
      first = false;
      // docs/ldscore.md §2.3: the first line is a header when its second token is no integer.
      io::split_whitespace(line, words);
      std::int64_t ignored = 0;
      if (words.size() < 2 || !parse_int64(words[1], ignored)) continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    io::split_char(line, '\t', fields);
    const std::string where = fmt::format("line {}", number);
    if (fields.size() < 4) {
      throw InputError(path, where,
                       fmt::format("{} tab-separated field(s): the BED must contain a Name column "
                                   "(chromosome, start, end, name[, score[, strand]])",
                                   fields.size()),
                       "give a tab-separated BED with at least 4 columns; the name (column 4) is "
                       "the feature (gene) the interval maps SNPs to");
    }
    if (n_fields == 0) {
      n_fields = fields.size();
      first_data_line = number;
    } else if (fields.size() != n_fields) {
      throw InputError(path, where,
                       fmt::format("{} tab-separated fields, but line {} has {}", fields.size(),
                                   first_data_line, n_fields),
                       "every line of the BED must have the same number of columns");
    }
    Pending p;
    p.chrom = clean_chromosome(fields[0]);
    if (!parse_int64(fields[1], p.row.start) || !parse_int64(fields[2], p.row.end)) {
      throw InputError(path, where + (parse_int64(fields[1], p.row.start) ? ", column 3 (end)"
                                                                          : ", column 2 (start)"),
                       "the coordinate is not an integer",
                       "BED coordinates are integers: 0-based start, exclusive end");
    }
    p.name = std::string(fields[3]);
    if (fields.size() >= 5) {
      double score = 0;
      if (!io::parse_number(fields[4], score) || !std::isfinite(score)) {
        if (strategy == Strategy::kScore || strategy == Strategy::kAllowRepeat) {
          throw InputError(path, where + ", column 5 (score)",
                           fmt::format("'{}' is not a finite number", fields[4]),
                           "column 5 is the score, used as the mapping value by --strategy score "
                           "and allow_repeat: give numbers there (or cut the BED to 4 columns and "
                           "use allow_repeat with value 1)");
        }
        score = std::numeric_limits<double>::quiet_NaN();
        p.row.score_text = std::string(fields[4]);
      }
      p.row.score = score;
    }
    if (fields.size() >= 6) p.row.plus = fields[5] == "+";
    p.row.line = number;
    names.push_back(p.name);
    pending.push_back(std::move(p));
  }
  bed.has_score = n_fields >= 5;
  bed.has_strand = n_fields >= 6;
  if (pending.empty()) {
    throw InputError(path, "", "the BED holds no intervals",
                     "give a tab-separated BED with chromosome, start, end, name per line");
  }
  if (strategy == Strategy::kScore && !bed.has_score) {
    throw InputError(path, "", "--strategy score needs a score column (column 5); the BED has 4",
                     "add scores, or choose --strategy tss, center or allow_repeat");
  }
  if (strategy == Strategy::kTss && !bed.has_strand) {
    throw InputError(path, "",
                     fmt::format("--strategy tss needs a strand column (column 6); the BED has {}",
                                 n_fields),
                     "add the strand (+ or -), or choose another --strategy");
  }
  bed.features = sorted_distinct(names);
  for (auto& p : pending) {
    p.row.feature = index_of(bed.features, p.name);
    bed.rows[p.chrom].push_back(p.row);
  }
  return bed;
}

DictMapping read_dict_mapping(const std::string& path,
                              const std::function<bool(std::string_view)>& keep) {
  io::LineReader reader(path);
  DictMapping dict;
  dict.path = path;
  std::string header;
  if (!reader.next(header)) {
    throw InputError(path, "", "empty file: no header line",
                     "give a table with a header, e.g. 'SNP<TAB>Feature'");
  }
  // docs/ldscore.md D8.
  const char delim = header.find('\t') != std::string::npos   ? '\t'
                     : header.find(',') != std::string::npos ? ','
                                                               : ' ';
  std::vector<std::string_view> fields;
  const auto split = [&](std::string_view l) {
    if (delim == ' ') {
      io::split_whitespace(l, fields);
    } else {
      io::split_char(l, delim, fields);
    }
  };
  split(header);
  std::size_t snp_col = 0, feature_col = 1;
  const auto snp_it = std::find(fields.begin(), fields.end(), "SNP");
  const auto feature_it = std::find(fields.begin(), fields.end(), "Feature");
  if (snp_it != fields.end() && feature_it != fields.end()) {
    snp_col = static_cast<std::size_t>(snp_it - fields.begin());
    feature_col = static_cast<std::size_t>(feature_it - fields.begin());
  } else if (fields.size() < 2) {
    throw InputError(path, "line 1", "the header has fewer than 2 columns",
                     "give columns SNP and Feature (or SNP id first, feature second)");
  }
  const std::size_t need = std::max(snp_col, feature_col) + 1;
  std::string_view line;
  // Distinct feature names in order of first appearance; rows refer to them until sorted.
  std::unordered_map<std::string, std::int32_t> name_index;
  std::vector<std::string> names;
  while (reader.next_view(line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    split(line);
    if (fields.size() < need) {
      throw InputError(path, fmt::format("line {}", reader.line_number()),
                       fmt::format("{} field(s), the header needs {}", fields.size(), need),
                       "every row names a SNP and its feature");
    }
    const auto [it, added] = name_index.try_emplace(std::string(fields[feature_col]),
                                                    static_cast<std::int32_t>(names.size()));
    if (added) names.push_back(it->first);
    if (keep && !keep(fields[snp_col])) continue;
    dict.feature_of[std::string(fields[snp_col])] = it->second;
  }
  dict.features = sorted_distinct(names);
  for (auto& [snp, row] : dict.feature_of) {
    row = index_of(dict.features, names[static_cast<std::size_t>(row)]);
  }
  return dict;
}

MappingRows map_bed(const BedMapping& bed, Strategy strategy, std::int64_t window, const Bim& bim,
                    const std::vector<std::int64_t>& q_rows, std::vector<KeptPair>* pairs) {
  MappingRows m;
  const auto unmapped = static_cast<std::int32_t>(bed.features.size());
  const bool valued = bed.has_score && (strategy == Strategy::kScore || strategy == Strategy::kAllowRepeat);
  std::map<std::string, IntervalIndex> indexes;
  std::string last_chrom;
  const std::vector<BedMapping::Row>* rows = nullptr;
  std::string it_chrom;
  const IntervalIndex* index = nullptr;
  std::vector<std::int32_t> found;
  std::vector<std::pair<std::int32_t, double>> entries;
  for (std::int64_t q = 0; q < static_cast<std::int64_t>(q_rows.size()); ++q) {
    const auto j = static_cast<std::size_t>(q_rows[static_cast<std::size_t>(q)]);
    if (index == nullptr || bim.chrom[j] != last_chrom) {
      last_chrom = bim.chrom[j];
      const auto it = bed.rows.find(clean_chromosome(last_chrom));
      rows = it == bed.rows.end() ? nullptr : &it->second;
      it_chrom = it == bed.rows.end() ? std::string() : it->first;
      static const IntervalIndex kEmpty;
      index = rows ? &indexes.try_emplace(it->first, build_index(*rows, window)).first->second
                   : &kEmpty;
    }
    const std::int64_t p = bim.bp[j];
    candidates(*index, p, found);
    entries.clear();
    const auto keep = [&](std::int32_t k, std::int64_t distance2) {
      const BedMapping::Row& r = (*rows)[static_cast<std::size_t>(k)];
      entries.emplace_back(r.feature, valued ? r.score : 1.0);
      if (pairs) pairs->push_back({q, r.feature, r.score, distance2, k, it_chrom});
    };
    const auto tss_distance = [&](const BedMapping::Row& r) {
      return std::abs(p - (r.plus ? r.start : r.end));
    };
    const auto center_distance2 = [&](const BedMapping::Row& r) {
      return std::abs(2 * p - (std::max<std::int64_t>(0, r.start - window) + r.end + window));
    };
    if (strategy == Strategy::kAllowRepeat) {
      for (const std::int32_t k : found) keep(k, 0);
    } else if (!found.empty()) {
      // Smallest key; ties go to the earliest BED row (docs/ldscore.md §4.2, D10).
      std::int32_t best = found.front();
      for (const std::int32_t k : found) {
        const auto& r = (*rows)[static_cast<std::size_t>(k)];
        const auto& b = (*rows)[static_cast<std::size_t>(best)];
        bool better = false;
        switch (strategy) {
          case Strategy::kScore: better = r.score > b.score; break;
          case Strategy::kTss: better = tss_distance(r) < tss_distance(b); break;
          case Strategy::kCenter: better = center_distance2(r) < center_distance2(b); break;
          case Strategy::kAllowRepeat: break;
        }
        if (better) best = k;
      }
      const auto& r = (*rows)[static_cast<std::size_t>(best)];
      keep(best, strategy == Strategy::kTss      ? tss_distance(r)
                 : strategy == Strategy::kCenter ? center_distance2(r)
                                                 : 0);
    }
    if (entries.empty()) {
      entries.emplace_back(unmapped, 1.0);
    } else {
      ++m.n_mapped;
    }
    push_row(m, entries);
  }
  return m;
}

MappingRows map_dict(const DictMapping& dict, const Bim& bim,
                     const std::vector<std::int64_t>& q_rows) {
  MappingRows m;
  const auto unmapped = static_cast<std::int32_t>(dict.features.size());
  std::vector<std::pair<std::int32_t, double>> entries;
  for (const std::int64_t row : q_rows) {
    const auto it = dict.feature_of.find(bim.id[static_cast<std::size_t>(row)]);
    entries.clear();
    if (it == dict.feature_of.end()) {
      entries.emplace_back(unmapped, 1.0);
    } else {
      entries.emplace_back(it->second, 1.0);
      ++m.n_mapped;
    }
    push_row(m, entries);
  }
  return m;
}

AnnotationRows read_annotation(const std::string& path, const Bim& bim,
                               const std::vector<std::int64_t>& q_rows) {
  io::LineReader reader(path);
  AnnotationRows out;
  std::string header;
  if (!reader.next(header)) {
    throw InputError(path, "", "empty file: no header line",
                     "give a whitespace-separated table with a header (SNP, then annotations)");
  }
  std::vector<std::string_view> fields;
  io::split_whitespace(header, fields);
  const std::size_t n_columns = fields.size();
  std::int64_t snp_col = -1;
  std::vector<std::size_t> value_cols;
  for (std::size_t c = 0; c < fields.size(); ++c) {
    if (fields[c] == "SNP") {
      snp_col = static_cast<std::int64_t>(c);
    } else if (fields[c] != "CHR" && fields[c] != "BP" && fields[c] != "CM") {
      value_cols.push_back(c);
      out.names.emplace_back(fields[c]);
    }
  }
  if (value_cols.empty()) {
    throw InputError(path, "line 1", "no annotation column (only SNP/CHR/BP/CM)",
                     "give at least one numeric annotation column");
  }
  const std::size_t width = value_cols.size();
  std::vector<double> values;
  std::unordered_map<std::string, std::int64_t> row_of;
  std::vector<std::int64_t> nonzero(width, 0);
  std::string_view line;
  std::int64_t n_rows = 0;
  while (reader.next_view(line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    io::split_whitespace(line, fields);
    const std::string where = fmt::format("line {}", reader.line_number());
    if (fields.size() != n_columns) {
      throw InputError(path, where,
                       fmt::format("{} fields, the header has {} columns", fields.size(), n_columns),
                       "every row needs a value for every column of the header");
    }
    for (std::size_t a = 0; a < width; ++a) {
      double v = 0;
      if (!io::parse_number(fields[value_cols[a]], v) || !std::isfinite(v)) {
        throw InputError(path, fmt::format("{}, column {}", where, out.names[a]),
                         fmt::format("'{}' is not a finite number", fields[value_cols[a]]),
                         "annotation values must be numbers");
      }
      values.push_back(v);
      nonzero[a] += v != 0.0;
    }
    if (snp_col >= 0) {
      const std::string id(fields[static_cast<std::size_t>(snp_col)]);
      if (!row_of.emplace(id, n_rows).second) {
        throw InputError(path, fmt::format("{}, column SNP", where),
                         fmt::format("SNP '{}' is listed twice", id),
                         "list every SNP once in an annotation file");
      }
    }
    ++n_rows;
  }
  if (snp_col < 0 && n_rows != bim.size()) {
    throw InputError(path, "",
                     fmt::format("{} rows without a SNP column, but {} has {} variants", n_rows,
                                 bim.path, bim.size()),
                     "a thin annotation file (no SNP column) needs one row per .bim line, in .bim "
                     "order; or add a SNP column");
  }
  for (std::size_t a = 0; a < width; ++a) {
    if (n_rows > 0 && static_cast<double>(nonzero[a]) < 1e-4 * static_cast<double>(n_rows)) {
      out.sparse_names.push_back(out.names[a]);
    }
  }
  std::vector<std::pair<std::int32_t, double>> entries;
  for (const std::int64_t row : q_rows) {
    std::int64_t r = row;
    if (snp_col >= 0) {
      const auto it = row_of.find(bim.id[static_cast<std::size_t>(row)]);
      r = it == row_of.end() ? -1 : it->second;
    }
    entries.clear();
    if (r >= 0) {
      const double* v = values.data() + static_cast<std::size_t>(r) * width;
      for (std::size_t a = 0; a < width; ++a) {
        if (v[a] != 0.0) entries.emplace_back(static_cast<std::int32_t>(a), v[a]);
      }
    }
    push_row(out.rows, entries);
  }
  return out;
}

std::string pair_csv_header(bool has_score, Strategy strategy) {
  std::string h = "SNP,Chromosome,SNP_BP,Feature";
  if (has_score) h += ",Score";
  if (strategy == Strategy::kTss) h += ",distance_to_tss";
  if (strategy == Strategy::kCenter) h += ",distance_to_center";
  return h + "\n";
}

void append_pair_csv(std::string& out, const std::vector<KeptPair>& pairs, const BedMapping& bed,
                     Strategy strategy, const Bim& bim, const std::vector<std::int64_t>& q_rows) {
  std::vector<std::size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  const auto row = [&](std::size_t k) {
    return static_cast<std::size_t>(q_rows[static_cast<std::size_t>(pairs[k].q)]);
  };
  // One pair per SNP: ordered by SNP id (text), .bim order among equal ids; allow_repeat keeps
  // the join's order (docs/ldscore.md §4.4).
  if (strategy != Strategy::kAllowRepeat) {
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return bim.id[row(x)] < bim.id[row(y)]; });
  }
  for (const std::size_t k : order) {
    const KeptPair& p = pairs[k];
    const std::size_t j = row(k);
    out += bim.id[j];
    out += ',';
    out += clean_chromosome(bim.chrom[j]);
    fmt::format_to(std::back_inserter(out), ",{},", bim.bp[j]);
    out += bed.features[static_cast<std::size_t>(p.feature)];
    if (bed.has_score) {
      out += ',';
      if (std::isnan(p.score)) {
        out += bed.rows.at(p.chrom)[static_cast<std::size_t>(p.bed_row)].score_text;
      } else {
        append_number(out, p.score);
      }
    }
    if (strategy == Strategy::kTss) fmt::format_to(std::back_inserter(out), ",{}", p.distance2);
    if (strategy == Strategy::kCenter) {
      fmt::format_to(std::back_inserter(out), ",{}.{}", p.distance2 / 2, p.distance2 % 2 ? 5 : 0);
    }
    out += '\n';
  }
}

}  // namespace gsmap::ldscore
