// Locks, fingerprints and skip decisions of the steps (docs/usage.md "Fingerprints, skipping and
// --force", "Concurrent runs"; docs/formats.md "Provenance").
#include "gsmap/pipeline/provenance_steps.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "gsmap/cauchy/cauchy.hpp"
#include "gsmap/cauchy/ldsc_csv.hpp"
#include "gsmap/cauchy/merge.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/samples.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;
namespace pv = provenance;
namespace {

constexpr const char* kL2gLock = "latent_to_gene";
constexpr double kShortLockWait = 600.0;  // seconds: results h5ad and metadata.yaml writers

std::string backend_name(const CommonConfig& c) {
  try {
    return device::use_cuda(c.use_gpu) ? "gpu" : "cpu";
  } catch (const std::exception&) {
    return "cpu";
  }
}

// `gpu_step`: latent_to_gene and spatial_ldsc may run on the GPU; the others always on the CPU.
void fill_run(pv::Record& r, const CommonConfig& common, int ranks, bool gpu_step = true) {
  r.ranks = ranks;
  r.command = common.command_line;
  r.backend = gpu_step ? backend_name(common) : "cpu";
}

std::string num(double v) { return fmt::format("{}", v); }
std::string flag(bool v) { return v ? "true" : "false"; }

const char* dataset_type_name(DatasetType t) {
  switch (t) {
    case DatasetType::kScRNA: return "scRNA";
    case DatasetType::kSpatial2D: return "spatial2D";
    case DatasetType::kSpatial3D: return "spatial3D";
  }
  return "?";
}
const char* strategy_name(CrossSliceStrategy s) {
  switch (s) {
    case CrossSliceStrategy::kGlobalPool: return "global_pool";
    case CrossSliceStrategy::kPerSlicePool: return "per_slice_pool";
    case CrossSliceStrategy::kHierarchicalPool: return "hierarchical_pool";
  }
  return "?";
}

// Broadcast of rank 0's decisions (collective).
void bcast_bytes(std::vector<char>& v, MPI_Comm comm) {
  int n = static_cast<int>(v.size());
  GSMAP_MPI_CALL(MPI_Bcast(&n, 1, MPI_INT, 0, comm));
  v.resize(static_cast<std::size_t>(n));
  if (n > 0) GSMAP_MPI_CALL(MPI_Bcast(v.data(), n, MPI_CHAR, 0, comm));
}

void update_metadata_locked(LockSet& locks, const std::string& step_dir, const std::string& step,
                            const std::vector<std::pair<std::string, pv::Record>>& outputs) {
  const std::string name = step + ".metadata";
  locks.acquire_exclusive_wait(name, step_dir + "/metadata.yaml", kShortLockWait);
  try {
    pv::update_step_metadata(step_dir, step, outputs);
  } catch (...) {
    locks.release(name);
    throw;
  }
  locks.release(name);
}

std::string file_name(const std::string& p) { return fs::path(p).filename().string(); }

// Takes `name` for writing when `reason` is non-empty, else keeps (or turns it into) a shared
// lock; logs why.
void settle(LockSet& locks, const std::string& name, LockMode got, const std::string& what,
            const std::string& subject, const std::string& reason) {
  if (reason.empty()) {
    GSMAP_LOG_INFO("skipping {}: complete and up to date", subject);
    if (got == LockMode::kExclusive) locks.downgrade(name);
    return;
  }
  if (got != LockMode::kExclusive) locks.upgrade(name, what);
  locks.mark_writing(name);
  GSMAP_LOG_INFO("recomputing {}: {}", subject, reason);
}

std::string w_ld_dir_for(const CommonConfig& common, const SpatialLdscConfig& ldsc) {
  if (!ldsc.w_ld_dir.empty()) return ldsc.w_ld_dir;
  return common.project_dir() + "/generate_ldscore/w_ld";
}

std::string identity_or_missing(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec) ? pv::file_identity(path) : "missing";
}

std::string marker_source_upstream(const MarkerScoreSource& source) {
  const std::string d = source.describe();
  const std::string memmap = "gsMap3D memmap ";
  if (d.rfind(memmap, 0) == 0) {
    return "memmap " + identity_or_missing(d.substr(memmap.size())) + "; obs " +
           pv::upstream_h5ad(source.obs_h5ad());
  }
  return pv::upstream_h5ad(source.obs_h5ad());
}

}  // namespace

// ---- latent_to_gene --------------------------------------------------------------------------------
pv::Record latent_to_gene_record(const LatentToGeneConfig& c, const CommonConfig& common,
                                 const LatentToGenePaths& paths, int ranks) {
  pv::Record r;
  r.step = "latent_to_gene";
  r.subject = "latent_to_gene";
  fill_run(r, common, ranks);
  const auto samples =
      io::resolve_samples(c.h5ad_path, c.h5ad_yaml, c.h5ad_list_file, paths.find_latent_metadata);
  std::string s;
  for (const auto& x : samples) {
    s += fmt::format("{}{}: {}", s.empty() ? "" : "; ", x.name, pv::file_identity(x.path));
  }
  r.add("input.samples", s);
  std::error_code ec;
  if (fs::exists(paths.find_latent_metadata, ec)) {
    r.add("input.find_latent_metadata", pv::file_content(paths.find_latent_metadata));
  }
  r.add("option.data_layer", c.data_layer);
  r.add("option.spatial_key", c.spatial_key);
  r.add("option.annotation", c.annotation);
  r.add("option.latent_representation_cell", c.latent_representation_cell);
  r.add("option.latent_representation_niche", c.latent_representation_niche);
  r.add("option.dataset_type", dataset_type_name(c.dataset_type));
  r.add("option.spatial_neighbors", std::to_string(c.spatial_neighbors));
  r.add("option.homogeneous_neighbors", std::to_string(c.homogeneous_neighbors));
  r.add("option.cell_embedding_similarity_threshold", num(c.cell_embedding_similarity_threshold));
  r.add("option.spatial_domain_similarity_threshold", num(c.spatial_domain_similarity_threshold));
  r.add("option.no_expression_fraction", flag(c.no_expression_fraction));
  r.add("option.adjacent_slice_spatial_neighbors", std::to_string(c.adjacent_slice_spatial_neighbors));
  r.add("option.n_adjacent_slices", std::to_string(c.n_adjacent_slices));
  r.add("option.cross_slice_marker_score_strategy", strategy_name(c.cross_slice_marker_score_strategy));
  r.add("option.high_quality_neighbor_filter", flag(c.high_quality_neighbor_filter));
  // The ranking chunk fixes G_Mean's f32 summation order (docs/algorithms.md §2): it changes bits.
  r.add("option.rank_batch_size", std::to_string(c.rank_batch_size));
  r.add("option.min_cells_per_type",
        c.min_cells_per_type ? std::to_string(*c.min_cells_per_type) : "default");
  return r;
}

LatentToGenePlan plan_latent_to_gene(const LatentToGeneConfig& l2g, const CommonConfig& common,
                                     const LatentToGenePaths& paths, MPI_Comm comm) {
  LatentToGenePlan p;
  std::vector<char> flags(2, 0);
  if (dist::rank(comm) == 0) {
    p.locks = std::make_unique<LockSet>(common.project_dir());
    const std::string what = "the latent_to_gene output (" + paths.dir + ")";
    // The fingerprint reads inputs only: computed before the lock, whose "checking" phase (other
    // runs wait for it) stays short.
    p.record = latent_to_gene_record(l2g, common, paths, dist::size(comm));
    const LockMode got = p.locks->acquire_output(kL2gLock, what);
    const std::string reason =
        common.force ? "--force" : pv::stale_reason(pv::read_h5ad(paths.marker_scores), p.record);
    settle(*p.locks, kL2gLock, got, what, "latent_to_gene", reason);
    flags[0] = reason.empty();
    if (!reason.empty() && !common.force) {
      const auto why_a = pv::stale_reason(pv::read_h5ad(paths.log_ranks), p.record);
      const auto why_f = pv::stale_reason(pv::read_sidecar(paths.mean_frac), p.record);
      flags[1] = why_a.empty() && why_f.empty();
      if (!flags[1] && (pv::read_h5ad(paths.log_ranks).present || fs::exists(paths.mean_frac))) {
        GSMAP_LOG_INFO("Stage A recomputed: {}", why_a.empty() ? "mean_frac.csv: " + why_f
                                                               : "log_ranks.h5ad: " + why_a);
      }
    }
  }
  bcast_bytes(flags, comm);
  p.skip = flags[0] != 0;
  p.reuse_stage_a = flags[1] != 0;
  return p;
}

void record_stage_a(const LatentToGenePlan& plan, const LatentToGenePaths& paths,
                    const std::string& log_ranks_file, MPI_Comm comm) {
  dist::any(false, comm);  // every rank has closed the files
  if (dist::rank(comm) == 0) {
    pv::write_sidecar(paths.mean_frac, plan.record);
    pv::write_h5ad_attributes(log_ranks_file, plan.record);
  }
  dist::any(false, comm);
}

void record_latent_to_gene(const LatentToGenePlan& plan, const LatentToGenePaths& paths,
                           const std::string& marker_scores_file, MPI_Comm comm) {
  dist::any(false, comm);
  if (dist::rank(comm) == 0) {
    pv::write_h5ad_attributes(marker_scores_file, plan.record);
    update_metadata_locked(*plan.locks, paths.dir, "latent_to_gene",
                           {{file_name(paths.marker_scores), plan.record},
                            {file_name(paths.log_ranks), plan.record},
                            {file_name(paths.mean_frac), plan.record}});
  }
  dist::any(false, comm);
}

// ---- spatial_ldsc ----------------------------------------------------------------------------------
namespace {
// The traits of the results h5ad (rank 0; docs/formats.md "<project>_results.h5ad"): the existing
// file's traits in its order, then this run's traits it lacks. A trait of the file that this run
// does not list stays while its inputs are current: its csv.gz carries a valid record equal to
// the one this run would give it (same marker scores, weights, LD weights, options), its
// sumstats file (the path the file's var column `sumstats_file` recorded) unchanged.
void results_traits(const LdscPlan& plan, const CommonConfig& common_cfg,
                    const std::vector<io::Trait>& traits, const std::vector<std::string>& outputs,
                    const std::string& results_path, bool log, std::vector<io::Trait>& out,
                    std::vector<std::string>& out_csv) {
  out.clear();
  out_csv.clear();
  std::map<std::string, std::size_t> current;
  for (std::size_t t = 0; t < traits.size(); ++t) current.emplace(traits[t].name, t);
  std::vector<std::string> names, sumstats;
  if (pv::read_h5ad(results_path).present) {
    try {
      const io::H5adReader existing(results_path);
      names = existing.var_names();
      if (existing.has_var_column("sumstats_file")) {
        const auto col = existing.var_column("sumstats_file");
        for (std::size_t i = 0; i < names.size(); ++i) {
          sumstats.push_back(io::column_label(col, i).value_or(""));
        }
      }
    } catch (const std::exception& e) {
      if (log) GSMAP_LOG_WARN("{}: unreadable ({}); it is rewritten", results_path, e.what());
      names.clear();
    }
  }
  sumstats.resize(names.size());
  std::set<std::string> listed;
  const std::string dir = fs::path(results_path).parent_path().string();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& name = names[i];
    if (!listed.insert(name).second) continue;
    if (const auto it = current.find(name); it != current.end()) {
      out.push_back(traits[it->second]);
      out_csv.push_back(outputs[it->second]);
      continue;
    }
    const std::string csv =
        cauchy::ldsc_result_path(dir, common_cfg.project_name, name);
    std::string why;
    std::error_code ec;
    if (sumstats[i].empty()) {
      why = "the file records no sumstats path for it";
    } else {
      pv::Record expected = plan.trait_template;
      for (auto& [key, value] : expected.items) {
        if (key == "input.trait_name") value = name;
        if (key == "input.sumstats") {
          value = fs::exists(sumstats[i], ec) ? pv::file_content(sumstats[i]) : "missing";
        }
      }
      why = pv::stale_reason(pv::read_sidecar(csv), expected);
    }
    if (why.empty()) {
      out.push_back({name, sumstats[i]});
      out_csv.push_back(csv);
    } else if (log) {
      GSMAP_LOG_WARN("{}: trait {} dropped ({}); run spatial-ldsc for it to add it back",
                     file_name(results_path), name, why);
    }
  }
  for (std::size_t t = 0; t < traits.size(); ++t) {
    if (listed.insert(traits[t].name).second) {
      out.push_back(traits[t]);
      out_csv.push_back(outputs[t]);
    }
  }
}
}  // namespace

LdscPlan lock_ldsc_inputs(const CommonConfig& common_cfg, const SpatialLdscConfig& ldsc_cfg, MPI_Comm comm) {
  LdscPlan p;
  if (dist::rank(comm) == 0) {
    p.locks = std::make_unique<LockSet>(common_cfg.project_dir());
    p.locks->acquire_shared(kL2gLock, "the latent_to_gene output (" + common_cfg.project_dir() +
                                          "/latent_to_gene)");
  }
  dist::any(false, comm);
  return p;
}

void plan_spatial_ldsc(LdscPlan& plan, const CommonConfig& common_cfg, const SpatialLdscConfig& ldsc_cfg, const MarkerScoreSource& source,
                       const SpotSelection& sel, const std::vector<io::Trait>& traits,
                       const std::vector<std::string>& outputs, const std::string& results_path,
                       bool full, MPI_Comm comm) {
  std::vector<char> flags(traits.size() + 1, 0);
  plan.results_lock = lock_name("spatial_ldsc.results." + file_name(results_path));
  if (dist::rank(comm) == 0) {
    const auto& l = ldsc_cfg;
    auto& locks = *plan.locks;
    plan.marker_upstream = marker_source_upstream(source);
    // Inputs shared by every trait, hashed once.
    const auto w_ld = w_ld_dir_for(common_cfg, ldsc_cfg);
    std::error_code ec;
    const std::string w_ld_hash = fs::is_directory(w_ld, ec) ? pv::directory_content(w_ld) : "missing";
    const std::string weights = identity_or_missing(l.snp_gene_weight_adata_path);
    std::string extra;
    for (const auto& e : l.additional_baseline_h5ad_path_list) {
      extra += (extra.empty() ? "" : "; ") + identity_or_missing(e);
    }
    // Fingerprints first (inputs only), then each output's lock, check and decision.
    for (std::size_t t = 0; t <= traits.size(); ++t) {  // the last: the template
      const bool tmpl = t == traits.size();
      pv::Record r;
      r.step = "spatial_ldsc";
      r.subject = tmpl ? "" : "spatial_ldsc for trait " + traits[t].name;
      fill_run(r, common_cfg, dist::size(comm));
      r.add("input.trait_name", tmpl ? "" : traits[t].name);
      r.add("input.sumstats", tmpl ? ""
                              : fs::exists(traits[t].sumstats_path, ec)
                                  ? pv::file_content(traits[t].sumstats_path)
                                  : "missing");
      r.add("input.snp_gene_weights", weights);
      r.add("input.w_ld", w_ld_hash);
      r.add("input.additional_baselines", extra);
      r.add("upstream.marker_scores", plan.marker_upstream);
      r.add("option.chisq_max", l.chisq_max ? std::to_string(*l.chisq_max) : "default");
      r.add("option.n_blocks", std::to_string(l.n_blocks));
      r.add("selection.spots", fmt::format("{}:{}/{}", sel.start, sel.end, sel.total));
      r.add("selection.sample_filter", sel.sample);
      if (tmpl)
        plan.trait_template = std::move(r);
      else
        plan.records.push_back(std::move(r));
    }
    bool all_fresh = true;
    for (std::size_t t = 0; t < traits.size(); ++t) {
      const pv::Record& r = plan.records[t];
      const std::string name = lock_name("spatial_ldsc." + file_name(outputs[t]));
      const std::string what = fmt::format("{} (trait {})", outputs[t], traits[t].name);
      const LockMode got = locks.acquire_output(name, what);
      std::string reason;
      if (common_cfg.force) {
        reason = "--force";
      } else if (!sel.sample.empty()) {
        reason = "--sample-filter outputs are always recomputed";
      } else {
        reason = pv::stale_reason(pv::read_sidecar(outputs[t]), r);
      }
      settle(locks, name, got, what, r.subject, reason);
      flags[t] = !reason.empty();
      all_fresh = all_fresh && reason.empty();
    }
    if (full && all_fresh) {
      // The results h5ad from the traits' csv.gz as they are now.
      pv::Record rr;
      rr.step = "spatial_ldsc";
      rr.subject = "spatial_ldsc results h5ad";
      rr.add("upstream.marker_scores", plan.marker_upstream);
      std::vector<io::Trait> kept;
      std::vector<std::string> kept_csv;
      results_traits(plan, common_cfg, traits, outputs, results_path, false, kept, kept_csv);
      for (std::size_t t = 0; t < kept.size(); ++t) {
        const auto rec = pv::read_sidecar(kept_csv[t]);
        rr.add("upstream.trait_" + kept[t].name, rec.fingerprint);
      }
      const auto why = pv::stale_reason(pv::read_h5ad(results_path), rr);
      flags.back() = why.empty();
      if (!why.empty()) GSMAP_LOG_INFO("rewriting {}: {}", file_name(results_path), why);
    }
  }
  bcast_bytes(flags, comm);
  plan.recompute.assign(flags.begin(), flags.end() - 1);
  plan.results_fresh = flags.back() != 0;
}

void note_ldsc_trait(LdscPlan& plan, std::size_t trait, const ldsc::TraitData& d) {
  if (trait >= plan.records.size()) return;  // not rank 0
  auto& s = plan.records[trait].summary;
  s = {{"n_sumstats_snps", std::to_string(d.n_sumstats_snps)},
       {"n_common_snps", std::to_string(d.n_common_snps)},
       {"n_snps_used", std::to_string(d.n_snps_used)},
       {"n_blocks", std::to_string(d.n_blocks)},
       {"chisq_max", num(d.chisq_max)},
       {"lambda_gc", num(d.lambda_gc)},
       {"mean_chisq", num(d.mean_chisq)}};
}

void record_ldsc_trait(const LdscPlan& plan, std::size_t trait, const std::string& path,
                       MPI_Comm comm) {
  dist::any(false, comm);
  if (dist::rank(comm) == 0) pv::write_sidecar(path, plan.records.at(trait));
  dist::any(false, comm);
}

void begin_ldsc_results(LdscPlan& plan, const CommonConfig& common_cfg,
                        const std::vector<io::Trait>& traits,
                        const std::vector<std::string>& outputs, const std::string& results_path,
                        MPI_Comm comm) {
  std::vector<char> bytes;
  if (dist::rank(comm) == 0) {
    plan.locks->acquire_exclusive_wait(plan.results_lock, "the results h5ad", kShortLockWait);
    // Under the lock: a run that committed the file meanwhile has its traits kept.
    results_traits(plan, common_cfg, traits, outputs, results_path, true, plan.results_traits,
                   plan.results_csv);
    std::string text;
    for (std::size_t t = 0; t < plan.results_traits.size(); ++t) {
      for (const auto* f : {&plan.results_traits[t].name, &plan.results_traits[t].sumstats_path,
                            &plan.results_csv[t]}) {
        text += *f;
        text += '\0';
      }
    }
    bytes.assign(text.begin(), text.end());
  }
  bcast_bytes(bytes, comm);
  if (dist::rank(comm) != 0) {
    std::vector<std::string> f;
    for (std::size_t a = 0; a < bytes.size();) {
      const auto b = std::find(bytes.begin() + static_cast<std::ptrdiff_t>(a), bytes.end(), '\0');
      f.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(a), b);
      a = static_cast<std::size_t>(b - bytes.begin()) + 1;
    }
    plan.results_traits.clear();
    plan.results_csv.clear();
    for (std::size_t i = 0; i + 2 < f.size(); i += 3) {
      plan.results_traits.push_back({f[i], f[i + 1]});
      plan.results_csv.push_back(f[i + 2]);
    }
  }
}

void record_ldsc_results(LdscPlan& plan, const CommonConfig& common_cfg, const SpatialLdscConfig& ldsc_cfg, const std::vector<io::Trait>& traits,
                         const std::vector<std::string>& outputs, const std::string& results_path,
                         const std::string& results_file, bool wrote_results, MPI_Comm comm) {
  dist::any(false, comm);
  if (dist::rank(comm) == 0) {
    std::vector<std::pair<std::string, pv::Record>> meta;
    for (std::size_t t = 0; t < traits.size(); ++t) {
      if (plan.recompute.at(t)) meta.emplace_back(file_name(outputs[t]), plan.records[t]);
    }
    if (wrote_results) {
      pv::Record rr;
      rr.step = "spatial_ldsc";
      rr.subject = "spatial_ldsc results h5ad";
      fill_run(rr, common_cfg, dist::size(comm));
      rr.add("upstream.marker_scores", plan.marker_upstream);
      for (std::size_t t = 0; t < plan.results_traits.size(); ++t) {
        rr.add("upstream.trait_" + plan.results_traits[t].name,
               pv::read_sidecar(plan.results_csv[t]).fingerprint);
      }
      pv::write_h5ad_attributes(results_file, rr);
      // The results lock stays held until the step ends (LockSet's destructor), i.e. until the
      // caller has committed the file: no other run can replace it in between.
      meta.emplace_back(file_name(results_path), rr);
    }
    if (!meta.empty()) {
      update_metadata_locked(*plan.locks, fs::path(results_path).parent_path().string(),
                             "spatial_ldsc", meta);
    }
  }
  dist::any(false, comm);
}

// ---- cauchy_combination ----------------------------------------------------------------------------
CauchyPlan plan_cauchy(const Config& cfg, const std::vector<io::Trait>& traits,
                       const std::vector<std::string>& annotations) {
  CauchyPlan p;
  const auto project = cfg.common.project_name;
  const auto out_dir = cfg.common.project_dir() + "/cauchy_combination";
  const auto ldsc_dir = cfg.common.project_dir() + "/spatial_ldsc";
  p.locks = std::make_unique<LockSet>(cfg.common.project_dir());
  p.locks->acquire_shared(kL2gLock, "the latent_to_gene output (" + cfg.common.project_dir() +
                                        "/latent_to_gene)");
  std::string obs = "missing";
  for (const char* name : {"/marker_scores.h5ad", "/concatenated_latent_adata.h5ad"}) {
    const auto path = cfg.common.project_dir() + "/latent_to_gene" + name;
    if (fs::exists(path)) {
      obs = pv::upstream_h5ad(path);
      break;
    }
  }
  std::string ann;
  for (const auto& a : annotations) ann += (ann.empty() ? "" : ",") + a;
  for (const auto& t : traits) {
    const auto csv = cauchy::ldsc_result_path(ldsc_dir, project, t.name);
    p.locks->acquire_shared(lock_name("spatial_ldsc." + file_name(csv)),
                            csv + " (trait " + t.name + ")");
    const std::string name = lock_name("cauchy_combination." + project + "_" + t.name);
    const std::string what = fmt::format("the Cauchy results of trait {} in {}", t.name, out_dir);
    pv::Record r;
    r.step = "cauchy_combination";
    r.subject = "cauchy_combination for trait " + t.name;
    fill_run(r, cfg.common, 1, false);
    r.add("input.trait_name", t.name);
    r.add("upstream.spatial_ldsc_result", fs::exists(csv) ? pv::upstream_csv(csv) : "missing");
    r.add("upstream.spot_annotations", obs);
    r.add("option.annotations", ann);
    r.add("option.cauchy_outlier_iqr_factor", num(cfg.cauchy.cauchy_outlier_iqr_factor));
    r.add("option.cauchy_use_floored_p", flag(cfg.cauchy.cauchy_use_floored_p));
    const LockMode got = p.locks->acquire_output(name, what);
    std::string reason = cfg.common.force ? "--force" : "";
    for (const auto& a : annotations) {
      for (bool sample : {false, true}) {
        if (!reason.empty()) break;
        const auto path = cauchy::cauchy_result_path(out_dir, project, t.name, a, sample);
        const auto why = pv::stale_reason(pv::read_sidecar(path), r);
        if (!why.empty()) reason = file_name(path) + ": " + why;
      }
    }
    settle(*p.locks, name, got, what, r.subject, reason);
    p.recompute.push_back(!reason.empty());
    p.records.push_back(std::move(r));
  }
  return p;
}

void record_cauchy(const CauchyPlan& plan, const Config& cfg, const std::vector<io::Trait>& traits,
                   const std::vector<std::string>& annotations,
                   const std::vector<std::string>& written) {
  const auto out_dir = cfg.common.project_dir() + "/cauchy_combination";
  const std::set<std::string> done(written.begin(), written.end());
  std::vector<std::pair<std::string, pv::Record>> meta;
  for (std::size_t t = 0; t < traits.size(); ++t) {
    if (!plan.recompute[t]) continue;
    for (const auto& a : annotations) {
      for (bool sample : {false, true}) {
        const auto path =
            cauchy::cauchy_result_path(out_dir, cfg.common.project_name, traits[t].name, a, sample);
        if (!done.count(path)) continue;
        pv::write_sidecar(path, plan.records[t]);
        meta.emplace_back(file_name(path), plan.records[t]);
      }
    }
  }
  if (!meta.empty()) update_metadata_locked(*plan.locks, out_dir, "cauchy_combination", meta);
}

// ---- merge -----------------------------------------------------------------------------------------
std::unique_ptr<LockSet> lock_merge_output(const std::string& project_dir, const std::string& dir,
                                           const std::string& project, const std::string& trait) {
  auto locks = std::make_unique<LockSet>(project_dir);
  const auto out = cauchy::ldsc_result_path(dir, project, trait);
  const std::string name = lock_name("spatial_ldsc." + file_name(out));
  const std::string what = out + " (trait " + trait + ")";
  if (locks->acquire_output(name, what) != LockMode::kExclusive) locks->upgrade(name, what);
  locks->mark_writing(name);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    for (const auto& f : cauchy::list_partial_ldsc(dir, project, trait)) {
      locks->acquire_shared(lock_name("spatial_ldsc." + file_name(f.path)), f.path);
    }
  }
  return locks;
}

void record_merge(const std::string& project_dir, const std::string& dir, const std::string& project,
                  const std::string& trait, const std::string& merged) {
  const auto parts = cauchy::list_partial_ldsc(dir, project, trait);
  // A full run's record when the partial runs agree on everything but their spot range.
  std::vector<pv::Recorded> recs;
  bool same = !parts.empty();
  for (const auto& f : parts) {
    recs.push_back(pv::read_sidecar(f.path));
    same = same && recs.back().has_record;
  }
  pv::Record r;
  r.step = "merge";
  r.subject = "merge of trait " + trait;
  if (same) {
    auto strip = [](std::vector<std::pair<std::string, std::string>> items) {
      std::erase_if(items, [](const auto& kv) { return kv.first == "selection.spots"; });
      return items;
    };
    const auto base = strip(recs.front().items);
    std::string total;
    for (const auto& rec : recs) {
      same = same && strip(rec.items) == base;
      for (const auto& [k, v] : rec.items) {
        if (k == "selection.spots") {
          const auto slash = v.find('/');
          const auto t = slash == std::string::npos ? std::string() : v.substr(slash + 1);
          if (!total.empty() && t != total) same = false;
          total = t;
        }
      }
    }
    if (same && !total.empty()) {
      r.step = "spatial_ldsc";
      r.subject = "spatial_ldsc for trait " + trait;
      for (const auto& [k, v] : recs.front().items) {
        r.add(k, k == "selection.spots" ? "0:" + total + "/" + total : v);
      }
      r.summary = recs.front().summary;  // the trait's SNP counts do not depend on the spots
    }
  }
  if (r.items.empty()) {
    r.add("input.trait_name", trait);
    for (const auto& f : parts) {
      r.add(fmt::format("upstream.partial_{}_{}", f.start, f.end), pv::file_content(f.path));
    }
  }
  pv::write_sidecar(merged, r);
  LockSet locks(project_dir);
  update_metadata_locked(locks, dir, "spatial_ldsc", {{file_name(merged), r}});
}

}  // namespace gsmap::pipeline
