// quick-mode: latent_to_gene -> spatial_ldsc -> cauchy_combination -> report (--start-step..
// --stop-step), each skipped when its outputs are complete, so re-running the same command after
// a kill finishes the remaining work only.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "gsmap/cauchy/cauchy.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/pipeline/ldsc_outputs.hpp"
#include "gsmap/pipeline/memory_report.hpp"
#include "gsmap/pipeline/steps.hpp"
#include "gsmap/pipeline/validate.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;

std::vector<std::string> cauchy_annotations(const CauchyConfig& c);  // cauchy_step.cpp

namespace {

const char* step_name(Step s) {
  switch (s) {
    case Step::kLatentToGene: return "latent_to_gene";
    case Step::kSpatialLdsc: return "spatial_ldsc";
    case Step::kCauchyCombination: return "cauchy_combination";
    case Step::kReport: return "report";
  }
  return "?";
}

std::string format_duration(double s) {
  if (s >= 3600) return fmt::format("{}h {}m", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  return fmt::format("{}m {}s", static_cast<int>(s / 60), static_cast<int>(s) % 60);
}

// End of run: per trait the first three rows of the first annotation's Cauchy file, which is
// sorted by p_median as gsMap3D sorts it (docs/formats.md "Cauchy combination").
void log_final_summary(const Config& cfg) {
  const auto dir = cfg.common.project_dir() + "/cauchy_combination";
  const auto annotation = cauchy_annotations(cfg.cauchy).front();
  GSMAP_LOG_INFO("Summary (Cauchy combination over '{}': the first 3 rows per trait, by p_median "
                 "as in the file):",
                 annotation);
  for (const auto& t : traits_of(cfg.ldsc)) {
    const auto path = cauchy::cauchy_result_path(dir, cfg.common.project_name, t.name, annotation, false);
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header: the columns by name
    const auto header = io::split_char(line, ',');
    const auto column = [&](const char* name) {
      return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    };
    const std::size_t label = column("annotation"), median = column("p_median"),
                      cauchy = column("p_cauchy");
    std::string top;
    for (int k = 0; k < 3 && std::getline(in, line); ++k) {
      auto f = io::split_char(line, ',');
      if (f.size() > std::max({label, median, cauchy})) {
        top += fmt::format("{}{} (p_median {}, p_cauchy {})", k ? "; " : "", f[label], f[median],
                           f[cauchy]);
      }
    }
    GSMAP_LOG_INFO("  {}: {}", t.name, top);
  }
  GSMAP_LOG_INFO("Results: {}/latent_to_gene/marker_scores.h5ad, {}/spatial_ldsc/{}_results.h5ad "
                 "and *.csv.gz, {}/", cfg.common.project_dir(), cfg.common.project_dir(),
                 cfg.common.project_name, dir);
}

}  // namespace

void run_quick_mode(const Config& cfg, MPI_Comm comm) {
  // Start-up checks of every step in the range (docs/usage.md "quick-mode"): traits and
  // annotations. Every rank checks; a failure is reported once (dist::agree_on_checks).
  dist::agree_on_checks(comm, [&] {
    traits_of(cfg.ldsc);
    if (cfg.stop_step >= Step::kCauchyCombination) cauchy_annotations(cfg.cauchy);
  });
  preflight_quick_mode(cfg, comm);  // later steps' inputs, before step 1 writes (validate.hpp)
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = static_cast<int>(cfg.start_step); s <= static_cast<int>(cfg.stop_step); ++s) {
    const Step step = static_cast<Step>(s);
    const auto ts = std::chrono::steady_clock::now();
    GSMAP_LOG_INFO("=== Step {}: {} ===", s + 1, step_name(step));
    switch (step) {
      case Step::kLatentToGene: run_latent_to_gene(cfg.l2g, cfg.common, comm); break;
      case Step::kSpatialLdsc: run_spatial_ldsc(cfg, comm); break;
      case Step::kCauchyCombination: run_cauchy_combination(cfg, comm); break;
      case Step::kReport: run_report(cfg, comm); break;
    }
    GSMAP_LOG_INFO("Step {} finished in {}", step_name(step),
                   format_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count()));
  }
  if (dist::rank(comm) == 0 && cfg.stop_step >= Step::kCauchyCombination) log_final_summary(cfg);
  log_memory("quick-mode", comm);  // every rank's peak RSS over the whole run
  GSMAP_LOG_INFO("quick-mode finished in {}",
                 format_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
}

}  // namespace gsmap::pipeline
