// latent-to-gene, distributed (docs/algorithms.md §5): every rank loads the small per-cell tables
// over all cells, the names and embeddings of the cells it needs (§5.2), and runs the GSS engine (gss/engine.hpp: neighbours, ranks, halo, GSS) on its own cells. This
// file keeps what is the pipeline's: paths, resume, logging and the output files, written
// collectively into one file each.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/core/memory.hpp"
#include "gsmap/core/progress.hpp"
#include "gsmap/core/row_block.hpp"
#include "gsmap/core/throughput.hpp"
#include "gsmap/dist/halo.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/gss/embedding.hpp"
#include "gsmap/gss/engine.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/gss/rank.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/hdf5.hpp"
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

// HDF5 keeps the blocks its reads freed on free lists of its own; they go back to the heap here.
void release_hdf5_free_lists() {
  const io::H5Lock lock;
  H5garbage_collect();
}

constexpr std::size_t kBytesPerRound = std::size_t{64} << 20;  // one redistribution round, at most

// The neighbour rows and QC of the processed cells moved to the ranks that write them, as one
// record per cell. Collective.
gss::NeighborResult neighbors_to_input_order(std::span<const std::int64_t> own_cells,
                                             const gss::NeighborResult& nb,
                                             const dist::Partition& part, MPI_Comm comm) {
  const int me = dist::rank(comm);
  const std::int64_t start = part.start(me), n = part.count(me);
  const auto k = static_cast<std::size_t>(nb.k_total);
  gss::NeighborResult out;
  out.n_query = n;
  out.k_total = nb.k_total;
  out.indices.assign(static_cast<std::size_t>(n) * k, -1);
  out.cell_sims.assign(static_cast<std::size_t>(n) * k, 0);
  out.niche_sims.assign(static_cast<std::size_t>(n) * k, 0);
  out.neighbor_count.assign(static_cast<std::size_t>(n), 0);
  out.cell_sim_median.assign(static_cast<std::size_t>(n), 0.0f);
  out.niche_sim_median.assign(static_cast<std::size_t>(n), 0.0f);
  // Record: indices (i32 x k), cell sims (f16 x k), niche sims (f16 x k), count (i32), medians (f32 x 2).
  const std::size_t bytes = k * (sizeof(std::int32_t) + 2 * sizeof(gss::f16_bits)) + 3 * 4;
  std::vector<std::byte> record(bytes);
  std::vector<int> dest(own_cells.size());
  for (std::size_t i = 0; i < own_cells.size(); ++i) dest[i] = part.owner(own_cells[i]);
  const auto pack = [&](std::size_t i) {
    std::byte* p = record.data();
    const auto put = [&p](const void* src, std::size_t len) {
      std::memcpy(p, src, len);
      p += len;
    };
    put(nb.indices.data() + i * k, k * sizeof(std::int32_t));
    put(nb.cell_sims.data() + i * k, k * sizeof(gss::f16_bits));
    put(nb.niche_sims.data() + i * k, k * sizeof(gss::f16_bits));
    put(&nb.neighbor_count[i], 4);
    put(&nb.cell_sim_median[i], 4);
    put(&nb.niche_sim_median[i], 4);
    return static_cast<const std::byte*>(record.data());
  };
  const auto place = [&](std::int64_t global, const std::byte* p) {
    const auto j = static_cast<std::size_t>(global - start);
    const auto get = [&p](void* dst, std::size_t len) {
      std::memcpy(dst, p, len);
      p += len;
    };
    get(out.indices.data() + j * k, k * sizeof(std::int32_t));
    get(out.cell_sims.data() + j * k, k * sizeof(gss::f16_bits));
    get(out.niche_sims.data() + j * k, k * sizeof(gss::f16_bits));
    get(&out.neighbor_count[j], 4);
    get(&out.cell_sim_median[j], 4);
    get(&out.niche_sim_median[j], 4);
  };
  dist::send_rows_to_owners(own_cells, dest, bytes, pack, place, kBytesPerRound, comm);
  return out;
}

// Per rank: processed rows, halo rows, rows received for either, exchange rounds (rank 0 logs).
void log_rank_traffic(const gss::GssRunResult& run, std::int64_t n_genes, MPI_Comm comm) {
  const int np = dist::size(comm);
  // GSS rows are written by index (no way back through MPI): 0 rows back.
  constexpr std::size_t kValues = 12;
  const std::int64_t mine[kValues] = {run.own_rows, run.halo_rows, run.halo_rows_received,
                                      run.redistributed_rows, 0, run.exchange_rounds,
                                      run.ranked_rows, run.resident_rows, run.peak_rows_held,
                                      run.window_rows, run.send_buffer_rows,
                                      run.resident_in_place ? 1 : 0};
  std::vector<std::int64_t> all(dist::rank(comm) == 0 ? kValues * static_cast<std::size_t>(np) : 0);
  GSMAP_MPI_CALL(MPI_Gather(mine, static_cast<int>(kValues), MPI_INT64_T, all.data(),
                            static_cast<int>(kValues), MPI_INT64_T, 0, comm));
  if (dist::rank(comm) != 0) return;
  const double mib = static_cast<double>(n_genes) * 2.0 / (1 << 20);
  for (int r = 0; r < np; ++r) {
    const std::int64_t* v = all.data() + kValues * static_cast<std::size_t>(r);
    GSMAP_LOG_INFO("  rank {}: {} own rows, {} halo rows ({} received, {:.1f} MiB), "
                   "redistribution {} rows in ({:.1f} MiB), GSS rows written at their input "
                   "positions, {} rounds", r, v[0], v[1], v[2], v[2] * mib, v[3], v[3] * mib, v[5]);
    // docs/algorithms.md §5.3: the ranked block is released window by window as the resident
    // block fills (in place: one block).
    GSMAP_LOG_INFO("  rank {}: log-rank rows held at once: at most {} ({:.1f} MiB; ranked block {} "
                   "rows, resident block {} rows, {}windows of {} rows, send buffer at most {} rows)",
                   r, v[8], v[8] * mib, v[6], v[7], v[11] ? "one block permuted in place, " : "",
                   v[9], v[10]);
  }
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
  // Stage A's last chunks make every heap give back its free top (core/memory.hpp); glibc's
  // default threshold again when the step ends.
  struct KeepHeapTopsAfter {
    ~KeepHeapTopsAfter() { core::keep_freed_heap_tops(); }
  } const keep_heap_tops_after;
  core::MemoryLedger::instance().reset();
  AllCellsMemory::instance().reset();
  const gss::GssEngineOptions options = gss_engine_options(c, common);
  options.neighbors.validate();
  const auto samples = io::resolve_samples(c.h5ad_path, c.h5ad_yaml, c.h5ad_list_file,
                                           paths.find_latent_metadata);
  CellSet cells = load_cells(samples, c);
  check_unique_names(cells.genes, samples.front().path, "var index");  // validate.hpp
  const std::int64_t n_genes = static_cast<std::int64_t>(cells.genes.size());
  // Ranking chunks (docs/algorithms.md §2) stay whole on one rank: the partition is aligned to them.
  // Only this rank's positions of the processing order are computed (docs/scalability.md).
  CellPartition cell_partition = partition_cells(cells, c.rank_batch_size, np, me);
  const auto& chunks = cell_partition.chunks;
  const auto& part = cell_partition.partition;
  const std::int64_t start = part.start(me), end = part.end(me);
  GSMAP_LOG_INFO("Partition of {} cells over {} ranks: {}", cells.n, np, part.describe());
  GSMAP_LOG_INFO("Processing order: {} (Stages B and C: rank r processes the cells at positions "
                 "[start, end) of it)", cell_partition.work.describe());
  const std::span<const std::int64_t> own_cells = cell_partition.work_cells(me);
  // Names and obs columns of the rows this rank writes (docs/algorithms.md §5.2).
  load_obs_rows(cells, start, end);

  // Stage C reads only the cell types of the table over all cells.
  gss::CellTable table;
  table.n = cells.n;
  table.group = cells.group;
  table.group_names = cells.group_names;
  // Stage B's search over this rank's region, once (docs/algorithms.md §5.2): spatial2D, search
  // and SELECT in one pass per round over the embeddings of the cells the round covers; spatial3D
  // with adjacent slices, the candidate rows of the own cells over all cells, then SELECT from
  // them; scRNA, the kNN graphs of the own cells' types. Embeddings are read from the file by row
  // ranges, indexed by position in `search.cells`.
  const bool spatial = options.neighbors.spatial();
  const auto normalized_rows = [&](const std::string& key, const char* option, bool niche,
                                   std::span<const std::int64_t> which) {
    EmbeddingRows stored = read_embedding_rows(cells, key, option, which);
    const auto type = stored.is_f64 ? gss::StoredFloat::kF64 : gss::StoredFloat::kF32;
    const auto rows = static_cast<std::int64_t>(which.size());
    return niche ? gss::normalize_niche_embedding(stored.values, rows, static_cast<int>(stored.dims), type, "obsm/" + key)
                 : gss::normalize_cell_embedding(stored.values, rows, static_cast<int>(stored.dims), type, "obsm/" + key);
  };
  const bool with_niche_key = spatial && !c.latent_representation_niche.empty();
  // spatial2D: search and SELECT in one pass over the region (rows kept, no candidate rows).
  const bool selected_here = spatial && options.neighbors.n_adjacent == 0;
  gss::NeighborResult region_rows;
  // The GSS stages, Stage B's search to Stage C's last row: their cores busy (CPU / wall) is the
  // figure of docs/performance.md "GSS stages: cores busy"; the rest of the step is serial I/O.
  const core::CpuStopwatch gss_stages;
  StageBSearch search =
      selected_here
          ? stage_b_search(cells, options.neighbors, own_cells,
                           [&](std::span<const std::int64_t> which) {
                             StageBEmbeddings e;
                             e.cell = normalized_rows(c.latent_representation_cell, "--latent-representation-cell", false, which);
                             if (with_niche_key) {
                               e.niche = normalized_rows(c.latent_representation_niche, "--latent-representation-niche", true, which);
                             }
                             return e;
                           },
                           &region_rows)
          : stage_b_search(cells, options.neighbors, own_cells);
  const double seconds_search = gss_stages.wall_seconds(), cpu_search = gss_stages.cpu_seconds();
  const auto n_local = static_cast<std::int64_t>(search.cells.size());
  gss::NormalizedEmbedding cell_emb;
  std::optional<gss::NormalizedEmbedding> niche_emb;
  if (!selected_here) {
    cell_emb = normalized_rows(c.latent_representation_cell, "--latent-representation-cell", false, search.cells);
    if (with_niche_key) {
      niche_emb = normalized_rows(c.latent_representation_niche, "--latent-representation-niche", true, search.cells);
    }
  }
  std::vector<std::int32_t> local_group;  // scRNA: the cell types of search.cells
  if (!spatial) {
    for (const auto cell : search.cells) local_group.push_back(cells.group[static_cast<std::size_t>(cell)]);
  }
  gss::CellTable local;  // search.cells, by position
  local.n = n_local;
  local.group = local_group;
  local.group_names = cells.group_names;
  local.cell = &cell_emb;
  local.niche = niche_emb ? &*niche_emb : nullptr;
  local.spatial_key = c.spatial_key;
  local.annotation = c.annotation.empty() ? "annotation" : c.annotation;
  {
    const std::int64_t most = dist::allreduce_max(n_local, comm);
    const std::int64_t searched = dist::allreduce_max(search.searched, comm);
    if (spatial) {
      if (selected_here) {
        GSMAP_LOG_INFO("Stage B search and SELECT over the rank's region, once: {} round(s), "
                       "embeddings of {} cells here (at most {} on a rank: own cells and the pool "
                       "cells within reach) ({:.2f} s, CPU {:.2f} s on rank 0)",
                       search.rounds, n_local, most, seconds_search, cpu_search);
      } else {
        GSMAP_LOG_INFO("Stage B search: {} cells and their embeddings here (at most {} on a rank: "
                       "own cells and their spatial candidates); candidate rows searched once over "
                       "the rank's region and its adjacent slices, in {} round(s) over at most {} "
                       "cells on a rank ({:.2f} s, CPU {:.2f} s on rank 0)",
                       n_local, most, search.rounds, searched, seconds_search, cpu_search);
      }
    } else {
      GSMAP_LOG_INFO("Stage B: {} cells and their embeddings here (at most {} on a rank: the cells "
                     "of the own cells' types)", n_local, most);
    }
  }
  gss::GssInputs in;
  in.partition = &part;
  in.own_cells = own_cells;
  in.n_genes = n_genes;
  in.cells = &table;
  in.find_neighbors = [&](std::span<const std::int64_t> own) {
    if (selected_here) {  // rows of own_cells, found above (the stage's progress counts them now)
      core::progress_add(static_cast<std::int64_t>(own.size()));
      return std::move(region_rows);
    }
    const auto local_id = [&](std::int64_t cell) {
      return static_cast<std::int32_t>(std::lower_bound(search.cells.begin(), search.cells.end(), cell) -
                                       search.cells.begin());
    };
    std::vector<std::int64_t> query(own.size());
    for (std::size_t i = 0; i < own.size(); ++i) query[i] = local_id(own[i]);
    gss::NeighborResult r;
    if (spatial) {
      for (auto& cand : search.candidates) cand = cand >= 0 ? local_id(cand) : -1;
      r = gss::HomogeneousNeighborFinder::select_from_candidates(local, options.neighbors, query,
                                                                search.candidates);
      std::vector<std::int32_t>().swap(search.candidates);  // before Stage A's blocks
    } else {
      const gss::HomogeneousNeighborFinder finder(local, options.neighbors);
      r = finder.find(query);
    }
    for (auto& x : r.indices) x = x >= 0 ? static_cast<std::int32_t>(search.cells[static_cast<std::size_t>(x)]) : x;
    return r;
  };
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

  // The GSS rows go to marker_scores.h5ad as the engine's writers finish them, each at its input
  // position (writes by index, docs/algorithms.md §5.1: no GSS block and no redistribution of GSS
  // rows). The file is created once Stage A is done or restored (collectively: prov is the same on
  // every rank), so that a run stopped by an input error in Stages A or B leaves no temp file.
  std::optional<io::AtomicOutput> marker_out;  // docs/troubleshooting.md
  std::optional<MarkerScoresFile> marker_file;
  const auto open_marker_file = [&] {
    marker_out.emplace(paths.marker_scores, comm);
    marker_file.emplace(marker_out->temp_path(), cells, comm);
  };
  gss::GssHooks hooks;
  const bool with_niche = with_niche_key;
  hooks.stage_b_done = [&] {
    // Memory follows the rank's share from here on: the embeddings and their row slots go, the
    // coordinates keep the rows this rank writes (docs/scalability.md "Memory per rank").
    std::vector<gss::f16_bits>().swap(cell_emb.values);
    niche_emb.reset();
    local = gss::CellTable{};
    std::vector<std::int32_t>().swap(local_group);
    search = StageBSearch{};
    cells.keep_only_rows(start, end);
    // The released tables are many small heap blocks: give their pages back to the system, or
    // they stay in the resident set under the blocks allocated next (HDF5's free lists of the
    // reads first).
    release_hdf5_free_lists();
    malloc_trim(0);
  };

  hooks.resume_stage_a = [&](RowBlock& block, std::int64_t own) -> std::optional<gss::GeneStats> {
    if (!prov.reuse_stage_a) return std::nullopt;  // -- provenance: complete and up to date --
    GSMAP_LOG_INFO("Stage A: reusing {} and {}", paths.log_ranks, paths.mean_frac);
    read_log_ranks(paths.log_ranks, cells, start, block, own);
    auto stats = read_mean_frac(paths.mean_frac, cells.genes);
    open_marker_file();
    return stats;
  };
  // log_ranks.h5ad is written while Stage A ranks: each ranking chunk's rows go to the file (and
  // their write-back to the disk starts) on the engine's helper thread as soon as the chunk is
  // ranked; once Stage A is done only obs, var, the fsync and the rename remain.
  std::optional<io::AtomicOutput> log_ranks_out;  // docs/troubleshooting.md
  std::optional<LogRanksFile> log_ranks_file;
  hooks.stage_a_begins = [&] {
    log_ranks_out.emplace(paths.log_ranks, comm);
    log_ranks_file.emplace(log_ranks_out->temp_path(), cells, comm);
  };
  hooks.stage_a_rows = [&](std::int64_t row0, std::int64_t n, const gss::f16_bits* rows) {
    log_ranks_file->store_rows(row0, n, rows);
  };
  hooks.stage_a_done = [&](const gss::GeneStats& stats, const RowBlock&, std::int64_t) {
    log_ranks_file->finish(part);  // first: a failed row write is reported as log_ranks.h5ad's
    log_ranks_file.reset();
    release_hdf5_free_lists();  // the chunk reads' (the engine trims the heap next)
    if (me == 0) write_mean_frac(paths.mean_frac, cells.genes, stats);
    record_stage_a(prov, paths, log_ranks_out->temp_path(), comm);  // -- provenance --
    log_ranks_out->commit();
    log_ranks_out.reset();
    if (!marker_file) open_marker_file();
  };
  hooks.sink = [&](std::span<const std::int64_t> own_positions, std::span<const gss::f16_bits> rows) {
    std::vector<std::int64_t> global(own_positions.size());
    for (std::size_t i = 0; i < global.size(); ++i) {
      global[i] = own_cells[static_cast<std::size_t>(own_positions[i])];
    }
    marker_file->store_rows(global, rows);
  };

  const auto backend = make_gss_backend(common, comm);
  const gss::GssRunResult run = gss::run_gss_engine(in, options, *backend, hooks, comm);
  const double gss_wall = gss_stages.wall_seconds(), gss_cpu = gss_stages.cpu_seconds();
  const auto& nb = run.neighbors;
  GSMAP_LOG_INFO("Stage B: {} neighbours per cell found in {:.2f} s (CPU {:.2f} s on rank 0)",
                 nb.k_total, run.seconds_b, run.cpu_b);
  {
    std::int64_t few = 0;
    for (auto cnt : nb.neighbor_count) few += cnt <= 5;
    few = dist::allreduce_sum(few, comm);
    if (few > 0) GSMAP_LOG_WARN("{} cells have 5 or fewer neighbours with similarity > 0", few);
  }
  if (!run.stage_a_resumed) {
    GSMAP_LOG_INFO("Stage A: ranked {} cells x {} genes in {:.2f} s (CPU {:.2f} s on rank 0)",
                   cells.n, n_genes, run.seconds_a, run.cpu_a);
  }
  const auto halo_in = dist::allreduce_sum(run.halo_rows, comm);
  const auto halo_received = dist::allreduce_sum(run.halo_rows_received, comm);
  const auto moved = dist::allreduce_sum(run.redistributed_rows, comm);
  GSMAP_LOG_INFO("Halo exchange: {} rows ({:.1f} % of the cells, {:.1f} MiB) over all ranks (each "
                 "row once per rank that reads it; {} of them from other ranks); redistribution into "
                 "processing order: {} rows, {:.1f} MiB; {:.1f} s on rank 0",
                 halo_in, 100.0 * static_cast<double>(halo_in) / static_cast<double>(cells.n),
                 halo_in * n_genes * 2.0 / (1 << 20), halo_received, moved,
                 moved * n_genes * 2.0 / (1 << 20), run.seconds_halo);
  GSMAP_LOG_INFO("Stage C: GSS of {} cells on the {} backend in {:.2f} s (CPU {:.2f} s on rank 0; "
                 "finished batches wait in a queue of {} on rank 0)",
                 cells.n, backend->name(), run.seconds_c, run.cpu_c, run.writer_queue_batches);
  if (me == 0) GSMAP_LOG_INFO("\n{}", run.report.summary_table());
  GSMAP_LOG_INFO("GSS stages (Stage B's search to Stage C's last row): {:.2f} s, CPU {:.2f} s on "
                 "rank 0: {:.2f} cores busy",
                 gss_wall, gss_cpu, gss_wall > 0 ? gss_cpu / gss_wall : 0.0);
  const auto zero = dist::allreduce_sum(run.zero_weight_cells, comm);
  if (zero > 0) GSMAP_LOG_WARN("{} cells have all neighbour weights 0: their GSS is set to 0", zero);

  // Back to input order: the neighbour rows go to the ranks that write them.
  if (!marker_file) throw ComputeError("latent_to_gene: Stage A never finished");
  const gss::NeighborResult nb_out = neighbors_to_input_order(own_cells, nb, part, comm);
  {
    // What this rank held over all cells, transient included (docs/scalability.md "Memory per
    // rank"): the peak and its parts, the largest rank's.
    const auto& held = AllCellsMemory::instance();
    std::vector<std::int64_t> peaks(static_cast<std::size_t>(np), 0);
    peaks[static_cast<std::size_t>(me)] = held.peak();
    dist::allreduce_sum(peaks, comm);
    const std::int64_t steady = dist::allreduce_max(
        static_cast<std::int64_t>(cells.bytes_per_cell_over_all() * static_cast<double>(cells.n)), comm);
    const double per_cell = 1.0 / static_cast<double>(cells.n);
    std::string each;
    for (int r = 0; r < np; ++r) {
      each += fmt::format("{}{:.1f}", r ? ", " : "", static_cast<double>(peaks[static_cast<std::size_t>(r)]) * per_cell);
    }
    GSMAP_LOG_INFO("Cells held per rank over all {} cells: peak {:.1f} bytes per cell on the largest "
                   "rank, transient included (per rank: {}; rank 0 at its peak: {}); {:.1f} bytes "
                   "per cell after Stage B",
                   cells.n, static_cast<double>(*std::max_element(peaks.begin(), peaks.end())) * per_cell,
                   each, held.describe_peak(cells.n), static_cast<double>(steady) * per_cell);
  }
  log_rank_traffic(run, n_genes, comm);
  marker_file->finish(part, nb_out, with_niche);
  record_latent_to_gene(prov, paths, marker_out->temp_path(), comm);  // -- provenance --
  marker_out->commit();
  log_memory("latent_to_gene", comm);
  GSMAP_LOG_INFO("latent_to_gene done in {:.1f} s: {}", seconds_since(t_step), paths.marker_scores);
}

}  // namespace gsmap::pipeline
