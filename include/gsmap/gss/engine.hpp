#pragma once
// The GSS engine (docs/algorithms.md §1-§5): everything latent-to-gene computes, for the cells one
// rank owns, given how to read their expression rows and where to put their GSS rows.
//
// A rank has two shares of the cells (docs/algorithms.md §5.1): the input positions of Stage A
// (whole ranking chunks, so that G_Mean has the same bits for any rank count) and the cells it
// processes in Stages B and C (a contiguous range of the spatial processing order, so that the
// halo is the region's boundary).
//
//   Stage B  neighbours of the processed cells (all workers); they decide the resident rows: the
//            processed cells' own rows, then the halo (the other rows their neighbours name).
//   Stage A  f16 ln ranks of the input share into the ranked block (one reader prefetching chunks,
//            ranking on all workers), exact non-zero counts (all-reduced) and G_Mean (the chunked
//            f32 order of docs/algorithms.md §2, folded along the ranks in order, so any rank count
//            gives the same bits). A resumed run may provide Stage A instead.
//   fetch    the resident rows come from the ranked blocks once per run (collective; in bounded
//            exchanges): the processed cells' rows (the redistribution into processing order) and
//            the halo rows. The ranked block is released afterwards.
//   Stage C  per cell type, cells ordered for neighbour locality (docs/algorithms.md §4), batches
//            through reader -> compute -> writer workers. Compute workers read neighbour rows in
//            place from the resident block (nothing is gathered); the writer hands each batch's
//            GSS rows to the caller's sink.
//
// The engine knows no files: the caller reads expression chunks, persists or restores Stage A and
// stores the GSS rows. Collective over `comm` (every rank calls run_gss_engine once).
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gsmap/core/row_block.hpp"
#include "gsmap/core/staged_pipeline.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/gss/backend.hpp"
#include "gsmap/gss/marker_score.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/gss/rank.hpp"
#include "gsmap/io/h5ad.hpp"

namespace gsmap::gss {

struct GssEngineOptions {
  NeighborParams neighbors;
  bool no_expression_fraction = false;   // --no-expression-fraction
  std::size_t batch_size = 500;          // --mkscore-batch-size
  core::PipelineShape shape;             // Stage C workers and queues
  std::string memmap_tmp_dir;            // resident block in a mapped file there; empty = memory
  std::size_t halo_bytes_per_exchange = std::size_t{64} << 20;  // one halo exchange's rows
};

// The expression rows of one ranking chunk as the caller read them: a CSR block and, per cell of
// the chunk in order, its row in the block.
struct ChunkRows {
  io::CsrRows block;
  std::vector<std::int64_t> row_of;
};

struct GssInputs {
  // Stage A's partition of the input positions: this rank ranks [partition.start(me),
  // partition.end(me)) and serves those rows to the ranks that process or read them.
  const dist::Partition* partition = nullptr;
  // The cells this rank processes in Stages B and C (global indices, the processing order).
  std::span<const std::int64_t> own_cells;
  std::int64_t n_genes = 0;
  const CellTable* cells = nullptr;  // all cells: Stage B's tables and the cell types (group)
  std::vector<RankChunk> own_chunks;  // ranking chunks of the Stage A rows, in global order
  std::function<ChunkRows(const RankChunk&)> read_chunk;  // called from one thread at a time
  // Stage B by the caller (neighbour rows of own_cells, global ids), e.g. over the rank's region
  // only; empty: a HomogeneousNeighborFinder over `cells`.
  std::function<NeighborResult(std::span<const std::int64_t> own_cells)> find_neighbors;
};

struct GssHooks {
  // Resume: fill the Stage A rows (rows [0, own) of `block`, input positions partition.start(me)
  // onwards) from a previous run and return the statistics, or nullopt to compute Stage A.
  std::function<std::optional<GeneStats>(RowBlock& block, std::int64_t own)> resume_stage_a;
  // Called (collectively) before Stage A is computed (not when it is resumed).
  std::function<void()> stage_a_begins;
  // Receives the Stage A rows of each ranking chunk as soon as the chunk is ranked: global rows
  // [row0, row0 + n), n x n_genes contiguous f16 bits, unchanged until stage_a_done returns. Called
  // from a helper thread, one call at a time, in chunk order, while the workers rank the next
  // chunks, so it must make no HDF5 and no MPI call (docs/development.md §3.1); every call has
  // returned before stage_a_done (or before the block is released when Stage A throws). An
  // exception it throws is rethrown by the engine.
  std::function<void(std::int64_t row0, std::int64_t n, const f16_bits* rows)> stage_a_rows;
  // Called (collectively) after Stage A was computed: persist the Stage A rows and statistics.
  std::function<void(const GeneStats& stats, const RowBlock& block, std::int64_t own)>
      stage_a_done;
  // Called after Stage B: the per-cell tables of the neighbour search (embeddings, coordinates,
  // quality flags) are no longer read; only `group` of the processed cells is (Stage C).
  std::function<void()> stage_b_done;
  // Called once the ranked block is released, before the first GSS row reaches the sink (the
  // caller allocates its GSS rows here, so they never coexist with the ranked block).
  std::function<void()> stage_c_begins;
  // Receives each batch's GSS rows: positions of its cells among own_cells (0 .. own - 1) and
  // their n_cells x n_genes f16 rows. Called from writer workers concurrently (distinct cells).
  std::function<void(std::span<const std::int64_t> own_positions, std::span<const f16_bits> rows)>
      sink;
};

struct GssRunResult {
  NeighborResult neighbors;  // of own_cells, in that order (global indices)
  GeneStats stats;
  bool stage_a_resumed = false;
  std::int64_t own_rows = 0;            // rows of the processed cells
  std::int64_t redistributed_rows = 0;  // ... of which ranked by another rank (received)
  std::int64_t halo_rows = 0;           // rows outside the processed cells that they read (once each)
  std::int64_t halo_rows_received = 0;  // ... of which ranked by another rank (received)
  std::int64_t exchange_rounds = 0;     // rounds of the fetch
  bool resident_in_place = false;       // the ranked block became the resident block (permuted)
  // Memory of the fetch, in rows (docs/algorithms.md §5.3): the ranked block (Stage A share), the
  // resident block (own + halo rows), the largest count of the two held together (ranked rows not
  // yet released + resident rows filled; the resident rows in place), a holder's window per round
  // and the largest round's send buffer (0 and 0 in place).
  std::int64_t ranked_rows = 0, resident_rows = 0, peak_rows_held = 0;
  std::int64_t window_rows = 0, send_buffer_rows = 0;
  std::int64_t writer_queue_batches = 0;  // Stage C's compute -> writer queue, as bounded here
  std::int64_t zero_weight_cells = 0;   // this rank's cells whose weights were all 0
  double seconds_a = 0, seconds_b = 0, seconds_halo = 0, seconds_c = 0;  // wall, this rank
  double cpu_a = 0, cpu_b = 0, cpu_c = 0;  // CPU time of this process (all threads) per stage
  core::PipelineReport report;          // Stage C
};

// Marker-score options of the engine's settings (pooling from the dataset type and strategy).
MarkerScoreOptions marker_score_options(const GssEngineOptions& options);

// Collective over `comm`. Throws the errors of the stages (ComputeError, InputError from the
// caller's reader, Error(kUsage) from the backend).
GssRunResult run_gss_engine(const GssInputs& inputs, const GssEngineOptions& options,
                            GssBackend& backend, const GssHooks& hooks, MPI_Comm comm);

// Row order for neighbour locality within one cell type (docs/algorithms.md §4; gsMap3D's
// row-ordering optimisation): start at the cell whose largest valid neighbour weight is largest,
// walk to the unvisited same-type neighbour of largest weight, jump to the next unvisited cell of
// largest maximal weight when there is none. `positions` are indices of rows of `neighbors` (the
// cells of one type); `position_of` maps a global cell to its row of `neighbors` or -1 when it is
// not among `positions`' candidates (another type or another rank). Uses the first `k` columns.
// Any order gives the same GSS; this one shrinks the distinct rows consecutive cells read.
std::vector<std::int64_t> locality_order(std::span<const std::int64_t> positions,
                                         const NeighborResult& neighbors, int k,
                                         const std::function<std::int64_t(std::int64_t)>& position_of);

}  // namespace gsmap::gss
