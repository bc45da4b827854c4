#include "gsmap/pipeline/cells.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <atomic>
#include <cstdlib>
#include <bit>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"

namespace gsmap::pipeline {
namespace {

constexpr std::int64_t kMinDetectedGenes = 20;  // hard-coded in gsMap3D (docs/algorithms.md §1.1)

std::string join_first(const std::vector<std::string>& v, std::size_t k) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < k; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > k) s += ", ...";
  return s;
}

// Labels of a column as strings; missing -> nullopt. Booleans print as Python does.
std::vector<std::optional<std::string>> labels_of(const io::Column& col) {
  std::vector<std::optional<std::string>> out(io::column_size(col));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = io::column_label(col, i);
  if (const auto* num = std::get_if<io::NumericColumn>(&col); num && num->is_bool) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (!std::isnan(num->values[i])) out[i] = num->values[i] != 0 ? "True" : "False";
    }
  }
  return out;
}

// Columns the outputs write themselves (docs/formats.md, marker_scores.h5ad).
bool is_own_column(const std::string& name) {
  return name == "sample_name" || name == "slice_id" || name.rfind("gsMap_homo", 0) == 0;
}

}  // namespace

std::vector<std::string> make_unique_names(const std::vector<std::string>& names) {
  // anndata's make_index_unique: later repeats of a name get "-1", "-2", ... skipping suffixes that
  // would collide with an existing name.
  std::unordered_set<std::string> taken(names.begin(), names.end());
  std::unordered_map<std::string, int> seen;
  std::vector<std::string> out = names;
  std::unordered_map<std::string, int> next_suffix;
  for (auto& name : out) {
    if (++seen[name] == 1) continue;
    int& k = next_suffix[name];
    std::string candidate;
    do {
      candidate = fmt::format("{}-{}", name, ++k);
    } while (taken.count(candidate));
    taken.insert(candidate);
    name = candidate;
  }
  return out;
}

std::pair<int, std::int64_t> CellSet::locate(std::int64_t global) const {
  auto it = std::upper_bound(samples.begin(), samples.end(), global,
                             [](std::int64_t g, const SampleCells& s) { return g < s.global_offset; });
  const int si = static_cast<int>(it - samples.begin()) - 1;
  return {si, static_cast<std::int64_t>(samples[si].kept_rows[global - samples[si].global_offset])};
}

std::vector<std::int64_t> CellSet::slice_starts() const {
  std::vector<std::int64_t> starts;
  for (const auto& sc : samples) starts.push_back(sc.global_offset);
  starts.push_back(n);
  return starts;
}

void CellSet::keep_only_rows(std::int64_t start, std::int64_t end) {
  if (coords_first_row != 0) throw ComputeError("CellSet::keep_only_rows called twice");
  if (!coords.empty()) {
    const auto d = static_cast<std::size_t>(coord_dims);
    std::vector<double> kept(coords.begin() + static_cast<std::ptrdiff_t>(start * d),
                             coords.begin() + static_cast<std::ptrdiff_t>(end * d));
    coords.swap(kept);
  }
  coords_first_row = start;
  account(*this);
}

double CellSet::bytes_per_cell_over_all() const {
  std::size_t bytes = group.capacity() * sizeof(std::int32_t) + high_quality.capacity() +
                      (coords_first_row == 0 ? coords.capacity() * sizeof(double) : 0);
  for (const auto& sc : samples) bytes += sc.kept_rows.capacity() * sizeof(std::uint32_t);
  return n > 0 ? static_cast<double>(bytes) / static_cast<double>(n) : 0.0;
}

// ---- what a rank holds over all cells ---------------------------------------------------------

AllCellsMemory& AllCellsMemory::instance() {
  static AllCellsMemory memory;
  return memory;
}

void AllCellsMemory::reset() {
  parts_.clear();
  peak_ = 0;
  at_peak_.clear();
}

void AllCellsMemory::set(const std::string& part, std::int64_t bytes) {
  auto it = std::find_if(parts_.begin(), parts_.end(), [&](const auto& p) { return p.first == part; });
  if (it == parts_.end()) {
    parts_.emplace_back(part, bytes);
  } else {
    it->second = bytes;
  }
  const std::int64_t total = current();
  if (total > peak_) {
    peak_ = total;
    at_peak_.clear();
    for (const auto& [name, b] : parts_) {
      if (b > 0) at_peak_.emplace_back(name, b);
    }
  }
}

std::int64_t AllCellsMemory::current() const {
  std::int64_t total = 0;
  for (const auto& p : parts_) total += p.second;
  return total;
}

std::string AllCellsMemory::describe_peak(std::int64_t n_cells) const {
  const double n = static_cast<double>(std::max<std::int64_t>(1, n_cells));
  std::string s;
  for (const auto& [name, b] : at_peak_) {
    s += fmt::format("{}{} {:.1f}", s.empty() ? "" : " + ", name, static_cast<double>(b) / n);
  }
  return s.empty() ? std::string("nothing") : s;
}

void account(const CellSet& cs) {
  auto& mem = AllCellsMemory::instance();
  std::int64_t rows = 0;
  for (const auto& sc : cs.samples) rows += static_cast<std::int64_t>(sc.kept_rows.capacity() * sizeof(std::uint32_t));
  mem.set("row numbers", rows);
  mem.set("cell types", static_cast<std::int64_t>(cs.group.capacity() * sizeof(std::int32_t)));
  mem.set("coordinates", cs.coords_first_row == 0
                             ? static_cast<std::int64_t>(cs.coords.capacity() * sizeof(double))
                             : 0);
  mem.set("High_quality", static_cast<std::int64_t>(cs.high_quality.capacity()));
}

namespace {

// Appends rows x cols obsm values (read for `rows` of `path`) to `out`, refusing NaN and infinity
// with the file, key, row and column.
void append_finite_rows(const std::string& path, const std::string& key,
                        std::span<const std::int64_t> rows, const std::vector<double>& values,
                        std::int64_t cols, std::vector<double>& out) {
  for (std::size_t k = 0; k < rows.size(); ++k) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const double v = values[k * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c)];
      if (!std::isfinite(v)) {
        throw InputError(path, fmt::format("obsm/{} row {} column {}", key, rows[k], c),
                         "value is NaN or infinite", "fix or recompute the embedding");
      }
      out.push_back(v);
    }
  }
}

// Rows of a sample read at once while the per-cell columns are scanned (labels, High_quality,
// coordinates, names): the transient buffers are bounded by it, not by the sample.
std::int64_t block_rows() {
  static const std::int64_t rows = [] {
#ifdef GSMAP_TEST_HOOKS
    if (const char* v = std::getenv("GSMAP_TEST_CELL_BLOCK_ROWS")) return std::max<std::int64_t>(1, std::atoll(v));
#endif
    return std::int64_t{1} << 16;
  }();
  return rows;
}

}  // namespace

CellSet load_cells(const std::vector<io::Sample>& samples, const LatentToGeneConfig& cfg) {
  // Two passes (docs/scalability.md "Memory per rank"): the filter of every sample first (one
  // sample's label ids, 4 bytes, and capped detected-gene counts, 1 byte, per input row at a time;
  // the labels themselves read in blocks), then the coordinates and High_quality of the kept cells
  // into tables sized exactly, by blocks of rows.
  auto& mem = AllCellsMemory::instance();
  CellSet cs;
  const bool spatial = cfg.dataset_type != DatasetType::kScRNA;
  const bool has_annotation = !cfg.annotation.empty();
  const int min_cells =
      std::min(cfg.min_cells_per_type.value_or(cfg.homogeneous_neighbors), cfg.homogeneous_neighbors);
  const std::int64_t block = block_rows();
  std::unordered_map<std::string, int> group_ids;
  std::vector<std::vector<std::int32_t>> sample_groups(samples.size());

  for (std::size_t si = 0; si < samples.size(); ++si) {
    const auto& sample = samples[si];
    io::H5adReader reader(sample.path);
    SampleCells sc;
    sc.sample = sample;
    sc.n_input = reader.n_obs();
    if (sc.n_input > std::int64_t{std::numeric_limits<std::uint32_t>::max()}) {
      throw InputError(sample.path, "obs", fmt::format("has {} rows, more than 2^32 - 1", sc.n_input),
                       "split the sample into several files");
    }
    sc.global_offset = cs.n;
    sc.layer = cfg.data_layer;
    if (sc.layer != "X" && !reader.has_layer(sc.layer)) {
      GSMAP_LOG_WARN("{}: layer '{}' not found, ranking X instead (as gsMap does)", sample.path,
                     sc.layer);
      sc.layer = std::string("X");  // not = "X": GCC 12's false -Wrestrict (PR 105329)
    }
    auto genes = reader.var_names();
    if (si == 0) {
      cs.genes = genes;
    } else if (genes != cs.genes) {
      throw InputError(sample.path, "var index",
                       fmt::format("genes differ from the first sample ({}: {} genes, here {})",
                                   samples[0].path, cs.genes.size(), genes.size()),
                       "give every sample the same genes in the same order");
    }

    // 1-2: annotation filter (missing label, groups smaller than min_cells in this sample). The
    // labels become sample-local ids (-1 = missing) in blocks of rows.
    std::vector<std::int32_t> label(static_cast<std::size_t>(sc.n_input), 0);
    std::vector<std::string> label_names{"all"};
    // Without an annotation there is no group filter.
    std::vector<std::int64_t> label_count{std::numeric_limits<std::int64_t>::max()};
    if (has_annotation) {
      if (!reader.has_obs_column(cfg.annotation)) {
        throw InputError(sample.path, "obs/" + cfg.annotation, "annotation column not found",
                         fmt::format("choose --annotation among: {}",
                                     join_first(reader.obs_column_names(), 20)));
      }
      label_names.clear();
      label_count.clear();
      std::unordered_map<std::string, std::int32_t> id_of;
      for (std::int64_t a = 0; a < sc.n_input; a += block) {
        const std::int64_t b = std::min(sc.n_input, a + block);
        const auto labels = labels_of(reader.obs_column(cfg.annotation, a, b));
        for (std::int64_t i = a; i < b; ++i) {
          const auto& l = labels[static_cast<std::size_t>(i - a)];
          if (!l) {
            label[static_cast<std::size_t>(i)] = -1;
            continue;
          }
          auto [it, inserted] = id_of.try_emplace(*l, static_cast<std::int32_t>(label_names.size()));
          if (inserted) {
            label_names.push_back(*l);
            label_count.push_back(0);
          }
          label[static_cast<std::size_t>(i)] = it->second;
          ++label_count[static_cast<std::size_t>(it->second)];
        }
      }
    }
    mem.set("sample labels (transient)", static_cast<std::int64_t>(label.capacity() * sizeof(std::int32_t)));
    // 3: at least 20 detected genes, always counted on X (capped: only the comparison matters).
    const auto detected = reader.row_detected_capped("X", static_cast<std::uint8_t>(kMinDetectedGenes));
    mem.set("detected genes (transient)", static_cast<std::int64_t>(detected.capacity()));
    std::int64_t kept = 0;
    for (std::int64_t i = 0; i < sc.n_input; ++i) {
      const std::int32_t l = label[static_cast<std::size_t>(i)];
      if (l < 0) {
        ++sc.removed_nan_label;
      } else if (label_count[static_cast<std::size_t>(l)] < min_cells) {
        ++sc.removed_small_group;
      } else if (detected[static_cast<std::size_t>(i)] < kMinDetectedGenes) {
        ++sc.removed_low_genes;
      } else {
        ++kept;
      }
    }
    sc.kept_rows.reserve(static_cast<std::size_t>(kept));
    auto& groups = sample_groups[si];
    groups.reserve(static_cast<std::size_t>(kept));
    std::vector<std::int32_t> global_of(label_names.size(), -1);
    for (std::int64_t i = 0; i < sc.n_input; ++i) {
      const std::int32_t l = label[static_cast<std::size_t>(i)];
      if (l < 0 || label_count[static_cast<std::size_t>(l)] < min_cells ||
          detected[static_cast<std::size_t>(i)] < kMinDetectedGenes) {
        continue;
      }
      sc.kept_rows.push_back(static_cast<std::uint32_t>(i));
      // Cell type ids in order of first appearance over the kept cells.
      auto& g = global_of[static_cast<std::size_t>(l)];
      if (g < 0) {
        const std::string& name = label_names[static_cast<std::size_t>(l)];
        auto [it, inserted] = group_ids.try_emplace(name, static_cast<int>(group_ids.size()));
        if (inserted) cs.group_names.push_back(name);
        g = it->second;
      }
      groups.push_back(g);
    }
    cs.n += kept;
    cs.samples.push_back(std::move(sc));
    account(cs);
    std::int64_t group_bytes = 0;
    for (const auto& gr : sample_groups) group_bytes += static_cast<std::int64_t>(gr.capacity() * sizeof(std::int32_t));
    mem.set("cell types", group_bytes);
    mem.set("sample labels (transient)", 0);
    mem.set("detected genes (transient)", 0);

    if (cfg.high_quality_neighbor_filter && !reader.has_obs_column("High_quality")) {
      throw InputError(sample.path, "obs/High_quality", "column not found",
                       "drop --high-quality-neighbor-filter or add a boolean High_quality column");
    }
    if (spatial) {  // the key and its width, checked before any coordinate is read
      const std::string& key = cfg.spatial_key;
      if (!reader.has_obsm(key)) {
        throw InputError(sample.path, "obsm/" + key, "key not found",
                         fmt::format("set --spatial-key to one of: {}", join_first(reader.obsm_keys(), 20)));
      }
      std::int64_t cols = 0;
      (void)reader.obsm_rows(key, {}, &cols);
      if (si == 0) {
        cs.coord_dims = cols;
      } else if (cols != cs.coord_dims) {
        throw InputError(sample.path, "obsm/" + key,
                         fmt::format("has {} columns, the first sample has {}", cols, cs.coord_dims),
                         "use embeddings of the same dimension in every sample");
      }
    }
  }
  // The cell types, concatenated (the per-sample lists go as they are copied).
  cs.group.reserve(static_cast<std::size_t>(cs.n));
  for (auto& gr : sample_groups) {
    cs.group.insert(cs.group.end(), gr.begin(), gr.end());
    std::vector<std::int32_t>().swap(gr);
  }
  account(cs);

  // Pass 2: High_quality (with the filter only: the neighbour search reads it nowhere else) and the
  // coordinates of the kept cells, by blocks of kept rows.
  if (cfg.high_quality_neighbor_filter) cs.high_quality.reserve(static_cast<std::size_t>(cs.n));
  if (spatial) cs.coords.reserve(static_cast<std::size_t>(cs.n * cs.coord_dims));
  account(cs);
  for (const auto& sc : cs.samples) {
    const auto& sample = sc.sample;
    io::H5adReader reader(sample.path);
    const auto count = static_cast<std::int64_t>(sc.kept_rows.size());
    for (std::int64_t k0 = 0; k0 < count; k0 += block) {
      const std::int64_t k1 = std::min(count, k0 + block);
      const std::int64_t row0 = sc.kept_rows[static_cast<std::size_t>(k0)];
      const std::int64_t row1 = std::int64_t{sc.kept_rows[static_cast<std::size_t>(k1 - 1)]} + 1;
      if (cfg.high_quality_neighbor_filter) {
        const auto hq = reader.obs_column("High_quality", row0, row1);
        for (std::int64_t k = k0; k < k1; ++k) {
          const auto l = io::column_label(hq, static_cast<std::size_t>(sc.kept_rows[static_cast<std::size_t>(k)] - row0));
          // Cast to bool, missing -> true (docs/algorithms.md §1.1).
          cs.high_quality.push_back(!l || (*l != "False" && *l != "0" && *l != "0.0" && *l != "false"));
        }
      }
      if (spatial) {
        const std::string& key = cfg.spatial_key;
        const std::vector<std::int64_t> rows(sc.kept_rows.begin() + k0, sc.kept_rows.begin() + k1);
        std::int64_t cols = 0;
        const auto values = reader.obsm_rows(key, rows, &cols);
        append_finite_rows(sample.path, key, rows, values, cols, cs.coords);
      }
    }
  }
  account(cs);
  if (!has_annotation) cs.group_names = {"all"};

  // The filter table (docs/algorithms.md §1.1).
  GSMAP_LOG_INFO("Cell filtering per sample (min cells per type {}, min detected genes {}):",
                 min_cells, kMinDetectedGenes);
  GSMAP_LOG_INFO("  {:<24} {:>10} {:>10} {:>12} {:>10} {:>10}", "sample", "input", "NaN label",
                 "small group", "low genes", "kept");
  for (const auto& s : cs.samples) {
    GSMAP_LOG_INFO("  {:<24} {:>10} {:>10} {:>12} {:>10} {:>10}", s.sample.name, s.n_input,
                   s.removed_nan_label, s.removed_small_group, s.removed_low_genes, s.kept_rows.size());
  }
  GSMAP_LOG_INFO("{} cells kept in {} samples, {} genes, {} cell types", cs.n, cs.samples.size(),
                 cs.genes.size(), cs.group_names.size());
  if (cs.n == 0) {
    throw InputError(samples.empty() ? "(no samples)" : samples[0].path, "",
                     "no cell passed the filters", "check --annotation and the expression layer");
  }
  return cs;
}

namespace {

std::uint64_t name_hash(const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a, then a final mix
  for (const unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

// Whether every obs name of the sample is distinct, so that make_unique_names changes none. Names
// are read in blocks and hashed; the hashes are checked in 4 passes of a quarter each (about 2
// bytes per row at a time). Equal hashes (a repeated name, or a collision) answer false: the caller
// then makes the names unique over the whole sample, as it always did.
bool names_distinct(const io::H5adReader& reader, std::int64_t n_rows, std::int64_t block) {
  constexpr std::uint64_t kPasses = 4;
  auto& mem = AllCellsMemory::instance();
  std::vector<std::uint64_t> hashes;
  for (std::uint64_t pass = 0; pass < kPasses; ++pass) {
    hashes.clear();
    hashes.reserve(static_cast<std::size_t>(n_rows) / kPasses + static_cast<std::size_t>(n_rows) / 64 + 1024);
    for (std::int64_t a = 0; a < n_rows; a += block) {
      const std::int64_t b = std::min(n_rows, a + block);
      for (const auto& name : reader.obs_names(a, b)) {
        const std::uint64_t h = name_hash(name);
        if (h % kPasses == pass) hashes.push_back(h);
      }
    }
    mem.set("name hashes (transient)", static_cast<std::int64_t>(hashes.capacity() * sizeof(std::uint64_t)));
    std::sort(hashes.begin(), hashes.end());
    if (std::adjacent_find(hashes.begin(), hashes.end()) != hashes.end()) {
      mem.set("name hashes (transient)", 0);
      return false;
    }
  }
  mem.set("name hashes (transient)", 0);
  return true;
}

}  // namespace

// The names of the input rows `rows` (ascending) of a sample as make_unique_names(all names)
// gives them, holding only the names of those rows. make_unique_names gives the j-th repeat of a
// name b the j-th suffix k = 1, 2, ... for which "b-k" is not a name of the sample (a generated
// "b-k" never equals another name's generated one: the text after the last '-' is the number).
// So two block-wise passes over the names suffice: the repeats before each wanted row, then which
// candidate "b-k" are names of the sample (repeated while a base needs more candidates).
std::vector<std::string> unique_names_of_rows(const io::H5adReader& reader, std::int64_t n_rows,
                                              std::span<const std::int64_t> rows,
                                              std::int64_t block) {
  std::vector<std::string> names;
  if (rows.empty()) return names;
  const auto first = reader.obs_names(rows.front(), rows.back() + 1);
  for (const auto r : rows) names.push_back(first[static_cast<std::size_t>(r - rows.front())]);
  std::unordered_map<std::string, std::int64_t> seen;  // repeats so far, wanted names only
  for (const auto& n : names) seen.emplace(n, 0);
  std::vector<std::int64_t> repeat(rows.size(), 0);
  std::size_t next = 0;
  for (std::int64_t a = 0; a < n_rows; a += block) {
    const std::int64_t b = std::min(n_rows, a + block);
    const auto part = reader.obs_names(a, b);
    for (std::int64_t i = a; i < b; ++i) {
      const auto it = seen.find(part[static_cast<std::size_t>(i - a)]);
      if (it == seen.end()) continue;
      if (next < rows.size() && rows[next] == i) repeat[next++] = it->second;
      ++it->second;
    }
  }
  // Per repeated base: the repeat numbers wanted, and the valid suffixes found so far.
  std::unordered_map<std::string, std::int64_t> most;  // base -> highest repeat wanted
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (repeat[j] > 0) most[names[j]] = std::max(most[names[j]], repeat[j]);
  }
  std::unordered_map<std::string, std::vector<std::int64_t>> valid;  // base -> valid suffixes
  std::unordered_map<std::string, std::int64_t> tried;               // base -> last k checked
  for (;;) {
    std::unordered_map<std::string, std::pair<std::string, std::int64_t>> candidates;  // "b-k" -> (b, k)
    for (const auto& [base, m] : most) {
      const auto have = static_cast<std::int64_t>(valid[base].size());
      if (have >= m) continue;
      std::int64_t& k = tried[base];
      for (std::int64_t c = 0; c < m - have; ++c) {
        ++k;
        candidates.emplace(fmt::format("{}-{}", base, k), std::pair<std::string, std::int64_t>{base, k});
      }
    }
    if (candidates.empty()) break;
    for (std::int64_t a = 0; a < n_rows; a += block) {
      for (const auto& n : reader.obs_names(a, std::min(n_rows, a + block))) candidates.erase(n);
    }
    for (const auto& [name, bk] : candidates) valid[bk.first].push_back(bk.second);
    for (auto& [base, ks] : valid) std::sort(ks.begin(), ks.end());
  }
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (repeat[j] > 0) {
      names[j] = fmt::format("{}-{}", names[j], valid[names[j]][static_cast<std::size_t>(repeat[j] - 1)]);
    }
  }
  return names;
}

void load_obs_rows(CellSet& cs, std::int64_t start, std::int64_t end) {
  cs.spot_names.clear();
  cs.obs_columns.clear();
  cs.first_row = start;
  const std::int64_t block = block_rows();
  // obs columns carried to the outputs, typed: those of the first sample that every sample has in
  // a joinable kind. Whether they join depends on their kinds, categories and dtypes only, so
  // the decision is made on empty reads of every sample (the same on every rank), and then only
  // the rows [start, end) are read and joined (docs/scalability.md "Memory per rank"). A column
  // that is strings in one sample and categorical in another becomes categorical with categories
  // in order of first appearance over the rows: that one is joined over all kept cells as before.
  std::vector<std::string> carried_names;  // obs columns of the first sample ("" = dropped)
  std::vector<io::Column> probe;
  std::vector<char> has_strings, has_categories;
  for (std::size_t si = 0; si < cs.samples.size(); ++si) {
    const auto& sample = cs.samples[si].sample;
    io::H5adReader reader(sample.path);
    if (si == 0) {
      for (const auto& name : reader.obs_column_names()) {
        if (!is_own_column(name)) carried_names.push_back(name);
      }
      probe.resize(carried_names.size());
      has_strings.assign(carried_names.size(), 0);
      has_categories.assign(carried_names.size(), 0);
    }
    for (std::size_t c = 0; c < carried_names.size(); ++c) {
      const std::string name = carried_names[c];
      if (name.empty()) continue;
      if (!reader.has_obs_column(name)) {
        GSMAP_LOG_WARN("{}: obs column '{}' is missing; it is not carried to the outputs",
                       sample.path, name);
        carried_names[c].clear();
        continue;
      }
      auto part = reader.obs_column(name, 0, 0);
      has_strings[c] |= std::holds_alternative<io::StringColumn>(part);
      has_categories[c] |= std::holds_alternative<io::Categorical>(part);
      if (si == 0) {
        probe[c] = std::move(part);
        continue;
      }
      try {
        io::append_column(probe[c], part);
      } catch (const std::invalid_argument& e) {
        GSMAP_LOG_WARN("{}: obs column '{}' cannot be joined with the first sample's ({}); it is "
                       "not carried to the outputs", sample.path, name, e.what());
        carried_names[c].clear();
      }
    }
  }
  std::vector<io::Column> carried(carried_names.size());
  for (std::size_t si = 0; si < cs.samples.size(); ++si) {
    const SampleCells& sc = cs.samples[si];
    const auto& sample = sc.sample;
    io::H5adReader reader(sample.path);
    const std::int64_t count = static_cast<std::int64_t>(sc.kept_rows.size());
    const std::int64_t lo = std::clamp(start - sc.global_offset, std::int64_t{0}, count);
    const std::int64_t hi = std::clamp(end - sc.global_offset, std::int64_t{0}, count);
    // The input rows [row0, row1) that hold this rank's kept rows lo..hi of the sample.
    const std::int64_t row0 = hi > lo ? sc.kept_rows[static_cast<std::size_t>(lo)] : 0;
    const std::int64_t row1 = hi > lo ? std::int64_t{sc.kept_rows[static_cast<std::size_t>(hi - 1)]} + 1 : 0;
    std::vector<std::int64_t> local;  // kept rows lo..hi, relative to row0
    for (std::int64_t k = lo; k < hi; ++k) local.push_back(sc.kept_rows[static_cast<std::size_t>(k)] - row0);
    // Names: made unique over the whole sample (they depend on the other names). When the sample's
    // names are distinct, nothing changes and only the rank's rows are read.
    if (hi > lo) {
      if (names_distinct(reader, sc.n_input, block)) {
        const auto names = reader.obs_names(row0, row1);
        for (const auto r : local) cs.spot_names.push_back(names[static_cast<std::size_t>(r)] + "|" + sample.name);
      } else {  // repeats: the names of these rows, made unique as over the whole sample
        std::vector<std::int64_t> rows;
        for (const auto r : local) rows.push_back(row0 + r);
        for (const auto& name : unique_names_of_rows(reader, sc.n_input, rows, block)) {
          cs.spot_names.push_back(name + "|" + sample.name);
        }
      }
    }
    for (std::size_t c = 0; c < carried_names.size(); ++c) {
      const std::string& name = carried_names[c];
      if (name.empty()) continue;
      io::Column part;
      if (has_strings[c] && has_categories[c]) {  // joined over all kept cells, trimmed below
        const std::vector<std::int64_t> kept(sc.kept_rows.begin(), sc.kept_rows.end());
        part = io::take_rows(reader.obs_column(name), kept);
      } else {
        part = io::take_rows(reader.obs_column(name, row0, row1), local);
      }
      if (si == 0) {
        carried[c] = std::move(part);
      } else {
        io::append_column(carried[c], part);  // joinable: checked above
      }
    }
  }
  // The obs columns keep their categories (the input's order, docs/formats.md "Types kept"), so
  // every rank encodes its rows alike.
  for (std::size_t c = 0; c < carried_names.size(); ++c) {
    if (carried_names[c].empty()) continue;
    if (has_strings[c] && has_categories[c]) {
      cs.obs_columns.emplace_back(carried_names[c], io::slice_rows(carried[c], start, end));
    } else {
      cs.obs_columns.emplace_back(carried_names[c], std::move(carried[c]));
    }
  }
}

EmbeddingRows read_embedding_rows(const CellSet& cs, const std::string& key, const char* option,
                                  std::span<const std::int64_t> globals) {
  EmbeddingRows out;
  std::size_t next = 0;
  for (std::size_t si = 0; si < cs.samples.size(); ++si) {
    const SampleCells& sc = cs.samples[si];
    const auto& sample = sc.sample;
    io::H5adReader reader(sample.path);
    if (!reader.has_obsm(key)) {
      throw InputError(sample.path, "obsm/" + key, "key not found",
                       fmt::format("set {} to one of: {}", option, join_first(reader.obsm_keys(), 20)));
    }
    // The wanted cells of this sample: globals are ascending, samples are contiguous.
    const std::int64_t end = sc.global_offset + static_cast<std::int64_t>(sc.kept_rows.size());
    std::vector<std::int64_t> rows;
    while (next < globals.size() && globals[next] < end) {
      rows.push_back(sc.kept_rows[static_cast<std::size_t>(globals[next] - sc.global_offset)]);
      ++next;
    }
    std::int64_t cols = 0;
    const auto values = reader.obsm_rows(key, rows, &cols);
    if (si == 0) {
      out.dims = cols;
      out.is_f64 = reader.obsm_dtype(key) == "float64";
      out.values.reserve(globals.size() * static_cast<std::size_t>(cols));
    } else if (cols != out.dims) {
      throw InputError(sample.path, "obsm/" + key,
                       fmt::format("has {} columns, the first sample has {}", cols, out.dims),
                       "use embeddings of the same dimension in every sample");
    }
    append_finite_rows(sample.path, key, rows, values, cols, out.values);
  }
  if (next != globals.size()) throw ComputeError("read_embedding_rows: cells not ascending");
  return out;
}

std::vector<std::int64_t> stage_b_cells(const gss::CellTable& table, const gss::NeighborParams& params,
                                        std::span<const std::int64_t> own) {
  gss::CellTable t = table;
  gss::NormalizedEmbedding none;  // the candidate search reads no embedding
  none.rows = t.n;
  none.dim = 1;
  t.cell = &none;
  t.niche = nullptr;
  std::vector<std::uint64_t> marked((static_cast<std::size_t>(t.n) + 63) / 64, 0);
  const auto mark = [&marked](std::int64_t cell) {
    std::atomic_ref<std::uint64_t>(marked[static_cast<std::size_t>(cell) / 64])
        .fetch_or(std::uint64_t{1} << (static_cast<std::size_t>(cell) % 64), std::memory_order_relaxed);
  };
  {
    const gss::HomogeneousNeighborFinder finder(t, params);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, own.size(), 256),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t i = r.begin(); i < r.end(); ++i) {
                          mark(own[i]);
                          for (const std::int32_t cell : finder.candidate_row(own[i])) {
                            if (cell >= 0) mark(cell);
                          }
                        }
                      });
  }
  std::vector<std::int64_t> cells;
  for (std::size_t w = 0; w < marked.size(); ++w) {
    for (std::uint64_t bits = marked[w]; bits != 0; bits &= bits - 1) {
      cells.push_back(static_cast<std::int64_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(bits))));
    }
  }
  return cells;
}

namespace {

// The cells' per-cell tables restricted to `subset` (ascending global ids): coordinates, cell
// types, High_quality and slice starts, indexed by position in `subset`.
struct LocalTable {
  std::vector<double> coords;
  std::vector<std::int32_t> group;
  std::vector<std::uint8_t> high_quality;
  std::vector<std::int64_t> slice_starts;
  gss::NormalizedEmbedding none;  // the candidate search reads no embedding

  LocalTable(const CellSet& cs, std::span<const std::int64_t> subset) {
    const auto d = static_cast<std::size_t>(cs.coord_dims);
    coords.reserve(subset.size() * d);
    group.reserve(subset.size());
    for (const auto c : subset) {
      const auto i = static_cast<std::size_t>(c);
      coords.insert(coords.end(), cs.coords.begin() + static_cast<std::ptrdiff_t>(i * d),
                    cs.coords.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
      group.push_back(cs.group[i]);
      if (!cs.high_quality.empty()) high_quality.push_back(cs.high_quality[i]);
    }
    for (const auto start : cs.slice_starts()) {
      slice_starts.push_back(std::lower_bound(subset.begin(), subset.end(), start) - subset.begin());
    }
    none.rows = static_cast<std::int64_t>(subset.size());
    none.dim = 1;
  }
  gss::CellTable table(const CellSet& cs) const {
    gss::CellTable t;
    t.n = static_cast<std::int64_t>(group.size());
    t.coord_dim = static_cast<int>(cs.coord_dims);
    t.coords = coords;
    t.slice_starts = slice_starts;
    t.group = group;
    t.group_names = cs.group_names;
    t.high_quality = high_quality;
    t.cell = &none;
    return t;
  }
};

// Ascending, without repeats.
void sort_unique(std::vector<std::int64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

StageBSearch stage_b_search(const CellSet& cs, const gss::NeighborParams& params,
                            std::span<const std::int64_t> own, const StageBEmbeddingReader& read,
                            gss::NeighborResult* result) {
  StageBSearch out;
  auto& mem = AllCellsMemory::instance();
  if (!params.spatial()) {  // scRNA: every cell of the own cells' types
    std::vector<char> wanted(cs.group_names.size() + 1, 0);
    for (const auto c : own) wanted[static_cast<std::size_t>(cs.group[static_cast<std::size_t>(c)])] = 1;
    for (std::int64_t i = 0; i < cs.n; ++i) {
      if (wanted[static_cast<std::size_t>(cs.group[static_cast<std::size_t>(i)])]) out.cells.push_back(i);
    }
    out.searched = static_cast<std::int64_t>(out.cells.size());
    return out;
  }
  const auto k_cand = static_cast<std::size_t>(params.candidate_columns());
  const bool select_here = static_cast<bool>(read) && result != nullptr && params.n_adjacent == 0;
  if (!select_here) out.candidates.assign(own.size() * k_cand, -1);
  const auto finish = [&] {  // own cells and candidates, ascending: a bit per cell
    std::vector<std::uint64_t> marked((static_cast<std::size_t>(cs.n) + 63) / 64, 0);
    mem.set("needed cells (transient bits)", static_cast<std::int64_t>(marked.capacity() * 8));
    const auto mark = [&marked](std::int64_t c) {
      marked[static_cast<std::size_t>(c) / 64] |= std::uint64_t{1} << (static_cast<std::size_t>(c) % 64);
    };
    for (const auto c : own) mark(c);
    for (const auto c : out.candidates) {
      if (c >= 0) mark(c);
    }
    out.cells.clear();
    for (std::size_t w = 0; w < marked.size(); ++w) {
      for (std::uint64_t bits = marked[w]; bits != 0; bits &= bits - 1) {
        out.cells.push_back(static_cast<std::int64_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(bits))));
      }
    }
    mem.set("needed cells (transient bits)", 0);
  };
  // Boxes per (cell type, slice) of the own cells' candidate blocks: spatial2D, the own slice;
  // spatial3D, also each adjacent slice.
  if (select_here) {
    const int k_total = params.total_columns();
    const std::size_t slots = own.size() * static_cast<std::size_t>(k_total);
    result->n_query = static_cast<std::int64_t>(own.size());
    result->k_total = k_total;
    result->k_candidates = 0;
    result->indices.assign(slots, -1);
    result->cell_sims.assign(slots, 0);
    result->niche_sims.assign(slots, 0);
    result->candidates.clear();
    result->neighbor_count.assign(own.size(), 0);
    result->cell_sim_median.assign(own.size(), 0.0f);
    result->niche_sim_median.assign(own.size(), 0.0f);
  }
  const auto n_slices = static_cast<std::int64_t>(cs.samples.size());
  const int dims = static_cast<int>(cs.coord_dims);
  const int n_blocks = 1 + 2 * params.n_adjacent;  // the central block, then the adjacent ones
  const auto block_column = [&](int b) {  // first column of block b in a candidate row
    return b == 0 ? 0 : params.k_central + (b - 1) * params.k_adjacent;
  };
  const auto block_width = [&](int b) { return b == 0 ? params.k_central : params.k_adjacent; };
  const auto slice_of = [&](std::int64_t i) { return cs.slice_of(i); };
  const auto xy = [&](std::int64_t i, int d) {
    return d < dims ? cs.coords[static_cast<std::size_t>(i * dims + d)] : 0.0;
  };
  const auto in_pool = [&](std::int64_t i) {
    return !params.high_quality_filter || cs.high_quality[static_cast<std::size_t>(i)] != 0;
  };
  struct Box {
    double lo[2] = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
    double hi[2] = {-std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    void add(double x, double y) {
      lo[0] = std::min(lo[0], x), hi[0] = std::max(hi[0], x);
      lo[1] = std::min(lo[1], y), hi[1] = std::max(hi[1], y);
    }
  };
  struct Key {
    Box own, pool;
    std::int64_t pool_cells = 0;
    double margin = 0;
    bool whole = false;
  };
  // spatial3D: which adjacent slices a row's blocks come from depends on every slice's pool
  // (docs/algorithms.md §3.4). One pass over all cells finds, per cell type, the slices holding
  // pool cells and the range of its cells' slices, and a cell for each of them (representatives,
  // O(types x slices)): every round searches them too, so that its finder sees the slices of a
  // search over all cells. A representative outside the boxes is a true pool cell farther than
  // the boxes' border, so it never enters a row that is proven exact.
  std::vector<std::int64_t> representatives;
  std::vector<char> available;  // group * n_slices + slice: the slice holds pool cells of the group
  std::vector<std::int32_t> slice_lo, slice_hi;
  std::unordered_map<std::int64_t, std::vector<std::int32_t>> adjacency;  // group * n_slices + slice
  if (params.n_adjacent > 0) {
    std::int32_t n_groups = 0;
    for (const auto g : cs.group) n_groups = std::max(n_groups, g + 1);
    available.assign(static_cast<std::size_t>(n_groups * n_slices), 0);
    slice_lo.assign(static_cast<std::size_t>(n_groups), std::numeric_limits<std::int32_t>::max());
    slice_hi.assign(static_cast<std::size_t>(n_groups), std::numeric_limits<std::int32_t>::min());
    std::vector<std::int64_t> at_lo(static_cast<std::size_t>(n_groups), -1), at_hi(at_lo);
    for (const auto& sc : cs.samples) {
      const auto slice = static_cast<std::int32_t>(&sc - cs.samples.data());
      for (std::int64_t c = sc.global_offset; c < sc.global_offset + static_cast<std::int64_t>(sc.kept_rows.size()); ++c) {
        const auto g = static_cast<std::size_t>(cs.group[static_cast<std::size_t>(c)]);
        if (slice < slice_lo[g]) slice_lo[g] = slice, at_lo[g] = c;
        if (slice > slice_hi[g]) slice_hi[g] = slice, at_hi[g] = c;
        char& here = available[g * static_cast<std::size_t>(n_slices) + static_cast<std::size_t>(slice)];
        if (!here && in_pool(c)) here = 1, representatives.push_back(c);
      }
    }
    for (std::size_t g = 0; g < at_lo.size(); ++g) {
      if (at_lo[g] >= 0) representatives.push_back(at_lo[g]), representatives.push_back(at_hi[g]);
    }
  }
  const auto adjacent_of = [&](std::int32_t g, std::int64_t slice) -> const std::vector<std::int32_t>& {
    const std::int64_t id = std::int64_t{g} * n_slices + slice;
    auto [it, inserted] = adjacency.try_emplace(id);
    // A slice without pool cells of the type has empty rows (no blocks), as in the finder.
    if (inserted && available[static_cast<std::size_t>(id)]) {
      const auto has_pool = [&](std::int64_t t) {
        return t >= 0 && t < n_slices && available[static_cast<std::size_t>(std::int64_t{g} * n_slices + t)] != 0;
      };
      it->second = gss::adjacent_slices(has_pool, static_cast<std::int32_t>(slice),
                                        slice_lo[static_cast<std::size_t>(g)],
                                        slice_hi[static_cast<std::size_t>(g)], params.n_adjacent);
    }
    return it->second;
  };

  std::vector<Key> keys;
  std::unordered_map<std::int64_t, std::size_t> key_of;  // group * n_slices + slice
  constexpr std::size_t kNoBlock = std::numeric_limits<std::size_t>::max();
  // The key of each block of each own cell's row (kNoBlock: the row has no such block).
  std::vector<std::size_t> block_key(own.size() * static_cast<std::size_t>(n_blocks), kNoBlock);
  const auto add_to_key = [&](std::int32_t g, std::int64_t slice, std::int64_t c) {
    auto [it, inserted] = key_of.try_emplace(std::int64_t{g} * n_slices + slice, keys.size());
    if (inserted) keys.emplace_back();
    keys[it->second].own.add(xy(c, 0), xy(c, 1));
    return it->second;
  };
  for (std::size_t i = 0; i < own.size(); ++i) {
    const std::int64_t c = own[i];
    const std::int32_t g = cs.group[static_cast<std::size_t>(c)];
    block_key[i * static_cast<std::size_t>(n_blocks)] = add_to_key(g, slice_of(c), c);
    if (params.n_adjacent == 0) continue;
    const auto& adjacent = adjacent_of(g, slice_of(c));
    for (std::size_t b = 0; b < adjacent.size(); ++b) {
      block_key[i * static_cast<std::size_t>(n_blocks) + 1 + b] = add_to_key(g, adjacent[b], c);
    }
  }
  for (const auto& sc : cs.samples) {  // pool sizes and bounding boxes of the keys
    const std::int64_t slice = &sc - cs.samples.data();
    for (std::int64_t c = sc.global_offset; c < sc.global_offset + static_cast<std::int64_t>(sc.kept_rows.size()); ++c) {
      if (!in_pool(c)) continue;
      const auto it = key_of.find(std::int64_t{cs.group[static_cast<std::size_t>(c)]} * n_slices + slice);
      if (it == key_of.end()) continue;
      keys[it->second].pool.add(xy(c, 0), xy(c, 1));
      ++keys[it->second].pool_cells;
    }
  }
  const auto covers = [](const Key& k) {
    return k.own.lo[0] - k.margin <= k.pool.lo[0] && k.own.hi[0] + k.margin >= k.pool.hi[0] &&
           k.own.lo[1] - k.margin <= k.pool.lo[1] && k.own.hi[1] + k.margin >= k.pool.hi[1];
  };
  for (auto& k : keys) {
    // Start at 1.5 x the radius that holds k_c pool cells at the pool's mean density.
    const double w = k.pool.hi[0] - k.pool.lo[0], h = k.pool.hi[1] - k.pool.lo[1];
    const double area = w > 0 && h > 0 ? w * h : std::max(w, h) * std::max(w, h);
    const double r = k.pool_cells > 0 ? std::sqrt(static_cast<double>(params.k_central) * area /
                                                  (3.14159265358979 * static_cast<double>(k.pool_cells)))
                                      : 0.0;
    k.margin = 1.5 * r;
    k.whole = k.pool_cells <= params.k_central || !(k.margin > 0) || covers(k);
  }
  // A cell whose row is full but not proven exact has its k_c nearest pool cells within the
  // distance `reach` of its row's last candidate (the search covered a subset of the pool): the
  // next search takes every pool cell within that square, so its row there is exact. The squares
  // are marked, conservatively, on a 128 x 128 raster of the key's pool bounding box.
  constexpr int kRaster = 128;
  std::vector<char> ok(own.size(), 0);
  std::vector<char> covered(block_key.size(), 0);  // per (own cell, block)
  std::vector<double> reach(block_key.size(), -1.0);
  std::vector<std::vector<char>> raster(keys.size());
  const auto raster_cell = [&](const Key& k, double x, double y) {
    const auto at = [](double v, double lo, double hi) {
      const double w = hi - lo;
      if (!(w > 0)) return 0;
      return std::clamp(static_cast<int>((v - lo) / w * kRaster), 0, kRaster - 1);
    };
    return std::pair<int, int>{at(x, k.pool.lo[0], k.pool.hi[0]), at(y, k.pool.lo[1], k.pool.hi[1])};
  };
  for (;;) {
    ++out.rounds;
    // The cells of this search: own cells and the pool cells within the keys' boxes.
    std::vector<std::int64_t> subset(own.begin(), own.end());
    for (const auto& sc : cs.samples) {
      const std::int64_t slice = &sc - cs.samples.data();
      for (std::int64_t c = sc.global_offset; c < sc.global_offset + static_cast<std::int64_t>(sc.kept_rows.size()); ++c) {
        if (!in_pool(c)) continue;
        const auto it = key_of.find(std::int64_t{cs.group[static_cast<std::size_t>(c)]} * n_slices + slice);
        if (it == key_of.end()) continue;
        const Key& k = keys[it->second];
        const double x = xy(c, 0), y = xy(c, 1);
        bool take = k.whole || (x >= k.own.lo[0] - k.margin && x <= k.own.hi[0] + k.margin &&
                                y >= k.own.lo[1] - k.margin && y <= k.own.hi[1] + k.margin);
        if (!take && !raster[it->second].empty()) {
          const auto [ix, iy] = raster_cell(k, x, y);
          take = raster[it->second][static_cast<std::size_t>(iy * kRaster + ix)] != 0;
        }
        if (take) subset.push_back(c);
      }
    }
    subset.insert(subset.end(), representatives.begin(), representatives.end());
    sort_unique(subset);
    out.searched = static_cast<std::int64_t>(subset.size());
    const LocalTable local(cs, subset);
    std::vector<char> failed(keys.size(), 0);
    std::atomic<bool> any_failed{false};
    // Whether the row of own cell i (candidates as positions in `subset`) is that of a search over
    // all cells; else marks what the next round needs.
    const auto check = [&](std::size_t i, const std::int32_t* row) {
      const std::int64_t q = own[i];
      const double qc[2] = {xy(q, 0), xy(q, 1)};
      bool all_exact = true;
      for (int b = 0; b < n_blocks; ++b) {
        const std::size_t slot = i * static_cast<std::size_t>(n_blocks) + static_cast<std::size_t>(b);
        if (block_key[slot] == kNoBlock) continue;  // -1 in every search
        const Key& k = keys[block_key[slot]];
        bool exact = k.whole || covered[slot];
        const std::int32_t last_col = row[block_column(b) + block_width(b) - 1];
        if (!exact && last_col >= 0) {
          // Distance from q to the nearest box side beyond which pool cells lie.
          double bound = std::numeric_limits<double>::infinity();
          for (int d = 0; d < 2; ++d) {
            if (k.own.lo[d] - k.margin > k.pool.lo[d]) bound = std::min(bound, qc[d] - (k.own.lo[d] - k.margin));
            if (k.own.hi[d] + k.margin < k.pool.hi[d]) bound = std::min(bound, (k.own.hi[d] + k.margin) - qc[d]);
          }
          const std::int64_t last = subset[static_cast<std::size_t>(last_col)];
          double d2 = 0;
          for (int d = 0; d < dims; ++d) {
            const double diff = xy(q, d) - xy(last, d);
            d2 += diff * diff;
          }
          // Rounding of d2 and of the box arithmetic is far below this margin.
          bound -= 1e-9 * (std::fabs(bound) + std::fabs(qc[0]) + std::fabs(qc[1]) + k.margin);
          exact = bound > 0 && std::sqrt(d2) < bound;
          if (!exact) reach[slot] = std::sqrt(d2) * (1 + 1e-9) + 1e-9 * (std::fabs(qc[0]) + std::fabs(qc[1]));
        }
        if (!exact) {
          if (reach[slot] < 0) std::atomic_ref<char>(failed[block_key[slot]]).store(1, std::memory_order_relaxed);
          all_exact = false;
        }
      }
      if (!all_exact) {
        any_failed = true;
        return false;
      }
      ok[i] = 1;
      return true;
    };
    const auto local_of = [&](std::int64_t cell) {
      return std::lower_bound(subset.begin(), subset.end(), cell) - subset.begin();
    };
    if (select_here) {
      // Search and SELECT in one pass over the embeddings of this round's cells; rows proven
      // exact are kept (docs/algorithms.md §5.2), by chunks of cells so that the candidate rows
      // in flight stay small.
      const StageBEmbeddings emb = read(subset);
      gss::CellTable table = local.table(cs);
      table.cell = &emb.cell;
      table.niche = emb.niche ? &*emb.niche : nullptr;
      const gss::HomogeneousNeighborFinder finder(table, params);
      std::vector<std::size_t> todo;
      for (std::size_t i = 0; i < own.size(); ++i) {
        if (!ok[i]) todo.push_back(i);
      }
      constexpr std::size_t kChunk = 4096;
      const auto k_total = static_cast<std::size_t>(result->k_total);
      for (std::size_t c0 = 0; c0 < todo.size(); c0 += kChunk) {
        const std::size_t c1 = std::min(todo.size(), c0 + kChunk);
        std::vector<std::int64_t> query;
        for (std::size_t t = c0; t < c1; ++t) query.push_back(local_of(own[todo[t]]));
        const gss::NeighborResult r = finder.find(query, true);
        for (std::size_t t = c0; t < c1; ++t) {
          const std::size_t i = todo[t], j = t - c0;
          if (!check(i, r.candidates.data() + j * k_cand)) continue;
          for (std::size_t col = 0; col < k_total; ++col) {
            const std::int32_t x = r.indices[j * k_total + col];
            result->indices[i * k_total + col] =
                x >= 0 ? static_cast<std::int32_t>(subset[static_cast<std::size_t>(x)]) : x;
            result->cell_sims[i * k_total + col] = r.cell_sims[j * k_total + col];
            result->niche_sims[i * k_total + col] = r.niche_sims[j * k_total + col];
          }
          result->neighbor_count[i] = r.neighbor_count[j];
          result->cell_sim_median[i] = r.cell_sim_median[j];
          result->niche_sim_median[i] = r.niche_sim_median[j];
        }
      }
      out.cells = subset;  // the cells whose embeddings were read last
    } else {
      const gss::HomogeneousNeighborFinder finder(local.table(cs), params);
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, own.size(), 64),
                        [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) {
          if (ok[i]) continue;
          const auto row = finder.candidate_row(local_of(own[i]));
          if (!check(i, row.data())) continue;
          for (std::size_t j = 0; j < k_cand; ++j) {
            out.candidates[i * k_cand + j] = row[j] >= 0 ? static_cast<std::int32_t>(subset[static_cast<std::size_t>(row[j])]) : -1;
          }
        }
      });
    }
    if (!any_failed) break;
    for (std::size_t k = 0; k < keys.size(); ++k) {  // too few pool cells in the box: wider
      if (!failed[k]) continue;
      keys[k].margin *= 2;
      keys[k].whole = keys[k].whole || covers(keys[k]);
    }
    for (std::size_t slot = 0; slot < block_key.size(); ++slot) {  // full blocks not proven: squares
      const std::size_t i = slot / static_cast<std::size_t>(n_blocks);
      if (ok[i] || reach[slot] < 0) continue;
      const Key& k = keys[block_key[slot]];
      auto& marks = raster[block_key[slot]];
      if (marks.empty()) marks.assign(static_cast<std::size_t>(kRaster) * kRaster, 0);
      const double x = xy(own[i], 0), y = xy(own[i], 1), r = reach[slot];
      const auto [x0, y0] = raster_cell(k, x - r, y - r);
      const auto [x1, y1] = raster_cell(k, x + r, y + r);
      for (int iy = y0; iy <= y1; ++iy) {
        for (int ix = x0; ix <= x1; ++ix) marks[static_cast<std::size_t>(iy * kRaster + ix)] = 1;
      }
      covered[slot] = 1;
      reach[slot] = -1.0;
    }
  }
  if (!select_here) finish();
  return out;
}

CellPartition partition_cells(const CellSet& cells, int rank_batch_size, int n_ranks, int me) {
  std::vector<std::int64_t> per_sample;
  for (const auto& sc : cells.samples) per_sample.push_back(static_cast<std::int64_t>(sc.kept_rows.size()));
  auto chunks = gss::rank_chunks(per_sample, rank_batch_size);
  std::vector<std::int64_t> chunk_starts;
  for (const auto& ch : chunks) chunk_starts.push_back(ch.begin);
  auto part = dist::Partition::aligned(cells.n, n_ranks, chunk_starts);
  dist::Partition work(cells.n, n_ranks);
  if (me < 0) {
    return CellPartition{std::move(chunks), std::move(part), processing_order(cells), std::move(work)};
  }
  auto order = processing_positions(cells, work.start(me), work.end(me));
  CellPartition cp{std::move(chunks), std::move(part), std::move(order), std::move(work)};
  cp.order_first = cp.work.start(me);
  return cp;
}

std::uint64_t hilbert_index(std::uint32_t x, std::uint32_t y) {
  constexpr std::uint32_t kSide = 1u << 16;
  std::uint64_t d = 0;
  for (std::uint32_t s = kSide / 2; s > 0; s /= 2) {
    const std::uint32_t rx = (x & s) ? 1 : 0, ry = (y & s) ? 1 : 0;
    d += static_cast<std::uint64_t>(s) * s * ((3 * rx) ^ ry);
    if (ry == 0) {  // rotate the quadrant so that the curve stays continuous
      if (rx == 1) {
        x = kSide - 1 - x;
        y = kSide - 1 - y;
      }
      std::swap(x, y);
    }
  }
  return d;
}

namespace {

// The key of the processing order of every cell of one sample (docs/algorithms.md §5.1): spatial
// data, the Hilbert index of the first two coordinates on a grid over the sample's bounding box
// (one coordinate: its grid cell); scRNA, the cell type. Keys fit 32 bits; ties keep the input
// order.
class SampleKeys {
 public:
  SampleKeys(const CellSet& cells, const SampleCells& sc)
      : cells_(cells), first_(sc.global_offset), count_(static_cast<std::int64_t>(sc.kept_rows.size())),
        dims_(cells.coords.empty() ? 0 : cells.coord_dims) {
    if (dims_ < 1) return;
    // Grid over the sample's bounding box, one scale for both axes (the curve's cells stay
    // square, so a range of the curve stays compact in space).
    used_ = dims_ >= 2 ? 2 : 1;
    for (int d = 0; d < used_; ++d) {
      lo_[d] = std::numeric_limits<double>::infinity();
      double hi = -std::numeric_limits<double>::infinity();
      for (std::int64_t i = first_; i < first_ + count_; ++i) {
        const double v = coord(i, d);
        lo_[d] = std::min(lo_[d], v);
        hi = std::max(hi, v);
      }
      extent_ = std::max(extent_, hi - lo_[d]);
    }
    scale_ = extent_ > 0 && std::isfinite(extent_) ? 65535.0 / extent_ : 0.0;
  }
  std::int64_t first() const { return first_; }
  std::int64_t count() const { return count_; }
  std::uint32_t operator()(std::int64_t i) const {
    if (dims_ < 1) {
      return cells_.group.empty() ? 0u : static_cast<std::uint32_t>(cells_.group[static_cast<std::size_t>(i)]);
    }
    return used_ == 2 ? static_cast<std::uint32_t>(hilbert_index(cell_of(i, 0), cell_of(i, 1))) : cell_of(i, 0);
  }

 private:
  double coord(std::int64_t i, int d) const {
    return cells_.coords[static_cast<std::size_t>(i * dims_ + d)];
  }
  std::uint32_t cell_of(std::int64_t i, int d) const {
    const double v = (coord(i, d) - lo_[d]) * scale_;
    return std::isfinite(v) ? static_cast<std::uint32_t>(std::clamp(v, 0.0, 65535.0)) : 0u;
  }
  const CellSet& cells_;
  std::int64_t first_, count_, dims_;
  int used_ = 0;
  double lo_[2] = {0, 0};
  double extent_ = 0, scale_ = 0;
};

// The key at sample-local position p of the sorted (key, index) order, and how many cells with
// that key come before it: two passes of 16-bit histograms over the keys, recomputed (nothing per
// cell is kept).
std::pair<std::uint32_t, std::int64_t> select_key(const SampleKeys& keys, std::int64_t p) {
  std::vector<std::int64_t> hist(std::size_t{1} << 16);
  for (std::int64_t i = keys.first(); i < keys.first() + keys.count(); ++i) ++hist[keys(i) >> 16];
  std::int64_t below = 0;
  std::uint32_t high = 0;
  while (below + hist[high] <= p) below += hist[high++];
  std::fill(hist.begin(), hist.end(), 0);
  for (std::int64_t i = keys.first(); i < keys.first() + keys.count(); ++i) {
    const std::uint32_t k = keys(i);
    if ((k >> 16) == high) ++hist[k & 0xffffu];
  }
  std::uint32_t low = 0;
  while (below + hist[low] <= p) below += hist[low++];
  return {(high << 16) | low, p - below};
}

}  // namespace

std::vector<std::int64_t> processing_positions(const CellSet& cells, std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, last - first)));
  std::vector<std::pair<std::uint32_t, std::int64_t>> keyed;  // the wanted cells only
  for (const auto& sc : cells.samples) {
    const SampleKeys keys(cells, sc);
    const std::int64_t lo = std::clamp(first - keys.first(), std::int64_t{0}, keys.count());
    const std::int64_t hi = std::clamp(last - keys.first(), std::int64_t{0}, keys.count());
    if (hi <= lo) continue;
    // The cells at sample positions [lo, hi): key between the keys at lo and hi - 1, the ties at
    // either end counted off in index order.
    const auto [key_lo, tie_lo] = select_key(keys, lo);
    const auto [key_hi, tie_hi] = select_key(keys, hi - 1);
    keyed.clear();
    keyed.reserve(static_cast<std::size_t>(hi - lo));
    std::int64_t seen_lo = 0, seen_hi = 0;
    for (std::int64_t i = keys.first(); i < keys.first() + keys.count(); ++i) {
      const std::uint32_t k = keys(i);
      if (k < key_lo || k > key_hi) continue;
      const std::int64_t rank_lo = k == key_lo ? seen_lo++ : 0;
      const std::int64_t rank_hi = k == key_hi ? (k == key_lo ? rank_lo : seen_hi++) : 0;
      if (k == key_lo && rank_lo < tie_lo) continue;
      if (k == key_hi && rank_hi > tie_hi) continue;
      keyed.emplace_back(k, i);
    }
    if (static_cast<std::int64_t>(keyed.size()) != hi - lo) {
      throw ComputeError(fmt::format("processing order: {} cells selected for {} positions",
                                     keyed.size(), hi - lo));
    }
    std::sort(keyed.begin(), keyed.end());
    for (const auto& kv : keyed) out.push_back(kv.second);
  }
  return out;
}

std::vector<std::int64_t> processing_order(const CellSet& cells) {
  return processing_positions(cells, 0, cells.n);
}

}  // namespace gsmap::pipeline
