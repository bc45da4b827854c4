#pragma once
// Stage B of latent-to-gene: homogeneous neighbours (docs/algorithms.md §3, §10.3 steps 5-7).
//
// Spatial data (spatial2D, spatial3D): per cell type and slice, an exact search grid over the
// candidate pool (docs/algorithms.md §3.3); a focal cell's candidate row is [central k_c | adjacent blocks of k_a], and the
// niche-bonus SELECT picks K neighbours per block (spatial2D, per_slice_pool, hierarchical_pool) or
// K * S over the whole row (global_pool). scRNA: exact kNN on the normalised cell embedding, UMAP
// fuzzy connectivities, the K strongest connections (umap.hpp).
//
// Determinism: candidate order is (squared distance in f64, summed in column order without FMA,
// then global cell index), with every candidate tied at the k-th distance considered before the
// cut; scores are f16 (docs/algorithms.md §10.3) and the selection is a stable sort. Each query
// cell's row depends only on the inputs, never on which cells are queried together, the thread
// count or the MPI partition: every rank builds the same trees over all cells and asks for its own
// cells.
//
// Everything here is in memory and MPI-free. HomogeneousNeighborFinder::find() is const and
// thread-safe; it parallelises over the query cells with TBB.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gsmap/gss/embedding.hpp"
#include "gsmap/math/f16.hpp"
#include "gsmap/gss/dataset.hpp"

namespace gsmap::gss {

using math::f16_bits;

// The concatenated cells (global index = position), as non-owning views. The viewed data must
// outlive every object built from the table.
struct CellTable {
  std::int64_t n = 0;
  int coord_dim = 0;
  std::span<const double> coords;              // n x coord_dim, row-major (spatial only)
  std::span<const std::int32_t> slice_id;      // per cell; empty = every cell on slice 0
  // Instead of slice_id, for cells stacked by slice: cells [slice_starts[s], slice_starts[s + 1])
  // are on slice s (ascending, last entry n). Used when slice_id is empty.
  std::span<const std::int64_t> slice_starts;
  std::span<const std::int32_t> group;         // cell type label per cell; empty = one group
  std::span<const std::string> group_names;    // optional: names of the labels, for messages
  std::span<const std::uint8_t> high_quality;  // per cell, non-zero = true; empty = all true
  const NormalizedEmbedding* cell = nullptr;   // required
  const NormalizedEmbedding* niche = nullptr;  // nullptr = no niche embedding ([1] per cell)
  std::string spatial_key = "spatial";         // for messages
  std::string annotation = "annotation";       // for messages
};

struct NeighborParams {
  DatasetType dataset_type = DatasetType::kSpatial2D;
  int k_central = 301;                      // --spatial-neighbors
  int k_homogeneous = 21;                   // --homogeneous-neighbors (K)
  int k_adjacent = 200;                     // --adjacent-slice-spatial-neighbors
  int n_adjacent = 0;                       // --n-adjacent-slices (0 unless spatial3D)
  double cell_similarity_threshold = 0.0;   // tau_c
  double niche_similarity_threshold = 0.6;  // tau_n
  CrossSliceStrategy strategy = CrossSliceStrategy::kHierarchicalPool;
  bool high_quality_filter = false;

  bool spatial() const { return dataset_type != DatasetType::kScRNA; }
  int n_blocks() const { return 1 + 2 * n_adjacent; }               // S
  int total_columns() const { return k_homogeneous * n_blocks(); }  // K_tot
  int candidate_columns() const { return spatial() ? k_central + 2 * n_adjacent * k_adjacent : 0; }
  // One SELECT per slice block (spatial3D per_slice_pool / hierarchical_pool).
  bool select_per_block() const {
    return dataset_type == DatasetType::kSpatial3D && strategy != CrossSliceStrategy::kGlobalPool;
  }

  // The option rules of docs/algorithms.md §3.1 that need no data. Throws UsageError naming the
  // option.
  void validate() const;
};

struct NeighborResult {
  std::int64_t n_query = 0;
  int k_total = 0;                    // columns of indices / cell_sims / niche_sims
  int k_candidates = 0;               // columns of candidates (0 unless requested, spatial only)
  std::vector<std::int32_t> indices;  // n_query x k_total, global cell ids, -1 = none (scRNA: self)
  std::vector<f16_bits> cell_sims;    // n_query x k_total: the neighbour weights (cs)
  std::vector<f16_bits> niche_sims;   // n_query x k_total (ns; 1.0 without niche; 0 for scRNA)
  std::vector<std::int32_t> candidates;  // n_query x k_candidates: the spatial candidate rows
  // QC per query cell (docs/algorithms.md §3.8): slots with cs > 0, and the median of cs / ns over
  // them (numpy's median of f16 values; NaN if no slot has cs > 0).
  std::vector<std::int32_t> neighbor_count;
  std::vector<float> cell_sim_median;
  std::vector<float> niche_sim_median;
};

// f16 thresholds of docs/algorithms.md §10.3 steps 6-7: round_f16(tau).
struct SelectThresholds {
  float cell = 0.0f;
  float niche = 0.0f;
  static SelectThresholds from(const NeighborParams& params);
};

// Scratch of select_block, one per thread.
struct SelectScratch {
  std::vector<float> score;
  std::vector<f16_bits> cs, ns;
  std::vector<std::int32_t> order;
  std::vector<float> query_cell, query_niche;  // the query's rows widened to f32
};

// SELECT(q, candidates, k) of docs/algorithms.md §3.5 with the f16 recipe (§10.3 steps 5-7) for one
// block: cs = cell similarity if >= thresholds.cell else 0; ns = niche similarity (1.0 when `niche`
// is null); score = round_f16(cs + (ns >= thresholds.niche ? 2 : 0)), -100 for a -1 candidate; the
// first k by descending score, ties to the lower position. Chosen -1 slots get cs = ns = 0.
void select_block(std::int64_t query, std::span<const std::int32_t> candidates, int k,
                  const NormalizedEmbedding& cell, const NormalizedEmbedding* niche,
                  const SelectThresholds& thresholds, SelectScratch& scratch,
                  std::int32_t* out_index, f16_bits* out_cell_sim, f16_bits* out_niche_sim);

// QC of one row (docs/algorithms.md §3.8).
void neighbor_qc(std::span<const f16_bits> cell_sims, std::span<const f16_bits> niche_sims,
                 std::int32_t& count, float& cell_median, float& niche_median);

// scRNA kNN graph: for each of `cells`, its k nearest cells of the same group (Euclidean distance
// of the normalised f16 cell-embedding rows, ordered by (squared distance, cell index)), the cell
// itself first. Exact: a blocked brute force whose squared distances are exact in f64 (see
// neighbors.cpp); O(group size) per row. Distances are stored as f32.
struct KnnGraph {
  int k = 0;
  std::vector<std::int64_t> cells;      // rows
  std::vector<std::int64_t> neighbors;  // cells.size() x k, global ids
  std::vector<float> distances;         // cells.size() x k
};

// The adjacent slices of `slice` for one cell type (docs/algorithms.md §3.4), in block order:
// `available(s)` says whether slice s holds pool cells of the type, and the type's cells span the
// slices [min_slice, max_slice]. The finder's rule, for searches that see only part of the cells.
std::vector<std::int32_t> adjacent_slices(const std::function<bool(std::int64_t)>& available,
                                          std::int32_t slice, std::int32_t min_slice,
                                          std::int32_t max_slice, int n_adjacent);

class HomogeneousNeighborFinder {
 public:
  // Validates the parameters against the data and builds the search structures (spatial: one
  // search grid per (cell type, slice) with pool cells). Throws UsageError / InputError for bad
  // options or data: K > k_c, too few slices for spatial3D, the High_quality filter without a
  // High_quality column, a non-finite coordinate (naming the spatial key and the first row), an
  // scRNA cell type with fewer than K cells, an all-zero scRNA cell embedding row.
  HomogeneousNeighborFinder(const CellTable& cells, const NeighborParams& params);
  ~HomogeneousNeighborFinder();
  HomogeneousNeighborFinder(const HomogeneousNeighborFinder&) = delete;
  HomogeneousNeighborFinder& operator=(const HomogeneousNeighborFinder&) = delete;

  const NeighborParams& params() const;

  // Neighbours of the given cells (global ids, any order; rows of the result follow it).
  // keep_candidates: also return the spatial candidate rows (ignored for scRNA).
  // scRNA computes the kNN graph of every cell of the query cells' groups (symmetrisation needs
  // the reverse edges); for a distributed run use scrna_knn() on own cells, exchange the graph
  // rows, and scrna_select().
  NeighborResult find(std::span<const std::int64_t> query, bool keep_candidates = false) const;

  // Spatial: the candidate row of one cell (candidate_columns() entries).
  std::vector<std::int32_t> candidate_row(std::int64_t cell) const;

  // Spatial: what find() does after its search, from candidate rows found elsewhere (query.size()
  // x candidate_columns(), cell ids of `cells`, -1 = none; docs/algorithms.md §3.5): SELECT and
  // QC. Builds no search structure; reads only the embeddings of `cells`.
  static NeighborResult select_from_candidates(const CellTable& cells, const NeighborParams& params,
                                               std::span<const std::int64_t> query,
                                               std::span<const std::int32_t> candidates);

  // scRNA building blocks.
  KnnGraph scrna_knn(std::span<const std::int64_t> cells) const;
  // `graph` must hold the rows of every cell of the groups of `query` (any order).
  NeighborResult scrna_select(const KnnGraph& graph, std::span<const std::int64_t> query) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot convenience: builds a finder and runs find().
NeighborResult find_homogeneous_neighbors(const CellTable& cells, const NeighborParams& params,
                                          std::span<const std::int64_t> query,
                                          bool keep_candidates = false);

}  // namespace gsmap::gss
