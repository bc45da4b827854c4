// cauchy-combination (docs/algorithms.md §9): small data, computed on rank 0 while the other
// ranks wait; files are written atomically, so an interrupted run is redone for the missing ones.
#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include <fmt/format.h>

#include "gsmap/cauchy/cauchy.hpp"
#include "gsmap/cauchy/ldsc_csv.hpp"
#include "gsmap/cauchy/merge.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/core/kill_point.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/dist/progress.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/pipeline/ldsc_outputs.hpp"
#include "gsmap/pipeline/provenance_steps.hpp"
#include "gsmap/pipeline/steps.hpp"
#include "gsmap/pipeline/validate.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;

std::vector<std::string> cauchy_annotations(const CauchyConfig& c) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  if (!c.annotation.empty() && seen.insert(c.annotation).second) out.push_back(c.annotation);
  for (const auto& a : c.cauchy_annotations) {
    if (seen.insert(a).second) out.push_back(a);
  }
  if (out.empty()) {
    throw UsageError("Cauchy combination needs an annotation: give --annotation or --cauchy-annotations");
  }
  return out;
}

// The h5ad whose obs describe the spots: ours, else gsMap3D's concatenated adata.
std::string spot_obs_h5ad(const CommonConfig& common) {
  const auto dir = common.project_dir() + "/latent_to_gene";
  for (const char* name : {"/marker_scores.h5ad", "/concatenated_latent_adata.h5ad"}) {
    if (fs::exists(dir + name)) return dir + name;
  }
  throw InputError(dir + "/marker_scores.h5ad", "", "not found: the spot annotations come from it",
                   "run latent-to-gene first");
}

bool cauchy_done(const Config& cfg) {
  const auto dir = cfg.common.project_dir() + "/cauchy_combination";
  for (const auto& t : traits_of(cfg.ldsc)) {
    for (const auto& a : cauchy_annotations(cfg.cauchy)) {
      for (bool sample : {false, true}) {
        if (!fs::exists(cauchy::cauchy_result_path(dir, cfg.common.project_name, t.name, a, sample)))
          return false;
      }
    }
  }
  return true;
}

void run_cauchy_combination(const Config& cfg, MPI_Comm comm) {
  // Rank 0 computes; an error there is reported by it and aborts the job (cli/commands.cpp).
  if (dist::rank(comm) == 0) {
    {
      const auto out_dir = cfg.common.project_dir() + "/cauchy_combination";
      const auto ldsc_dir = cfg.common.project_dir() + "/spatial_ldsc";
      fs::create_directories(out_dir);
      const auto annotations = cauchy_annotations(cfg.cauchy);
      std::vector<cauchy::TraitPValues> traits;
      const auto all_traits = traits_of(cfg.ldsc);
      // -- provenance and locks (pipeline/provenance_steps.hpp): skip only when up to date --
      const auto prov = plan_cauchy(cfg, all_traits, annotations);
      // Rank 0 alone: its progress is a reduction over MPI_COMM_SELF.
      dist::StageProgress progress(
          "Cauchy: reading LDSC results",
          std::count_if(prov.recompute.begin(), prov.recompute.end(), [](char r) { return r != 0; }),
          "traits", MPI_COMM_SELF);
      for (std::size_t ti = 0; ti < all_traits.size(); ++ti) {
        const auto& t = all_traits[ti];
        if (!prov.recompute[ti]) continue;
        const auto path = cauchy::ldsc_result_path(ldsc_dir, cfg.common.project_name, t.name);
        if (!fs::exists(path)) {
          const auto partial = cauchy::list_partial_ldsc(ldsc_dir, cfg.common.project_name, t.name);
          throw InputError(path, "", "spatial LDSC result not found",
                           partial.empty() ? "run spatial-ldsc first"
                                           : "partial range files exist: join them with gsmap-mpi merge");
        }
        traits.push_back(cauchy::read_ldsc_csv(path, t.name));
        progress.add(1);
        progress.poll();
      }
      progress.finish();
      if (!traits.empty()) {
        const auto obs_path = spot_obs_h5ad(cfg.common);
        io::H5adReader obs(obs_path);
        cauchy::SpotAnnotations ann;
        ann.source = obs_path;
        ann.spots = obs.obs_names();
        require_obs_columns(obs, annotations, "--annotation / --cauchy-annotations");
        for (const auto& a : annotations) {
          auto col = obs.obs_column(a);
          cauchy::SpotAnnotations::Column c{a, {}};
          for (std::size_t i = 0; i < ann.spots.size(); ++i) c.labels.push_back(io::column_label(col, i));
          ann.columns.push_back(std::move(c));
        }
        if (obs.has_obs_column("sample_name")) {
          auto col = obs.obs_column("sample_name");
          std::vector<std::optional<std::string>> s;
          for (std::size_t i = 0; i < ann.spots.size(); ++i) s.push_back(io::column_label(col, i));
          ann.sample_name = std::move(s);
        }
        cauchy::CauchyOptions opt;
        opt.outlier_iqr_factor = cfg.cauchy.cauchy_outlier_iqr_factor;
        opt.use_floored_p = cfg.cauchy.cauchy_use_floored_p;
        const auto scores = cauchy::combine_scores(traits, ann, opt);
        kill_point("cauchy");
        const auto written = cauchy::write_cauchy_results(scores, out_dir, cfg.common.project_name, opt);
        for (const auto& f : written) GSMAP_LOG_INFO("Cauchy: wrote {}", f);
        record_cauchy(prov, cfg, all_traits, annotations, written);  // -- provenance --
      }
    }
  }
  dist::any(false, comm);  // everyone waits for rank 0
}

void run_merge(const MergeOptions& o) {
  const auto dir = o.workdir + "/" + o.project_name + "/spatial_ldsc";
  std::vector<std::string> traits;
  if (!o.trait_name.empty()) {
    traits.push_back(o.trait_name);
  } else if (!o.sumstats_config_file.empty()) {
    for (const auto& t : io::traits_from_yaml(o.sumstats_config_file)) {
      io::require_safe_name(t.name, "trait name in " + o.sumstats_config_file + ":");
      traits.push_back(t.name);
    }
  } else {
    // Every trait with partial files: <project>_<trait>_cells_<a>_<b>.csv.gz
    const std::string prefix = o.project_name + "_";
    std::unordered_set<std::string> seen;
    if (fs::is_directory(dir)) {
      for (const auto& e : fs::directory_iterator(dir)) {
        const auto name = e.path().filename().string();
        const auto pos = name.rfind("_cells_");
        if (name.rfind(prefix, 0) == 0 && pos != std::string::npos && pos > prefix.size()) {
          auto t = name.substr(prefix.size(), pos - prefix.size());
          if (seen.insert(t).second) traits.push_back(t);
        }
      }
    }
    std::sort(traits.begin(), traits.end());
  }
  if (traits.empty()) {
    throw InputError(dir, "", "no partial result files (<project>_<trait>_cells_<start>_<end>.csv.gz)",
                     "check --workdir and --project-name");
  }
  const auto project_dir = o.workdir + "/" + o.project_name;
  for (const auto& t : traits) {
    const auto lock = lock_merge_output(project_dir, dir, o.project_name, t);  // -- lock --
    const auto merged = cauchy::merge_partial_ldsc(dir, o.project_name, t);
    record_merge(project_dir, dir, o.project_name, t, merged);  // -- provenance --
    GSMAP_LOG_INFO("merge: {}", merged);
  }
}

}  // namespace gsmap::pipeline
