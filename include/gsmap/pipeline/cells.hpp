#pragma once
// The concatenated, filtered cell set of latent-to-gene (docs/algorithms.md §1.1): samples in
// declared order, cells filtered per sample, global cell index = position in the stacking. Every
// rank builds the small part over all cells; names, obs columns and embeddings only for the rows
// it needs (docs/algorithms.md §5.2); expression rows are read later, by the rank that owns them.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gsmap/dist/mpi.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/gss/rank.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/samples.hpp"
#include "gsmap/pipeline/config.hpp"

namespace gsmap::pipeline {

struct SampleCells {
  io::Sample sample;
  std::int64_t n_input = 0;
  // original row numbers in the sample's file, ascending (4 bytes per cell: a sample file of
  // 2^32 rows or more is refused)
  std::vector<std::uint32_t> kept_rows;
  std::int64_t global_offset = 0;       // global index of the first kept cell
  std::string layer;                    // the expression layer actually used ("X" or a layer name)
  // filter summary (docs/algorithms.md §1.1)
  std::int64_t removed_nan_label = 0, removed_small_group = 0, removed_low_genes = 0;
};

// What a rank holds of the cells (docs/scalability.md "Memory per rank"): over all cells only the
// filter's row numbers, the cell types, the coordinates and (with --high-quality-neighbor-filter)
// the High_quality flags, at most 32 bytes per cell for 2-D coordinates; the names and obs columns
// of its own rows (load_obs_rows); the embeddings of the cells its Stage B reads
// (read_embedding_rows).
struct CellSet {
  std::vector<SampleCells> samples;
  std::int64_t n = 0;
  std::vector<std::string> genes;
  std::vector<std::int32_t> group;        // cell type id (order of first appearance); 0 if none
  std::vector<std::string> group_names;   // {"all"} without annotation
  // 1 = true (missing -> true), every cell; empty (all true) without --high-quality-neighbor-filter
  std::vector<std::uint8_t> high_quality;
  std::int64_t coord_dims = 0, cell_dims = 0, niche_dims = 0;
  // coordinates of rows [coords_first_row, ...): every cell until keep_only_rows (empty for scRNA)
  std::vector<double> coords;
  std::int64_t coords_first_row = 0;

  // Rows [first_row, first_row + spot_names.size()) of the global cells, read by load_obs_rows:
  std::vector<std::string> spot_names;    // unique obs name + '|' + sample
  // obs columns carried to the outputs with their types (docs/formats.md "Types kept"): every
  // column of the first sample that every sample has in a joinable kind, samples concatenated
  // (io::append_column). Not sample_name, slice_id, gsMap_homo_*: the outputs' own columns of
  // those names.
  std::vector<std::pair<std::string, io::Column>> obs_columns;
  std::int64_t first_row = 0;

  // Maps a global cell to (sample index, original row).
  std::pair<int, std::int64_t> locate(std::int64_t global) const;
  // The slice (sample position) of a global cell.
  std::int32_t slice_of(std::int64_t global) const { return locate(global).first; }
  // The global index of each sample's first cell, then n: cells [starts[s], starts[s + 1]) are on
  // slice s (gss::CellTable::slice_starts).
  std::vector<std::int64_t> slice_starts() const;
  // Releases the coordinates of the cells outside [start, end) (the rows this rank writes).
  // Call once, after Stage B.
  void keep_only_rows(std::int64_t start, std::int64_t end);
  // Bytes per cell of the structures over all cells (kept_rows, group, high_quality, coords).
  double bytes_per_cell_over_all() const;
};

// What a rank holds in structures over all cells (docs/scalability.md "Memory per rank"),
// transient included: every structure sized by the cell count records its bytes (capacity) here
// while it lives; the peak total and its parts are logged ("Cells held per rank") and tested
// against 32 bytes per cell. Buffers of a fixed number of rows (blocks) are not counted. Not
// thread-safe: the pipeline's main thread records.
class AllCellsMemory {
 public:
  static AllCellsMemory& instance();
  void reset();
  void set(const std::string& part, std::int64_t bytes);
  std::int64_t current() const;
  std::int64_t peak() const { return peak_; }
  // "row numbers 4.0 + cell types 4.0 + ..." (bytes per cell of the parts at the peak).
  std::string describe_peak(std::int64_t n_cells) const;

 private:
  std::vector<std::pair<std::string, std::int64_t>> parts_, at_peak_;
  std::int64_t peak_ = 0;
};
// Records the CellSet's tables over all cells (row numbers, cell types, coordinates, High_quality).
void account(const CellSet& cells);

// Reads, per sample, what the filter and the processing order need: the annotation labels, the
// detected-gene counts, High_quality (with the filter) and the coordinates; filters and
// concatenates (docs/algorithms.md §1.1). Names, obs columns and embeddings are read later, for
// the rows a rank needs. Logs the per-sample filter table on rank 0.
// InputError for: genes differing between samples, a missing coordinate key, an unknown
// annotation column, NaN in the coordinates, no cell left.
CellSet load_cells(const std::vector<io::Sample>& samples, const LatentToGeneConfig& cfg);

// Reads the names and the carried obs columns of the global cells [start, end) (the rows this
// rank writes). Every sample's columns are read (a column is carried only when every sample has
// it in a joinable kind, the same decision on every rank) and trimmed to [start, end) at once.
void load_obs_rows(CellSet& cells, std::int64_t start, std::int64_t end);

// Stored values of an obsm embedding for the given global cells (ascending), cells.size() x dims,
// read from each sample by row ranges (io::H5adReader::obsm_rows). Every sample's key and width
// are checked, also where no row is wanted, so every rank meets the same errors. `option` names
// the option in errors. InputError for a missing key, widths differing between samples, a NaN or
// infinite value (naming the sample row).
struct EmbeddingRows {
  std::vector<double> values;
  std::int64_t dims = 0;
  bool is_f64 = false;
};
EmbeddingRows read_embedding_rows(const CellSet& cells, const std::string& key, const char* option,
                                  std::span<const std::int64_t> globals);

// The cells whose embedding rows the spatial neighbour search of `own` reads (docs/algorithms.md
// §5.2): the own cells and every cell of their candidate rows (§3.3, §3.4), ascending. Builds the
// k-d trees from the coordinates, cell types, slices and High_quality of `table` (its embeddings
// are not read and may be null).
std::vector<std::int64_t> stage_b_cells(const gss::CellTable& table, const gss::NeighborParams& params,
                                        std::span<const std::int64_t> own);

// Stage B's search over the rank's region (docs/algorithms.md §5.2, docs/scalability.md "Memory
// per rank"), done once:
//  * spatial2D: per (cell type, slice) of the own cells, the pool cells within a margin of the own
//    cells' bounding box; the candidate rows of the own cells are searched over those cells only,
//    and a row is kept when its k_c-th candidate is nearer than the box's border (no cell outside
//    can be nearer or tie); otherwise the margin of that (cell type, slice) doubles and the search
//    is repeated. The rows are those of a search over all cells (docs/algorithms.md §3.3).
//  * spatial3D with adjacent slices: the same, with a box per (cell type, slice) of every block of
//    the own cells' rows (the own slice and each adjacent slice), each block checked against its
//    box; the search also takes one cell per (cell type, slice with pool cells) and per end of a
//    cell type's slice range, so that its adjacent slices are those of a search over all cells.
//  * scRNA: no candidates; `cells` are the cells of the own cells' cell types (the kNN graph of a
//    cell type needs all its cells).
struct StageBSearch {
  std::vector<std::int64_t> cells;       // ascending: own cells and every cell of their rows
  std::vector<std::int32_t> candidates;  // spatial: own.size() x candidate_columns(), global ids
  std::int64_t searched = 0;             // cells of the last search structure
  int rounds = 0;                        // searches (spatial)
};
// The normalised embeddings of the given cells (ascending global ids), rows by position.
struct StageBEmbeddings {
  gss::NormalizedEmbedding cell;
  std::optional<gss::NormalizedEmbedding> niche;
};
using StageBEmbeddingReader = std::function<StageBEmbeddings(std::span<const std::int64_t> cells)>;
// With `read` and `result` (spatial2D only; other cases ignore them): each round reads the
// embeddings of the cells it searches and does SELECT in the same pass, so the candidate rows are
// never stored: `result` receives the neighbour rows of `own` (global ids), `candidates` stays
// empty and `cells` are the cells of the last round.
StageBSearch stage_b_search(const CellSet& cells, const gss::NeighborParams& params,
                            std::span<const std::int64_t> own, const StageBEmbeddingReader& read = {},
                            gss::NeighborResult* result = nullptr);

// How the cells are spread over `n_ranks` (docs/algorithms.md §5.1):
//  * Stage A (ranking, G_Mean) works on the ranking chunks of the kept cells (--rank-batch-size
//    per sample, input order); `partition` splits the input positions over the ranks aligned to
//    them, so a chunk stays whole on one rank and G_Mean's summation order is the same for any rank
//    count (§2). The outputs are written by this partition too (input order).
//  * Stages B and C work in the processing order (`order`: processing position -> global cell,
//    see processing_order()); rank r owns the processing positions [work.start(r), work.end(r)),
//    balanced by cell count, a spatially compact region whose halo is its boundary.
struct CellPartition {
  std::vector<gss::RankChunk> chunks;
  dist::Partition partition;         // input positions (Stage A, outputs)
  std::vector<std::int64_t> order;   // processing position order_first + i -> global cell index
  dist::Partition work;              // processing positions (Stages B, C)
  std::int64_t order_first = 0;      // every position until keep_only_work()
  // The cells rank r processes (global indices, in processing order); after keep_only_work(me),
  // only for r = me.
  std::span<const std::int64_t> work_cells(int r) const {
    return std::span<const std::int64_t>(order).subspan(
        static_cast<std::size_t>(work.start(r) - order_first), static_cast<std::size_t>(work.count(r)));
  }
  // Keeps the processing order of rank r's positions only (8 bytes per cell less over all cells).
  void keep_only_work(int r) {
    std::vector<std::int64_t> mine(work_cells(r).begin(), work_cells(r).end());
    order.swap(mine);
    order_first = work.start(r);
  }
};
// With me >= 0, `order` holds rank me's processing positions only (as after keep_only_work(me)),
// computed without the order of all cells (processing_positions).
CellPartition partition_cells(const CellSet& cells, int rank_batch_size, int n_ranks, int me = -1);

// The processing order of the cells (docs/algorithms.md §5.1): samples (slices) in declared order;
// within a sample, spatial data follow the Hilbert curve of their first two coordinates (one
// coordinate: ascending), scRNA data are grouped by cell type; ties keep the input order. A pure
// function of the cells, so every rank computes the same order.
std::vector<std::int64_t> processing_order(const CellSet& cells);
// Positions [first, last) of processing_order(cells), found by selecting their keys (histograms
// over keys recomputed from the coordinates) without sorting, or holding anything for, all cells.
std::vector<std::int64_t> processing_positions(const CellSet& cells, std::int64_t first, std::int64_t last);

// The index of a point on the Hilbert curve of a 2^16 x 2^16 grid (x, y < 65536).
std::uint64_t hilbert_index(std::uint32_t x, std::uint32_t y);

// Pandas-style make-unique of obs names within a sample: repeats get -1, -2, ...
std::vector<std::string> make_unique_names(const std::vector<std::string>& names);
// make_unique_names(all names of the sample) at the input rows `rows` (ascending), holding only
// those rows' names: the sample's names are read in blocks of `block` rows (two passes or more).
std::vector<std::string> unique_names_of_rows(const io::H5adReader& reader, std::int64_t n_rows,
                                              std::span<const std::int64_t> rows, std::int64_t block);

}  // namespace gsmap::pipeline
