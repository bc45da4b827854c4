#pragma once
// Where spatial LDSC reads the marker scores (GSS) from (docs/algorithms.md §6.7):
//  * ours: <project>/latent_to_gene/marker_scores.h5ad (dense f16 X, gsmap_complete = 1);
//  * a gsMap3D workdir: latent_to_gene/marker_scores.dat (+ .meta.json, complete) with names from
//    concatenated_latent_adata.h5ad;
//  * any h5ad given with --marker-score-h5ad-path (cells x genes, dense or sparse, any float type).
// Feather is rejected (no Arrow in Debian; docs/migration.md "Files").
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gsmap/pipeline/config.hpp"

namespace gsmap::pipeline {

class MarkerScoreSource {
 public:
  virtual ~MarkerScoreSource() = default;
  virtual std::string describe() const = 0;
  virtual std::int64_t n_spots() const = 0;
  virtual const std::vector<std::string>& genes() const = 0;
  // The names of spots [row0, row1), read from the file on each call: no rank holds the names
  // of all spots (docs/scalability.md "Memory per rank").
  virtual std::vector<std::string> spot_names(std::int64_t row0, std::int64_t row1) const = 0;
  // The h5ad whose obs describe the spots (annotations, sample_name) and whose obsm holds spatial.
  virtual std::string obs_h5ad() const = 0;
  // Rows [row0, row1) restricted to `gene_columns`, as f16 bits (spots x genes, row-major).
  // Thread-safe (HDF5 calls are serialised inside).
  virtual std::vector<std::uint16_t> read_rows(std::int64_t row0, std::int64_t row1,
                                               const std::vector<std::int64_t>& gene_columns) const = 0;
};

// Chooses and opens the source per --marker-score-format (auto: h5ad path if given, else our
// marker_scores.h5ad, else a gsMap3D memmap). InputError when incomplete or missing.
std::unique_ptr<MarkerScoreSource> open_marker_scores(const Config& cfg);
std::unique_ptr<MarkerScoreSource> open_marker_scores(const CommonConfig& common,
                                                      const SpatialLdscConfig& ldsc);

}  // namespace gsmap::pipeline
