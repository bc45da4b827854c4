// `simulate`: option checks, orchestration and the files of the data set.
#include "gsmap/sim/simulate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/sim/model.hpp"

namespace gsmap::sim {
namespace fs = std::filesystem;
namespace {

constexpr int kHomogeneousNeighbours = 21;  // gsMap's default K = min cells per type and slice
constexpr int kCellsPerTypeFactor = 4;      // average cells per type and slice >= 4 K

void require(bool ok, const std::string& message) {
  if (!ok) throw UsageError(message);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Writes through a temp file and a rename (io/atomic_file.hpp), so an interrupted run leaves no
// file that looks complete and a failed one leaves an earlier file intact.
template <class WriteFn>
void write_h5ad_atomically(const fs::path& path, WriteFn&& write) {
  io::AtomicOutput out(path.string(), MPI_COMM_NULL);
  {
    io::H5adWriter writer(out.temp_path());
    write(writer);
    writer.close();
  }
  out.commit();
}

std::uintmax_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  const auto s = fs::file_size(p, ec);
  return ec ? 0 : s;
}

io::Categorical categorical(const std::vector<std::string>& names,
                            const std::vector<std::int32_t>& index_codes) {
  // pandas orders the categories of a string column lexically; keep that convention.
  std::vector<std::size_t> order(names.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return names[a] < names[b]; });
  std::vector<std::int32_t> code_of(names.size());
  io::Categorical c;
  for (std::size_t pos = 0; pos < order.size(); ++pos) {
    c.categories.push_back(names[order[pos]]);
    code_of[order[pos]] = static_cast<std::int32_t>(pos);
  }
  c.codes.reserve(index_codes.size());
  for (auto k : index_codes) c.codes.push_back(k < 0 ? -1 : code_of[static_cast<std::size_t>(k)]);
  return c;
}

void write_slice(const fs::path& path, const GeneDesign& design, const SliceData& s,
                 const SimulateOptions& o) {
  const auto n = static_cast<std::int64_t>(s.obs_names.size());
  write_h5ad_atomically(path, [&](io::H5adWriter& w) {
    io::DataFrame obs;
    obs.index = s.obs_names;
    obs.columns.emplace_back("annotation", categorical(design.type_names, s.label));
    obs.columns.emplace_back("domain", categorical(design.domain_names, s.domain));
    io::NumericColumn hq;
    hq.is_bool = true;
    hq.values.assign(s.high_quality.begin(), s.high_quality.end());
    obs.columns.emplace_back("High_quality", std::move(hq));
    obs.columns.emplace_back(
        "section", categorical({s.name}, std::vector<std::int32_t>(s.obs_names.size(), 0)));
    w.write_obs(obs);
    io::DataFrame var;
    var.index = design.st_genes;
    w.write_var(var);
    w.write_csr_f32("X", s.counts);
    w.write_obsm_f64("spatial", s.xy, n, 2);
    w.write_obsm_f32("emb_cell", s.emb_cell, n, o.emb_dim);
    w.write_obsm_f32("emb_niche", s.emb_niche, n, o.niche_dim);
  });
}

void write_weights(const fs::path& path, const Genome& genome, const GeneDesign& design,
                   const io::CsrRows& weights) {
  write_h5ad_atomically(path, [&](io::H5adWriter& w) {
    io::DataFrame obs;
    obs.index = genome.snp_id;
    io::NumericColumn chr, bp;
    chr.is_integer = bp.is_integer = true;
    chr.values.assign(genome.chr.begin(), genome.chr.end());
    bp.values.reserve(genome.bp.size());
    for (auto p : genome.bp) bp.values.push_back(static_cast<double>(p));
    obs.columns.emplace_back("CHR", std::move(chr));
    obs.columns.emplace_back("BP", std::move(bp));
    w.write_obs(obs);
    io::DataFrame var;
    var.index = design.weight_genes;
    var.index.push_back("Unmapped");
    w.write_var(var);
    w.write_csr_f32("X", weights);
  });
}

void write_text_file(const fs::path& path, const std::string& text) {
  io::write_file_atomic(path.string(), text);
}

void prepare_output_directory(const SimulateOptions& o) {
  const fs::path out(o.out_dir);
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) {
      throw UsageError(fmt::format(
          "--out {}: exists and is not a directory. Fix: choose a new directory", o.out_dir));
    }
    if (!fs::is_empty(out, ec) && !o.overwrite) {
      throw UsageError(fmt::format(
          "--out {}: directory is not empty. Fix: choose a new or empty directory, or pass "
          "--overwrite",
          o.out_dir));
    }
  }
  for (const char* sub : {"st", "gwas", "w_ld", "weights"}) {
    fs::create_directories(out / sub, ec);
    if (ec)
      throw IoError(
          fmt::format("{}: cannot create directory: {}", (out / sub).string(), ec.message()));
  }
}

nlohmann::ordered_json names_of(const GeneDesign& d, const std::vector<std::int32_t>& genes) {
  auto a = nlohmann::ordered_json::array();
  for (auto g : genes) a.push_back(d.st_genes[static_cast<std::size_t>(g)]);
  return a;
}

}  // namespace

void validate(const SimulateOptions& o) {
  require(!o.out_dir.empty(), "--out: missing. Fix: give the directory to write the data set to");
  require(
      o.n_slices >= 1 && o.n_slices <= 100,
      fmt::format("--n-slices {}: must be between 1 and 100. Fix: use fewer slices", o.n_slices));
  require(o.n_types >= 2 && o.n_types <= 50,
          fmt::format("--n-types {}: must be between 2 and 50", o.n_types));
  require(o.n_domains >= 1 && o.n_domains <= 20,
          fmt::format("--n-domains {}: must be between 1 and 20", o.n_domains));
  require(o.planted_type >= 0 && o.planted_type < o.n_types,
          fmt::format("--planted-type {}: must name one of the {} types. Fix: use 0..{}",
                      o.planted_type, o.n_types, o.n_types - 1));
  require(o.emb_dim >= 2 && o.emb_dim <= 512,
          fmt::format("--emb-dim {}: must be between 2 and 512", o.emb_dim));
  require(o.niche_dim >= 2 && o.niche_dim <= 512,
          fmt::format("--niche-dim {}: must be between 2 and 512", o.niche_dim));
  const std::int64_t min_cells =
      static_cast<std::int64_t>(o.n_types) * kHomogeneousNeighbours * kCellsPerTypeFactor;
  require(o.n_cells <= 50'000'000,
          fmt::format("--n-cells {}: at most 50000000 cells per slice. Fix: use more slices",
                      o.n_cells));
  require(
      o.n_cells >= min_cells,
      fmt::format("--n-cells {}: too small; each of the {} cell types needs at least {} cells "
                  "per slice for gsMap's {} homogeneous neighbours, so a slice needs >= {} "
                  "cells ({} x {} x {}). Fix: use --n-cells {} or more",
                  o.n_cells, o.n_types, kHomogeneousNeighbours, kHomogeneousNeighbours, min_cells,
                  o.n_types, kHomogeneousNeighbours, kCellsPerTypeFactor, min_cells));
  require(o.markers_per_type >= 0, "--markers-per-type: must be >= 0 (0 = automatic)");
  require(o.n_genes >= 100 && o.n_genes <= 200'000,
          fmt::format(
              "--n-genes {}: must be between 100 and 200000. Fix: use a gene count in that range",
              o.n_genes));
  const std::int64_t n_types_total = o.n_types + (o.edge_cases ? 1 : 0);
  const std::int64_t special = n_types_total * resolved_markers_per_type(o) +
                               static_cast<std::int64_t>(o.n_domains) * domain_genes_per_domain(o);
  require(2 * special <= o.n_genes,
          fmt::format("--n-genes {}: too few for {} marker genes per type and {} per domain ({} in "
                      "all; at most half of the genes may be markers). Fix: use --n-genes {} or "
                      "more, or a smaller --markers-per-type",
                      o.n_genes, resolved_markers_per_type(o), domain_genes_per_domain(o), special,
                      2 * special));
  require(
      o.n_snps >= 2000 && o.n_snps <= 20'000'000,
      fmt::format("--n-snps {}: must be between 2000 and 20000000 (spatial LDSC splits the SNPs "
                  "into 200 jackknife blocks over 22 chromosomes). Fix: use --n-snps 2000 or more",
                  o.n_snps));
  require(std::isfinite(o.gwas_n) && o.gwas_n >= 1000 && o.gwas_n <= 1e8,
          fmt::format("--gwas-n {}: must be between 1000 and 1e8", o.gwas_n));
  require(std::isfinite(o.h2_base) && o.h2_base >= 0 && o.h2_base <= 10,
          fmt::format("--h2-base {}: must be between 0 and 10", o.h2_base));
  require(std::isfinite(o.h2_planted) && o.h2_planted >= 0 && o.h2_planted <= 10,
          fmt::format("--h2-planted {}: must be between 0 and 10", o.h2_planted));
  require(
      o.weight_nnz_per_snp == 0.0 || (std::isfinite(o.weight_nnz_per_snp) &&
                                      o.weight_nnz_per_snp >= 1.5 && o.weight_nnz_per_snp <= 200),
      fmt::format("--weight-nnz-per-snp {}: must be 0 (the model's own density) or between "
                  "1.5 and 200 (non-zeros per SNP, Unmapped included; gsMap's matrix has "
                  "about 13)",
                  o.weight_nnz_per_snp));
}

std::string describe_defaults() {
  return "Writes a synthetic gsMap input set with a planted truth (layout of the test fixtures):\n"
         "st/<sample>.h5ad (raw NB counts as CSR f32 X; obs annotation, domain, High_quality, "
         "section;\nobsm spatial f64 n x 2, emb_cell f32 n x 32, emb_niche f32 n x 16), "
         "weights/snp_gene_weights.h5ad,\nw_ld/weights.<chr>.l2.ldscore.gz, "
         "gwas/{planted_T1,null_trait}.sumstats.gz with sumstats.yaml,\nst/samples.yaml and "
         "manifest.json (keys to pass and the truth).\n"
         "Defaults: 3000 cells per slice, 1000 genes, 20000 SNPs, 1 slice (spatial2D; > 1 slices "
         "form a\nspatial3D stack), 6 cell types in 4 layered domains, 40 markers per type, GWAS "
         "N = 100000,\nmean chi2 1.8 for planted_T1 (signal on T1's markers) and 1.4 for "
         "null_trait (baseline only).\nThe same --seed gives byte-identical files.";
}

void simulate(const SimulateOptions& o) {
  validate(o);
  const auto t_start = std::chrono::steady_clock::now();
  prepare_output_directory(o);
  const fs::path out(o.out_dir);
  GSMAP_LOG_INFO("simulate: seed {}, {} slice(s) x {} cells, {} genes, {} SNPs -> {}", o.seed,
                 o.n_slices, o.n_cells, o.n_genes, o.n_snps, o.out_dir);

  const GeneDesign design = make_gene_design(o);
  const TissueLayout layout = make_tissue_layout(o, design);

  auto manifest_samples = nlohmann::ordered_json::object();
  auto section_stats = nlohmann::ordered_json::array();
  std::string samples_yaml;
  for (int slice = 0; slice < o.n_slices; ++slice) {
    const auto t0 = std::chrono::steady_clock::now();
    SliceData s = simulate_slice(o, design, layout, slice);
    // Every type must keep >= K cells per slice or the pipeline drops it (docs/algorithms.md §1.1).
    std::vector<std::int64_t> per_type(design.type_names.size(), 0);
    for (auto t : s.label) {
      if (t >= 0) ++per_type[static_cast<std::size_t>(t)];
    }
    for (int t = 0; t < o.n_types; ++t) {
      if (per_type[static_cast<std::size_t>(t)] < 2 * kHomogeneousNeighbours) {
        throw UsageError(fmt::format(
            "--n-cells {}: slice {} drew only {} cells of type {} (need >= {}). Fix: use more "
            "cells per slice or another --seed",
            o.n_cells, s.name, per_type[static_cast<std::size_t>(t)],
            design.type_names[static_cast<std::size_t>(t)], 2 * kHomogeneousNeighbours));
      }
    }
    if (o.shuffle_cells) shuffle_cells(o, slice, s);
    const std::string file = s.name + ".h5ad";
    write_slice(out / "st" / file, design, s, o);
    manifest_samples[s.name] = "st/" + file;
    samples_yaml += fmt::format("{}: {}\n", s.name, file);
    const double nnz = static_cast<double>(s.counts.indices.size());
    const double nonzero_frac =
        nnz / (static_cast<double>(o.n_cells) * static_cast<double>(o.n_genes));
    section_stats.push_back(
        {{"sample", s.name}, {"n_cells", o.n_cells}, {"nonzero_frac", nonzero_frac}});
    GSMAP_LOG_INFO("simulate: {} ({} cells, {:.1f}% non-zero, {:.1f} MB) in {:.2f} s", file,
                   o.n_cells, 100.0 * nonzero_frac,
                   static_cast<double>(file_size_or_zero(out / "st" / file)) / 1e6,
                   seconds_since(t0));
  }
  write_text_file(out / "st" / "samples.yaml", samples_yaml);

  const auto t_genome = std::chrono::steady_clock::now();
  const Genome genome = make_genome(o, design);
  const io::CsrRows weights = make_weight_matrix(o, genome, design);
  write_weights(out / "weights" / "snp_gene_weights.h5ad", genome, design, weights);
  for (int chr = 1; chr <= 22; ++chr) {
    write_text_file(out / "w_ld" / fmt::format("weights.{}.l2.ldscore.gz", chr),
                    io::gzip_compress(ld_weight_table(o, genome, chr)));
  }
  std::int64_t n_negative = 0;
  for (float v : weights.data) n_negative += v < 0.0f ? 1 : 0;
  GSMAP_LOG_INFO(
      "simulate: weight matrix {} SNPs x {} features, {:.2f} non-zeros per SNP, and "
      "w_ld in {:.2f} s",
      weights.n_rows(), weights.n_cols,
      static_cast<double>(weights.indices.size()) / static_cast<double>(weights.n_rows()),
      seconds_since(t_genome));

  const auto t_gwas = std::chrono::steady_clock::now();
  const std::string planted_name =
      "planted_" + design.type_names[static_cast<std::size_t>(o.planted_type)];
  const std::vector<SimulatedTrait> traits = {
      simulate_trait(o, genome, weights, design, planted_name, o.h2_planted, 0),
      simulate_trait(o, genome, weights, design, "null_trait", 0.0, 1)};
  std::string sumstats_yaml;
  auto manifest_sumstats = nlohmann::ordered_json::object();
  auto trait_stats = nlohmann::ordered_json::object();
  for (const auto& t : traits) {
    const std::string file = t.stats.name + ".sumstats.gz";
    write_text_file(out / "gwas" / file, io::gzip_compress(t.sumstats_text));
    sumstats_yaml += fmt::format("{}: {}\n", t.stats.name, file);
    manifest_sumstats[t.stats.name] = "gwas/" + file;
    trait_stats[t.stats.name] = {
        {"mean_expected_chi2", t.stats.mean_expected_chi2},
        {"mean_observed_chi2", t.stats.mean_observed_chi2},
        {"h2_base", t.stats.h2_base},
        {"h2_planted", t.stats.h2_planted},
        {"n_snps_linked_to_planted_markers", t.stats.n_linked},
        {"mean_expected_chi2_linked", t.stats.mean_expected_chi2_linked},
        {"mean_expected_chi2_unlinked", t.stats.mean_expected_chi2_unlinked},
        {"mean_observed_chi2_linked", t.stats.mean_observed_chi2_linked},
        {"mean_observed_chi2_unlinked", t.stats.mean_observed_chi2_unlinked}};
    GSMAP_LOG_INFO(
        "simulate: {}: mean chi2 {:.3f} (expected {:.3f}); SNPs linked to {} markers "
        "({}): mean chi2 {:.3f} vs {:.3f} elsewhere",
        file, t.stats.mean_observed_chi2, t.stats.mean_expected_chi2,
        design.type_names[static_cast<std::size_t>(o.planted_type)], t.stats.n_linked,
        t.stats.mean_observed_chi2_linked, t.stats.mean_observed_chi2_unlinked);
  }
  write_text_file(out / "gwas" / "sumstats.yaml", sumstats_yaml);
  GSMAP_LOG_INFO("simulate: GWAS in {:.2f} s", seconds_since(t_gwas));

  // manifest.json: the fixture manifests' keys, in their order; written last.
  nlohmann::ordered_json m;
  m["generator_args"] = {
      {"seed", o.seed},
      {"n_cells", o.n_cells},
      {"n_slices", o.n_slices},
      {"n_genes", o.n_genes},
      {"n_snps", o.n_snps},
      {"n_types", o.n_types},
      {"n_domains", o.n_domains},
      {"emb_dim", o.emb_dim},
      {"niche_dim", o.niche_dim},
      {"no_niche", false},
      {"grid", false},
      {"counts_layer", false},
      {"planted_type", design.type_names[static_cast<std::size_t>(o.planted_type)]},
      {"markers_per_type", o.markers_per_type},
      {"gwas_n", o.gwas_n},
      {"h2_base", o.h2_base},
      {"h2_planted", o.h2_planted},
      {"no_edge_cases", !o.edge_cases},
      {"generator", "gsmap-mpi simulate"}};
  // Benchmark settings appear only when used, so default data sets keep their bytes.
  if (o.weight_nnz_per_snp > 0) m["generator_args"]["weight_nnz_per_snp"] = o.weight_nnz_per_snp;
  if (o.shuffle_cells) m["generator_args"]["shuffle_cells"] = true;
  m["dataset_type"] = o.n_slices == 1 ? "spatial2D" : "spatial3D";
  m["samples"] = manifest_samples;
  m["samples_yaml"] = "st/samples.yaml";
  m["annotation"] = "annotation";
  m["extra_annotations"] = {"domain"};
  m["latent_representation_cell"] = "emb_cell";
  m["latent_representation_niche"] = "emb_niche";
  m["spatial_key"] = "spatial";
  m["data_layer"] = "X";
  m["snp_gene_weight_adata_path"] = "weights/snp_gene_weights.h5ad";
  m["w_ld_dir"] = "w_ld";
  m["sumstats"] = manifest_sumstats;
  m["sumstats_yaml"] = "gwas/sumstats.yaml";

  auto type_markers = nlohmann::ordered_json::object();
  for (std::size_t t = 0; t < design.type_names.size(); ++t) {
    type_markers[design.type_names[t]] = names_of(design, design.type_markers[t]);
  }
  auto domain_genes = nlohmann::ordered_json::object();
  for (std::size_t k = 0; k < design.domain_names.size(); ++k) {
    domain_genes[design.domain_names[k]] = names_of(design, design.domain_genes[k]);
  }
  nlohmann::ordered_json truth;
  truth["planted_type"] = design.type_names[static_cast<std::size_t>(o.planted_type)];
  truth["planted_trait"] = planted_name;
  truth["null_trait"] = "null_trait";
  truth["planted_genes"] =
      names_of(design, design.type_markers[static_cast<std::size_t>(o.planted_type)]);
  truth["type_markers"] = type_markers;
  truth["domain_genes"] = domain_genes;
  truth["home_domain_of_type"] = [&] {
    auto h = nlohmann::ordered_json::object();
    for (int t = 0; t < o.n_types; ++t)
      h[design.type_names[static_cast<std::size_t>(t)]] =
          design.domain_names[static_cast<std::size_t>(t % o.n_domains)];
    return h;
  }();
  truth["genes_in_weight_matrix"] = design.n_st_genes_in_weights;
  truth["trait_stats"] = trait_stats;
  truth["expected_result"] = fmt::format(
      "Cauchy combination on 'annotation': {} significant for {} (p_cauchy << 1e-6), "
      "no type below 0.05 / {} for null_trait",
      truth["planted_type"].get<std::string>(), planted_name, o.n_types);
  m["truth"] = truth;
  m["section_stats"] = section_stats;
  m["weight_matrix"] = {{"n_snps", weights.n_rows()},
                        {"n_features", weights.n_cols},
                        {"nnz", static_cast<std::int64_t>(weights.indices.size())},
                        {"n_negative", n_negative}};
  write_text_file(out / "manifest.json", m.dump(1) + "\n");
  GSMAP_LOG_INFO("simulate: done in {:.2f} s; inputs described in {}", seconds_since(t_start),
                 (out / "manifest.json").string());
  GSMAP_LOG_INFO(
      "simulate: analyse with: gsmap-mpi quick-mode --workdir WORKDIR --project-name demo "
      "--dataset-type {} --h5ad-yaml {} --annotation annotation --cauchy-annotations domain "
      "--latent-representation-cell emb_cell --latent-representation-niche emb_niche "
      "--sumstats-config-file {} --snp-gene-weight-adata-path {} --w-ld-dir {}",
      o.n_slices == 1 ? "spatial2D" : "spatial3D", (out / "st" / "samples.yaml").string(),
      (out / "gwas" / "sumstats.yaml").string(),
      (out / "weights" / "snp_gene_weights.h5ad").string(), (out / "w_ld").string());
}

}  // namespace gsmap::sim
