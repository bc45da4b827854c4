#pragma once
// The concatenated, filtered cell set of latent-to-gene (docs/algorithms.md §1.1): samples in
// declared order, cells filtered per sample, global cell index = position in the stacking. Every
// rank builds it (obs, coordinates and embeddings are small); expression rows are read later, by
// the rank that owns them.
#include <cstdint>
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

  // Maps a global cell to (sample index, original row).
  std::pair<int, std::int64_t> locate(std::int64_t global) const;
};

// Reads obs/obsm of every sample, filters, concatenates. Logs the per-sample filter table on rank 0.
// InputError for: genes differing between samples, a missing embedding/coordinate key, an unknown
// annotation column, NaN in an embedding, no cell left.
CellSet load_cells(const std::vector<io::Sample>& samples, const LatentToGeneConfig& cfg);

// The ranking chunks of the kept cells (--rank-batch-size per sample) and the partition of the
// cells over `n_ranks` aligned to them: a chunk stays whole on one rank, so G_Mean's summation
// order is the same for any rank count (docs/algorithms.md §2, §5.1).
struct CellPartition {
  std::vector<gss::RankChunk> chunks;
  dist::Partition partition;
};
CellPartition partition_cells(const CellSet& cells, int rank_batch_size, int n_ranks);

// Pandas-style make-unique of obs names within a sample: repeats get -1, -2, ...
std::vector<std::string> make_unique_names(const std::vector<std::string>& names);

}  // namespace gsmap::pipeline
