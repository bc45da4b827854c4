// report (docs/usage.md "report", docs/formats.md "Report"): <project>/report/index.html from the
// outputs of the other steps, on rank 0 while the other ranks wait. Like every step it records a
// fingerprint (pipeline/provenance.hpp) of what it read, is skipped when that is unchanged (unless
// --force) and replaces its file atomically.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "gsmap/cauchy/cauchy.hpp"
#include "gsmap/cauchy/cauchy_csv.hpp"
#include "gsmap/cauchy/ldsc_csv.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/gwas.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/pipeline/lock.hpp"
#include "gsmap/pipeline/provenance.hpp"
#include "gsmap/pipeline/steps.hpp"
#include "gsmap/report/report.hpp"
#include "gsmap/version.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;
namespace pv = provenance;

std::vector<std::string> cauchy_annotations(const CauchyConfig& c);  // cauchy_step.cpp
std::string spot_obs_h5ad(const CommonConfig& common);               // cauchy_step.cpp

namespace {

// Changes whenever the page's content or layout changes, so that reports are redrawn.
constexpr const char* kReportLayout = "1";
constexpr double kLockWait = 600.0;  // seconds; drawing a report takes a few
const char* const kSteps[] = {"latent_to_gene", "spatial_ldsc", "cauchy_combination"};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// True for the partial outputs of spatial LDSC: ..._cells_<a>_<b>, ..._start<a>_end<b>_total<n>.
bool is_partial_name(const std::string& trait) {
  const auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const auto cells = trait.rfind("_cells_");
  if (cells != std::string::npos) {
    const std::string_view rest = std::string_view(trait).substr(cells + 7);
    const auto us = rest.find('_');
    if (us != std::string_view::npos && digits(rest.substr(0, us)) && digits(rest.substr(us + 1))) {
      return true;
    }
  }
  const auto start = trait.rfind("_start");
  return start != std::string::npos && trait.find("_end", start) != std::string::npos &&
         trait.find("_total", start) != std::string::npos;
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// The traits of the command, else every <project>_<trait>.csv.gz of spatial_ldsc/; in name order
// either way, so that quick-mode and a later plain `report` draw the same page.
std::vector<std::string> report_traits(const Config& cfg, const std::string& ldsc_dir) {
  const auto& l = cfg.ldsc;
  std::vector<std::string> out;
  if (!l.sumstats_config_file.empty()) {
    for (const auto& t : io::traits_from_yaml(l.sumstats_config_file)) {
      io::require_safe_name(t.name, "trait name in " + l.sumstats_config_file + ":");
      out.push_back(t.name);
    }
    return sorted_unique(out);
  }
  if (!l.trait_name.empty()) return {l.trait_name};
  const std::string prefix = cfg.common.project_name + "_";
  std::error_code ec;
  if (fs::is_directory(ldsc_dir, ec)) {
    for (const auto& e : fs::directory_iterator(ldsc_dir)) {
      const auto name = e.path().filename().string();
      if (name.rfind(prefix, 0) != 0 || !ends_with(name, ".csv.gz")) continue;
      const auto trait = name.substr(prefix.size(), name.size() - prefix.size() - 7);
      if (io::is_safe_name(trait) && !is_partial_name(trait)) out.push_back(trait);
    }
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) {
    throw InputError(ldsc_dir, "", "no spatial LDSC results (<project>_<trait>.csv.gz)",
                     "run spatial-ldsc first, or check --workdir and --project-name");
  }
  return out;
}

// The annotations of the command, else every <project>_<trait>.<annotation>.cauchy.csv found;
// in name order.
std::vector<std::string> report_annotations(const Config& cfg, const std::string& cauchy_dir,
                                            const std::vector<std::string>& traits) {
  if (!cfg.cauchy.annotation.empty() || !cfg.cauchy.cauchy_annotations.empty()) {
    return sorted_unique(cauchy_annotations(cfg.cauchy));
  }
  std::set<std::string> found;
  std::error_code ec;
  if (fs::is_directory(cauchy_dir, ec)) {
    for (const auto& e : fs::directory_iterator(cauchy_dir)) {
      const auto name = e.path().filename().string();
      if (!ends_with(name, ".cauchy.csv") || ends_with(name, ".sample_cauchy.csv")) continue;
      for (const auto& t : traits) {
        const std::string prefix = cfg.common.project_name + "_" + t + ".";
        if (name.rfind(prefix, 0) != 0) continue;
        const auto a = name.substr(prefix.size(), name.size() - prefix.size() - 11);
        if (io::is_safe_name(a)) found.insert(a);
      }
    }
  }
  return {found.begin(), found.end()};
}

std::string content_or_missing(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec) ? pv::file_content(path) : "missing";
}

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::optional<double> summary_number(const pv::Recorded& r, const std::string& key) {
  for (const auto& [k, v] : r.summary) {
    if (k == key) {
      try {
        return std::stod(v);
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

struct Spots {
  std::string source;
  std::vector<std::string> names;
  std::vector<double> x, y;
  std::vector<std::string> samples;                 // panel names, in order of first appearance
  std::vector<std::vector<std::size_t>> by_sample;  // spot rows of each panel
  std::unordered_map<std::string_view, std::size_t> row;  // views into names
};

Spots read_spots(const std::string& path, const std::string& project) {
  Spots s;
  s.source = path;
  io::H5adReader obs(path);
  s.names = obs.obs_names();
  const std::size_t n = s.names.size();
  if (!obs.has_obsm("spatial")) {
    throw InputError(path, "obsm", "no 'spatial' coordinates: the report's maps need them",
                     "re-run latent-to-gene with --spatial-key naming the coordinates");
  }
  std::int64_t cols = 0;
  const auto xy = obs.obsm("spatial", &cols);
  if (cols < 2) {
    throw InputError(path, "obsm/spatial",
                     fmt::format("{} column(s), the maps need x and y", cols));
  }
  s.x.resize(n);
  s.y.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    s.x[i] = xy[i * static_cast<std::size_t>(cols)];
    s.y[i] = xy[i * static_cast<std::size_t>(cols) + 1];
  }
  std::unordered_map<std::string, std::size_t> panel;
  std::optional<io::Column> sample;
  if (obs.has_obs_column("sample_name")) sample = obs.obs_column("sample_name");
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name =
        sample ? io::column_label(*sample, i).value_or(cauchy::kMissingLabel) : project;
    auto [it, added] = panel.emplace(name, s.samples.size());
    if (added) {
      s.samples.push_back(name);
      s.by_sample.emplace_back();
    }
    s.by_sample[it->second].push_back(i);
  }
  s.row.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!s.row.emplace(s.names[i], i).second) {
      throw InputError(path, "obs index", fmt::format("spot name '{}' occurs twice", s.names[i]),
                       "spot names must be unique");
    }
  }
  return s;
}

report::TraitSection trait_section(const std::string& trait, const std::string& csv,
                                   const Spots& spots, const std::vector<std::string>& annotations,
                                   const std::string& cauchy_dir, const std::string& project) {
  report::TraitSection t;
  t.name = trait;
  const auto values = cauchy::read_ldsc_csv(csv, trait);
  std::vector<double> q(spots.names.size(), std::nan(""));
  std::size_t unknown = 0;
  for (std::size_t k = 0; k < values.spots.size(); ++k) {
    const auto it = spots.row.find(values.spots[k]);
    if (it == spots.row.end()) {
      ++unknown;
      continue;
    }
    q[it->second] = values.neg_log10_p.empty() ? -std::log10(std::max(values.p[k], 1e-300))
                                               : values.neg_log10_p[k];
  }
  if (unknown > 0) {
    GSMAP_LOG_WARN("report: {} spot(s) of {} are not in {}: left out of the map", unknown, csv,
                   spots.source);
  }
  for (std::size_t p = 0; p < spots.samples.size(); ++p) {
    report::MapPanel panel;
    panel.sample = spots.samples[p];
    for (const std::size_t i : spots.by_sample[p]) {
      panel.x.push_back(spots.x[i]);
      panel.y.push_back(spots.y[i]);
      panel.value.push_back(q[i]);
    }
    t.panels.push_back(std::move(panel));
  }
  const pv::Recorded rec = pv::read_sidecar(csv);
  if (rec.has_record) {
    if (const auto v = summary_number(rec, "n_snps_used")) {
      t.qc.n_snps_used = static_cast<std::int64_t>(*v);
    }
    t.qc.lambda_gc = summary_number(rec, "lambda_gc");
    t.qc.mean_chisq = summary_number(rec, "mean_chisq");
  }
  t.qc.n_spots = static_cast<std::int64_t>(
      std::count_if(values.p.begin(), values.p.end(), [](double v) { return std::isfinite(v); }));
  t.qc.n_bonferroni = report::count_bonferroni(values.p);
  t.qc.n_fdr = report::count_fdr(values.p);
  for (const auto& a : annotations) {
    const auto path = cauchy::cauchy_result_path(cauchy_dir, project, trait, a, false);
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      GSMAP_LOG_WARN("report: no Cauchy result of trait {} by {} ({}): run cauchy-combination",
                     trait, a, path);
      continue;
    }
    report::CauchyTable table;
    table.annotation = a;
    table.source = fs::path(path).filename().string();
    for (const auto& r : cauchy::read_cauchy_csv(path)) {
      table.labels.push_back(r.annotation);
      table.p_cauchy.push_back(r.p_cauchy);
      table.p_median.push_back(r.p_median);
      table.sig_spots.push_back(r.sig_spots);
      table.total_spots.push_back(r.total_spots);
    }
    t.cauchy.push_back(std::move(table));
  }
  return t;
}

void write_report(const Config& cfg) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string project_dir = cfg.common.project_dir();
  const std::string project = cfg.common.project_name;
  const std::string ldsc_dir = project_dir + "/spatial_ldsc";
  const std::string cauchy_dir = project_dir + "/cauchy_combination";
  const std::string out_dir = project_dir + "/report";
  const std::string out = out_dir + "/index.html";
  const auto traits = report_traits(cfg, ldsc_dir);
  const auto annotations = report_annotations(cfg, cauchy_dir, traits);
  std::vector<std::string> csvs;
  for (const auto& t : traits) {
    csvs.push_back(cauchy::ldsc_result_path(ldsc_dir, project, t));
    std::error_code ec;
    if (!fs::exists(csvs.back(), ec)) {
      throw InputError(csvs.back(), "", fmt::format("spatial LDSC result of trait {} not found", t),
                       "run spatial-ldsc for it (or merge its partial results)");
    }
  }
  const std::string obs_path = spot_obs_h5ad(cfg.common);

  // -- locks: shared on what is read, exclusive on the report (pipeline/lock.hpp) --
  LockSet locks(project_dir);
  locks.acquire_shared("latent_to_gene",
                       "the latent_to_gene output (" + project_dir + "/latent_to_gene)");
  for (std::size_t i = 0; i < traits.size(); ++i) {
    locks.acquire_shared(lock_name("spatial_ldsc." + fs::path(csvs[i]).filename().string()),
                         csvs[i] + " (trait " + traits[i] + ")");
    locks.acquire_shared(lock_name("cauchy_combination." + project + "_" + traits[i]),
                         "the Cauchy results of trait " + traits[i] + " in " + cauchy_dir);
  }
  // -- the report's own lock: a concurrent run (other traits) that is drawing it is waited for,
  // then this run decides on the files as that run left them --
  const std::string what = "the report (" + out + ")";
  locks.acquire_exclusive_wait("report", what, kLockWait);
  // -- fingerprint: every file the page shows --
  pv::Record r;
  r.step = "report";
  r.subject = "report";
  r.command = cfg.common.command_line;
  r.add("option.traits", join(traits));
  r.add("option.annotations", join(annotations));
  r.add("option.report_layout", kReportLayout);
  r.add("upstream.spot_annotations", pv::upstream_h5ad(obs_path));
  for (std::size_t i = 0; i < traits.size(); ++i) {
    r.add("upstream.spatial_ldsc_" + traits[i], pv::upstream_csv(csvs[i]));
    r.add("upstream.spatial_ldsc_record_" + traits[i],
          content_or_missing(pv::sidecar_path(csvs[i])));
    for (const auto& a : annotations) {
      r.add(
          "upstream.cauchy_" + traits[i] + "." + a,
          content_or_missing(cauchy::cauchy_result_path(cauchy_dir, project, traits[i], a, false)));
    }
  }
  for (const char* step : kSteps) {
    r.add(std::string("upstream.metadata_") + step,
          content_or_missing(project_dir + "/" + step + "/metadata.yaml"));
  }
  const std::string reason =
      cfg.common.force ? "--force" : pv::stale_reason(pv::read_sidecar(out), r);
  if (reason.empty()) {
    GSMAP_LOG_INFO("skipping report: complete and up to date ({})", out);
    return;
  }
  GSMAP_LOG_INFO("recomputing report: {}", reason);

  // -- content --
  report::ReportContent content;
  content.project = project;
  content.generated =
      fmt::format("Generated {} by gsmap-mpi {} (git {}).", pv::utc_now(), kVersion, kGitHash);
  const Spots spots = read_spots(obs_path, project);
  // Paths relative to the project: the page is the same wherever the project lies.
  content.dataset = fmt::format(
      "{} spots in {} sample{} (coordinates and samples from {}); {} trait{}; Cauchy combination "
      "by {}.",
      spots.names.size(), spots.samples.size(), spots.samples.size() == 1 ? "" : "s",
      fs::relative(obs_path, project_dir).string(), traits.size(), traits.size() == 1 ? "" : "s",
      annotations.empty() ? std::string("none") : join(annotations, ", "));
  for (std::size_t i = 0; i < traits.size(); ++i) {
    content.traits.push_back(
        trait_section(traits[i], csvs[i], spots, annotations, cauchy_dir, project));
  }
  for (const char* step : kSteps) {
    const std::string path = project_dir + "/" + step + "/metadata.yaml";
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    content.provenance.push_back(
        {std::string(step) + "/metadata.yaml",
         std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())});
  }
  const auto t_read = std::chrono::steady_clock::now();
  const std::string html = report::render_html(content);
  const auto t_render = std::chrono::steady_clock::now();

  // -- atomic output, its record and the step's metadata.yaml --
  fs::create_directories(out_dir);
  io::AtomicOutput file(out, MPI_COMM_SELF);
  {
    std::ofstream f(file.temp_path(), std::ios::binary | std::ios::trunc);
    f.write(html.data(), static_cast<std::streamsize>(html.size()));
    f.flush();
    if (!f) {
      const auto why = io::storage_problem(out);
      throw IoError(
          fmt::format("{}: cannot write the report{}", out, why.empty() ? "" : ": " + why));
    }
  }
  pv::write_sidecar(file.temp_path(), r, out);
  file.commit();
  pv::update_step_metadata(out_dir, "report", {{"index.html", r}});  // under the report's lock
  std::size_t panels = 0;
  for (const auto& t : content.traits) panels += t.panels.size();
  const auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  GSMAP_LOG_INFO(
      "report: wrote {} ({:.1f} MB: {} trait(s), {} map panel(s) of {} spots, {} "
      "Cauchy chart(s)); read {:.1f} s, drawn {:.1f} s, total {:.1f} s",
      out, static_cast<double>(html.size()) / 1e6, content.traits.size(), panels,
      spots.names.size(), content.traits.size() * annotations.size(), secs(t0, t_read),
      secs(t_read, t_render), secs(t0, std::chrono::steady_clock::now()));
}

}  // namespace

void run_report(const Config& cfg, MPI_Comm comm) {
  // Rank 0 writes; an error there is reported by it and aborts the job (cli/commands.cpp).
  if (dist::rank(comm) == 0) write_report(cfg);
  dist::any(false, comm);  // everyone waits for rank 0
}

}  // namespace gsmap::pipeline
