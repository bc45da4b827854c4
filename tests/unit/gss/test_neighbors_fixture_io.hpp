#pragma once
// Test helper of the gss rank / neighbour tests: reads a fixture's input h5ad files with the
// low-level HDF5 helpers, applies the cell filter of docs/algorithms.md §1.1 (so input rows map
// to the rows of expected/), and concatenates the kept cells in samples.yaml order. Also reads
// expected.h5 datasets and mean_frac.csv. Independent of the pipeline's own loader on purpose.
#include <cstdint>
#include <string>
#include <vector>

#include "gsmap/gss/dataset.hpp"

namespace gsmap::gss::fixture {

struct FixtureCells {
  std::string name;
  // options (oracle_config.json)
  DatasetType dataset_type = DatasetType::kSpatial2D;
  int k_central = 0, k_homogeneous = 0, k_adjacent = 0, n_adjacent = 0;
  double cell_threshold = 0.0, niche_threshold = 0.0;
  int min_cells_per_type = 0;
  std::string data_layer, emb_cell_key, emb_niche_key;  // niche key empty = none

  // kept cells, concatenated (global index = position)
  std::int64_t n = 0;
  std::int64_t n_genes = 0;
  std::vector<std::int64_t> cells_per_sample;  // kept cells of each sample, samples.yaml order
  std::vector<std::string> spots;              // original obs name + '|' + sample (not made unique)
  std::vector<std::int32_t> slice_id;
  std::vector<std::int32_t> group;  // dense, by label name, order of first appearance
  std::vector<std::string> group_names;
  std::vector<std::uint8_t> high_quality;
  int coord_dim = 0, cell_dim = 0, niche_dim = 0;
  std::vector<double> coords;
  std::vector<float> emb_cell, emb_niche;
  // expression (data layer) of the kept rows, CSR
  std::vector<std::int64_t> indptr;
  std::vector<std::int32_t> indices;
  std::vector<float> values;
};

FixtureCells load_cells(const std::string& fixture_name);

// Spot names of expected/cells.csv (first column), in order.
std::vector<std::string> expected_spots(const std::string& fixture_name);

// An integer or f16 (raw bits) dataset of expected/expected.h5, row-major; shape returned.
std::vector<std::int32_t> expected_ints(const std::string& fixture_name, const std::string& key,
                                        std::vector<std::uint64_t>* shape = nullptr);
std::vector<std::uint16_t> expected_f16(const std::string& fixture_name, const std::string& key,
                                        std::vector<std::uint64_t>* shape = nullptr);

// expected/mean_frac.csv
struct MeanFrac {
  std::vector<std::string> genes;
  std::vector<double> g_mean, frac;
};
MeanFrac expected_mean_frac(const std::string& fixture_name);

}  // namespace gsmap::gss::fixture
