#pragma once
// The concatenated, filtered cell set of latent-to-gene (docs/algorithms.md §1.1): samples in
// declared order, cells filtered per sample, global cell index = position in the stacking. Every
// rank builds it (obs, coordinates and embeddings are small); expression rows are read later, by
// the rank that owns them.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gsmap/dist/mpi.hpp"
#include "gsmap/gss/rank.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/samples.hpp"
#include "gsmap/pipeline/config.hpp"

namespace gsmap::pipeline {

struct SampleCells {
  io::Sample sample;
  std::int64_t n_input = 0;
  std::vector<std::int64_t> kept_rows;  // original row numbers in the sample's file, ascending
  std::int64_t global_offset = 0;       // global index of the first kept cell
  std::string layer;                    // the expression layer actually used ("X" or a layer name)
  // filter summary (docs/algorithms.md §1.1)
  std::int64_t removed_nan_label = 0, removed_small_group = 0, removed_low_genes = 0;
};

struct CellSet {
  std::vector<SampleCells> samples;
  std::int64_t n = 0;
  std::vector<std::string> genes;
  std::vector<std::string> spot_names;    // unique obs name + '|' + sample
  std::vector<std::int32_t> slice_id;     // sample position
  std::vector<std::int32_t> group;        // cell type id (order of first appearance); 0 if none
  std::vector<std::string> group_names;   // {"all"} without annotation
  std::vector<std::uint8_t> high_quality; // 1 = true (missing -> true)
  // obs columns carried to the outputs with their types (docs/formats.md "Types kept"): every
  // column of the first sample that every sample has in a joinable kind, for the kept cells,
  // samples concatenated (io::append_column). Not sample_name, slice_id, gsMap_homo_*: the
  // outputs' own columns of those names.
  std::vector<std::pair<std::string, io::Column>> obs_columns;
  std::int64_t coord_dims = 0, cell_dims = 0, niche_dims = 0;
  std::vector<double> coords;             // n x coord_dims (empty for scRNA)
  std::vector<double> emb_cell;           // n x cell_dims, values as stored
  bool emb_cell_is_f64 = false;
  std::vector<double> emb_niche;          // n x niche_dims, empty without a niche embedding
  bool emb_niche_is_f64 = false;

  // Rows held by the per-cell tables spot_names, obs_columns, slice_id, high_quality and coords:
  // [first_row, first_row + held) of the global cells; every cell until keep_only_rows().
  std::int64_t first_row = 0;

  // Maps a global cell to (sample index, original row).
  std::pair<int, std::int64_t> locate(std::int64_t global) const;
  // Releases the per-cell tables of the cells outside [start, end) (the rows this rank writes):
  // a rank's memory then follows its share (docs/scalability.md "Memory"). The cell types
  // (`group`), kept_rows and the sample table stay whole. Call once, after Stage B.
  void keep_only_rows(std::int64_t start, std::int64_t end);
};

// Reads obs/obsm of every sample, filters, concatenates. Logs the per-sample filter table on rank 0.
// InputError for: genes differing between samples, a missing embedding/coordinate key, an unknown
// annotation column, NaN in an embedding, no cell left.
CellSet load_cells(const std::vector<io::Sample>& samples, const LatentToGeneConfig& cfg);

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
  std::vector<std::int64_t> order;   // processing position -> global cell index
  dist::Partition work;              // processing positions (Stages B, C)
  // The cells rank r processes (global indices, in processing order).
  std::span<const std::int64_t> work_cells(int r) const {
    return std::span<const std::int64_t>(order).subspan(static_cast<std::size_t>(work.start(r)),
                                                        static_cast<std::size_t>(work.count(r)));
  }
};
CellPartition partition_cells(const CellSet& cells, int rank_batch_size, int n_ranks);

// The processing order of the cells (docs/algorithms.md §5.1): samples (slices) in declared order;
// within a sample, spatial data follow the Hilbert curve of their first two coordinates (one
// coordinate: ascending), scRNA data are grouped by cell type; ties keep the input order. A pure
// function of the cells, so every rank computes the same order.
std::vector<std::int64_t> processing_order(const CellSet& cells);

// The index of a point on the Hilbert curve of a 2^16 x 2^16 grid (x, y < 65536).
std::uint64_t hilbert_index(std::uint32_t x, std::uint32_t y);

// Pandas-style make-unique of obs names within a sample: repeats get -1, -2, ...
std::vector<std::string> make_unique_names(const std::vector<std::string>& names);

}  // namespace gsmap::pipeline
