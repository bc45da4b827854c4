// latent-to-gene, distributed (design.md "Data flow"): every rank loads the small per-cell tables,
// ranks its own expression rows (Stage A), finds neighbours for its own cells (Stage B) and computes
// their GSS (Stage C) through the staged pipeline, fetching neighbour log-rank rows owned by other
// ranks in halo rounds. Outputs are written collectively into one file each.
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/kill_point.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/core/row_block.hpp"
#include "gsmap/core/staged_pipeline.hpp"
#include "gsmap/dist/halo.hpp"
#include "gsmap/device/gss_device.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/gss/embedding.hpp"
#include "gsmap/gss/marker_score.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/gss/rank.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/pipeline/backend_setup.hpp"
#include "gsmap/pipeline/cells.hpp"
#include "gsmap/pipeline/outputs.hpp"
#include "gsmap/pipeline/steps.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// ---- Stage A -------------------------------------------------------------------------------

// gsMap3D's G_Mean summation order (gss.md 2.1, fixtures' mean_frac.csv): f32 sums of each
// ranking chunk (rows in order), chunk sums folded in f32 per sample, samples added in f64. The
// partition keeps chunks whole, so the fold runs along the ranks in order: rank r continues the
// state of rank r - 1. Any rank count gives the same bits.
struct GMeanFold {
  std::int32_t sample = -1;
  std::vector<float> sample_sums;
  std::vector<double> total;
  explicit GMeanFold(std::size_t g) : sample_sums(g, 0.0f), total(g, 0.0) {}
  void add(std::int32_t chunk_sample, const float* sums) {
    if (chunk_sample != sample) {
      flush();
      sample = chunk_sample;
    }
    for (std::size_t i = 0; i < sample_sums.size(); ++i) sample_sums[i] += sums[i];
  }
  void flush() {
    for (std::size_t i = 0; i < total.size(); ++i) total[i] += static_cast<double>(sample_sums[i]);
    std::fill(sample_sums.begin(), sample_sums.end(), 0.0f);
  }
};

// Stage A on this rank's chunks: f16 ln ranks into `ranks`, per-chunk f32 sums, exact non-zero
// counts. Returns the statistics accumulator (counts) and fills `chunk_sums` (own chunks x G).
gss::GeneStatsAccumulator rank_own_cells(const CellSet& cells, const std::vector<gss::RankChunk>& chunks,
                                         std::int64_t start, RowBlock& ranks,
                                         std::vector<float>& chunk_sums) {
  const std::int64_t n_genes = static_cast<std::int64_t>(cells.genes.size());
  struct ThreadState {
    gss::RowRanker ranker;
    gss::GeneStatsAccumulator stats;
    explicit ThreadState(std::int64_t g) : ranker(g), stats(g) {}
  };
  tbb::enumerable_thread_specific<ThreadState> state([&] { return ThreadState(n_genes); });
  const auto t0 = Clock::now();
  std::int64_t done = 0, total_rows = 0;
  for (const auto& ch : chunks) total_rows += ch.end - ch.begin;
  std::vector<float> ln;  // chunk rows x G, f32 ln ranks
  chunk_sums.assign(chunks.size() * n_genes, 0.0f);
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    const auto& ch = chunks[k];
    const auto& sample = cells.samples[ch.sample];
    const std::int64_t row0 = sample.kept_rows[ch.begin - sample.global_offset];
    const std::int64_t row1 = sample.kept_rows[ch.end - 1 - sample.global_offset] + 1;
    io::H5adReader reader(sample.sample.path);
    const io::CsrRows block = reader.read_rows(sample.layer, row0, row1);
    const std::int64_t rows = ch.end - ch.begin;
    ln.resize(static_cast<std::size_t>(rows * n_genes));
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, rows, 8), [&](const auto& r) {
      auto& ts = state.local();
      for (std::int64_t i = r.begin(); i != r.end(); ++i) {
        const std::int64_t g = ch.begin + i;
        const std::int64_t local = sample.kept_rows[g - sample.global_offset] - row0;
        const auto b = block.indptr[local], e = block.indptr[local + 1];
        std::span<float> row(ln.data() + i * n_genes, static_cast<std::size_t>(n_genes));
        ts.ranker.rank(std::span<const float>(block.data.data() + b, e - b),
                       std::span<const std::int32_t>(block.indices.data() + b, e - b), row);
        ts.stats.add_cell(row, ts.ranker.nonzero_columns());
        auto* out = ranks.row(g - start);
        for (std::int64_t q = 0; q < n_genes; ++q) out[q] = math::f32_to_f16(row[q]);
      }
    });
    // Rows in order, in f32 (numpy's chunk.sum(axis=0)); genes in parallel.
    float* sums = chunk_sums.data() + k * n_genes;
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, n_genes, 256), [&](const auto& r) {
      for (std::int64_t i = 0; i < rows; ++i) {
        const float* row = ln.data() + i * n_genes;
        for (std::int64_t q = r.begin(); q != r.end(); ++q) sums[q] += row[q];
      }
    });
    done += rows;
    kill_point("ranking");
    log::progress(fmt::format("ranking: {}/{} cells on rank 0 ({:.0f} cells/s)", done, total_rows,
                              done / std::max(1e-9, seconds_since(t0))));
  }
  log::progress_done();
  gss::GeneStatsAccumulator total(n_genes);
  for (auto& ts : state) total.merge(ts.stats);
  return total;
}

// Folds the chunk sums along the ranks in order and returns G_Mean on every rank. Collective.
std::vector<double> fold_g_mean(const std::vector<gss::RankChunk>& own_chunks,
                                const std::vector<float>& chunk_sums, std::size_t n_genes,
                                std::int64_t n_cells, MPI_Comm comm) {
  const int me = dist::rank(comm), np = dist::size(comm);
  GMeanFold fold(n_genes);
  constexpr int kTag = 7301;
  if (me > 0) {
    GSMAP_MPI_CALL(MPI_Recv(&fold.sample, 1, MPI_INT32_T, me - 1, kTag, comm, MPI_STATUS_IGNORE));
    GSMAP_MPI_CALL(MPI_Recv(fold.sample_sums.data(), static_cast<int>(n_genes), MPI_FLOAT, me - 1,
                            kTag, comm, MPI_STATUS_IGNORE));
    GSMAP_MPI_CALL(MPI_Recv(fold.total.data(), static_cast<int>(n_genes), MPI_DOUBLE, me - 1, kTag,
                            comm, MPI_STATUS_IGNORE));
  }
  for (std::size_t k = 0; k < own_chunks.size(); ++k) {
    fold.add(own_chunks[k].sample, chunk_sums.data() + k * n_genes);
  }
  if (me + 1 < np) {
    GSMAP_MPI_CALL(MPI_Send(&fold.sample, 1, MPI_INT32_T, me + 1, kTag, comm));
    GSMAP_MPI_CALL(MPI_Send(fold.sample_sums.data(), static_cast<int>(n_genes), MPI_FLOAT, me + 1, kTag, comm));
    GSMAP_MPI_CALL(MPI_Send(fold.total.data(), static_cast<int>(n_genes), MPI_DOUBLE, me + 1, kTag, comm));
  } else {
    fold.flush();
    for (auto& t : fold.total) t /= static_cast<double>(n_cells);
  }
  GSMAP_MPI_CALL(MPI_Bcast(fold.total.data(), static_cast<int>(n_genes), MPI_DOUBLE, np - 1, comm));
  return fold.total;
}

// ---- Stage C -------------------------------------------------------------------------------

struct GssJob {
  std::vector<std::int64_t> cells;  // local rows (own block) of the batch's cells
};
struct GssLoaded {
  std::vector<std::int64_t> cells;
  std::vector<gss::f16_bits> log_ranks;  // distinct neighbour rows, n_rows x G
  std::vector<std::int32_t> slot_rows;   // n_cells x K_tot, -1 = padded
  std::vector<gss::f16_bits> weights;    // n_cells x K_tot
  std::vector<gss::f16_bits> row_minimum;
  std::size_t n_rows = 0;
};
struct GssComputed {
  std::vector<std::int64_t> cells;
  std::vector<gss::f16_bits> scores;  // n_cells x G
  std::size_t zero_weight = 0;
};

// Where the log-rank row of a global cell is during one halo round: this rank's block or the
// round's halo buffer.
class RankRowIndex {
 public:
  RankRowIndex(const RowBlock& own, std::int64_t own_start, std::size_t n_genes)
      : own_(own), own_start_(own_start), n_genes_(n_genes) {}
  void set_halo(std::vector<std::int64_t> rows, std::vector<std::byte> bytes) {
    halo_rows_ = std::move(rows);
    halo_bytes_ = std::move(bytes);
  }
  const gss::f16_bits* row(std::int64_t global) const {
    const std::int64_t local = global - own_start_;
    if (local >= 0 && local < own_.rows()) return own_.row(local);
    auto it = std::lower_bound(halo_rows_.begin(), halo_rows_.end(), global);
    if (it == halo_rows_.end() || *it != global) {
      throw ComputeError(fmt::format("log-rank row {} is neither own nor in the halo", global));
    }
    return reinterpret_cast<const gss::f16_bits*>(halo_bytes_.data()) +
           static_cast<std::size_t>(it - halo_rows_.begin()) * n_genes_;
  }

 private:
  const RowBlock& own_;
  std::int64_t own_start_;
  std::size_t n_genes_;
  std::vector<std::int64_t> halo_rows_;
  std::vector<std::byte> halo_bytes_;
};

void merge_report(core::PipelineReport& acc, const core::PipelineReport& r) {
  if (acc.stages.empty()) {
    acc = r;
    return;
  }
  acc.total_batches += r.total_batches;
  acc.completed_batches += r.completed_batches;
  acc.elapsed_seconds += r.elapsed_seconds;
  for (std::size_t s = 0; s < acc.stages.size() && s < r.stages.size(); ++s) {
    acc.stages[s].batches += r.stages[s].batches;
    acc.stages[s].busy_seconds += r.stages[s].busy_seconds;
  }
}

gss::MarkerScoreOptions marker_score_options(const LatentToGeneConfig& cfg,
                                             const gss::NeighborParams& params) {
  gss::MarkerScoreOptions o;
  o.neighbors_per_block = params.k_homogeneous;
  o.n_blocks = params.n_blocks();
  o.pooling = (params.dataset_type == DatasetType::kSpatial3D &&
               params.strategy == CrossSliceStrategy::kHierarchicalPool)
                  ? gss::MarkerScorePooling::kHierarchical
                  : gss::MarkerScorePooling::kWholeRow;
  o.no_expression_fraction = cfg.no_expression_fraction;
  return o;
}

// Halo budget per round: the distinct remote rows one round may fetch.
constexpr std::size_t kHaloBytesPerRound = std::size_t{256} << 20;

}  // namespace

void run_latent_to_gene(const Config& cfg, MPI_Comm comm) {
  const auto& c = cfg.l2g;
  const int me = dist::rank(comm), np = dist::size(comm);
  const auto paths = LatentToGenePaths::of(cfg.common);
  if (me == 0) fs::create_directories(paths.dir);
  dist::any(false, comm);  // directory exists before anyone writes
  if (io::is_complete(paths.marker_scores)) {
    GSMAP_LOG_INFO("latent_to_gene: {} is complete, skipping (delete it to recompute)",
                   paths.marker_scores);
    return;
  }
  const auto t_step = Clock::now();
  gss::NeighborParams params = gss::NeighborParams::from_config(c);
  params.validate();
  const auto samples = io::resolve_samples(c.h5ad_path, c.h5ad_yaml, c.h5ad_list_file,
                                           paths.find_latent_metadata);
  CellSet cells = load_cells(samples, c);
  const std::int64_t n_genes = static_cast<std::int64_t>(cells.genes.size());
  // Ranking chunks (gss.md 2.1) stay whole on one rank: the partition is aligned to them.
  std::vector<std::int64_t> per_sample;
  for (const auto& sc : cells.samples) per_sample.push_back(static_cast<std::int64_t>(sc.kept_rows.size()));
  const auto chunks = gss::rank_chunks(per_sample, c.rank_batch_size);
  std::vector<std::int64_t> chunk_starts;
  for (const auto& ch : chunks) chunk_starts.push_back(ch.begin);
  const auto part = dist::Partition::aligned(cells.n, np, chunk_starts);
  const std::int64_t start = part.start(me), end = part.end(me), n_own = end - start;
  GSMAP_LOG_INFO("Partition of {} cells over {} ranks: {}", cells.n, np, part.describe());

  // Stage A: ranks of own rows, global statistics.
  RowBlock ranks(n_own, n_genes, cfg.common.memmap_tmp_dir, "log_ranks");
  gss::GeneStats stats;
  if (io::is_complete(paths.log_ranks) && fs::exists(paths.mean_frac)) {
    GSMAP_LOG_INFO("Stage A: reusing {} and {}", paths.log_ranks, paths.mean_frac);
    read_log_ranks(paths.log_ranks, cells, start, ranks);
    stats = read_mean_frac(paths.mean_frac, cells.genes);
  } else {
    const auto t0 = Clock::now();
    std::vector<gss::RankChunk> own_chunks;
    for (const auto& ch : chunks) {
      if (ch.begin >= start && ch.begin < end) own_chunks.push_back(ch);
    }
    std::vector<float> chunk_sums;
    auto acc = rank_own_cells(cells, own_chunks, start, ranks, chunk_sums);
    dist::allreduce_sum_span(acc.raw(), comm);
    stats = acc.finalize();  // frac from exact counts
    stats.g_mean = fold_g_mean(own_chunks, chunk_sums, static_cast<std::size_t>(n_genes), cells.n, comm);
    GSMAP_LOG_INFO("Stage A: ranked {} cells x {} genes in {:.1f} s", cells.n, n_genes,
                   seconds_since(t0));
    if (me == 0) write_mean_frac(paths.mean_frac, cells.genes, stats);
    io::AtomicOutput log_ranks_out(paths.log_ranks, comm);  // docs/troubleshooting.md
    write_log_ranks(log_ranks_out.temp_path(), cells, part, ranks, comm);
    log_ranks_out.commit();
  }

  // Stage B: neighbours of own cells (every rank holds the small per-cell tables).
  const auto t_b = Clock::now();
  const auto cell_emb = gss::normalize_cell_embedding(
      cells.emb_cell, cells.n, static_cast<int>(cells.cell_dims),
      cells.emb_cell_is_f64 ? gss::StoredFloat::kF64 : gss::StoredFloat::kF32,
      "obsm/" + c.latent_representation_cell);
  std::optional<gss::NormalizedEmbedding> niche_emb;
  if (!cells.emb_niche.empty()) {
    niche_emb = gss::normalize_niche_embedding(
        cells.emb_niche, cells.n, static_cast<int>(cells.niche_dims),
        cells.emb_niche_is_f64 ? gss::StoredFloat::kF64 : gss::StoredFloat::kF32,
        "obsm/" + c.latent_representation_niche);
  }
  gss::CellTable table;
  table.n = cells.n;
  table.coord_dim = static_cast<int>(cells.coord_dims);
  table.coords = cells.coords;
  table.slice_id = cells.slice_id;
  table.group = cells.group;
  table.group_names = cells.group_names;
  table.high_quality = cells.high_quality;
  table.cell = &cell_emb;
  table.niche = niche_emb ? &*niche_emb : nullptr;
  table.spatial_key = c.spatial_key;
  table.annotation = c.annotation.empty() ? "annotation" : c.annotation;
  gss::HomogeneousNeighborFinder finder(table, params);
  std::vector<std::int64_t> own_cells(n_own);
  std::iota(own_cells.begin(), own_cells.end(), start);
  const gss::NeighborResult nb = finder.find(own_cells);
  const int k_tot = nb.k_total;
  GSMAP_LOG_INFO("Stage B: {} neighbours per cell found in {:.1f} s", k_tot, seconds_since(t_b));
  {
    std::int64_t few = 0;
    for (auto cnt : nb.neighbor_count) few += cnt <= 5;
    few = dist::allreduce_sum(few, comm);
    if (few > 0) GSMAP_LOG_WARN("{} cells have 5 or fewer neighbours with similarity > 0", few);
  }

  // Stage C: GSS per cell type through the staged pipeline, halo rounds bounded in memory.
  RowBlock scores(n_own, n_genes, cfg.common.memmap_tmp_dir, "marker_scores");
  RankRowIndex rank_rows(ranks, start, static_cast<std::size_t>(n_genes));
  dist::HaloExchange halo(part, comm, static_cast<std::size_t>(n_genes) * sizeof(gss::f16_bits),
                          reinterpret_cast<const std::byte*>(ranks.data()));
  const auto ms_options = marker_score_options(c, params);
  std::vector<float> g_mean(n_genes), frac(n_genes);
  for (std::int64_t g = 0; g < n_genes; ++g) {
    g_mean[g] = static_cast<float>(stats.g_mean[g]);
    frac[g] = static_cast<float>(stats.frac[g]);
  }
  // One calculator per compute worker: a CUDA device context (stream + buffers) or CPU scratch.
  const bool gpu = setup_backend(cfg.common, comm);
  std::vector<gss::MarkerScoreCalculator> calculators;
  std::vector<std::unique_ptr<device::GssDevice>> gpu_calculators;
  for (int w = 0; w < c.mkscore_compute_workers; ++w) {
    if (gpu) {
      gpu_calculators.push_back(std::make_unique<device::GssDevice>(ms_options, g_mean, frac));
    } else {
      calculators.emplace_back(ms_options, g_mean, frac);
    }
  }
  std::atomic<std::size_t> zero_weight_cells{0};

  core::PipelineShape shape;
  shape.read_workers = c.rank_read_workers;
  shape.compute_workers = c.mkscore_compute_workers;
  shape.write_workers = c.mkscore_write_workers;
  shape.compute_input_queue_size = static_cast<std::size_t>(c.compute_input_queue_size);
  shape.writer_queue_size = static_cast<std::size_t>(c.writer_queue_size);
  core::PipelineStages<GssJob, GssLoaded, GssComputed> stages;
  stages.read = [&](GssJob& job, int) {
    GssLoaded l;
    l.cells = std::move(job.cells);
    std::vector<std::int64_t> distinct;
    for (auto cell : l.cells) {
      const auto* idx = nb.indices.data() + static_cast<std::size_t>(cell) * k_tot;
      for (int k = 0; k < k_tot; ++k) {
        if (idx[k] >= 0) distinct.push_back(idx[k]);
      }
    }
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    l.n_rows = distinct.size();
    l.log_ranks.resize(l.n_rows * n_genes);
    l.row_minimum.resize(l.n_rows);
    for (std::size_t r = 0; r < l.n_rows; ++r) {
      const auto* src = rank_rows.row(distinct[r]);
      std::copy_n(src, n_genes, l.log_ranks.data() + r * n_genes);
      l.row_minimum[r] = gss::row_minimum_f16(src, static_cast<std::size_t>(n_genes));
    }
    l.slot_rows.resize(l.cells.size() * k_tot);
    l.weights.resize(l.cells.size() * k_tot);
    for (std::size_t i = 0; i < l.cells.size(); ++i) {
      const std::size_t base = static_cast<std::size_t>(l.cells[i]) * k_tot;
      for (int k = 0; k < k_tot; ++k) {
        const auto idx = nb.indices[base + k];
        l.slot_rows[i * k_tot + k] =
            idx < 0 ? -1
                    : static_cast<std::int32_t>(
                          std::lower_bound(distinct.begin(), distinct.end(), idx) - distinct.begin());
        l.weights[i * k_tot + k] = nb.cell_sims[base + k];
      }
    }
    return l;
  };
  stages.compute = [&](GssLoaded& l, int worker) {
    GssComputed out;
    out.cells = std::move(l.cells);
    out.scores.resize(out.cells.size() * n_genes);
    gss::NeighbourRankBatch batch;
    batch.n_cells = out.cells.size();
    batch.n_rows = l.n_rows;
    batch.n_genes = static_cast<std::size_t>(n_genes);
    batch.log_ranks = l.log_ranks;
    batch.slot_rows = l.slot_rows;
    batch.weights = l.weights;
    batch.row_minimum = l.row_minimum;
    out.zero_weight = gpu ? gpu_calculators[worker]->compute(batch, out.scores).zero_weight_cells
                          : calculators[worker].compute(batch, out.scores).zero_weight_cells;
    return out;
  };
  stages.write = [&](GssComputed& r, int) {
    for (std::size_t i = 0; i < r.cells.size(); ++i) {
      std::copy_n(r.scores.data() + i * n_genes, n_genes, scores.row(r.cells[i]));
    }
    zero_weight_cells += r.zero_weight;
  };
  core::StagedPipeline<GssJob, GssLoaded, GssComputed> pipeline(shape, stages);

  const std::size_t halo_rows_per_round =
      std::max<std::size_t>(1, kHaloBytesPerRound / (static_cast<std::size_t>(n_genes) * 2));
  const std::size_t batch_size = static_cast<std::size_t>(c.mkscore_batch_size);
  for (std::size_t t = 0; t < cells.group_names.size(); ++t) {
    // Own cells of this type, in global order; batches of --mkscore-batch-size.
    std::vector<std::int64_t> type_cells;
    for (std::int64_t i = 0; i < n_own; ++i) {
      if (cells.group[start + i] == static_cast<std::int32_t>(t)) type_cells.push_back(i);
    }
    // Rounds: consecutive batches whose remote neighbour rows fit the halo budget.
    std::vector<std::vector<GssJob>> rounds;
    std::vector<std::vector<std::int64_t>> round_remote;
    std::vector<std::int64_t> remote;
    std::vector<GssJob> jobs;
    auto close_round = [&] {
      std::sort(remote.begin(), remote.end());
      remote.erase(std::unique(remote.begin(), remote.end()), remote.end());
      rounds.push_back(std::move(jobs));
      round_remote.push_back(std::move(remote));
      jobs.clear();
      remote.clear();
    };
    for (std::size_t b0 = 0; b0 < type_cells.size(); b0 += batch_size) {
      GssJob job;
      std::vector<std::int64_t> job_remote;
      for (std::size_t i = b0; i < std::min(type_cells.size(), b0 + batch_size); ++i) {
        job.cells.push_back(type_cells[i]);
        const auto* idx = nb.indices.data() + static_cast<std::size_t>(type_cells[i]) * k_tot;
        for (int k = 0; k < k_tot; ++k) {
          if (idx[k] >= 0 && (idx[k] < start || idx[k] >= end)) job_remote.push_back(idx[k]);
        }
      }
      if (!jobs.empty() && remote.size() + job_remote.size() > halo_rows_per_round) close_round();
      remote.insert(remote.end(), job_remote.begin(), job_remote.end());
      jobs.push_back(std::move(job));
    }
    if (!jobs.empty()) close_round();
    const std::int64_t n_rounds = dist::allreduce_max(static_cast<std::int64_t>(rounds.size()), comm);

    core::PipelineReport report;
    std::int64_t halo_rows = 0;
    for (std::int64_t r = 0; r < n_rounds; ++r) {
      const bool mine = r < static_cast<std::int64_t>(rounds.size());
      std::vector<std::int64_t> needed = mine ? std::move(round_remote[r]) : std::vector<std::int64_t>{};
      auto bytes = halo.exchange(needed);  // collective: every rank joins every round
      halo_rows += static_cast<std::int64_t>(needed.size());
      rank_rows.set_halo(std::move(needed), std::move(bytes));
      if (mine) {
        merge_report(report, pipeline.run(std::move(rounds[r]), cells.group_names[t], batch_size));
      }
    }
    if (!type_cells.empty()) {
      GSMAP_LOG_INFO("Cell type '{}': {} cells on rank 0, {} halo rows fetched", cells.group_names[t],
                     type_cells.size(), halo_rows);
      if (me == 0) GSMAP_LOG_INFO("\n{}", report.summary_table());
    }
    kill_point("gss");
  }
  const auto halo_in = dist::allreduce_sum(halo.rows_received(), comm);
  GSMAP_LOG_INFO("Halo exchange: {} rows, {:.1f} MiB received over all ranks", halo_in,
                 halo_in * n_genes * 2.0 / (1 << 20));
  const auto zero = dist::allreduce_sum(static_cast<std::int64_t>(zero_weight_cells.load()), comm);
  if (zero > 0) GSMAP_LOG_WARN("{} cells have all neighbour weights 0: their GSS is set to 0", zero);

  io::AtomicOutput marker_out(paths.marker_scores, comm);
  write_marker_scores(marker_out.temp_path(), cells, part, scores, nb, niche_emb.has_value(), comm);
  marker_out.commit();
  GSMAP_LOG_INFO("latent_to_gene done in {:.1f} s: {}", seconds_since(t_step), paths.marker_scores);
}

}  // namespace gsmap::pipeline
