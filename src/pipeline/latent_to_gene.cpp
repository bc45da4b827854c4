// latent-to-gene, distributed (docs/algorithms.md §5): every rank loads the small per-cell tables
// and runs the GSS engine (gss/engine.hpp: neighbours, ranks, halo, GSS) on its own cells. This
// file keeps what is the pipeline's: paths, resume, logging and the output files, written
// collectively into one file each.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/core/memory.hpp"
#include "gsmap/core/row_block.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/gss/embedding.hpp"
#include "gsmap/gss/engine.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/gss/rank.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/pipeline/backend_setup.hpp"
#include "gsmap/pipeline/cells.hpp"
#include "gsmap/pipeline/gss_options.hpp"
#include "gsmap/pipeline/memory_report.hpp"
#include "gsmap/pipeline/outputs.hpp"
#include "gsmap/pipeline/provenance_steps.hpp"
#include "gsmap/pipeline/steps.hpp"
#include "gsmap/pipeline/validate.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

void run_latent_to_gene(const LatentToGeneConfig& c, const CommonConfig& common, MPI_Comm comm) {
  const int me = dist::rank(comm), np = dist::size(comm);
  const auto paths = LatentToGenePaths::of(common);
  if (me == 0) fs::create_directories(paths.dir);
  dist::any(false, comm);  // directory exists before anyone writes
  // -- provenance and lock (pipeline/provenance_steps.hpp): skip only when up to date --
  const auto prov = plan_latent_to_gene(c, common, paths, comm);
  if (prov.skip) return;
  const auto t_step = Clock::now();
  core::MemoryLedger::instance().reset();
  const gss::GssEngineOptions options = gss_engine_options(c, common);
  options.neighbors.validate();
  const auto samples = io::resolve_samples(c.h5ad_path, c.h5ad_yaml, c.h5ad_list_file,
                                           paths.find_latent_metadata);
  CellSet cells = load_cells(samples, c);
  check_unique_names(cells.genes, samples.front().path, "var index");  // validate.hpp
  const std::int64_t n_genes = static_cast<std::int64_t>(cells.genes.size());
  // Ranking chunks (docs/algorithms.md §2) stay whole on one rank: the partition is aligned to them.
  const CellPartition cell_partition = partition_cells(cells, c.rank_batch_size, np);
  const auto& chunks = cell_partition.chunks;
  const auto& part = cell_partition.partition;
  const std::int64_t start = part.start(me), end = part.end(me);
  GSMAP_LOG_INFO("Partition of {} cells over {} ranks: {}", cells.n, np, part.describe());

  // The per-cell tables of Stage B.
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
  // The stored embeddings are not needed once normalised (Stage B reads the f16 rows).
  std::vector<double>().swap(cells.emb_cell);
  std::vector<double>().swap(cells.emb_niche);
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

  gss::GssInputs in;
  in.partition = &part;
  in.n_genes = n_genes;
  in.cells = &table;
  for (const auto& ch : chunks) {
    if (ch.begin >= start && ch.begin < end) in.own_chunks.push_back(ch);
  }
  in.read_chunk = [&](const gss::RankChunk& ch) {
    const auto& sample = cells.samples[ch.sample];
    const std::int64_t row0 = sample.kept_rows[ch.begin - sample.global_offset];
    const std::int64_t row1 = sample.kept_rows[ch.end - 1 - sample.global_offset] + 1;
    gss::ChunkRows rows;
    io::H5adReader reader(sample.sample.path);
    rows.block = reader.read_rows(sample.layer, row0, row1);
    check_expression_block(rows.block, sample, cells.genes);  // validate.hpp: first read of the values
    rows.row_of.resize(static_cast<std::size_t>(ch.end - ch.begin));
    for (std::int64_t g = ch.begin; g < ch.end; ++g) {
      rows.row_of[g - ch.begin] = sample.kept_rows[g - sample.global_offset] - row0;
    }
    return rows;
  };

  // The GSS rows go to marker_scores.h5ad as the engine's writers finish them (no GSS block). The
  // file is created once Stage A is done or restored (collectively: prov is the same on every
  // rank), so that a run stopped by an input error in Stages A or B leaves no temp file.
  std::optional<io::AtomicOutput> marker_out;  // docs/troubleshooting.md
  std::optional<MarkerScoresFile> marker_file;
  const auto open_marker_file = [&] {
    marker_out.emplace(paths.marker_scores, comm);
    marker_file.emplace(marker_out->temp_path(), cells, comm);
  };
  gss::GssHooks hooks;
  hooks.resume_stage_a = [&](RowBlock& block, std::int64_t own) -> std::optional<gss::GeneStats> {
    if (!prov.reuse_stage_a) return std::nullopt;  // -- provenance: complete and up to date --
    GSMAP_LOG_INFO("Stage A: reusing {} and {}", paths.log_ranks, paths.mean_frac);
    read_log_ranks(paths.log_ranks, cells, start, block, own);
    auto stats = read_mean_frac(paths.mean_frac, cells.genes);
    open_marker_file();
    return stats;
  };
  hooks.stage_a_done = [&](const gss::GeneStats& stats, const RowBlock& block, std::int64_t own) {
    if (me == 0) write_mean_frac(paths.mean_frac, cells.genes, stats);
    io::AtomicOutput log_ranks_out(paths.log_ranks, comm);  // docs/troubleshooting.md
    write_log_ranks(log_ranks_out.temp_path(), cells, part, block, own, comm);
    record_stage_a(prov, paths, log_ranks_out.temp_path(), comm);  // -- provenance --
    log_ranks_out.commit();
    if (!marker_file) open_marker_file();
  };
  hooks.sink = [&](std::span<const std::int64_t> own_positions, std::span<const gss::f16_bits> rows) {
    std::vector<std::int64_t> global(own_positions.begin(), own_positions.end());
    for (auto& g : global) g += start;
    marker_file->store_rows(global, rows);
  };

  const auto backend = make_gss_backend(common, comm);
  const gss::GssRunResult run = gss::run_gss_engine(in, options, *backend, hooks, comm);
  const auto& nb = run.neighbors;
  GSMAP_LOG_INFO("Stage B: {} neighbours per cell found in {:.1f} s (CPU {:.1f} s on rank 0)",
                 nb.k_total, run.seconds_b, run.cpu_b);
  {
    std::int64_t few = 0;
    for (auto cnt : nb.neighbor_count) few += cnt <= 5;
    few = dist::allreduce_sum(few, comm);
    if (few > 0) GSMAP_LOG_WARN("{} cells have 5 or fewer neighbours with similarity > 0", few);
  }
  if (!run.stage_a_resumed) {
    GSMAP_LOG_INFO("Stage A: ranked {} cells x {} genes in {:.1f} s (CPU {:.1f} s on rank 0)",
                   cells.n, n_genes, run.seconds_a, run.cpu_a);
  }
  const auto halo_in = dist::allreduce_sum(run.halo_rows, comm);
  GSMAP_LOG_INFO("Halo exchange: {} rows, {:.1f} MiB received over all ranks (each row once), "
                 "{:.1f} s on rank 0", halo_in, halo_in * n_genes * 2.0 / (1 << 20), run.seconds_halo);
  GSMAP_LOG_INFO("Stage C: GSS of {} cells on the {} backend in {:.1f} s (CPU {:.1f} s on rank 0)",
                 cells.n, backend->name(), run.seconds_c, run.cpu_c);
  if (me == 0) GSMAP_LOG_INFO("\n{}", run.report.summary_table());
  const auto zero = dist::allreduce_sum(run.zero_weight_cells, comm);
  if (zero > 0) GSMAP_LOG_WARN("{} cells have all neighbour weights 0: their GSS is set to 0", zero);

  marker_file->finish(part, nb, niche_emb.has_value());
  record_latent_to_gene(prov, paths, marker_out->temp_path(), comm);  // -- provenance --
  marker_out->commit();
  log_memory("latent_to_gene", comm);
  GSMAP_LOG_INFO("latent_to_gene done in {:.1f} s: {}", seconds_since(t_step), paths.marker_scores);
}

}  // namespace gsmap::pipeline
