#pragma once
// The steps' use of provenance.hpp and lock.hpp: which locks each step takes, what goes into each
// output's fingerprint, and the skip / recompute decision with its log line (docs/usage.md
// "Fingerprints, skipping and --force" and "Concurrent runs"). The step files call these hooks;
// locks and fingerprints live on rank 0, decisions are broadcast (the collective functions say so).
#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "gsmap/io/gwas.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "gsmap/pipeline/config.hpp"
#include "gsmap/pipeline/ldsc_outputs.hpp"
#include "gsmap/pipeline/lock.hpp"
#include "gsmap/pipeline/marker_source.hpp"
#include "gsmap/pipeline/outputs.hpp"
#include "gsmap/pipeline/provenance.hpp"

namespace gsmap::pipeline {

// ---- latent_to_gene: one output set (marker_scores.h5ad, log_ranks.h5ad, mean_frac.csv) ----
struct LatentToGenePlan {
  bool skip = false;           // marker_scores.h5ad complete and up to date
  bool reuse_stage_a = false;  // log_ranks.h5ad + mean_frac.csv complete and up to date
  provenance::Record record;   // rank 0
  std::unique_ptr<LockSet> locks;  // rank 0
};
provenance::Record latent_to_gene_record(const LatentToGeneConfig& l2g, const CommonConfig& common,
                                         const LatentToGenePaths& paths, int ranks);
// Collective, before anything is read: exclusive lock, fingerprint, decision, log line.
LatentToGenePlan plan_latent_to_gene(const LatentToGeneConfig& l2g, const CommonConfig& common,
                                     const LatentToGenePaths& paths, MPI_Comm comm);
// Collective, after LogRanksFile::finish (mean_frac.csv written before): records both.
// `log_ranks_file` is the file just written (the temporary name of an io::AtomicOutput, stamped
// before its commit, so a committed file always carries its record).
void record_stage_a(const LatentToGenePlan& plan, const LatentToGenePaths& paths,
                    const std::string& log_ranks_file, MPI_Comm comm);
// Collective, after write_marker_scores: records it and updates latent_to_gene/metadata.yaml.
// `marker_scores_file`: the file just written (temporary name, before its commit).
void record_latent_to_gene(const LatentToGenePlan& plan, const LatentToGenePaths& paths,
                           const std::string& marker_scores_file, MPI_Comm comm);

// ---- spatial_ldsc: one output set per trait x spot selection, plus the results h5ad ----
struct LdscPlan {
  std::unique_ptr<LockSet> locks;           // rank 0
  std::string marker_upstream;              // rank 0
  std::vector<provenance::Record> records;  // rank 0, per trait
  std::vector<char> recompute;              // per trait, every rank
  bool results_fresh = false;               // every rank
  std::string results_lock;
  provenance::Record trait_template;        // rank 0: a trait's record, name and sumstats blank
  // The results h5ad's traits and their csv.gz (every rank, set by begin_ldsc_results): the
  // existing file's traits whose inputs are still current or that this run recomputed, in the
  // file's order, then this run's new ones (docs/formats.md "<project>_results.h5ad").
  std::vector<io::Trait> results_traits;
  std::vector<std::string> results_csv;
};
// Collective, before the marker scores are opened: shared lock on the latent_to_gene outputs.
LdscPlan lock_ldsc_inputs(const CommonConfig& common_cfg, const SpatialLdscConfig& ldsc_cfg, MPI_Comm comm);
// Collective: output locks, fingerprints, decisions and log lines for every trait.
void plan_spatial_ldsc(LdscPlan& plan, const CommonConfig& common_cfg, const SpatialLdscConfig& ldsc_cfg, const MarkerScoreSource& source,
                       const SpotSelection& sel, const std::vector<io::Trait>& traits,
                       const std::vector<std::string>& outputs, const std::string& results_path,
                       bool full, MPI_Comm comm);
// Rank 0 (no-op elsewhere), once the trait is prepared: its SNP counts, lambda GC and mean chi^2
// go into the summary of its record (docs/formats.md "Provenance"; the report shows them).
void note_ldsc_trait(LdscPlan& plan, std::size_t trait, const ldsc::TraitData& data);
// Collective, after a trait's csv.gz is written: its sidecar.
void record_ldsc_trait(const LdscPlan& plan, std::size_t trait, const std::string& path,
                       MPI_Comm comm);
// Collective, before write_results_h5ad: waits for the results lock (runs on other traits may
// be writing the same file; they are serialised, never failed), then decides under it which
// traits the file holds (plan.results_traits / results_csv), logging each trait it drops.
void begin_ldsc_results(LdscPlan& plan, const CommonConfig& common_cfg,
                        const std::vector<io::Trait>& traits,
                        const std::vector<std::string>& outputs, const std::string& results_path,
                        MPI_Comm comm);
// Collective, after write_results_h5ad (or at the end without one): attributes, metadata.yaml.
void record_ldsc_results(LdscPlan& plan, const CommonConfig& common_cfg, const SpatialLdscConfig& ldsc_cfg, const std::vector<io::Trait>& traits,
                         const std::vector<std::string>& outputs, const std::string& results_path,
                         const std::string& results_file, bool wrote_results, MPI_Comm comm);

// ---- cauchy_combination (rank 0 only): one output set per trait ----
struct CauchyPlan {
  std::unique_ptr<LockSet> locks;
  std::vector<provenance::Record> records;
  std::vector<char> recompute;
};
CauchyPlan plan_cauchy(const Config& cfg, const std::vector<io::Trait>& traits,
                       const std::vector<std::string>& annotations);
// After write_cauchy_results: sidecars of the files written for recomputed traits, metadata.yaml.
void record_cauchy(const CauchyPlan& plan, const Config& cfg, const std::vector<io::Trait>& traits,
                   const std::vector<std::string>& annotations,
                   const std::vector<std::string>& written);

// ---- merge (rank 0 only): the merged <project>_<trait>.csv.gz ----
std::unique_ptr<LockSet> lock_merge_output(const std::string& project_dir, const std::string& dir,
                                           const std::string& project, const std::string& trait);
// After the merge: its sidecar. When every partial file carries a spatial_ldsc record that
// differs only in the spot range, the merged file gets the record a full run would have.
void record_merge(const std::string& project_dir, const std::string& dir, const std::string& project,
                  const std::string& trait, const std::string& merged);

}  // namespace gsmap::pipeline
