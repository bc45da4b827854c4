#pragma once
// Every setting of every step, filled by the CLI (cli/) from gsMap's option names
// (docs/usage.md "All options", docs/algorithms.md §3.1). Defaults here are the
// reference defaults. One struct for all steps keeps quick-mode a plain sequence of steps.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gsmap/gss/dataset.hpp"

namespace gsmap {

enum class MarkerScoreFormat { kAuto, kMemmap, kH5ad, kFeather };
// --results-h5ad: write <project>_results.h5ad at the end of an all-spots run (default), skip it
// (trait-array tasks), or only build it from the traits' current csv.gz, computing nothing
// (docs/usage.md "One job per trait").
enum class ResultsH5ad { kWrite, kSkip, kOnly };

struct CommonConfig {
  std::string workdir;
  std::string project_name;
  bool use_gpu = true;
  std::string memmap_tmp_dir;  // empty = none
  std::string command_line;    // for the log banner and the provenance records
  bool force = false;          // --force: recompute every output the command covers
  std::string project_dir() const { return workdir + "/" + project_name; }
};

struct LatentToGeneConfig {
  // inputs
  std::vector<std::string> h5ad_path;
  std::string h5ad_yaml, h5ad_list_file;
  std::string data_layer = "X";
  std::string spatial_key = "spatial";
  std::string annotation;                       // empty = none
  std::string latent_representation_cell = "emb_cell";
  std::string latent_representation_niche;      // empty = none (5.5.1: no default niche)
  // neighbours
  DatasetType dataset_type = DatasetType::kSpatial2D;
  int spatial_neighbors = 301;
  int homogeneous_neighbors = 21;
  double cell_embedding_similarity_threshold = 0.0;
  double spatial_domain_similarity_threshold = 0.6;
  bool no_expression_fraction = false;
  int adjacent_slice_spatial_neighbors = 200;
  int n_adjacent_slices = 1;
  CrossSliceStrategy cross_slice_marker_score_strategy = CrossSliceStrategy::kHierarchicalPool;
  bool high_quality_neighbor_filter = false;
  // pipeline
  int mkscore_batch_size = 500;
  int rank_read_workers = 16;
  int mkscore_compute_workers = 4;
  int mkscore_write_workers = 4;
  int compute_input_queue_size = 5;
  int writer_queue_size = 100;
  // exposed internals (5.5.8)
  int rank_batch_size = 500;
  int find_homogeneous_batch_size = 100;
  std::optional<int> min_cells_per_type;  // default = homogeneous_neighbors, capped at it
};

struct SpatialLdscConfig {
  std::string trait_name, sumstats_file, sumstats_config_file;
  std::string w_ld_dir;                          // empty = <project>/generate_ldscore/w_ld
  std::string snp_gene_weight_adata_path;
  std::vector<std::string> additional_baseline_h5ad_path_list;
  std::optional<int> chisq_max;
  int n_blocks = 200;
  int spots_per_chunk_quick_mode = 50;
  int ldsc_read_workers = 10;
  int ldsc_compute_workers = 10;
  std::optional<std::pair<std::int64_t, std::int64_t>> cell_indices_range;
  std::string sample_filter;
  MarkerScoreFormat marker_score_format = MarkerScoreFormat::kAuto;
  std::string marker_score_feather_path, marker_score_h5ad_path;
  ResultsH5ad results_h5ad = ResultsH5ad::kWrite;
};

struct CauchyConfig {
  std::string annotation;
  std::vector<std::string> cauchy_annotations;
  double cauchy_outlier_iqr_factor = 3.0;
  bool cauchy_use_floored_p = false;
};

enum class Step { kLatentToGene = 0, kSpatialLdsc = 1, kCauchyCombination = 2, kReport = 3 };

struct Config {
  CommonConfig common;
  LatentToGeneConfig l2g;
  SpatialLdscConfig ldsc;
  CauchyConfig cauchy;
  Step start_step = Step::kLatentToGene;
  Step stop_step = Step::kReport;
  bool dry_run = false;      // --dry-run: validate and print the plan, write nothing
};

}  // namespace gsmap
