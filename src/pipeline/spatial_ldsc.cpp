// spatial-ldsc, distributed: every rank loads the common resources and the traits, takes its own
// contiguous range of the selected spots and hands them to the LDSC engine (ldsc/engine.hpp) with
// the backend of this step (backend_setup.hpp). Results are written collectively:
// one <project>_<trait>.csv.gz per trait (gzip members in rank order) and one results h5ad.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <map>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/kill_point.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/core/memory.hpp"
#include "gsmap/core/throughput.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/dist/progress.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/gwas.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/io/weight_matrix.hpp"
#include "gsmap/ldsc/engine.hpp"
#include "gsmap/ldsc/regression.hpp"
#include "gsmap/ldsc/resources.hpp"
#include "gsmap/ldsc/summary.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "gsmap/pipeline/backend_setup.hpp"
#include "gsmap/pipeline/ldsc_outputs.hpp"
#include "gsmap/pipeline/marker_source.hpp"
#include "gsmap/pipeline/memory_report.hpp"
#include "gsmap/pipeline/provenance_steps.hpp"
#include "gsmap/pipeline/steps.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// The engine's view of the marker-score file: rows of given spots, all genes, read as runs of
// consecutive spots.
class MarkerGssSource final : public ldsc::GssSource {
 public:
  explicit MarkerGssSource(const MarkerScoreSource& source) : source_(source) {
    all_genes_.resize(source.genes().size());
    for (std::size_t g = 0; g < all_genes_.size(); ++g)
      all_genes_[g] = static_cast<std::int64_t>(g);
  }
  std::int64_t n_spots() const override { return source_.n_spots(); }
  std::int64_t n_genes() const override { return static_cast<std::int64_t>(all_genes_.size()); }
  std::string describe() const override { return source_.describe(); }
  void read_rows(std::span<const std::int64_t> spots, math::f16_bits* out) const override {
    std::size_t i = 0;
    while (i < spots.size()) {
      std::size_t j = i + 1;
      while (j < spots.size() && spots[j] == spots[j - 1] + 1) ++j;
      const auto rows = source_.read_rows(spots[i], spots[j - 1] + 1, all_genes_);
      std::copy(rows.begin(), rows.end(), out + i * all_genes_.size());
      i = j;
    }
  }

 private:
  const MarkerScoreSource& source_;
  std::vector<std::int64_t> all_genes_;
};

std::string w_ld_dir_of(const CommonConfig& common, const SpatialLdscConfig& l) {
  if (!l.w_ld_dir.empty()) return l.w_ld_dir;
  const auto fallback = common.project_dir() + "/generate_ldscore/w_ld";
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
  run_spatial_ldsc(cfg.common, cfg.ldsc, comm);
}

void run_spatial_ldsc(const CommonConfig& common_cfg, const SpatialLdscConfig& l, MPI_Comm comm) {
  const int me = dist::rank(comm), np = dist::size(comm);
  const auto t_step = Clock::now();
  core::MemoryLedger::instance().reset();
  const std::string dir = common_cfg.project_dir() + "/spatial_ldsc";
  if (me == 0) fs::create_directories(dir);
  std::vector<io::Trait> all_traits;
  dist::agree_on_checks(comm, [&] { all_traits = traits_of(l); });  // reported once
  auto prov = lock_ldsc_inputs(common_cfg, l, comm);  // -- provenance and locks: before any read --
  auto source = open_marker_scores(common_cfg, l);
  const SpotSelection sel = select_spots(l, *source);
  // The results h5ad holds every spot; range and sample runs write only their csv.gz, and so do
  // runs with --results-h5ad skip (one job per trait; docs/usage.md).
  const bool full = !sel.by_range && sel.sample.empty() && sel.start == 0 &&
                    sel.end == sel.total && l.results_h5ad != ResultsH5ad::kSkip;
  const std::string results_path = fmt::format("{}/{}_results.h5ad", dir, common_cfg.project_name);
  GSMAP_LOG_INFO("spatial_ldsc: marker scores from {} ({} spots x {} genes); spots [{}, {})",
                 source->describe(), sel.total, source->genes().size(), sel.start, sel.end);

  // Traits whose output is up to date are skipped (never with --sample-filter:
  // docs/algorithms.md §7.6).
  std::vector<io::Trait> todo;
  std::vector<std::string> outputs;
  std::vector<std::size_t> todo_index;  // todo[i] is all_traits[todo_index[i]]
  for (const auto& t : all_traits) {
    outputs.push_back(dir + "/" + ldsc_output_name(common_cfg.project_name, t.name, sel));
  }
  // -- provenance and locks (pipeline/provenance_steps.hpp) --
  plan_spatial_ldsc(prov, common_cfg, l, *source, sel, all_traits, outputs, results_path, full, comm);
  for (std::size_t i = 0; i < all_traits.size(); ++i) {
    if (prov.recompute[i]) {
      todo.push_back(all_traits[i]);
      todo_index.push_back(i);
    }
  }
  if (l.results_h5ad == ResultsH5ad::kOnly && !todo.empty()) {
    std::string names;
    for (const auto& t : todo) names += (names.empty() ? "" : ", ") + t.name;
    throw InputError(dir, "", fmt::format("--results-h5ad only: {} of {} traits have no current "
                                          "csv.gz ({}; the reasons are logged above)",
                                          todo.size(), all_traits.size(), names),
                     "run spatial-ldsc for them first (the trait-array tasks), or drop "
                     "--results-h5ad only to compute them here");
  }
  if (todo.empty() && (!full || prov.results_fresh)) {
    GSMAP_LOG_INFO("spatial_ldsc: all {} traits done", all_traits.size());
    return;
  }

  const dist::Partition part(sel.end - sel.start, np);
  const std::int64_t own_start = sel.start + part.start(me), own_end = sel.start + part.end(me);
  const std::int64_t n_own = own_end - own_start;
  std::vector<std::vector<ldsc::TraitChunkResult>> results(todo.size());
  if (!todo.empty()) {
    // Common resources and traits, once. The file's weight matrix, LD weights and baselines are
    // dropped once the aligned resources exist.
    const auto t_res = Clock::now();
    const auto w_ld_dir = w_ld_dir_of(common_cfg, l);
    const auto common = [&] {
      const auto weights = io::read_snp_gene_weights(l.snp_gene_weight_adata_path);
      const auto ld_weights = io::read_ld_weights(w_ld_dir);
      std::vector<io::ExtraBaseline> extra;
      for (const auto& p : l.additional_baseline_h5ad_path_list)
        extra.push_back(io::read_extra_baseline(p));
      return ldsc::build_common_resources(
          weights, ld_weights, extra, source->genes(),
          {l.snp_gene_weight_adata_path, w_ld_dir, l.additional_baseline_h5ad_path_list,
           source->describe()});
    }();
    const auto& w = common.gene_weights;
    core::MemoryPart w_part(
        "W", static_cast<std::int64_t>(w.nonZeros() * (sizeof(float) + sizeof(std::int64_t)) +
                                       (w.rows() + 1) * sizeof(std::int64_t)));
    for (const auto& line : ldsc::describe(common)) GSMAP_LOG_INFO("{}", line);
    std::vector<ldsc::TraitData> traits;
    ldsc::TraitOptions topt;
    if (l.chisq_max) topt.chisq_max = *l.chisq_max;
    topt.n_blocks = l.n_blocks;
    for (std::size_t i = 0; i < todo.size(); ++i) {
      traits.push_back(
          ldsc::prepare_trait(common, io::read_sumstats(todo[i].sumstats_path), todo[i].name, topt));
      note_ldsc_trait(prov, todo_index[i], traits.back());  // -- provenance: QC for the report --
    }
    std::vector<const ldsc::TraitData*> trait_ptrs;
    for (const auto& t : traits) trait_ptrs.push_back(&t);
    const ldsc::LdscProblem problem(common, trait_ptrs);
    GSMAP_LOG_INFO("Resources ready in {:.1f} s; spot LD over {} SNP rows shared by {} traits",
                   std::chrono::duration<double>(Clock::now() - t_res).count(),
                   problem.plan.n_rows(), traits.size());

    const auto backend = make_ldsc_backend(common_cfg, comm);
    GSMAP_LOG_INFO("spatial LDSC backend: {}", backend->name());
    const MarkerGssSource gss(*source);
    std::vector<std::int64_t> own_spots(static_cast<std::size_t>(n_own));
    for (std::int64_t i = 0; i < n_own; ++i) own_spots[static_cast<std::size_t>(i)] = own_start + i;
    dist::StageProgress progress(
        fmt::format("spatial LDSC ({} trait{})", traits.size(), traits.size() == 1 ? "" : "s"),
        n_own, "spots", comm);
    ldsc::EngineOptions eo;
    eo.read_workers = l.ldsc_read_workers;
    eo.compute_workers = l.ldsc_compute_workers;
    eo.chunk_spots = l.spots_per_chunk_quick_mode;
    eo.on_chunk_done = [&](std::int64_t n) {
      progress.add(n);
      kill_point("ldsc_mid_trait");
    };
    const core::CpuStopwatch ldsc_clock;
    // The main thread polls the progress reductions while it waits for the engine's workers.
    ldsc::EngineResult er = ldsc::run_ldsc_engine(problem, gss, *backend, own_spots, eo);
    progress.finish();
    const double ldsc_cpu = ldsc_clock.cpu_seconds();
    if (me == 0) {
      GSMAP_LOG_INFO("\n{}", er.report.summary_table());
      const double busy = er.times.spot_ld + er.times.regression;
      GSMAP_LOG_INFO(
          "spatial LDSC on rank 0: {:.0f} spots/s ({:.0f} spots/s per trait, {} traits); process "
          "CPU {:.1f} s in {:.1f} s wall ({:.2f} x)",
          n_own / std::max(er.report.elapsed_seconds, 1e-9),
          n_own * static_cast<double>(traits.size()) / std::max(er.report.elapsed_seconds, 1e-9),
          traits.size(), ldsc_cpu, er.report.elapsed_seconds,
          ldsc_cpu / std::max(er.report.elapsed_seconds, 1e-9));
      // The split the benchmarks report (bench/compare.sh): spot LD once per spot tile for all
      // traits, then each trait's regression (moments, and the jackknife where measured).
      const double per_trait = er.times.regression / static_cast<double>(traits.size());
      GSMAP_LOG_INFO(
          "spatial LDSC worker CPU on rank 0: {:.2f} s = spot LD {:.2f} s ({:.0f} %, once for all "
          "{} traits) + regression {:.2f} s ({:.0f} %) = {:.2f} s per trait (jackknife {:.2f} s "
          "per trait); {:.0f} spots per CPU-second of regression per trait",
          busy, er.times.spot_ld, 100.0 * er.times.spot_ld / std::max(busy, 1e-9), traits.size(),
          er.times.regression, 100.0 * er.times.regression / std::max(busy, 1e-9), per_trait,
          er.times.jackknife / static_cast<double>(traits.size()),
          n_own / std::max(per_trait, 1e-9));
    }
    const auto n_singular = dist::allreduce_sum(er.n_singular, comm);
    if (n_singular > 0) {
      GSMAP_LOG_WARN("{} spot regressions were singular: written as NaN (Cauchy drops them)",
                     n_singular);
    }
    for (std::size_t t = 0; t < todo.size(); ++t) results[t].push_back(std::move(er.traits[t]));
    log_memory("spatial_ldsc", comm);
  }

  // Per trait: summary, then one csv.gz written by all ranks.
  // The names of the own spots only (docs/scalability.md "Memory per rank").
  const auto own_names = source->spot_names(own_start, own_end);
  for (std::size_t t = 0; t < todo.size(); ++t) {
    const LdscColumns cols = flatten(results[t], n_own);
    log_trait_summary(todo[t].name, cols, sel, comm);
    const auto out = dir + "/" + ldsc_output_name(common_cfg.project_name, todo[t].name, sel);
    write_ldsc_csv_collective(out, own_names, cols, comm);
    record_ldsc_trait(prov, todo_index[t], out, comm);  // -- provenance --
    GSMAP_LOG_INFO("Trait {}: wrote {}", todo[t].name, out);
    kill_point("ldsc_between_traits");
  }
  std::optional<io::AtomicOutput> results_out;
  if (full) {
    // -- lock: results h5ad writers are serialised; the traits it keeps are decided under it --
    begin_ldsc_results(prov, common_cfg, all_traits, outputs, results_path, comm);
    results_out.emplace(results_path, comm);  // atomic replacement, docs/troubleshooting.md
    write_results_h5ad(results_out->temp_path(), *source, prov.results_traits, prov.results_csv,
                       own_start, own_end, comm);
    GSMAP_LOG_INFO("Results of {} traits ({} of this run): {}", prov.results_traits.size(),
                   all_traits.size(), results_path);
  }
  // -- provenance: the results h5ad is stamped under its temporary name, then committed --
  record_ldsc_results(prov, common_cfg, l, all_traits, outputs, results_path,
                      results_out ? results_out->temp_path() : results_path, full, comm);
  if (results_out) results_out->commit();
  GSMAP_LOG_INFO("spatial_ldsc done in {:.1f} s",
                 std::chrono::duration<double>(Clock::now() - t_step).count());
}

}  // namespace gsmap::pipeline
