#include "gsmap/pipeline/outputs.hpp"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/hdf5.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::pipeline {
namespace {

using io::ParallelH5adWriter;

// Per-cell label columns for this rank's rows as categoricals: `labels` holds rows [first, ...),
// `categories` are in order of first appearance over ALL cells, so every rank encodes identically.
io::Column categorical_rows(const std::vector<std::string>& labels,
                            std::vector<std::string> categories, std::int64_t first,
                            std::int64_t start, std::int64_t end) {
  io::Categorical cat;
  cat.categories = std::move(categories);
  std::unordered_map<std::string, std::int32_t> code;
  for (std::size_t c = 0; c < cat.categories.size(); ++c) {
    code.emplace(cat.categories[c], static_cast<std::int32_t>(c));
  }
  for (std::int64_t i = start; i < end; ++i) {
    const auto& l = labels[static_cast<std::size_t>(i - first)];
    cat.codes.push_back(l.empty() ? -1 : code.at(l));
  }
  return cat;
}

// Categories in order of first appearance (for tables that still hold every cell).
std::vector<std::string> first_appearance(const std::vector<std::string>& labels) {
  std::vector<std::string> categories;
  std::unordered_map<std::string, int> seen;
  for (const auto& l : labels) {
    if (!l.empty() && seen.emplace(l, 0).second) categories.push_back(l);
  }
  return categories;
}

io::DataFrame obs_rows(const CellSet& cells, std::int64_t start, std::int64_t end) {
  io::DataFrame obs;
  const std::int64_t first = cells.first_row;
  obs.index.assign(cells.spot_names.begin() + (start - first), cells.spot_names.begin() + (end - first));
  // sample_name: the samples with kept cells, in order (their first appearance).
  std::vector<std::string> sample_name, samples;
  for (const auto& s : cells.samples) {
    if (!s.kept_rows.empty()) samples.push_back(s.sample.name);
  }
  for (std::int64_t i = start; i < end; ++i) {
    sample_name.push_back(cells.samples[static_cast<std::size_t>(cells.locate(i).first)].sample.name);
  }
  obs.columns.emplace_back("sample_name",
                           categorical_rows(sample_name, first_appearance(samples), start, start, end));
  io::NumericColumn slice;
  slice.is_integer = true;
  for (std::int64_t i = start; i < end; ++i) slice.values.push_back(cells.slice_of(i));
  obs.columns.emplace_back("slice_id", std::move(slice));
  // The input's columns keep their types: bool, category order, integer and float widths.
  for (const auto& [name, col] : cells.obs_columns) {
    obs.columns.emplace_back(name, io::slice_rows(col, start - first, end - first));
  }
  return obs;
}

io::DataFrame var_frame(const CellSet& cells) {
  io::DataFrame var;
  var.index = cells.genes;
  return var;
}

}  // namespace

LatentToGenePaths LatentToGenePaths::of(const CommonConfig& common) {
  LatentToGenePaths p;
  p.dir = common.project_dir() + "/latent_to_gene";
  p.log_ranks = p.dir + "/log_ranks.h5ad";
  p.marker_scores = p.dir + "/marker_scores.h5ad";
  p.mean_frac = p.dir + "/mean_frac.csv";
  p.find_latent_metadata =
      common.project_dir() + "/find_latent_representations/find_latent_metadata.yaml";
  return p;
}

void write_mean_frac(const std::string& path, const std::vector<std::string>& genes,
                     const gss::GeneStats& stats) {
  std::string text = "gene,G_Mean,frac\n";
  for (std::size_t g = 0; g < genes.size(); ++g) {
    io::append_csv_field(text, genes[g]);
    text += ',';
    io::append_double(text, stats.g_mean[g]);
    text += ',';
    io::append_double(text, stats.frac[g]);
    text += '\n';
  }
  io::write_file_atomic(path, text);
}

gss::GeneStats read_mean_frac(const std::string& path, const std::vector<std::string>& genes) {
  io::CsvReader reader(path);
  std::vector<std::string_view> f;
  gss::GeneStats stats;
  static const std::vector<std::string_view> kHeader{"gene", "G_Mean", "frac"};
  if (!reader.next(f) || f != kHeader) {
    throw InputError(path, "line 1", "expected the header gene,G_Mean,frac",
                     "delete latent_to_gene/ to recompute");
  }
  while (reader.next(f)) {
    double gm = 0, fr = 0;
    const std::size_t g = stats.g_mean.size();
    if (f.size() != 3 || g >= genes.size() || f[0] != genes[g] || !io::parse_number(f[1], gm) ||
        !io::parse_number(f[2], fr)) {
      throw InputError(path, fmt::format("line {}", reader.line_number()),
                       "does not match the genes of the input", "delete latent_to_gene/ to recompute");
    }
    stats.g_mean.push_back(gm);
    stats.frac.push_back(fr);
  }
  if (stats.g_mean.size() != genes.size()) {
    throw InputError(path, "", fmt::format("{} genes, the input has {}", stats.g_mean.size(), genes.size()),
                     "delete latent_to_gene/ to recompute");
  }
  return stats;
}

LogRanksFile::LogRanksFile(const std::string& path, const CellSet& cells, MPI_Comm comm)
    : cells_(cells), comm_(comm), writer_(path, comm, cells.n) {
  writer_.create_dense("X", ParallelH5adWriter::DType::kF16,
                       static_cast<std::int64_t>(cells.genes.size()));
  x_ = &writer_.direct_rows("X");
}

void LogRanksFile::store_rows(std::int64_t row0, std::int64_t n, const gss::f16_bits* rows) {
  if (!error_.empty()) return;
  try {
    x_->write_block(row0, n, rows);
    x_->start_writeback(row0, n);
  } catch (const std::exception& e) {
    error_ = e.what();
    if (error_.empty()) error_ = "writing rows failed";
  }
}

void LogRanksFile::finish(const dist::Partition& part) {
  const int me = dist::rank(comm_);
  // A failed row write: every rank throws the message of the lowest failing rank.
  const int failed = error_.empty() ? 0 : 1;
  int any_failed = 0;
  GSMAP_MPI_CALL(MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, comm_));
  if (any_failed) {
    const int candidate = failed ? me : std::numeric_limits<int>::max();
    int reporter = 0;
    GSMAP_MPI_CALL(MPI_Allreduce(&candidate, &reporter, 1, MPI_INT, MPI_MIN, comm_));
    std::string message = error_;
    int length = static_cast<int>(message.size());
    GSMAP_MPI_CALL(MPI_Bcast(&length, 1, MPI_INT, reporter, comm_));
    message.resize(static_cast<std::size_t>(length));
    GSMAP_MPI_CALL(MPI_Bcast(message.data(), length, MPI_CHAR, reporter, comm_));
    IoError e(message);
    e.set_origin_rank(reporter);
    throw e;
  }
  io::DataFrame obs;
  obs.index.assign(cells_.spot_names.begin() + (part.start(me) - cells_.first_row),
                   cells_.spot_names.begin() + (part.end(me) - cells_.first_row));
  writer_.write_obs_local(obs);
  writer_.write_var(me == 0 ? var_frame(cells_) : io::DataFrame{});
  writer_.finish(true);
}

void read_log_ranks(const std::string& path, const CellSet& cells, std::int64_t start,
                    RowBlock& ranks, std::int64_t rows) {
  io::Hid file = io::open_file(path, io::Access::kRead);
  io::Hid x = io::open_dataset(file, "X");
  const auto shape = io::dataset_shape(x);
  if (shape.size() != 2 || static_cast<std::int64_t>(shape[0]) != cells.n ||
      static_cast<std::int64_t>(shape[1]) != ranks.cols()) {
    throw InputError(path, "X", "shape does not match the current input",
                     "delete latent_to_gene/ to recompute");
  }
  constexpr std::int64_t kChunk = 4096;
  for (std::int64_t r = 0; r < rows; r += kChunk) {
    const std::int64_t n = std::min(kChunk, rows - r);
    auto bits = io::read_rows<std::uint16_t>(x, start + r, n);
    std::copy(bits.begin(), bits.end(), ranks.row(r));
  }
}

MarkerScoresFile::MarkerScoresFile(const std::string& path, const CellSet& cells, MPI_Comm comm)
    : cells_(cells), comm_(comm), writer_(path, comm, cells.n) {
  writer_.create_dense("X", ParallelH5adWriter::DType::kF16,
                       static_cast<std::int64_t>(cells.genes.size()));
  x_ = &writer_.direct_rows("X");
  flusher_ = std::jthread([this, n = cells.n](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    std::int64_t flushed = 0;
    std::unique_lock lock(m);
    while (!stop.stop_requested()) {
      cv.wait_for(lock, stop, std::chrono::milliseconds(250), [] { return false; });
      if (stop.stop_requested()) break;
      const std::int64_t now = stored_rows_.load(std::memory_order_relaxed);
      if (now == flushed) continue;
      flushed = now;
      x_->start_writeback(0, n);
    }
  });
}

void MarkerScoresFile::store_rows(std::span<const std::int64_t> global_rows,
                                  std::span<const gss::f16_bits> rows) const {
  if (rows.size() != global_rows.size() * cells_.genes.size()) {
    throw ComputeError(fmt::format("marker scores: {} values for {} rows of {} genes", rows.size(),
                                   global_rows.size(), cells_.genes.size()));
  }
  x_->write(global_rows, rows.data());
  stored_rows_.fetch_add(static_cast<std::int64_t>(global_rows.size()), std::memory_order_relaxed);
}

void MarkerScoresFile::finish(const dist::Partition& part, const gss::NeighborResult& nb,
                              bool with_niche) {
  flusher_.request_stop();
  if (flusher_.joinable()) flusher_.join();
  const int me = dist::rank(comm_);
  const std::int64_t start = part.start(me), n_own = part.count(me);
  auto& w = writer_;
  const CellSet& cells = cells_;
  if (cells.coord_dims > 0) {
    w.create_dense("obsm/spatial", ParallelH5adWriter::DType::kF64, cells.coord_dims);
    w.write_rows("obsm/spatial", start, n_own,
                 cells.coords.data() + (start - cells.coords_first_row) * cells.coord_dims);
  }
  w.create_dense("obsm/gsMap_homo_indices", ParallelH5adWriter::DType::kI32, nb.k_total);
  w.write_rows("obsm/gsMap_homo_indices", start, n_own, nb.indices.data());
  w.create_dense("obsm/gsMap_homo_cell_sims", ParallelH5adWriter::DType::kF16, nb.k_total);
  w.write_rows("obsm/gsMap_homo_cell_sims", start, n_own, nb.cell_sims.data());
  if (with_niche) {
    w.create_dense("obsm/gsMap_homo_niche_sims", ParallelH5adWriter::DType::kF16, nb.k_total);
    w.write_rows("obsm/gsMap_homo_niche_sims", start, n_own, nb.niche_sims.data());
  }
  io::DataFrame obs = obs_rows(cells, start, start + n_own);
  io::NumericColumn count, cell_median, niche_median;
  count.is_integer = true;
  for (std::int64_t i = 0; i < n_own; ++i) {
    count.values.push_back(nb.neighbor_count[i]);
    cell_median.values.push_back(nb.cell_sim_median[i]);
    niche_median.values.push_back(nb.niche_sim_median[i]);
  }
  obs.columns.emplace_back("gsMap_homo_neighbor_count", std::move(count));
  obs.columns.emplace_back("gsMap_homo_cell_sims_median", std::move(cell_median));
  if (with_niche) obs.columns.emplace_back("gsMap_homo_niche_sims_median", std::move(niche_median));
  w.write_obs_local(obs);
  w.write_var(me == 0 ? var_frame(cells) : io::DataFrame{});
  w.finish(true);
}

}  // namespace gsmap::pipeline
