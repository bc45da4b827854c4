#include "gsmap/pipeline/cells.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <atomic>
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
}

double CellSet::bytes_per_cell_over_all() const {
  std::size_t bytes = group.capacity() * sizeof(std::int32_t) + high_quality.capacity() +
                      (coords_first_row == 0 ? coords.capacity() * sizeof(double) : 0);
  for (const auto& sc : samples) bytes += sc.kept_rows.capacity() * sizeof(std::uint32_t);
  return n > 0 ? static_cast<double>(bytes) / static_cast<double>(n) : 0.0;
}

CellSet load_cells(const std::vector<io::Sample>& samples, const LatentToGeneConfig& cfg) {
  CellSet cs;
  const bool spatial = cfg.dataset_type != DatasetType::kScRNA;
  const bool has_annotation = !cfg.annotation.empty();
  const int min_cells =
      std::min(cfg.min_cells_per_type.value_or(cfg.homogeneous_neighbors), cfg.homogeneous_neighbors);
  std::unordered_map<std::string, int> group_ids;

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

    // 1-2: annotation filter (missing label, groups smaller than min_cells in this sample).
    std::vector<std::optional<std::string>> labels(sc.n_input, std::string("all"));
    std::vector<char> keep(sc.n_input, 1);
    if (has_annotation) {
      if (!reader.has_obs_column(cfg.annotation)) {
        throw InputError(sample.path, "obs/" + cfg.annotation, "annotation column not found",
                         fmt::format("choose --annotation among: {}",
                                     join_first(reader.obs_column_names(), 20)));
      }
      labels = labels_of(reader.obs_column(cfg.annotation));
      std::map<std::string, std::int64_t> counts;
      for (std::int64_t i = 0; i < sc.n_input; ++i) {
        if (!labels[i]) {
          keep[i] = 0;
          ++sc.removed_nan_label;
        } else {
          ++counts[*labels[i]];
        }
      }
      for (std::int64_t i = 0; i < sc.n_input; ++i) {
        if (keep[i] && counts[*labels[i]] < min_cells) {
          keep[i] = 0;
          ++sc.removed_small_group;
        }
      }
    }
    // 3: at least 20 detected genes, always counted on X.
    const auto detected = reader.row_detected_counts("X");
    for (std::int64_t i = 0; i < sc.n_input; ++i) {
      if (keep[i] && detected[i] < kMinDetectedGenes) {
        keep[i] = 0;
        ++sc.removed_low_genes;
      }
    }
    for (std::int64_t i = 0; i < sc.n_input; ++i) {
      if (keep[i]) sc.kept_rows.push_back(static_cast<std::uint32_t>(i));
    }

    // Per-cell tables over all kept cells: cell type, High_quality (with the filter only: the
    // neighbour search reads it nowhere else).
    for (auto row : sc.kept_rows) {
      const std::string& label = *labels[row];
      auto [it, inserted] = group_ids.try_emplace(label, static_cast<int>(group_ids.size()));
      if (inserted) cs.group_names.push_back(label);
      cs.group.push_back(it->second);
    }
    if (cfg.high_quality_neighbor_filter) {
      if (!reader.has_obs_column("High_quality")) {
        throw InputError(sample.path, "obs/High_quality", "column not found",
                         "drop --high-quality-neighbor-filter or add a boolean High_quality column");
      }
      auto hq = reader.obs_column("High_quality");
      for (auto row : sc.kept_rows) {
        auto l = io::column_label(hq, row);
        // Cast to bool, missing -> true (docs/algorithms.md §1.1).
        cs.high_quality.push_back(!l || (*l != "False" && *l != "0" && *l != "0.0" && *l != "false"));
      }
    }

    // Coordinates of the kept cells.
    if (spatial) {
      const std::string& key = cfg.spatial_key;
      if (!reader.has_obsm(key)) {
        throw InputError(sample.path, "obsm/" + key, "key not found",
                         fmt::format("set --spatial-key to one of: {}", join_first(reader.obsm_keys(), 20)));
      }
      std::int64_t cols = 0;
      const auto all = reader.obsm(key, &cols);
      if (si == 0) {
        cs.coord_dims = cols;
      } else if (cols != cs.coord_dims) {
        throw InputError(sample.path, "obsm/" + key,
                         fmt::format("has {} columns, the first sample has {}", cols, cs.coord_dims),
                         "use embeddings of the same dimension in every sample");
      }
      for (auto row : sc.kept_rows) {
        for (std::int64_t c = 0; c < cols; ++c) {
          const double v = all[row * cols + c];
          if (!std::isfinite(v)) {
            throw InputError(sample.path, fmt::format("obsm/{} row {} column {}", key, row, c),
                             "value is NaN or infinite", "fix or recompute the embedding");
          }
          cs.coords.push_back(v);
        }
      }
    }
    sc.kept_rows.shrink_to_fit();
    cs.n += static_cast<std::int64_t>(sc.kept_rows.size());
    cs.samples.push_back(std::move(sc));
  }
  cs.coords.shrink_to_fit();
  cs.group.shrink_to_fit();
  cs.high_quality.shrink_to_fit();
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

void load_obs_rows(CellSet& cs, std::int64_t start, std::int64_t end) {
  cs.spot_names.clear();
  cs.obs_columns.clear();
  cs.first_row = start;
  std::vector<std::string> carried_names;  // obs columns of the first sample ("" = dropped)
  std::vector<io::Column> carried;
  for (std::size_t si = 0; si < cs.samples.size(); ++si) {
    const SampleCells& sc = cs.samples[si];
    const auto& sample = sc.sample;
    io::H5adReader reader(sample.path);
    // Names: made unique over the whole sample (they depend on the other names), kept for the
    // rows [start, end) only.
    const std::int64_t count = static_cast<std::int64_t>(sc.kept_rows.size());
    const std::int64_t lo = std::clamp(start - sc.global_offset, std::int64_t{0}, count);
    const std::int64_t hi = std::clamp(end - sc.global_offset, std::int64_t{0}, count);
    if (hi > lo) {
      const auto names = make_unique_names(reader.obs_names());
      for (std::int64_t k = lo; k < hi; ++k) {
        cs.spot_names.push_back(names[sc.kept_rows[static_cast<std::size_t>(k)]] + "|" + sample.name);
      }
    }
    // obs columns carried to the outputs, typed: those of the first sample that every sample has.
    // Joined over all kept cells as they always were (a join may depend on every part's rows),
    // then trimmed below.
    if (si == 0) {
      for (const auto& name : reader.obs_column_names()) {
        if (!is_own_column(name)) carried_names.push_back(name);
      }
      carried.resize(carried_names.size());
    }
    const std::vector<std::int64_t> kept(sc.kept_rows.begin(), sc.kept_rows.end());
    for (std::size_t c = 0; c < carried_names.size(); ++c) {
      const std::string name = carried_names[c];
      if (name.empty()) continue;
      if (!reader.has_obs_column(name)) {
        GSMAP_LOG_WARN("{}: obs column '{}' is missing; it is not carried to the outputs",
                       sample.path, name);
        carried_names[c].clear();
        continue;
      }
      auto part = io::take_rows(reader.obs_column(name), kept);
      if (si == 0) {
        carried[c] = std::move(part);
        continue;
      }
      try {
        io::append_column(carried[c], part);
      } catch (const std::invalid_argument& e) {
        GSMAP_LOG_WARN("{}: obs column '{}' cannot be joined with the first sample's ({}); it is "
                       "not carried to the outputs", sample.path, name, e.what());
        carried_names[c].clear();
      }
    }
  }
  // The obs columns keep their categories (the input's order, docs/formats.md "Types kept"), so
  // every rank encodes its rows alike after the trim.
  for (std::size_t c = 0; c < carried_names.size(); ++c) {
    if (!carried_names[c].empty()) {
      cs.obs_columns.emplace_back(carried_names[c], io::slice_rows(carried[c], start, end));
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
    for (std::size_t k = 0; k < rows.size(); ++k) {
      for (std::int64_t c = 0; c < cols; ++c) {
        const double v = values[k * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c)];
        if (!std::isfinite(v)) {
          throw InputError(sample.path, fmt::format("obsm/{} row {} column {}", key, rows[k], c),
                           "value is NaN or infinite", "fix or recompute the embedding");
        }
        out.values.push_back(v);
      }
    }
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

CellPartition partition_cells(const CellSet& cells, int rank_batch_size, int n_ranks) {
  std::vector<std::int64_t> per_sample;
  for (const auto& sc : cells.samples) per_sample.push_back(static_cast<std::int64_t>(sc.kept_rows.size()));
  auto chunks = gss::rank_chunks(per_sample, rank_batch_size);
  std::vector<std::int64_t> chunk_starts;
  for (const auto& ch : chunks) chunk_starts.push_back(ch.begin);
  auto part = dist::Partition::aligned(cells.n, n_ranks, chunk_starts);
  CellPartition cp{std::move(chunks), std::move(part), processing_order(cells),
                   dist::Partition(cells.n, n_ranks)};
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

std::vector<std::int64_t> processing_order(const CellSet& cells) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(cells.n));
  std::vector<std::pair<std::uint64_t, std::int64_t>> keyed;
  const std::int64_t dims = cells.coords.empty() ? 0 : cells.coord_dims;
  for (const auto& sc : cells.samples) {
    const std::int64_t first = sc.global_offset;
    const auto count = static_cast<std::int64_t>(sc.kept_rows.size());
    keyed.clear();
    if (dims >= 1) {
      // Grid over the sample's bounding box, one scale for both axes (the curve's cells stay
      // square, so a range of the curve stays compact in space).
      const int used = dims >= 2 ? 2 : 1;
      double lo[2] = {0, 0}, hi[2] = {0, 0};
      for (int d = 0; d < used; ++d) {
        lo[d] = std::numeric_limits<double>::infinity();
        hi[d] = -std::numeric_limits<double>::infinity();
        for (std::int64_t i = first; i < first + count; ++i) {
          const double v = cells.coords[static_cast<std::size_t>(i * dims + d)];
          lo[d] = std::min(lo[d], v);
          hi[d] = std::max(hi[d], v);
        }
      }
      double extent = 0;
      for (int d = 0; d < used; ++d) extent = std::max(extent, hi[d] - lo[d]);
      const double scale = extent > 0 && std::isfinite(extent) ? 65535.0 / extent : 0.0;
      const auto cell_of = [&](std::int64_t i, int d) -> std::uint32_t {
        const double v = (cells.coords[static_cast<std::size_t>(i * dims + d)] - lo[d]) * scale;
        return std::isfinite(v) ? static_cast<std::uint32_t>(std::clamp(v, 0.0, 65535.0)) : 0u;
      };
      for (std::int64_t i = first; i < first + count; ++i) {
        keyed.emplace_back(used == 2 ? hilbert_index(cell_of(i, 0), cell_of(i, 1)) : cell_of(i, 0), i);
      }
    } else {
      for (std::int64_t i = first; i < first + count; ++i) {
        keyed.emplace_back(cells.group.empty() ? 0 : static_cast<std::uint64_t>(cells.group[static_cast<std::size_t>(i)]), i);
      }
    }
    std::sort(keyed.begin(), keyed.end());
    for (std::int64_t j = 0; j < count; ++j) order[static_cast<std::size_t>(first + j)] = keyed[static_cast<std::size_t>(j)].second;
  }
  return order;
}

}  // namespace gsmap::pipeline
