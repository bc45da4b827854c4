// --dry-run (docs/usage.md "Dry run"): every input of the steps a command covers is read and
// validated as the steps would (the expression values by the rank that owns them, the LDSC
// resources and traits by every rank), then rank 0 prints the plan. Nothing is created or written:
// no project folder, no log file, no output. The memory and disk figures are estimates from the
// sizes of the buffers and datasets the steps allocate (formulas in docs/usage.md).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "gsmap/cauchy/ldsc_csv.hpp"
#include "gsmap/cauchy/merge.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/gss/rank.hpp"
#include "gsmap/io/gwas.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/samples.hpp"
#include "gsmap/io/weight_matrix.hpp"
#include "gsmap/ldsc/resources.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "gsmap/pipeline/cells.hpp"
#include "gsmap/pipeline/gss_options.hpp"
#include "gsmap/pipeline/ldsc_outputs.hpp"
#include "gsmap/pipeline/marker_source.hpp"
#include "gsmap/pipeline/outputs.hpp"
#include "gsmap/pipeline/provenance.hpp"
#include "gsmap/pipeline/provenance_steps.hpp"
#include "gsmap/pipeline/validate.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;

std::vector<std::string> cauchy_annotations(const CauchyConfig& c);  // cauchy_step.cpp
std::string spot_obs_h5ad(const CommonConfig& common);               // cauchy_step.cpp

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
// Halo budget of one latent-to-gene round (latent_to_gene.cpp).
// The fetch's window bound (gss::GssEngineOptions::halo_bytes_per_exchange).
constexpr std::int64_t kFetchWindowBytes = std::int64_t{64} << 20;
// Bytes per spot and trait of a <project>_<trait>.csv.gz (a spot name and five numbers, gzip) and
// of the results h5ad (five values and the obs), as measured on the simulated data set.
constexpr double kCsvGzBytesPerSpot = 40;
constexpr double kResultsBytesPerSpotTrait = 70;

std::string gib(double bytes) {
  if (bytes >= kGiB) return fmt::format("{:.2f} GiB", bytes / kGiB);
  if (bytes >= 1024.0 * 1024.0) return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
  return fmt::format("{:.0f} KiB", bytes / 1024.0);
}

struct Range {
  Step first, last;
  bool has(Step s) const { return first <= s && s <= last; }
};

Range steps_of(const Config& cfg, const std::string& subcommand) {
  if (subcommand == "latent-to-gene") return {Step::kLatentToGene, Step::kLatentToGene};
  if (subcommand == "spatial-ldsc") return {Step::kSpatialLdsc, Step::kSpatialLdsc};
  if (subcommand == "cauchy-combination") {
    return {Step::kCauchyCombination, Step::kCauchyCombination};
  }
  return {cfg.start_step, cfg.stop_step};
}

std::string w_ld_dir_of(const Config& cfg) {  // as spatial_ldsc.cpp
  if (!cfg.ldsc.w_ld_dir.empty()) return cfg.ldsc.w_ld_dir;
  const auto fallback = cfg.common.project_dir() + "/generate_ldscore/w_ld";
  if (fs::is_directory(fallback)) return fallback;
  throw UsageError("--w-ld-dir is required (no " + fallback + " either): pass the directory of "
                   "weights.<chr>.l2.ldscore.gz files");
}

// What spatial LDSC and Cauchy need to know of the spots when latent-to-gene has not run yet.
struct SpotsInfo {
  std::int64_t n = 0;
  std::vector<std::string> genes;
  SpotSelection selection;
};

struct Plan {
  std::vector<std::string> lines;
  std::vector<double> memory;  // per rank, bytes, the largest step
  double disk = 0;
  void note_memory(int rank, double bytes) {
    memory[static_cast<std::size_t>(rank)] = std::max(memory[static_cast<std::size_t>(rank)], bytes);
  }
};

// ---- latent-to-gene ------------------------------------------------------------------------

std::optional<SpotsInfo> plan_latent_to_gene(const Config& cfg, bool cauchy_next, Plan& plan,
                                             MPI_Comm comm) {
  const auto& c = cfg.l2g;
  const int me = dist::rank(comm), np = dist::size(comm);
  const auto paths = LatentToGenePaths::of(cfg.common);
  // The run's skip rule (pipeline/provenance_steps.hpp): complete and fingerprint up to date.
  const auto expected = latent_to_gene_record(c, cfg.common, paths, np);
  if (!cfg.common.force &&
      provenance::stale_reason(provenance::read_h5ad(paths.marker_scores), expected).empty()) {
    plan.lines.push_back(fmt::format("latent_to_gene: {} is complete and up to date: the step "
                                     "would be skipped", paths.marker_scores));
    return std::nullopt;
  }
  gss::NeighborParams params = neighbor_params(c);
  params.validate();
  const auto samples =
      io::resolve_samples(c.h5ad_path, c.h5ad_yaml, c.h5ad_list_file, paths.find_latent_metadata);
  const CellSet cells = load_cells(samples, c);
  check_unique_names(cells.genes, samples.front().path, "var index");
  // The embeddings' keys and widths, checked in every sample as the run does (no row is read).
  const bool spatial = params.spatial();
  const std::int64_t cell_dims =
      read_embedding_rows(cells, c.latent_representation_cell, "--latent-representation-cell", {}).dims;
  const std::int64_t niche_dims =
      spatial && !c.latent_representation_niche.empty()
          ? read_embedding_rows(cells, c.latent_representation_niche, "--latent-representation-niche", {}).dims
          : 0;
  const std::int64_t n_genes = static_cast<std::int64_t>(cells.genes.size());
  const CellPartition cell_partition = partition_cells(cells, c.rank_batch_size, np);
  const auto& chunks = cell_partition.chunks;
  const auto& part = cell_partition.partition;

  // The expression values of own cells, read chunk by chunk as Stage A reads them.
  const bool reuse =
      !cfg.common.force &&
      provenance::stale_reason(provenance::read_h5ad(paths.log_ranks), expected).empty() &&
      provenance::stale_reason(provenance::read_sidecar(paths.mean_frac), expected).empty();
  std::int64_t scanned = 0;
  if (!reuse) {
    for (const auto& ch : chunks) {
      if (ch.begin < part.start(me) || ch.begin >= part.end(me)) continue;
      const auto& sample = cells.samples[static_cast<std::size_t>(ch.sample)];
      const std::int64_t row0 = sample.kept_rows[ch.begin - sample.global_offset];
      const std::int64_t row1 = sample.kept_rows[ch.end - 1 - sample.global_offset] + 1;
      const auto block = io::H5adReader(sample.sample.path).read_rows(sample.layer, row0, row1);
      check_expression_block(block, sample, cells.genes);
      scanned += static_cast<std::int64_t>(block.data.size());
    }
  }
  scanned = dist::allreduce_sum(scanned, comm);

  plan.lines.push_back("latent_to_gene:");
  for (const auto& s : cells.samples) {
    plan.lines.push_back(fmt::format("  sample {}: {} cells, {} kept ({})", s.sample.name, s.n_input,
                                     s.kept_rows.size(), s.sample.path));
  }
  plan.lines.push_back(fmt::format("  kept cells {}, genes {}, cell types {}, {} neighbours per cell",
                                   cells.n, n_genes, cells.group_names.size(),
                                   params.total_columns()));
  plan.lines.push_back(fmt::format("  cells per rank: {}", part.describe()));
  plan.lines.push_back(
      reuse ? fmt::format("  Stage A would reuse {} and {}", paths.log_ranks, paths.mean_frac)
            : fmt::format("  expression values checked: {} stored entries (finite, >= 0)", scanned));

  // Halo rows per rank by the processing-order rule (docs/algorithms.md §5.1, §5.3): a rank's m
  // processed cells are a compact region of the Hilbert curve, and its halo is the cells within
  // candidate reach of the region's boundary. For about m cells in a square, with reach
  // r = sqrt(k_c / pi) cell spacings: 4 sqrt(m) r + pi r^2 cells; spatial3D adds the adjacent
  // slices' candidates (up to 2 n_adj m); scRNA reads every cell of its cell types (n - m).
  const auto& work = cell_partition.work;
  const double n_all = static_cast<double>(cells.n);
  std::vector<double> halo_rows(static_cast<std::size_t>(np));
  double halo_total = 0;
  for (int r = 0; r < np; ++r) {
    const double m = static_cast<double>(work.count(r));
    double h = n_all - m;
    if (spatial && m > 0) {
      const double reach = std::sqrt(static_cast<double>(params.k_central) / 3.14159265358979);
      double boundary = 4.0 * std::sqrt(m) * reach + 3.14159265358979 * reach * reach;
      boundary += 2.0 * params.n_adjacent * m;
      h = std::min(h, boundary);
    }
    halo_rows[static_cast<std::size_t>(r)] = h;
    halo_total += h;
  }
  plan.lines.push_back(fmt::format("  halo rows (estimate, processing order): {:.0f} over all ranks "
                                   "({:.1f} % of the cells)",
                                   halo_total, n_all > 0 ? 100.0 * halo_total / n_all : 0.0));

  // Memory per rank (docs/scalability.md "Memory per rank"): the tables over all cells (row
  // numbers, cell types, coordinates), the names and obs columns of the rows
  // it writes, the embeddings of its processed cells and their candidates (f64 as read, then
  // f16), the larger of the ranked block (Stage A share) and the resident block (processed cells +
  // halo) plus one window of the fetch (the ranked block is released window by window as the
  // resident block fills, docs/algorithms.md §5.3; one block at one rank), the neighbour table,
  // the fetch's send buffer (about a window), and the batches in flight in the staged pipeline
  // (the writer queue holds at most 1/16 of the resident block).
  const double g = static_cast<double>(n_genes);
  const double k_tot = params.total_columns();
  const double over_all =
      n_all * (8.0 + 8.0 * static_cast<double>(cells.coord_dims) +
               (cells.high_quality.empty() ? 0.0 : 1.0));
  const double emb_bytes_per_row = static_cast<double>(cell_dims + niche_dims) * (8.0 + 2.0);
  for (int r = 0; r < np; ++r) {
    const double own = static_cast<double>(part.count(r));
    const double processed = static_cast<double>(work.count(r));
    const double halo_r = halo_rows[static_cast<std::size_t>(r)];
    const double tables = over_all + own * 100.0 +
                          // scRNA: the cells of its types, at most all
                          (spatial ? processed + halo_r : n_all) * emb_bytes_per_row;
    const double resident = (processed + halo_r) * g * 2.0;
    const double window = std::min(static_cast<double>(kFetchWindowBytes), resident / 32.0);
    const double blocks = np == 1 ? resident : std::max(own * g * 2.0, resident) + window;
    const double neighbours = processed * k_tot * (4.0 + 2.0 + 2.0);
    const double halo = np == 1 ? 0.0 : window;  // the send buffer of a round
    const double batch = std::min<double>(c.mkscore_batch_size, processed);
    // Stage C reads neighbour rows in place from the resident block: a batch in flight holds its
    // slot rows (K_tot x 4 bytes per cell) and its f16 scores (2G per cell) until written.
    const double writer_queue = std::clamp(
        std::floor(resident / 16.0 / std::max(1.0, batch * g * 2.0)), 2.0,
        std::max(2.0, static_cast<double>(c.writer_queue_size)));
    const double in_flight =
        static_cast<double>(c.compute_input_queue_size + c.mkscore_compute_workers +
                            c.mkscore_write_workers) * batch * (k_tot * 4.0 + g * 2.0) +
        writer_queue * batch * g * 2.0;
    const double ranking = static_cast<double>(1 << 20);  // f32 ln ranks of one sub-block of rows
    plan.note_memory(r, tables + blocks + neighbours + halo + in_flight + ranking);
  }
  const double n = static_cast<double>(cells.n);
  const double disk = (reuse ? 0.0 : n * g * 2.0 + g * 40.0) + n * g * 2.0 + n * k_tot * 8.0;
  plan.disk += disk;
  plan.lines.push_back(fmt::format("  writes about {} (log_ranks.h5ad, marker_scores.h5ad, "
                                   "mean_frac.csv)", gib(disk)));

  SpotsInfo spots;
  spots.n = cells.n;
  spots.genes = cells.genes;
  spots.selection.total = cells.n;
  spots.selection.end = cells.n;
  const auto& l = cfg.ldsc;
  if (l.cell_indices_range) {
    auto [a, b] = *l.cell_indices_range;
    if (a < 0 || a >= cells.n || a >= b) {
      throw UsageError(fmt::format("--cell-indices-range {} {}: need 0 <= START < END and START < "
                                   "{} (the number of kept cells)", a, b, cells.n));
    }
    spots.selection = {a, std::min(b, cells.n), cells.n, true, ""};
  } else if (!l.sample_filter.empty()) {
    bool found = false;
    for (const auto& s : cells.samples) {
      if (s.sample.name != l.sample_filter) continue;
      found = true;
      spots.selection.start = s.global_offset;
      spots.selection.end = s.global_offset + static_cast<std::int64_t>(s.kept_rows.size());
      spots.selection.sample = s.sample.name;
    }
    if (!found) {
      throw UsageError(fmt::format("--sample-filter '{}': no such sample (samples: {})",
                                   l.sample_filter, cells.samples.size()));
    }
  }
  if (cauchy_next) {
    // The Cauchy annotations are carried from the samples' obs into marker_scores.h5ad.
    const auto annotations = cauchy_annotations(cfg.cauchy);
    for (const auto& s : cells.samples) {
      require_obs_columns(io::H5adReader(s.sample.path), annotations,
                          "--annotation / --cauchy-annotations");
    }
  }
  return spots;
}

// ---- spatial LDSC --------------------------------------------------------------------------

void plan_spatial_ldsc(const Config& cfg, const std::optional<SpotsInfo>& pending, Plan& plan,
                       MPI_Comm comm) {
  const auto& l = cfg.ldsc;
  const int np = dist::size(comm);
  const auto traits = traits_of(l);
  SpotsInfo spots;
  std::string source_name;
  if (pending) {
    spots = *pending;
    source_name = "the marker scores latent_to_gene would write";
  } else {
    auto source = open_marker_scores(cfg);
    spots.n = source->n_spots();
    spots.genes = source->genes();
    spots.selection = select_spots(l, *source);
    source_name = source->describe();
  }
  const auto& sel = spots.selection;
  const std::string dir = cfg.common.project_dir() + "/spatial_ldsc";
  std::vector<io::Trait> todo;
  for (const auto& t : traits) {
    const auto out = dir + "/" + ldsc_output_name(cfg.common.project_name, t.name, sel);
    if (!pending && sel.sample.empty() && fs::exists(out)) {
      plan.lines.push_back(fmt::format("spatial_ldsc: trait {}: {} exists: skipped if its recorded fingerprint is up to date",
                                       t.name, out));
    } else {
      todo.push_back(t);
    }
  }
  plan.lines.push_back(fmt::format("spatial_ldsc: {} spots [{}, {}) of {} from {}, {} genes, {} "
                                   "trait(s) to compute",
                                   sel.end - sel.start, sel.start, sel.end, spots.n, source_name,
                                   spots.genes.size(), todo.size()));
  if (todo.empty()) return;

  // The resources and traits, read and checked in full as the step reads them (every rank).
  const auto weights = io::read_snp_gene_weights(l.snp_gene_weight_adata_path);
  const auto w_ld_dir = w_ld_dir_of(cfg);
  const auto ld_weights = io::read_ld_weights(w_ld_dir);
  std::vector<io::ExtraBaseline> extra;
  for (const auto& p : l.additional_baseline_h5ad_path_list) extra.push_back(io::read_extra_baseline(p));
  const auto common = ldsc::build_common_resources(
      weights, ld_weights, extra, spots.genes,
      {l.snp_gene_weight_adata_path, w_ld_dir, l.additional_baseline_h5ad_path_list, source_name});
  for (const auto& line : ldsc::describe(common)) plan.lines.push_back("  " + line);
  ldsc::TraitOptions topt;
  if (l.chisq_max) topt.chisq_max = *l.chisq_max;
  topt.n_blocks = l.n_blocks;
  std::vector<ldsc::TraitData> prepared;
  for (const auto& t : todo) {
    prepared.push_back(ldsc::prepare_trait(common, io::read_sumstats(t.sumstats_path), t.name, topt));
    const auto& d = prepared.back();
    plan.lines.push_back(fmt::format("  trait {}: {} SNPs in the sumstats, {} after intersection, "
                                     "{} used in {} jackknife blocks of {}",
                                     d.name, d.n_sumstats_snps, d.n_common_snps, d.n_snps_used,
                                     d.n_blocks, d.block_size));
  }
  std::vector<const ldsc::TraitData*> ptrs;
  for (const auto& d : prepared) ptrs.push_back(&d);
  const ldsc::SpotLdPlan ld_plan(common, ptrs);

  // Memory per rank: the weight matrix as read and restricted, the per-trait designs, and the
  // chunks in flight (GSS rows and spot LD).
  const double w_bytes = static_cast<double>(weights.matrix.nonZeros()) * 12.0 +
                         static_cast<double>(weights.snp.size()) * 48.0;
  const double gw_bytes = static_cast<double>(common.gene_weights.nonZeros()) * 12.0 +
                          static_cast<double>(common.n_snps()) *
                              (4.0 * common.n_baseline() + 4.0 + 48.0);
  double trait_bytes = 0;
  for (const auto& d : prepared) {
    trait_bytes += static_cast<double>(d.m()) * (8.0 * (d.n_features + 5));
  }
  const double chunk = l.spots_per_chunk_quick_mode;
  const double chunks_in_flight = 8.0 * l.ldsc_read_workers / std::max(1, l.ldsc_compute_workers) +
                                  1.0 + l.ldsc_read_workers + l.ldsc_compute_workers;
  const double per_chunk = chunk * static_cast<double>(ld_plan.n_rows()) * 4.0 +
                           chunk * static_cast<double>(spots.genes.size()) * 2.0;
  const dist::Partition part(sel.end - sel.start, np);
  for (int r = 0; r < np; ++r) {
    const double results = static_cast<double>(part.count(r)) * 32.0 * static_cast<double>(todo.size());
    plan.note_memory(r, w_bytes + gw_bytes + trait_bytes + chunks_in_flight * per_chunk + results);
  }
  plan.lines.push_back(fmt::format("  spots per rank: {}", part.describe()));
  const bool full = !sel.by_range && sel.sample.empty() && sel.start == 0 &&
                    sel.end == sel.total && l.results_h5ad != ResultsH5ad::kSkip;
  const double csv = static_cast<double>(sel.end - sel.start) * kCsvGzBytesPerSpot *
                     static_cast<double>(todo.size());
  const double h5ad =
      full ? static_cast<double>(spots.n) * static_cast<double>(traits.size()) * kResultsBytesPerSpotTrait
           : 0.0;
  plan.disk += csv + h5ad;
  plan.lines.push_back(fmt::format("  writes about {} ({} csv.gz{})", gib(csv + h5ad), todo.size(),
                                   full ? " and the results h5ad" : ""));
}

// ---- Cauchy ---------------------------------------------------------------------------------

void plan_cauchy(const Config& cfg, bool ldsc_pending, bool l2g_pending, Plan& plan) {
  const auto annotations = cauchy_annotations(cfg.cauchy);
  const auto traits = traits_of(cfg.ldsc);
  const auto ldsc_dir = cfg.common.project_dir() + "/spatial_ldsc";
  if (!ldsc_pending) {
    for (const auto& t : traits) {
      const auto path = cauchy::ldsc_result_path(ldsc_dir, cfg.common.project_name, t.name);
      if (!fs::exists(path)) {
        const auto partial = cauchy::list_partial_ldsc(ldsc_dir, cfg.common.project_name, t.name);
        throw InputError(path, "", "spatial LDSC result not found",
                         partial.empty() ? "run spatial-ldsc first"
                                         : "partial range files exist: join them with gsmap-mpi merge");
      }
      cauchy::read_ldsc_csv(path, t.name);
    }
  }
  if (!l2g_pending) {
    const auto obs_path = spot_obs_h5ad(cfg.common);
    require_obs_columns(io::H5adReader(obs_path), annotations, "--annotation / --cauchy-annotations");
  }
  std::string names;
  for (const auto& a : annotations) {
    if (!names.empty()) names.append(", ");
    names.append(a);
  }
  plan.lines.push_back(fmt::format("cauchy_combination: {} trait(s) x annotation(s) {}: {} small csv "
                                   "files", traits.size(), names, traits.size() * annotations.size() * 2));
}

}  // namespace

void run_dry_run(const Config& cfg, const std::string& subcommand, MPI_Comm comm) {
  const int me = dist::rank(comm), np = dist::size(comm);
  const Range range = steps_of(cfg, subcommand);
  GSMAP_LOG_INFO("dry run of {} on {} rank(s): validating every input; nothing is written",
                 subcommand, np);
  Plan plan;
  plan.memory.assign(static_cast<std::size_t>(np), 0.0);
  // Cheap checks first, so that a bad trait list fails before the expression is read.
  if (range.has(Step::kSpatialLdsc) || range.has(Step::kCauchyCombination)) traits_of(cfg.ldsc);
  if (range.has(Step::kCauchyCombination)) cauchy_annotations(cfg.cauchy);
  if (range.has(Step::kSpatialLdsc)) {
    for (const auto& t : traits_of(cfg.ldsc)) io::check_sumstats_header(t.sumstats_path);
  }
  std::optional<SpotsInfo> pending;
  if (range.has(Step::kLatentToGene)) pending = plan_latent_to_gene(cfg, range.has(Step::kCauchyCombination), plan, comm);
  if (range.has(Step::kSpatialLdsc)) plan_spatial_ldsc(cfg, pending, plan, comm);
  if (range.has(Step::kCauchyCombination)) {
    plan_cauchy(cfg, range.has(Step::kSpatialLdsc), pending.has_value(), plan);
  }
  if (range.has(Step::kReport)) {
    plan.lines.push_back(fmt::format("report: {}/report/index.html (maps, Cauchy charts, QC; "
                                     "skipped when up to date)", cfg.common.project_dir()));
  }
  dist::any(false, comm);  // every rank validated its share
  if (me == 0) {
    GSMAP_LOG_INFO("Plan:");
    for (const auto& line : plan.lines) GSMAP_LOG_INFO("  {}", line);
    for (int r = 0; r < np; ++r) {
      GSMAP_LOG_INFO("  estimated peak memory rank {}: {}", r, gib(plan.memory[static_cast<std::size_t>(r)]));
    }
    GSMAP_LOG_INFO("  estimated disk space written: {} under {}", gib(plan.disk),
                   cfg.common.project_dir());
    GSMAP_LOG_INFO("dry run: all inputs are valid; nothing was written");
  }
}

}  // namespace gsmap::pipeline
