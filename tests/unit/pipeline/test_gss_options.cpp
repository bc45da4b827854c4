// The GSS engine's settings from the latent-to-gene options (pipeline/gss_options.hpp).
#include <gtest/gtest.h>

#include "gsmap/pipeline/gss_options.hpp"

namespace gsmap::pipeline {
namespace {

TEST(GssOptions, NeighbourParamsFromConfig) {
  LatentToGeneConfig config;
  config.dataset_type = DatasetType::kSpatial2D;  // n_adjacent_slices default 1 is forced to 0
  const gss::NeighborParams from = neighbor_params(config);
  EXPECT_EQ(from.n_adjacent, 0);
  EXPECT_EQ(from.k_central, 301);
  EXPECT_EQ(from.total_columns(), 21);
  EXPECT_EQ(from.candidate_columns(), 301);
  config.dataset_type = DatasetType::kSpatial3D;
  EXPECT_EQ(neighbor_params(config).total_columns(), 63);
  EXPECT_EQ(neighbor_params(config).candidate_columns(), 701);
}

TEST(GssOptions, EngineOptionsFromConfig) {
  LatentToGeneConfig config;
  config.dataset_type = DatasetType::kSpatial3D;
  config.mkscore_batch_size = 123;
  config.mkscore_compute_workers = 3;
  config.no_expression_fraction = true;
  CommonConfig common;
  common.memmap_tmp_dir = "/tmp/x";
  const auto o = gss_engine_options(config, common);
  EXPECT_EQ(o.batch_size, 123u);
  EXPECT_EQ(o.shape.compute_workers, 3);
  EXPECT_EQ(o.memmap_tmp_dir, "/tmp/x");
  const auto ms = gss::marker_score_options(o);
  EXPECT_TRUE(ms.no_expression_fraction);
  EXPECT_EQ(ms.n_blocks, 3);
  EXPECT_EQ(ms.neighbors_per_block, 21);
  EXPECT_EQ(ms.pooling, gss::MarkerScorePooling::kHierarchical);
}

}  // namespace
}  // namespace gsmap::pipeline
