// spatial-ldsc, distributed: every rank loads the common resources and the traits, takes its own
// contiguous range of the selected spots, and runs reader (GSS rows -> spot LD, once for all
// traits) -> compute (regression per trait) workers over chunks. Results are written collectively:
// one <project>_<trait>.csv.gz per trait (gzip members in rank order) and one results h5ad.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <map>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/kill_point.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/core/staged_pipeline.hpp"
#include "gsmap/device/ldsc_device.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/gwas.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/io/weight_matrix.hpp"
#include "gsmap/ldsc/regression.hpp"
#include "gsmap/ldsc/resources.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "gsmap/ldsc/summary.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "gsmap/pipeline/backend_setup.hpp"
#include "gsmap/pipeline/ldsc_outputs.hpp"
#include "gsmap/pipeline/marker_source.hpp"
#include "gsmap/pipeline/steps.hpp"
#include <thread>

namespace gsmap::pipeline {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

struct Chunk {
  std::int64_t start = 0, end = 0;  // absolute spot positions
};
struct LoadedChunk {
  Chunk chunk;
  ldsc::SpotLd ld;
};

std::string w_ld_dir_of(const Config& cfg) {
  if (!cfg.ldsc.w_ld_dir.empty()) return cfg.ldsc.w_ld_dir;
  const auto fallback = cfg.common.project_dir() + "/generate_ldscore/w_ld";
  if (fs::is_directory(fallback)) return fallback;
  throw UsageError("--w-ld-dir is required (no " + fallback + " either): pass the directory of "
                   "weights.<chr>.l2.ldscore.gz files");
}

}  // namespace

std::vector<io::Trait> traits_of(const SpatialLdscConfig& l) {
  if (!l.sumstats_config_file.empty()) {
    auto traits = io::traits_from_yaml(l.sumstats_config_file);
    // Trait names become parts of file names (docs/usage.md, "Names"); quick-mode calls this at
    // start-up, before any work.
    for (const auto& t : traits) {
      io::require_safe_name(t.name, "trait name in " + l.sumstats_config_file + ":");
    }
    return traits;
  }
  if (!l.sumstats_file.empty()) {
    if (!fs::exists(l.sumstats_file)) {
      throw InputError(l.sumstats_file, "", "summary statistics file not found",
                       "check --sumstats-file");
    }
    return {io::Trait{l.trait_name, l.sumstats_file}};
  }
  throw UsageError("no trait given: use --sumstats-config-file, or --trait-name with --sumstats-file");
}

SpotSelection select_spots(const SpatialLdscConfig& l, const MarkerScoreSource& source) {
  SpotSelection s;
  s.total = source.n_spots();
  s.start = 0;
  s.end = s.total;
  if (l.cell_indices_range) {
    auto [a, b] = *l.cell_indices_range;
    if (a < 0 || a >= s.total || a >= b) {
      throw UsageError(fmt::format("--cell-indices-range {} {}: need 0 <= START < END and START < {} "
                                   "(the number of spots in {})", a, b, s.total, source.describe()));
    }
    if (b > s.total) {
      GSMAP_LOG_WARN("--cell-indices-range end {} is past the last spot; using {}", b, s.total);
      b = s.total;
    }
    s.start = a;
    s.end = b;
    s.by_range = true;
  } else if (!l.sample_filter.empty()) {
    io::H5adReader obs(source.obs_h5ad());
    const std::string column = obs.has_obs_column("sample") ? "sample" : "sample_name";
    if (!obs.has_obs_column(column)) {
      throw InputError(source.obs_h5ad(), "obs/sample_name", "no sample column for --sample-filter",
                       "use --cell-indices-range instead");
    }
    auto col = obs.obs_column(column);
    std::int64_t lo = -1, hi = -1;
    for (std::int64_t i = 0; i < s.total; ++i) {
      if (io::column_label(col, i) == l.sample_filter) {
        if (lo < 0) lo = i;
        else if (hi != i) {
          throw InputError(source.obs_h5ad(), "obs/" + column,
                           fmt::format("spots of sample '{}' are not contiguous", l.sample_filter),
                           "use --cell-indices-range for each block");
        }
        hi = i + 1;
      }
    }
    if (lo < 0) {
      throw InputError(source.obs_h5ad(), "obs/" + column,
                       fmt::format("no spot has sample '{}'", l.sample_filter), "check --sample-filter");
    }
    s.start = lo;
    s.end = hi;
    s.sample = l.sample_filter;
  }
  return s;
}

std::string ldsc_output_name(const std::string& project, const std::string& trait,
                             const SpotSelection& s) {
  if (s.by_range) return fmt::format("{}_{}_cells_{}_{}.csv.gz", project, trait, s.start, s.end);
  if (s.start == 0 && s.end == s.total) return fmt::format("{}_{}.csv.gz", project, trait);
  if (!s.sample.empty()) {
    return fmt::format("{}_{}_{}_start{}_end{}_total{}.csv.gz", project, trait, s.sample, s.start,
                       s.end, s.total);
  }
  return fmt::format("{}_{}_start{}_end{}_total{}.csv.gz", project, trait, s.start, s.end, s.total);
}

void run_spatial_ldsc(const Config& cfg, MPI_Comm comm) {
  const auto& l = cfg.ldsc;
  const int me = dist::rank(comm), np = dist::size(comm);
  const auto t_step = Clock::now();
  const std::string dir = cfg.common.project_dir() + "/spatial_ldsc";
  if (me == 0) fs::create_directories(dir);
  std::vector<io::Trait> all_traits;
  dist::agree_on_checks(comm, [&] { all_traits = traits_of(l); });  // reported once
  auto source = open_marker_scores(cfg);
  const SpotSelection sel = select_spots(l, *source);
  // The results h5ad holds every spot; range and sample runs write only their csv.gz.
  const bool full = !sel.by_range && sel.sample.empty() && sel.start == 0 && sel.end == sel.total;
  const std::string results_path = fmt::format("{}/{}_results.h5ad", dir, cfg.common.project_name);
  GSMAP_LOG_INFO("spatial_ldsc: marker scores from {} ({} spots x {} genes); spots [{}, {})",
                 source->describe(), sel.total, source->genes().size(), sel.start, sel.end);

  // Traits whose output exists are skipped (never with --sample-filter: ldsc.md 3.6).
  std::vector<io::Trait> todo;
  std::vector<std::string> outputs;
  for (const auto& t : all_traits) {
    const auto out = dir + "/" + ldsc_output_name(cfg.common.project_name, t.name, sel);
    outputs.push_back(out);
    if (sel.sample.empty() && fs::exists(out)) {
      GSMAP_LOG_INFO("Trait {}: {} exists, skipping", t.name, out);
    } else {
      todo.push_back(t);
    }
  }
  if (todo.empty() && (!full || io::is_complete(results_path))) {
    GSMAP_LOG_INFO("spatial_ldsc: all {} traits done", all_traits.size());
    return;
  }

  const dist::Partition part(sel.end - sel.start, np);
  const std::int64_t own_start = sel.start + part.start(me), own_end = sel.start + part.end(me);
  const std::int64_t n_own = own_end - own_start;
  std::vector<std::vector<ldsc::TraitChunkResult>> results(todo.size());
  if (!todo.empty()) {
    // Common resources and traits, once.
    const auto t_res = Clock::now();
    const auto weights = io::read_snp_gene_weights(l.snp_gene_weight_adata_path);
    const auto w_ld_dir = w_ld_dir_of(cfg);
    const auto ld_weights = io::read_ld_weights(w_ld_dir);
    std::vector<io::ExtraBaseline> extra;
    for (const auto& p : l.additional_baseline_h5ad_path_list) extra.push_back(io::read_extra_baseline(p));
    const auto common = ldsc::build_common_resources(
        weights, ld_weights, extra, source->genes(),
        {l.snp_gene_weight_adata_path, w_ld_dir, l.additional_baseline_h5ad_path_list,
         source->describe()});
    for (const auto& line : ldsc::describe(common)) GSMAP_LOG_INFO("{}", line);
    std::vector<ldsc::TraitData> traits;
    ldsc::TraitOptions topt;
    if (l.chisq_max) topt.chisq_max = *l.chisq_max;
    topt.n_blocks = l.n_blocks;
    for (const auto& t : todo) {
      traits.push_back(ldsc::prepare_trait(common, io::read_sumstats(t.sumstats_path), t.name, topt));
      for (const auto& line : traits.back().log_lines()) GSMAP_LOG_INFO("{}", line);
    }
    std::vector<const ldsc::TraitData*> trait_ptrs;
    for (const auto& t : traits) trait_ptrs.push_back(&t);
    const ldsc::SpotLdPlan plan(common, trait_ptrs);
    GSMAP_LOG_INFO("Resources ready in {:.1f} s; spot LD over {} SNP rows shared by {} traits",
                   std::chrono::duration<double>(Clock::now() - t_res).count(), plan.n_rows(),
                   traits.size());

    // Chunks of own spots through reader (GSS -> spot LD) and compute (regressions) workers.
    std::vector<Chunk> chunks;
    for (std::int64_t s = own_start; s < own_end; s += l.spots_per_chunk_quick_mode) {
      chunks.push_back({s, std::min(own_end, s + l.spots_per_chunk_quick_mode)});
    }
    for (auto& r : results) r.resize(chunks.size());
    std::vector<std::int64_t> all_genes(source->genes().size());
    for (std::size_t g = 0; g < all_genes.size(); ++g) all_genes[g] = static_cast<std::int64_t>(g);
    std::atomic<std::int64_t> spots_done{0}, singular{0};
    const bool gpu = setup_backend(cfg.common, comm);
    std::vector<std::unique_ptr<device::LdscDevice>> gpu_regressors;
    if (gpu) {
      for (int w = 0; w < l.ldsc_compute_workers; ++w) {
        gpu_regressors.push_back(std::make_unique<device::LdscDevice>());
      }
    }
    core::PipelineShape shape;
    shape.read_workers = l.ldsc_read_workers;
    shape.compute_workers = l.ldsc_compute_workers;
    shape.write_workers = 0;
    shape.compute_input_queue_size = 8 * static_cast<std::size_t>(l.ldsc_read_workers) /
                                      std::max(1, l.ldsc_compute_workers) + 1;
    shape.stage_names = {"Reader (spot LD)", "Regression", "-"};
    core::PipelineStages<Chunk, LoadedChunk, int> stages;
    stages.read = [&](Chunk& c, int) {
      LoadedChunk lc;
      lc.chunk = c;
      const auto gss = source->read_rows(c.start, c.end, all_genes);
      ldsc::compute_spot_ld(common, plan, gss.data(), c.end - c.start, lc.ld);
      return lc;
    };
    stages.compute = [&](LoadedChunk& lc, int worker) {
      const std::size_t chunk_id =
          static_cast<std::size_t>((lc.chunk.start - own_start) / l.spots_per_chunk_quick_mode);
      if (gpu) gpu_regressors[worker]->load_spot_ld(lc.ld);  // once per chunk, for all traits
      for (std::size_t t = 0; t < traits.size(); ++t) {
        results[t][chunk_id] = gpu ? gpu_regressors[worker]->regress(traits[t], plan.trait_rows(t))
                                   : ldsc::regress_spots(traits[t], lc.ld, plan.trait_rows(t));
        singular += results[t][chunk_id].n_singular;
      }
      spots_done += lc.chunk.end - lc.chunk.start;
      kill_point("ldsc_mid_trait");
      return 0;
    };
    core::StagedPipeline<Chunk, LoadedChunk, int> pipeline(shape, stages);
    // Progress on one line from a monitor thread of rank 0 (cells/s over the run).
    std::atomic<bool> finished{false};
    std::thread monitor([&] {
      const auto t0 = Clock::now();
      while (!finished) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        log::progress(fmt::format("spatial LDSC: {}/{} spots on rank 0, {:.0f} spots/s, {} traits",
                                  spots_done.load(), n_own, spots_done / std::max(secs, 1e-9),
                                  traits.size()));
      }
    });
    core::PipelineReport report;
    try {
      report = pipeline.run(std::move(chunks), "spatial LDSC", l.spots_per_chunk_quick_mode);
    } catch (...) {
      finished = true;
      monitor.join();
      throw;
    }
    finished = true;
    monitor.join();
    log::progress_done();
    if (me == 0) GSMAP_LOG_INFO("\n{}", report.summary_table());
    const auto n_singular = dist::allreduce_sum(singular.load(), comm);
    if (n_singular > 0) {
      GSMAP_LOG_WARN("{} spot regressions were singular: written as NaN (Cauchy drops them)",
                     n_singular);
    }
  }

  // Per trait: summary, then one csv.gz written by all ranks.
  const auto spot_names = source->spot_names();
  for (std::size_t t = 0; t < todo.size(); ++t) {
    const LdscColumns cols = flatten(results[t], n_own);
    log_trait_summary(todo[t].name, cols, sel, comm);
    const auto out = dir + "/" + ldsc_output_name(cfg.common.project_name, todo[t].name, sel);
    write_ldsc_csv_collective(out, spot_names, own_start, cols, comm);
    GSMAP_LOG_INFO("Trait {}: wrote {}", todo[t].name, out);
    kill_point("ldsc_between_traits");
  }
  if (full) {
    io::AtomicOutput results_out(results_path, comm);  // docs/troubleshooting.md
    write_results_h5ad(results_out.temp_path(), *source, all_traits, outputs, own_start, own_end,
                       comm);
    results_out.commit();
    GSMAP_LOG_INFO("Results of {} traits: {}", all_traits.size(), results_path);
  }
  GSMAP_LOG_INFO("spatial_ldsc done in {:.1f} s",
                 std::chrono::duration<double>(Clock::now() - t_step).count());
}

}  // namespace gsmap::pipeline
