#include "gsmap/pipeline/gss_options.hpp"

namespace gsmap::pipeline {

gss::NeighborParams neighbor_params(const LatentToGeneConfig& config) {
  gss::NeighborParams p;
  p.dataset_type = config.dataset_type;
  p.k_central = config.spatial_neighbors;
  p.k_homogeneous = config.homogeneous_neighbors;
  p.k_adjacent = config.adjacent_slice_spatial_neighbors;
  p.n_adjacent = config.dataset_type == DatasetType::kSpatial3D ? config.n_adjacent_slices : 0;
  p.cell_similarity_threshold = config.cell_embedding_similarity_threshold;
  p.niche_similarity_threshold = config.spatial_domain_similarity_threshold;
  p.strategy = config.cross_slice_marker_score_strategy;
  p.high_quality_filter = config.high_quality_neighbor_filter;
  return p;
}

gss::GssEngineOptions gss_engine_options(const LatentToGeneConfig& c, const CommonConfig& common) {
  gss::GssEngineOptions o;
  o.neighbors = neighbor_params(c);
  o.no_expression_fraction = c.no_expression_fraction;
  o.batch_size = static_cast<std::size_t>(c.mkscore_batch_size);
  // The reader only assembles slot rows and weights (rows are read in place), so a few suffice.
  o.shape.read_workers = c.rank_read_workers;
  o.shape.compute_workers = c.mkscore_compute_workers;
  o.shape.write_workers = c.mkscore_write_workers;
  o.shape.compute_input_queue_size = static_cast<std::size_t>(c.compute_input_queue_size);
  o.shape.writer_queue_size = static_cast<std::size_t>(c.writer_queue_size);
  o.memmap_tmp_dir = common.memmap_tmp_dir;
  return o;
}

}  // namespace gsmap::pipeline
