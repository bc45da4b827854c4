#pragma once
// Spot selection, file names and result files of spatial LDSC (docs/algorithms.md §6.7, §7.6;
// docs/formats.md "Outputs").
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gsmap/io/gwas.hpp"
#include "gsmap/ldsc/regression.hpp"
#include "gsmap/pipeline/config.hpp"
#include "gsmap/pipeline/marker_source.hpp"

namespace gsmap::pipeline {

// The spots processed: [start, end) of total, chosen by --cell-indices-range or --sample-filter.
struct SpotSelection {
  std::int64_t start = 0, end = 0, total = 0;
  bool by_range = false;
  std::string sample;
};
SpotSelection select_spots(const SpatialLdscConfig& l, const MarkerScoreSource& source);
std::vector<io::Trait> traits_of(const SpatialLdscConfig& l);
// <project>_<trait>.csv.gz, ..._cells_<a>_<b>.csv.gz, ..._<S>_start.._end.._total...csv.gz
std::string ldsc_output_name(const std::string& project, const std::string& trait,
                             const SpotSelection& selection);

// One trait's per-spot columns for this rank's spots.
struct LdscColumns {
  std::vector<float> beta, se, z;
  std::vector<double> p, neg_log10_p;
  std::size_t size() const { return p.size(); }
};
LdscColumns flatten(const std::vector<ldsc::TraitChunkResult>& chunks, std::int64_t n_spots);
// Collective: the docs/algorithms.md §7.6 summary over all ranks' spots, logged by rank 0.
void log_trait_summary(const std::string& trait, const LdscColumns& own, const SpotSelection& sel,
                       MPI_Comm comm);
// Collective: <path> with header spot,beta,se,z,p,neg_log10_p; rank r's rows after rank r-1's.
// `own_names`: the names of the rank's own spots (own.size() of them), the only names it holds.
void write_ldsc_csv_collective(const std::string& path, const std::vector<std::string>& own_names,
                               const LdscColumns& own, MPI_Comm comm);
// Rows [row0, row1) (data rows, 0-based) of a gsMap-format LDSC csv.gz (NaN = empty field).
LdscColumns read_ldsc_csv_rows(const std::string& path, std::int64_t row0, std::int64_t row1);
// Collective: <project>_results.h5ad: obs = spots (obs of the marker-score source), var = traits,
// X = neg_log10_p, layers beta/se/z/p, obsm spatial; values read back from the traits' csv.gz.
void write_results_h5ad(const std::string& path, const MarkerScoreSource& source,
                        const std::vector<io::Trait>& traits, const std::vector<std::string>& csv_paths,
                        std::int64_t own_start, std::int64_t own_end, MPI_Comm comm);

}  // namespace gsmap::pipeline
