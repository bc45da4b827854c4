// The option table: every option of every subcommand, with its group, scope, range and storage.
#include "option_table.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <type_traits>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::cli::detail {
namespace {

constexpr std::int64_t kNoUpperBound = std::numeric_limits<int>::max();

// Group names (help sections).
const std::string kInput = "Input";
const std::string kLatentToGeneGroup = "Latent to gene";
const std::string kNeighbours = "Neighbours";
const std::string kWorkers = "Pipeline workers";
const std::string kLdsc = "Spatial LDSC";
const std::string kCauchyGroup = "Cauchy";
const std::string kSimulateGroup = "Simulate";
const std::string kLdscoreGroup = "LD score weight matrix";
const std::string kSumstatsGroup = "Format sumstats";
const std::string kControl = "Control";

[[noreturn]] void bad_value(const std::string& name, const std::string& token,
                            const std::string& problem, const std::string& allowed) {
  throw UsageError(fmt::format("--{}: '{}' {} (allowed: {})", name, token, problem, allowed));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string int_range_text(std::int64_t lo, std::int64_t hi) {
  if (hi >= kNoUpperBound) return fmt::format(">= {}", lo);
  return fmt::format("{}-{}", lo, hi);
}

std::int64_t parse_int(const std::string& name, const std::string& token, std::int64_t lo,
                       std::int64_t hi) {
  std::int64_t value = 0;
  const char* first = token.data();
  const char* last = token.data() + token.size();
  if (first != last && *first == '+') ++first;
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || end != last || token.empty()) {
    bad_value(name, token, "is not an integer", int_range_text(lo, hi));
  }
  if (value < lo || value > hi) bad_value(name, token, "is out of range", int_range_text(lo, hi));
  return value;
}

// `lo_open`: the lower bound itself is not allowed (e.g. "> 0").
std::string double_range_text(double lo, double hi, bool lo_open) {
  if (std::isinf(hi)) return fmt::format("{} {}", lo_open ? ">" : ">=", lo);
  return fmt::format("{}-{}", lo, hi);
}

double parse_double(const std::string& name, const std::string& token, double lo, double hi,
                    bool lo_open) {
  char* end = nullptr;
  const double value = std::strtod(token.c_str(), &end);
  const std::string allowed = double_range_text(lo, hi, lo_open);
  if (token.empty() || end != token.c_str() + token.size() || !std::isfinite(value)) {
    bad_value(name, token, "is not a number", allowed);
  }
  if (value < lo || value > hi || (lo_open && value == lo)) {
    bad_value(name, token, "is out of range", allowed);
  }
  return value;
}

template <class T>
std::string number_text(const T& v) {
  if constexpr (requires { v.has_value(); }) {
    return v ? number_text(*v) : std::string();
  } else if constexpr (std::is_floating_point_v<T>) {
    return fmt::format("{}", v);
  } else {
    return std::to_string(v);
  }
}

std::string join(const std::vector<std::string>& values, const char* sep) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += sep;
    out += v;
  }
  return out;
}

OptionSpec make_spec(std::string name, std::string group, unsigned scope, Arity arity,
                     std::string value_name, std::string help, std::string range = {}) {
  OptionSpec spec;
  spec.name = std::move(name);
  spec.group = std::move(group);
  spec.scope = scope;
  spec.arity = arity;
  spec.value_name = std::move(value_name);
  spec.help = std::move(help);
  spec.range = std::move(range);
  return spec;
}

// --- factories -------------------------------------------------------------------------------
// `get` is a generic lambda `[](auto& r) -> auto& { return r.config....; }`, so the same accessor
// serves apply (non-const) and show (const).

template <class Get>
OptionSpec int_option(std::string name, std::string group, unsigned scope, std::string help,
                      std::int64_t lo, std::int64_t hi, Get get) {
  OptionSpec spec = make_spec(name, std::move(group), scope, Arity::kOne, "N", std::move(help),
                              int_range_text(lo, hi));
  spec.apply = [name, lo, hi, get](ParseResult& r, const Tokens& v) {
    using Field = std::remove_reference_t<decltype(get(r))>;
    get(r) = static_cast<Field>(parse_int(name, v.at(0), lo, hi));
  };
  spec.show = [get](const ParseResult& r) { return number_text(get(r)); };
  return spec;
}

template <class Get>
OptionSpec double_option(std::string name, std::string group, unsigned scope, std::string help,
                         double lo, double hi, bool lo_open, Get get) {
  OptionSpec spec = make_spec(name, std::move(group), scope, Arity::kOne, "X", std::move(help),
                              double_range_text(lo, hi, lo_open));
  spec.apply = [name, lo, hi, lo_open, get](ParseResult& r, const Tokens& v) {
    get(r) = parse_double(name, v.at(0), lo, hi, lo_open);
  };
  spec.show = [get](const ParseResult& r) { return number_text(get(r)); };
  return spec;
}

template <class Get>
OptionSpec string_option(std::string name, std::string group, unsigned scope,
                         std::string value_name, std::string help, Get get) {
  OptionSpec spec = make_spec(name, std::move(group), scope, Arity::kOne, std::move(value_name),
                              std::move(help));
  spec.apply = [name, get](ParseResult& r, const Tokens& v) {
    if (v.at(0).empty()) throw UsageError(fmt::format("--{}: the value must not be empty", name));
    get(r) = v.at(0);
  };
  spec.show = [get](const ParseResult& r) { return std::string(get(r)); };
  return spec;
}

template <class Get>
OptionSpec list_option(std::string name, std::string group, unsigned scope,
                       std::string value_name, std::string help, Get get) {
  OptionSpec spec = make_spec(name, std::move(group), scope, Arity::kList, std::move(value_name),
                              std::move(help));
  spec.apply = [name, get](ParseResult& r, const Tokens& v) {
    if (v.at(0).empty()) throw UsageError(fmt::format("--{}: the value must not be empty", name));
    get(r).push_back(v.at(0));
  };
  spec.show = [get](const ParseResult& r) { return join(get(r), " "); };
  return spec;
}

// A flag that sets a bool to `value_when_given`. `primary` flags show the bool's state; the other
// half of a pair shows nothing (the primary already does).
template <class Get>
OptionSpec flag_option(std::string name, std::string group, unsigned scope, std::string help,
                       bool value_when_given, std::string negation, bool primary, Get get) {
  OptionSpec spec =
      make_spec(std::move(name), std::move(group), scope, Arity::kFlag, "", std::move(help));
  spec.negation = std::move(negation);
  spec.apply = [value_when_given, get](ParseResult& r, const Tokens&) { get(r) = value_when_given; };
  if (primary) {
    // A primary flag is the one whose presence sets the bool to true.
    spec.show = [get](const ParseResult& r) { return std::string(get(r) ? "on" : "off"); };
  }
  return spec;
}

// A choice among names, matched case-insensitively; `names[i]` <-> `values[i]`.
template <class Enum, class Get>
OptionSpec choice_option(std::string name, std::string group, unsigned scope, std::string help,
                         std::vector<std::string> names, std::vector<Enum> values, Get get) {
  OptionSpec spec = make_spec(name, std::move(group), scope, Arity::kOne, "NAME", std::move(help),
                              join(names, " | "));
  spec.apply = [name, names, values, get](ParseResult& r, const Tokens& v) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (lower(names[i]) == lower(v.at(0))) {
        get(r) = values[i];
        return;
      }
    }
    bad_value(name, v.at(0), "is not a known value", join(names, ", "));
  };
  spec.show = [names, values, get](const ParseResult& r) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] == get(r)) return names[i];
    }
    return std::string("?");
  };
  return spec;
}

// --start-step / --stop-step: our step names, gsMap's spellings of the same steps as aliases, and
// gsMap's Python-only steps named in the error.
Step parse_step(const std::string& option, const std::string& token) {
  const std::string t = lower(token);
  if (t == "latent_to_gene" || t == "latent2gene") return Step::kLatentToGene;
  if (t == "spatial_ldsc") return Step::kSpatialLdsc;
  if (t == "cauchy_combination" || t == "cauchy") return Step::kCauchyCombination;
  if (t == "report") return Step::kReport;
  if (t == "find_latent") {
    throw UsageError(fmt::format(
        "--{}: step '{}' is not run by gsmap-mpi; gsMap's Python tool provides it (gsmap "
        "quick-mode). gsmap-mpi's steps: latent_to_gene, spatial_ldsc, cauchy_combination, report",
        option, token));
  }
  bad_value(option, token, "is not a step",
            "latent_to_gene, spatial_ldsc, cauchy_combination, report");
}

std::string step_name(Step s) {
  switch (s) {
    case Step::kLatentToGene: return "latent_to_gene";
    case Step::kSpatialLdsc: return "spatial_ldsc";
    case Step::kCauchyCombination: return "cauchy_combination";
    case Step::kReport: return "report";
  }
  return "?";
}

template <class Get>
OptionSpec step_option(std::string name, std::string help, Get get) {
  OptionSpec spec = make_spec(name, kControl, kQuickOnly, Arity::kOne, "STEP", std::move(help),
                              "latent_to_gene | spatial_ldsc | cauchy_combination | report");
  spec.apply = [name, get](ParseResult& r, const Tokens& v) { get(r) = parse_step(name, v.at(0)); };
  spec.show = [get](const ParseResult& r) { return step_name(get(r)); };
  return spec;
}

// `gsmap-mpi simulate` (sim/simulate.hpp). Only the lower bounds are checked here; the simulator's
// own validate() checks the combinations when it runs.
void add_simulate_options(std::vector<OptionSpec>& t) {
  const std::string g = kSimulateGroup;
  const unsigned s = kSimulate;
  const std::int64_t kMax64 = std::numeric_limits<std::int64_t>::max();
  {
    // Shared with format-sumstats (an output prefix there).
    auto spec = string_option("out", g, s | kSumstats, "DIR",
                              "simulate: output directory of the data set (created; must be empty "
                              "unless --overwrite); format-sumstats: output prefix "
                              "(PREFIX.sumstats.gz or PREFIX.cojo.gz). Required.",
                              [](auto& r) -> auto& { return r.simulate.out_dir; });
    spec.help_for = {{kSimulate,
                      "Output directory of the data set (created; must be empty unless "
                      "--overwrite). Required."},
                     {kSumstats,
                      "Output prefix: writes PREFIX.sumstats.gz (gsMap) or PREFIX.cojo.gz "
                      "(COJO). Required."}};
    spec.group_for = {{kSumstats, kSumstatsGroup}};
    spec.apply = [](ParseResult& r, const Tokens& v) {
      if (v.at(0).empty()) throw UsageError("--out: the value must not be empty");
      r.simulate.out_dir = v[0];
      r.sumstats.out = v[0];
    };
    t.push_back(std::move(spec));
  }
  t.push_back(int_option("seed", g, s, "Random seed: same seed and options, same bytes.", 0,
                         kMax64, [](auto& r) -> auto& { return r.simulate.seed; }));
  t.push_back(int_option("n-cells", g, s, "Cells per slice.", 1, kMax64,
                         [](auto& r) -> auto& { return r.simulate.n_cells; }));
  t.push_back(int_option("n-genes", g, s, "Genes measured in every slice.", 1, kMax64,
                         [](auto& r) -> auto& { return r.simulate.n_genes; }));
  t.push_back(int_option("n-snps", g, s, "SNPs (rows of the SNP-gene weight matrix).", 1, kMax64,
                         [](auto& r) -> auto& { return r.simulate.n_snps; }));
  t.push_back(int_option("n-slices", g, s, "Slices: 1 gives spatial2D data, more a spatial3D stack.",
                         1, kNoUpperBound, [](auto& r) -> auto& { return r.simulate.n_slices; }));
  t.push_back(int_option("n-types", g, s, "Cell types.", 1, kNoUpperBound,
                         [](auto& r) -> auto& { return r.simulate.n_types; }));
  t.push_back(int_option("n-domains", g, s, "Spatial domains (layered bands).", 1, kNoUpperBound,
                         [](auto& r) -> auto& { return r.simulate.n_domains; }));
  t.push_back(int_option("markers-per-type", g, s,
                         "Marker genes per cell type (0: n-genes / 25, clamped to 5-100).", 0,
                         kNoUpperBound, [](auto& r) -> auto& { return r.simulate.markers_per_type; }));
  t.push_back(int_option("emb-dim", g, s, "Width of obsm/emb_cell.", 1, kNoUpperBound,
                         [](auto& r) -> auto& { return r.simulate.emb_dim; }));
  t.push_back(int_option("niche-dim", g, s, "Width of obsm/emb_niche.", 1, kNoUpperBound,
                         [](auto& r) -> auto& { return r.simulate.niche_dim; }));
  t.push_back(int_option("planted-type", g, s,
                         "Index of the cell type whose markers carry the GWAS signal.", 0,
                         kNoUpperBound, [](auto& r) -> auto& { return r.simulate.planted_type; }));
  t.push_back(double_option("gwas-n", g, s, "GWAS sample size.", 0.0,
                            std::numeric_limits<double>::infinity(), true,
                            [](auto& r) -> auto& { return r.simulate.gwas_n; }));
  t.push_back(double_option("h2-base", g, s,
                            "Mean chi-square increase from the baseline (both traits).", 0.0,
                            std::numeric_limits<double>::infinity(), false,
                            [](auto& r) -> auto& { return r.simulate.h2_base; }));
  t.push_back(double_option("h2-planted", g, s,
                            "Mean chi-square increase from the planted markers (planted trait).",
                            0.0, std::numeric_limits<double>::infinity(), false,
                            [](auto& r) -> auto& { return r.simulate.h2_planted; }));
  t.push_back(flag_option("edge-cases", g, s,
                          "Plant the fixtures' edge cases (missing labels, a rare type, ...).", true,
                          "", true, [](auto& r) -> auto& { return r.simulate.edge_cases; }));
  t.push_back(double_option(
      "weight-nnz-per-snp", g, s,
      "SNP-gene non-zeros per SNP of the weight matrix, Unmapped included (0: the model's own, "
      "about 6.5; gsMap's real matrix has about 13).",
      0.0, 200.0, false, [](auto& r) -> auto& { return r.simulate.weight_nnz_per_snp; }));
  t.push_back(flag_option("shuffle-cells", g, s,
                          "Write each slice's cells in a random (seeded) order instead of their "
                          "spatial drawing order.",
                          true, "", true, [](auto& r) -> auto& { return r.simulate.shuffle_cells; }));
  t.push_back(flag_option("overwrite", g, s, "Allow a non-empty --out.", true, "", true,
                          [](auto& r) -> auto& { return r.simulate.overwrite; }));
}

// `gsmap-mpi ldscore-weight-matrix` (ldscore/options.hpp): gsMap3D's names and defaults; the
// choices are checked exactly (case-sensitive, D7 of docs/ldscore.md) by ldscore::check_options.
void add_ldscore_options(std::vector<OptionSpec>& t) {
  const std::string g = kLdscoreGroup;
  const unsigned s = kLdscore;
  const auto with_range = [](OptionSpec spec, std::string range) {
    spec.range = std::move(range);
    return spec;
  };
  t.push_back(string_option("bfile-root", g, s, "TEMPLATE",
                            "PLINK 1 fileset prefix; {chr} is replaced by the chromosome number "
                            "(data/1000G.EUR.QC.{chr}). Required.",
                            [](auto& r) -> auto& { return r.ldscore.bfile_root; }));
  t.push_back(string_option("hm3-snp-dir", g, s, "DIR",
                            "Folder of per-chromosome regression-SNP lists (hm.<chr>.snp, ...). "
                            "Required.",
                            [](auto& r) -> auto& { return r.ldscore.hm3_snp_dir; }));
  t.push_back(string_option("output-dir", g, s, "DIR",
                            "Output folder (created if missing). Required.",
                            [](auto& r) -> auto& { return r.ldscore.output_dir; }));
  t.push_back(string_option("output-filename", g, s, "NAME",
                            "Prefix of the output files (<NAME>.h5ad, <NAME>.csv).",
                            [](auto& r) -> auto& { return r.ldscore.output_filename; }));
  t.push_back(with_range(string_option("mapping-type", g, s, "NAME",
                                       "Kind of --mapping-file.",
                                       [](auto& r) -> auto& { return r.ldscore.mapping_type; }),
                         "bed | dict"));
  t.push_back(string_option("mapping-file", g, s, "PATH",
                            "BED of features (name = gene in column 4), or a SNP -> feature table "
                            "with --mapping-type dict.",
                            [](auto& r) -> auto& { return r.ldscore.mapping_file; }));
  t.push_back(string_option("annot-file", g, s, "TEMPLATE",
                            "Per-chromosome annotation matrices ({chr} replaced); takes precedence "
                            "over --mapping-file.",
                            [](auto& r) -> auto& { return r.ldscore.annot_file; }));
  t.push_back(int_option("feature-window-size", g, s,
                         "Base pairs added on both sides of every BED interval.", 0,
                         std::numeric_limits<std::int64_t>::max(),
                         [](auto& r) -> auto& { return r.ldscore.feature_window_size; }));
  t.push_back(with_range(string_option("strategy", g, s, "NAME",
                                       "How a SNP in several features is assigned.",
                                       [](auto& r) -> auto& { return r.ldscore.strategy; }),
                         "score | tss | center | allow_repeat"));
  t.push_back(double_option("ld-wind", g, s, "LD window half-width in --ld-unit.", 0.0,
                            std::numeric_limits<double>::infinity(), false,
                            [](auto& r) -> auto& { return r.ldscore.ld_wind; }));
  t.push_back(with_range(string_option("ld-unit", g, s, "NAME", "Unit of --ld-wind.",
                                       [](auto& r) -> auto& { return r.ldscore.ld_unit; }),
                         "CM | KB | SNP"));
  {
    // Shared with format-sumstats (same default, 0.01; there the MAF must be strictly greater).
    auto spec = with_range(
        double_option("maf-min", g, s | kSumstats,
                      "ldscore-weight-matrix: minimum minor-allele frequency of reference SNPs "
                      "(<= 0: no filter); format-sumstats: keep SNPs with MAF > this.",
                      -std::numeric_limits<double>::infinity(), 0.5, false,
                      [](auto& r) -> auto& { return r.ldscore.maf_min; }),
        "<= 0.5");
    spec.help_for = {
        {kLdscore, "Minimum minor-allele frequency of reference SNPs (<= 0: no filter)."},
        {kSumstats, "Keep SNPs whose MAF = min(FRQ, 1 - FRQ) is strictly greater."}};
    spec.group_for = {{kSumstats, kSumstatsGroup}};
    spec.apply = [](ParseResult& r, const Tokens& v) {
      const double x = parse_double("maf-min", v.at(0), -std::numeric_limits<double>::infinity(),
                                    0.5, false);
      r.ldscore.maf_min = x;
      r.sumstats.maf_min = x;
    };
    t.push_back(std::move(spec));
  }
  t.push_back(string_option("chromosomes", g, s, "LIST",
                            "'all' (1-22) or a comma-separated list such as 22 or 1,2,22.",
                            [](auto& r) -> auto& { return r.ldscore.chromosomes; }));
  t.push_back(int_option("batch-size-hm3", g, s,
                         "Regression SNPs per batch; with --ld-window-mode batch every SNP of a "
                         "batch uses the batch's LD block (changes the result).",
                         1, kNoUpperBound, [](auto& r) -> auto& { return r.ldscore.batch_size_hm3; }));
  t.push_back(flag_option("calculate-w-ld", g, s,
                          "Also write the LDSC regression weights weights.<chr>.l2.ldscore.gz.",
                          true, "no-calculate-w-ld", true,
                          [](auto& r) -> auto& { return r.ldscore.calculate_w_ld; }));
  t.push_back(flag_option("no-calculate-w-ld", g, s, "Write no regression weights.", false,
                          "calculate-w-ld", false,
                          [](auto& r) -> auto& { return r.ldscore.calculate_w_ld; }));
  t.push_back(string_option("omics-h5ad-path", g, s, "PATH",
                            "Accepted for compatibility with gsMap3D; not read.",
                            [](auto& r) -> auto& { return r.ldscore.omics_h5ad_path; }));
  t.push_back(with_range(string_option("ld-window-mode", g, s, "NAME",
                                       "batch: gsMap3D's batch-wide LD blocks; snp: each "
                                       "regression SNP its own window (LDSC).",
                                       [](auto& r) -> auto& { return r.ldscore.ld_window_mode; }),
                         "batch | snp"));
  t.push_back(int_option("ldscore-compute-workers", g, s,
                         "Threads per rank (0: the CPUs the rank may run on).", 0, kNoUpperBound,
                         [](auto& r) -> auto& { return r.ldscore.compute_workers; }));
  t.push_back(with_range(string_option("ldscore-kernel", g, s, "NAME",
                                       "Genotype product kernel (same result; auto: blocked "
                                       "where the CPU has AVX2/FMA).",
                                       [](auto& r) -> auto& { return r.ldscore.kernel; }),
                         "auto | eigen | blocked"));
}

// `gsmap-mpi format-sumstats` (sumstats/format.hpp): gsMap3D's names and defaults
// (docs/sumstats.md §1). --out and --maf-min are shared with simulate / ldscore-weight-matrix.
void add_sumstats_options(std::vector<OptionSpec>& t) {
  const std::string g = kSumstatsGroup;
  const unsigned s = kSumstats;
  t.push_back(string_option("sumstats", g, s, "PATH",
                            "Raw GWAS table (whitespace-separated; gzip when the name ends in gz). "
                            "Required.",
                            [](auto& r) -> auto& { return r.sumstats.sumstats; }));
  const auto column = [&](const char* name, const char* what, auto get) {
    t.push_back(string_option(name, g, s, "COLUMN",
                              std::string("Name of the input column holding ") + what + ".", get));
  };
  column("snp", "the SNP id", [](auto& r) -> auto& { return r.sumstats.snp; });
  column("a1", "the effect allele", [](auto& r) -> auto& { return r.sumstats.a1; });
  column("a2", "the other allele", [](auto& r) -> auto& { return r.sumstats.a2; });
  column("info", "the imputation INFO score", [](auto& r) -> auto& { return r.sumstats.info; });
  column("beta", "the effect size (BETA)", [](auto& r) -> auto& { return r.sumstats.beta; });
  column("se", "the standard error of BETA", [](auto& r) -> auto& { return r.sumstats.se; });
  column("p", "the P value", [](auto& r) -> auto& { return r.sumstats.p; });
  column("frq", "the frequency of A1", [](auto& r) -> auto& { return r.sumstats.frq; });
  column("z", "the signed Z statistic", [](auto& r) -> auto& { return r.sumstats.z; });
  column("or", "the odds ratio", [](auto& r) -> auto& { return r.sumstats.odds_ratio; });
  column("se-or", "the odds ratio's standard error",
         [](auto& r) -> auto& { return r.sumstats.se_or; });
  t.push_back(string_option("n", g, s, "N|COLUMN",
                            "Sample size: a number (the same N for every SNP) or the name of the "
                            "N column.",
                            [](auto& r) -> auto& { return r.sumstats.n; }));
  t.push_back(string_option("chr", g, s, "COLUMN",
                            "Name of the chromosome column (rsID lookup, --keep-chr-pos).",
                            [](auto& r) -> auto& { return r.sumstats.chr; }));
  t.push_back(string_option("pos", g, s, "COLUMN",
                            "Name of the base-pair position column (rsID lookup, --keep-chr-pos).",
                            [](auto& r) -> auto& { return r.sumstats.pos; }));
  t.push_back(string_option("dbsnp", g, s, "PATH",
                            "Chromosome/position -> rsID table (TAB-separated chr pos ref alt "
                            "rsid, one header line), used when there is no SNP column.",
                            [](auto& r) -> auto& { return r.sumstats.dbsnp; }));
  t.push_back(int_option("chunksize", g, s,
                         "Rows of the dbSNP table read at a time in gsMap3D; accepted, no effect.",
                         1, std::numeric_limits<std::int64_t>::max(),
                         [](auto& r) -> auto& { return r.sumstats.chunksize; }));
  t.push_back(choice_option<sumstats::Format>(
      "format", g, s, "Output format (any case): gsMap writes SNP A1 A2 Z N.", {"gsMap", "COJO"},
      {sumstats::Format::kGsMap, sumstats::Format::kCojo},
      [](auto& r) -> auto& { return r.sumstats.format; }));
  {
    auto spec = double_option("info-min", g, s, "Keep SNPs with INFO >= this.",
                              -std::numeric_limits<double>::infinity(),
                              std::numeric_limits<double>::infinity(), false,
                              [](auto& r) -> auto& { return r.sumstats.info_min; });
    spec.range.clear();  // any number
    t.push_back(std::move(spec));
  }
  t.push_back(flag_option("keep-chr-pos", g, s,
                          "Append the Chr and Pos columns to the output (when both exist).", true,
                          "no-keep-chr-pos", true,
                          [](auto& r) -> auto& { return r.sumstats.keep_chr_pos; }));
  t.push_back(flag_option("no-keep-chr-pos", g, s, "Write no Chr and Pos columns.", false,
                          "keep-chr-pos", false,
                          [](auto& r) -> auto& { return r.sumstats.keep_chr_pos; }));
}

std::vector<OptionSpec> build_table() {
  std::vector<OptionSpec> t;
  const unsigned kSteps = kAllSteps;
  const unsigned kTraits = kSpatialLdsc | kCauchy | kMerge | kReport;

  // ---- Input ----
  {
    auto s = string_option("workdir", kInput, kSteps | kMerge | kReport, "DIR",
                           "Work directory (must exist); outputs go to DIR/PROJECT/. Required.",
                           [](auto& r) -> auto& { return r.config.common.workdir; });
    s.apply = [](ParseResult& r, const Tokens& v) {
      if (v.at(0).empty()) throw UsageError("--workdir: the value must not be empty");
      r.config.common.workdir = v[0];
      r.merge.workdir = v[0];
    };
    t.push_back(std::move(s));
  }
  {
    auto s = string_option("project-name", kInput, kSteps | kMerge | kReport, "NAME",
                           "Project name: the sub-directory of the work directory. Required.",
                           [](auto& r) -> auto& { return r.config.common.project_name; });
    s.apply = [](ParseResult& r, const Tokens& v) {
      if (v.at(0).empty()) throw UsageError("--project-name: the value must not be empty");
      r.config.common.project_name = v[0];
      r.merge.project_name = v[0];
    };
    t.push_back(std::move(s));
  }
  t.push_back(list_option("h5ad-path", kInput, kLatentToGene, "PATH",
                          "An ST/scRNA sample (.h5ad); repeat for several samples, in slice order. "
                          "Exclusive with --h5ad-yaml and --h5ad-list-file.",
                          [](auto& r) -> auto& { return r.config.l2g.h5ad_path; }));
  t.push_back(string_option("h5ad-yaml", kInput, kLatentToGene, "PATH",
                            "YAML mapping sample_name: path (relative to the YAML file).",
                            [](auto& r) -> auto& { return r.config.l2g.h5ad_yaml; }));
  t.push_back(string_option("h5ad-list-file", kInput, kLatentToGene, "PATH",
                            "Text file with one .h5ad path per line.",
                            [](auto& r) -> auto& { return r.config.l2g.h5ad_list_file; }));
  t.push_back(string_option("data-layer", kInput, kLatentToGene, "NAME",
                            "Expression counts: 'X' or the name of a layer.",
                            [](auto& r) -> auto& { return r.config.l2g.data_layer; }));
  t.push_back(string_option("spatial-key", kInput, kLatentToGene, "KEY",
                            "obsm key of the spatial coordinates.",
                            [](auto& r) -> auto& { return r.config.l2g.spatial_key; }));
  {
    auto s = string_option("annotation", kInput, kLatentToGene | kCauchy | kReport, "COLUMN",
                           "obs column of cell types: neighbours stay within a type, and the "
                           "Cauchy combination groups by it.",
                           [](auto& r) -> auto& { return r.config.l2g.annotation; });
    s.help_for = {{kLatentToGene, "obs column of cell types: neighbours stay within a type."},
                  {kCauchy, "obs column whose groups the Cauchy combination combines the spots' "
                            "p values over (one result row per label)."}};
    s.apply = [](ParseResult& r, const Tokens& v) {
      if (v.at(0).empty()) throw UsageError("--annotation: the value must not be empty");
      r.config.l2g.annotation = v[0];
      r.config.cauchy.annotation = v[0];
    };
    t.push_back(std::move(s));
  }
  t.push_back(string_option("latent-representation-cell", kInput, kLatentToGene, "KEY",
                            "obsm key of the cell embedding.",
                            [](auto& r) -> auto& { return r.config.l2g.latent_representation_cell; }));
  t.push_back(string_option(
      "latent-representation-niche", kInput, kLatentToGene, "KEY",
      "obsm key of the niche embedding (spatial data; none: all niche similarities are 1).",
      [](auto& r) -> auto& { return r.config.l2g.latent_representation_niche; }));
  {
    auto s = string_option("trait-name", kInput, kTraits, "NAME",
                           "Trait name, with --sumstats-file (merge: the trait to merge).",
                           [](auto& r) -> auto& { return r.config.ldsc.trait_name; });
    s.help_for = {{kMerge, "The trait to merge (default: every trait with partial results)."},
                  {kSpatialLdsc | kCauchy, "Trait name, with --sumstats-file."}};
    s.apply = [](ParseResult& r, const Tokens& v) {
      if (v.at(0).empty()) throw UsageError("--trait-name: the value must not be empty");
      r.config.ldsc.trait_name = v[0];
      r.merge.trait_name = v[0];
    };
    t.push_back(std::move(s));
  }
  {
    auto s = string_option("sumstats-file", kInput, kSpatialLdsc | kCauchy | kReport, "PATH",
                           "GWAS summary statistics of --trait-name (.sumstats[.gz]).",
                           [](auto& r) -> auto& { return r.config.ldsc.sumstats_file; });
    s.help_for = {{kSpatialLdsc, "GWAS summary statistics of --trait-name (.sumstats[.gz])."},
                  {kCauchy, "GWAS summary statistics of --trait-name: with it, names the trait "
                            "whose spatial LDSC result is combined."},
                  {kReport, "GWAS summary statistics of --trait-name: with it, names the trait "
                            "the report shows."}};
    t.push_back(std::move(s));
  }
  {
    auto s = string_option("sumstats-config-file", kInput, kTraits, "PATH",
                           "YAML mapping trait_name: sumstats path, for several traits. Exclusive "
                           "with --trait-name and --sumstats-file.",
                           [](auto& r) -> auto& { return r.config.ldsc.sumstats_config_file; });
    s.help_for = {{kMerge, "YAML mapping trait_name: sumstats path: merge these traits. Exclusive "
                           "with --trait-name."}};
    s.apply = [](ParseResult& r, const Tokens& v) {
      if (v.at(0).empty()) throw UsageError("--sumstats-config-file: the value must not be empty");
      r.config.ldsc.sumstats_config_file = v[0];
      r.merge.sumstats_config_file = v[0];
    };
    t.push_back(std::move(s));
  }

  // ---- Latent to gene ----
  t.push_back(choice_option<DatasetType>(
      "dataset-type", kLatentToGeneGroup, kLatentToGene,
      "Kind of data (case-insensitive). spatial2D/scRNA use no adjacent slices.",
      {"scRNA", "spatial2D", "spatial3D"},
      {DatasetType::kScRNA, DatasetType::kSpatial2D, DatasetType::kSpatial3D},
      [](auto& r) -> auto& { return r.config.l2g.dataset_type; }));
  t.push_back(choice_option<CrossSliceStrategy>(
      "cross-slice-marker-score-strategy", kLatentToGeneGroup, kLatentToGene,
      "spatial3D: how neighbours of adjacent slices are pooled.",
      {"global_pool", "per_slice_pool", "hierarchical_pool"},
      {CrossSliceStrategy::kGlobalPool, CrossSliceStrategy::kPerSlicePool,
       CrossSliceStrategy::kHierarchicalPool},
      [](auto& r) -> auto& { return r.config.l2g.cross_slice_marker_score_strategy; }));
  t.push_back(flag_option("no-expression-fraction", kLatentToGeneGroup, kLatentToGene,
                          "Disable the expression-fraction filter of the GSS.", true, "", true,
                          [](auto& r) -> auto& { return r.config.l2g.no_expression_fraction; }));
  t.push_back(int_option("mkscore-batch-size", kLatentToGeneGroup, kLatentToGene,
                         "Cells per marker-score batch (lower it when the GPU runs out of memory).",
                         10, 1000, [](auto& r) -> auto& { return r.config.l2g.mkscore_batch_size; }));
  t.push_back(int_option("rank-batch-size", kLatentToGeneGroup, kLatentToGene,
                         "Cells per ranking chunk.", 1, kNoUpperBound,
                         [](auto& r) -> auto& { return r.config.l2g.rank_batch_size; }));

  // ---- Neighbours ----
  t.push_back(int_option("spatial-neighbors", kNeighbours, kLatentToGene,
                         "Spatial candidates per cell on its own slice (k_c).", 10, 5000,
                         [](auto& r) -> auto& { return r.config.l2g.spatial_neighbors; }));
  t.push_back(int_option("homogeneous-neighbors", kNeighbours, kLatentToGene,
                         "Homogeneous neighbours selected per cell and block (K).", 1, 200,
                         [](auto& r) -> auto& { return r.config.l2g.homogeneous_neighbors; }));
  t.push_back(double_option(
      "cell-embedding-similarity-threshold", kNeighbours, kLatentToGene,
      "Cell similarities below this count as 0.", 0.0, 1.0, false,
      [](auto& r) -> auto& { return r.config.l2g.cell_embedding_similarity_threshold; }));
  t.push_back(double_option(
      "spatial-domain-similarity-threshold", kNeighbours, kLatentToGene,
      "Niche similarity at or above which a candidate is in the same spatial domain.", 0.0, 1.0,
      false, [](auto& r) -> auto& { return r.config.l2g.spatial_domain_similarity_threshold; }));
  t.push_back(int_option(
      "adjacent-slice-spatial-neighbors", kNeighbours, kLatentToGene,
      "spatial3D: candidates per adjacent slice (k_a).", 10, 2000,
      [](auto& r) -> auto& { return r.config.l2g.adjacent_slice_spatial_neighbors; }));
  t.push_back(int_option("n-adjacent-slices", kNeighbours, kLatentToGene,
                         "spatial3D: slices on each side (>= 1); forced to 0 for spatial2D/scRNA.",
                         0, 5, [](auto& r) -> auto& { return r.config.l2g.n_adjacent_slices; }));
  t.push_back(flag_option("high-quality-neighbor-filter", kNeighbours, kLatentToGene,
                          "Take neighbours only among cells with obs High_quality true.", true,
                          "no-high-quality-filter", true,
                          [](auto& r) -> auto& { return r.config.l2g.high_quality_neighbor_filter; }));
  t.push_back(flag_option("no-high-quality-filter", kNeighbours, kLatentToGene,
                          "Take neighbours among all cells.", false,
                          "high-quality-neighbor-filter", false,
                          [](auto& r) -> auto& { return r.config.l2g.high_quality_neighbor_filter; }));
  t.push_back(int_option("find-homogeneous-batch-size", kNeighbours, kLatentToGene,
                         "Cells per neighbour-similarity batch.", 1, kNoUpperBound,
                         [](auto& r) -> auto& { return r.config.l2g.find_homogeneous_batch_size; }));
  t.push_back(int_option("min-cells-per-type", kNeighbours, kLatentToGene,
                         "Smallest cell type kept (default and cap: --homogeneous-neighbors).", 1,
                         kNoUpperBound,
                         [](auto& r) -> auto& { return r.config.l2g.min_cells_per_type; }));

  // ---- Pipeline workers ----
  {
    auto s = int_option("rank-read-workers", kWorkers, kLatentToGene,
                        "Reader threads per rank (latent to gene).", 1, 50,
                        [](auto& r) -> auto& { return r.config.l2g.rank_read_workers; });
    s.default_text = "cores / 4, 1-16";
    t.push_back(std::move(s));
  }
  {
    auto s = int_option("mkscore-compute-workers", kWorkers, kLatentToGene,
                        "Compute workers per rank (CPU threads or GPU streams).", 1, 16,
                        [](auto& r) -> auto& { return r.config.l2g.mkscore_compute_workers; });
    s.default_text = "the rank's cores (1-16) on the CPU, 4 GPU streams on a GPU";
    t.push_back(std::move(s));
  }
  {
    auto s = int_option("mkscore-write-workers", kWorkers, kLatentToGene,
                        "Writer threads per rank.", 1, 50,
                        [](auto& r) -> auto& { return r.config.l2g.mkscore_write_workers; });
    s.default_text = "cores / 4, 1-4";
    t.push_back(std::move(s));
  }
  t.push_back(int_option("compute-input-queue-size", kWorkers, kLatentToGene,
                         "Reader -> compute queue capacity, in multiples of the compute workers.", 1,
                         10, [](auto& r) -> auto& { return r.config.l2g.compute_input_queue_size; }));
  t.push_back(int_option("writer-queue-size", kWorkers, kLatentToGene,
                         "Compute -> writer queue capacity (batches; at most 1/16 of the rank's "
                         "resident log-rank block, at least 2).", 10, 500,
                         [](auto& r) -> auto& { return r.config.l2g.writer_queue_size; }));
  {
    auto s = int_option("ldsc-read-workers", kWorkers, kSpatialLdsc,
                        "GSS reader threads per rank (spatial LDSC; HDF5 reads are serialised, 1 "
                        "is enough).",
                        1, kNoUpperBound,
                        [](auto& r) -> auto& { return r.config.ldsc.ldsc_read_workers; });
    s.default_text = "cores / 8, 1-10";
    t.push_back(std::move(s));
  }
  {
    auto s = int_option("ldsc-compute-workers", kWorkers, kSpatialLdsc,
                        "Compute threads per rank (spatial LDSC: spot LD and the regressions of "
                        "every trait).",
                        1, kNoUpperBound,
                        [](auto& r) -> auto& { return r.config.ldsc.ldsc_compute_workers; });
    s.default_text = "the rank's cores";
    t.push_back(std::move(s));
  }

  // ---- Spatial LDSC ----
  {
    auto s = string_option(
        "w-ld-dir", kLdsc, kSpatialLdsc | kLdscore, "DIR",
        "LD weights weights.<chr>.l2.ldscore.gz: read by spatial LDSC (default: "
        "WORKDIR/PROJECT/generate_ldscore/w_ld), written by ldscore-weight-matrix "
        "--calculate-w-ld (default: OUTPUT_DIR/w_ld).",
        [](auto& r) -> auto& { return r.config.ldsc.w_ld_dir; });
    s.apply = [](ParseResult& r, const Tokens& v) {
      if (v.at(0).empty()) throw UsageError("--w-ld-dir: the value must not be empty");
      r.config.ldsc.w_ld_dir = v[0];
      r.ldscore.w_ld_dir = v[0];
    };
    t.push_back(std::move(s));
  }
  t.push_back(string_option("snp-gene-weight-adata-path", kLdsc, kSpatialLdsc, "PATH",
                            "SNP-gene weight matrix (.h5ad). Required for spatial LDSC.",
                            [](auto& r) -> auto& { return r.config.ldsc.snp_gene_weight_adata_path; }));
  t.push_back(list_option(
      "additional-baseline-h5ad-path-list", kLdsc, kSpatialLdsc, "PATH",
      "Extra baseline annotations (.h5ad); repeat for several files.",
      [](auto& r) -> auto& { return r.config.ldsc.additional_baseline_h5ad_path_list; }));
  t.push_back(int_option("chisq-max", kLdsc, kSpatialLdsc,
                         "Drop SNPs with chi^2 >= this (default: max(0.001 * max N, 80)).", 1,
                         kNoUpperBound, [](auto& r) -> auto& { return r.config.ldsc.chisq_max; }));
  t.push_back(int_option("n-blocks", kLdsc, kSpatialLdsc, "Jackknife blocks.", 2, kNoUpperBound,
                         [](auto& r) -> auto& { return r.config.ldsc.n_blocks; }));
  t.push_back(int_option("spots-per-chunk-quick-mode", kLdsc, kSpatialLdsc,
                         "Spots per work item.", 1, kNoUpperBound,
                         [](auto& r) -> auto& { return r.config.ldsc.spots_per_chunk_quick_mode; }));
  {
    OptionSpec s = make_spec("cell-indices-range", kLdsc, kSpatialLdsc, Arity::kTwo, "START END",
                             "Only spots [START, END) (0-based) of the marker-score order. "
                             "Exclusive with --sample-filter.",
                             "0 <= START < END");
    s.apply = [](ParseResult& r, const Tokens& v) {
      const auto max = std::numeric_limits<std::int64_t>::max();
      const std::int64_t a = parse_int("cell-indices-range", v.at(0), 0, max);
      const std::int64_t b = parse_int("cell-indices-range", v.at(1), 0, max);
      if (a >= b) {
        throw UsageError(fmt::format(
            "--cell-indices-range {} {}: START must be smaller than END (allowed: 0 <= START < "
            "END; the range is [START, END), 0-based)",
            a, b));
      }
      r.config.ldsc.cell_indices_range = std::make_pair(a, b);
    };
    s.show = [](const ParseResult& r) {
      const auto& range = r.config.ldsc.cell_indices_range;
      return range ? fmt::format("{} {}", range->first, range->second) : std::string();
    };
    t.push_back(std::move(s));
  }
  t.push_back(string_option("sample-filter", kLdsc, kSpatialLdsc, "NAME",
                            "Only the spots of this sample.",
                            [](auto& r) -> auto& { return r.config.ldsc.sample_filter; }));
  t.push_back(choice_option<MarkerScoreFormat>(
      "marker-score-format", kLdsc, kSpatialLdsc,
      "Marker-score source (default: h5ad when --marker-score-h5ad-path is given, else memmap; "
      "feather is not supported).",
      {"auto", "memmap", "h5ad", "feather"},
      {MarkerScoreFormat::kAuto, MarkerScoreFormat::kMemmap, MarkerScoreFormat::kH5ad,
       MarkerScoreFormat::kFeather},
      [](auto& r) -> auto& { return r.config.ldsc.marker_score_format; }));
  t.push_back(choice_option<ResultsH5ad>(
      "results-h5ad", kLdsc, kSpatialLdsc,
      "PROJECT_results.h5ad of an all-spots run: write it, skip it (one job per trait), or only "
      "build it from the traits' finished csv.gz, computing nothing.",
      {"write", "skip", "only"}, {ResultsH5ad::kWrite, ResultsH5ad::kSkip, ResultsH5ad::kOnly},
      [](auto& r) -> auto& { return r.config.ldsc.results_h5ad; }));
  t.push_back(string_option("marker-score-h5ad-path", kLdsc, kSpatialLdsc, "PATH",
                            "Marker scores as an .h5ad (cells x genes).",
                            [](auto& r) -> auto& { return r.config.ldsc.marker_score_h5ad_path; }));
  t.push_back(string_option("marker-score-feather-path", kLdsc, kSpatialLdsc, "PATH",
                            "Not supported (no Arrow): convert to .h5ad.",
                            [](auto& r) -> auto& { return r.config.ldsc.marker_score_feather_path; }));

  // ---- Cauchy ----
  t.push_back(list_option("cauchy-annotations", kCauchyGroup, kCauchy | kReport, "COLUMN",
                          "More obs columns to combine by; repeat for several.",
                          [](auto& r) -> auto& { return r.config.cauchy.cauchy_annotations; }));
  t.push_back(double_option(
      "cauchy-outlier-iqr-factor", kCauchyGroup, kCauchy,
      "Drop spots with -log10 p >= median + factor * IQR before combining.", 0.0,
      std::numeric_limits<double>::infinity(), true,
      [](auto& r) -> auto& { return r.config.cauchy.cauchy_outlier_iqr_factor; }));
  t.push_back(flag_option("cauchy-use-floored-p", kCauchyGroup, kCauchy,
                          "Use the floored neg_log10_p, so that p = 0 spots are not dropped as "
                          "outliers (off: gsMap's behaviour).",
                          true, "", true,
                          [](auto& r) -> auto& { return r.config.cauchy.cauchy_use_floored_p; }));

  // ---- Simulate ----
  add_simulate_options(t);

  // ---- LD score weight matrix ----
  add_ldscore_options(t);

  // ---- Format sumstats ----
  add_sumstats_options(t);

  // ---- Control ----
  t.push_back(step_option("start-step", "First step to run.",
                          [](auto& r) -> auto& { return r.config.start_step; }));
  t.push_back(step_option("stop-step", "Last step to run.",
                          [](auto& r) -> auto& { return r.config.stop_step; }));
  t.push_back(flag_option("use-gpu", kControl, kLatentToGene | kSpatialLdsc,
                          "Use the GPU when built with CUDA and one is visible, else the CPU "
                          "(one warning).",
                          true, "no-gpu", true,
                          [](auto& r) -> auto& { return r.config.common.use_gpu; }));
  t.push_back(flag_option("no-gpu", kControl, kLatentToGene | kSpatialLdsc, "Use the CPU only.",
                          false, "use-gpu", false,
                          [](auto& r) -> auto& { return r.config.common.use_gpu; }));
  t.push_back(flag_option("force", kControl, kAllSteps | kReport,
                          "Recompute every output the command covers, even when its recorded "
                          "fingerprint says it is up to date.",
                          true, "", true, [](auto& r) -> auto& { return r.config.common.force; }));
  t.push_back(flag_option("dry-run", kControl, kAllSteps | kQuickOnly,
                          "Validate every input of the steps, print the plan (cells, genes, SNPs "
                          "per trait, blocks, memory per rank, disk written) and exit without "
                          "writing anything.",
                          true, "", true, [](auto& r) -> auto& { return r.config.dry_run; }));
  t.push_back(string_option("memmap-tmp-dir", kControl, kLatentToGene | kSpatialLdsc, "DIR",
                            "Existing directory for temporary copies of large intermediates.",
                            [](auto& r) -> auto& { return r.config.common.memmap_tmp_dir; }));
  {
    OptionSpec help = make_spec("help", kControl,
                                kAllSteps | kQuickOnly | kSimulate | kMerge | kReport | kLdscore |
                                    kSumstats,
                                Arity::kFlag, "", "Show this help (-h).");
    help.display_only = true;
    t.push_back(std::move(help));
  }
  return t;
}

}  // namespace

const std::vector<Subcommand>& subcommand_table() {
  static const std::vector<Subcommand> table = {
      {"quick-mode", kAllSteps | kQuickOnly | kReport,
       "latent to gene, spatial LDSC, Cauchy combination and the report in one run; finished "
       "steps are skipped"},
      {"latent-to-gene", kLatentToGene,
       "gene specificity scores (GSS) of every cell from its homogeneous neighbours"},
      {"spatial-ldsc", kSpatialLdsc, "per-spot stratified LD score regression for each trait"},
      {"cauchy-combination", kCauchy, "combine spot p values per annotation group (ACAT)"},
      {"report", kReport,
       "results report <project>/report/index.html: maps of -log10 p, Cauchy charts, QC"},
      {"simulate", kSimulate, "write a small simulated data set (samples, GWAS, weights)"},
      {"merge", kMerge,
       "join partial --cell-indices-range results into <project>_<trait>.csv.gz"},
      {"ldscore-weight-matrix", kLdscore,
       "the SNP x gene LD-score weight matrix (and w_ld weights) from a PLINK reference panel"},
      {"format-sumstats", kSumstats,
       "munge a raw GWAS table into gsMap's <out>.sumstats.gz (SNP A1 A2 Z N) or COJO's table"},
  };
  return table;
}

const Subcommand* find_subcommand(const std::string& name) {
  for (const auto& s : subcommand_table()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = build_table();
  return table;
}

const OptionSpec* find_option(const std::string& name) {
  for (const auto& o : option_table()) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

const std::vector<PythonOnly>& python_only_options() {
  static const std::vector<PythonOnly> table = [] {
    std::vector<PythonOnly> t;
    for (const char* name :
         {"high-quality-cell-qc", "no-high-quality-cell-qc", "two-stage", "single-stage",
          "n-cell-training", "homolog-file", "feat-cell", "n-neighbors", "k", "hidden-size",
          "embedding-size", "use-tf", "no-use-tf", "module-dim", "hidden-gmf", "n-modules",
          "nhead", "n-enc-layer", "distribution", "batch-size", "itermax", "patience",
          "do-sampling", "no-sampling"}) {
      t.push_back({name, "find_latent"});
    }
    for (const char* name : {"downsampling-n-spots-pcc", "downsampling-n-spots-3d",
                             "downsampling-n-spots-2d", "top-corr-genes", "plot-origin"}) {
      t.push_back({name, "report (gene diagnostics)"});
    }
    return t;
  }();
  return table;
}

const std::vector<PythonOnly>& python_only_commands() {
  static const std::vector<PythonOnly> table = {
      {"find-latent", "find_latent"},
      {"report-view", "report"},
  };
  return table;
}

void check_simulate(const sim::SimulateOptions& options) {
  if (options.out_dir.empty()) throw UsageError("simulate: --out DIR is required");
}

const std::vector<std::string>& group_order() {
  static const std::vector<std::string> order = {kInput,   kLatentToGeneGroup, kNeighbours,
                                                 kWorkers, kLdsc,              kCauchyGroup,
                                                 kSimulateGroup, kLdscoreGroup, kSumstatsGroup,
                                                 kControl};
  return order;
}

}  // namespace gsmap::cli::detail
