#pragma once
// Entry points of the gsmap-mpi steps. The CLI (cli/commands.cpp) parses the command line into a
// Config and calls exactly one of these; every rank of `comm` calls the same function with the
// same Config (the collective ones). They report failures by throwing gsmap::Error; the CLI turns
// that into "error: ..." and MPI_Abort.
#include <mpi.h>

#include <string>

#include "gsmap/pipeline/config.hpp"

namespace gsmap::pipeline {

// `gsmap-mpi merge`: joins the partial per-range results of spatial LDSC
// (spatial_ldsc/<project>_<trait>_cells_<a>_<b>.csv.gz) into <project>_<trait>.csv.gz, ordered by
// start index (docs/usage.md "merge").
struct MergeOptions {
  std::string workdir;
  std::string project_name;
  std::string trait_name;            // merge this trait only, or
  std::string sumstats_config_file;  // every trait of this YAML; neither: every trait found
};

// Collective over `comm`.
void run_latent_to_gene(const LatentToGeneConfig& config, const CommonConfig& common, MPI_Comm comm);
void run_spatial_ldsc(const Config& config, MPI_Comm comm);  // = the next one
void run_spatial_ldsc(const CommonConfig& common, const SpatialLdscConfig& ldsc, MPI_Comm comm);
void run_cauchy_combination(const Config& config, MPI_Comm comm);
// The results report <project>/report/index.html (docs/usage.md "report"): rank 0 writes it, the
// other ranks wait. Traits: those of the configuration, else every <project>_<trait>.csv.gz of
// spatial_ldsc/; annotations: those of the configuration, else every Cauchy result found.
void run_report(const Config& config, MPI_Comm comm);
// Steps config.start_step..config.stop_step in order, skipping those already complete.
void run_quick_mode(const Config& config, MPI_Comm comm);
// Not collective: the CLI calls it on rank 0 only.
void run_merge(const MergeOptions& options);

}  // namespace gsmap::pipeline
