// Command-line parsing: Boost.Program_options tokenises (exact long names, no abbreviations), the
// option table (option_table.cpp) stores values in command-line order, then the cross-option
// rules of the subcommand are checked.
#include "gsmap/cli/parse.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/version.hpp"
#include "option_table.hpp"

namespace po = boost::program_options;

namespace gsmap::cli {
namespace {

using detail::Arity;
using detail::OptionSpec;
using detail::Subcommand;

constexpr unsigned kHelpLineLength = 100;

// --cell-indices-range START END: exactly two tokens per occurrence.
class TwoTokenValue : public po::typed_value<std::vector<std::string>> {
 public:
  TwoTokenValue() : po::typed_value<std::vector<std::string>>(nullptr) {}
  unsigned min_tokens() const override { return 2; }
  unsigned max_tokens() const override { return 2; }
};

bool accepts(const Subcommand& sub, const OptionSpec& spec) { return (sub.scope & spec.scope) != 0; }

std::string join(const std::vector<std::string>& values, const std::string& sep) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += sep;
    out += v;
  }
  return out;
}

std::vector<std::string> subcommand_names() {
  std::vector<std::string> names;
  for (const auto& s : detail::subcommand_table()) names.push_back(s.name);
  return names;
}

// "spatial-ldsc (and quick-mode)", "latent-to-gene, cauchy-combination (and quick-mode)",
// "quick-mode".
std::string owners(const OptionSpec& spec) {
  std::vector<std::string> names;
  bool quick = false;
  for (const auto& s : detail::subcommand_table()) {
    if (!accepts(s, spec)) continue;
    if (s.name == "quick-mode") {
      quick = true;
    } else {
      names.push_back(s.name);
    }
  }
  if (names.empty()) return quick ? "quick-mode" : "no subcommand";
  return join(names, ", ") + (quick ? " (and quick-mode)" : "");
}

// The closest of `candidates` to `name`, if close enough to be a likely typo.
std::optional<std::string> closest(const std::string& name,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(name, c);
    if (!best || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  const std::size_t allowed = std::max<std::size_t>(2, name.size() / 4);
  if (best && best_distance <= allowed) return best;
  return std::nullopt;
}

// An option name that is not an option of `sub`: say where it belongs, or what was meant.
[[noreturn]] void reject_option(const std::string& name, const Subcommand& sub) {
  if (const OptionSpec* spec = detail::find_option(name)) {
    throw UsageError(fmt::format("--{} is an option of {}, not of {}", name, owners(*spec), sub.name));
  }
  for (const auto& p : detail::python_only_options()) {
    if (p.name == name) {
      throw UsageError(fmt::format(
          "--{} is an option of gsMap's {} step, which gsmap-mpi does not run; gsMap's Python tool "
          "provides it",
          name, p.step));
    }
  }
  std::vector<std::string> own;
  std::vector<std::string> all;
  for (const auto& o : detail::option_table()) {
    all.push_back(o.name);
    if (accepts(sub, o)) own.push_back(o.name);
  }
  if (auto guess = closest(name, own)) {
    throw UsageError(
        fmt::format("unknown option --{} for {}; did you mean --{}?", name, sub.name, *guess));
  }
  if (auto guess = closest(name, all)) {
    throw UsageError(fmt::format("unknown option --{} for {}; did you mean --{} (an option of {})?",
                                 name, sub.name, *guess, owners(*detail::find_option(*guess))));
  }
  throw UsageError(fmt::format("unknown option --{} for {} (see gsmap-mpi {} --help)", name,
                               sub.name, sub.name));
}

// "--name=value" / "-name" -> "name".
std::string option_name_of(const std::string& token) {
  std::string name = token.substr(token.find_first_not_of('-'));
  return name.substr(0, name.find('='));
}

bool looks_like_option(const std::string& token) {
  return token.size() > 1 && token[0] == '-' &&
         !(std::isdigit(static_cast<unsigned char>(token[1])) || token[1] == '.');
}

// The help section of `spec` in `sub`'s help (its own section for a shared option).
const std::string& group_of(const OptionSpec& spec, const Subcommand* sub) {
  if (sub) {
    for (const auto& [scope, group] : spec.group_for) {
      if (sub->scope & scope) return group;
    }
  }
  return spec.group;
}

po::options_description describe_group(const std::string& group, const Subcommand* sub,
                                       bool with_owners) {
  const ParseResult defaults;
  po::options_description desc(group, kHelpLineLength, kHelpLineLength / 2);
  for (const auto& spec : detail::option_table()) {
    if (group_of(spec, sub) != group || (sub && !accepts(*sub, spec))) continue;
    std::string text = spec.help;
    if (sub && sub->name != "quick-mode") {
      for (const auto& [scope, own] : spec.help_for) {
        if (sub->scope & scope) {
          text = own;
          break;
        }
      }
    }
    if (!spec.range.empty()) text += " Allowed: " + spec.range + ".";
    if (spec.arity == Arity::kFlag) {
      const OptionSpec* primary = spec.show ? &spec : detail::find_option(spec.negation);
      const bool primary_default_on = primary && primary->show(defaults) == "on";
      if (!spec.negation.empty() && (primary == &spec) == primary_default_on) text += " (default)";
    } else if (!spec.default_text.empty()) {
      text += " Default: " + spec.default_text + ".";
    } else if (spec.show) {
      const std::string def = spec.show(defaults);
      if (!def.empty()) text += " Default: " + def + ".";
    }
    if (spec.arity == Arity::kList) text += " Repeatable.";
    if (with_owners && !spec.display_only) text += " [" + owners(spec) + "]";

    const po::value_semantic* semantic = nullptr;
    switch (spec.arity) {
      case Arity::kFlag: semantic = new po::untyped_value(/*zero_tokens=*/true); break;
      case Arity::kOne:
      case Arity::kList: semantic = po::value<std::string>()->value_name(spec.value_name); break;
      case Arity::kTwo: semantic = (new TwoTokenValue())->value_name(spec.value_name); break;
    }
    desc.add(boost::shared_ptr<po::option_description>(
        new po::option_description(spec.name.c_str(), semantic, text.c_str())));
  }
  return desc;
}

// The parsing description of `sub`: every option it accepts, help excluded (handled before).
po::options_description parse_description(const Subcommand& sub) {
  po::options_description all;
  for (const auto& group : detail::group_order()) all.add(describe_group(group, &sub, false));
  return all;
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

void require_workdir(const std::string& workdir, const std::string& project_name) {
  if (workdir.empty()) {
    throw UsageError("--workdir is required (an existing directory; outputs go to "
                     "WORKDIR/PROJECT/)");
  }
  if (!is_directory(workdir)) {
    throw UsageError(fmt::format(
        "--workdir {}: not an existing directory. Create it first (mkdir -p {})", workdir, workdir));
  }
  if (project_name.empty()) throw UsageError("--project-name is required");
  // It names WORKDIR/PROJECT and every output file (docs/usage.md, "Names").
  io::require_safe_name(project_name, "--project-name");
}

// docs/algorithms.md §6.5: exactly one of (--trait-name + --sumstats-file) or
// --sumstats-config-file.
void check_traits(const SpatialLdscConfig& l) {
  const std::string both =
      "give either --trait-name NAME --sumstats-file PATH, or --sumstats-config-file YAML";
  if (!l.sumstats_config_file.empty()) {
    if (!l.trait_name.empty() || !l.sumstats_file.empty()) {
      throw UsageError(fmt::format("--sumstats-config-file cannot be combined with {}: {}",
                                   l.trait_name.empty() ? "--sumstats-file" : "--trait-name", both));
    }
    return;
  }
  if (l.trait_name.empty() && l.sumstats_file.empty()) {
    throw UsageError("no trait given: " + both);
  }
  if (l.sumstats_file.empty()) {
    throw UsageError("--trait-name " + l.trait_name + " needs --sumstats-file (or use "
                     "--sumstats-config-file YAML instead)");
  }
  if (l.trait_name.empty()) {
    throw UsageError("--sumstats-file " + l.sumstats_file + " needs --trait-name NAME");
  }
  io::require_safe_name(l.trait_name, "--trait-name");
}

// Also resolves what the dataset type implies; `warnings` (may be null) gets a line for each
// given value that is overridden that way.
void check_latent_to_gene(LatentToGeneConfig& g, std::vector<std::string>* warnings) {
  const LatentToGeneConfig defaults;
  const auto warn = [&](std::string line) {
    if (warnings) warnings->push_back(std::move(line));
  };
  const int sources = int(!g.h5ad_path.empty()) + int(!g.h5ad_yaml.empty()) +
                      int(!g.h5ad_list_file.empty());
  if (sources > 1) {
    throw UsageError("--h5ad-path, --h5ad-yaml and --h5ad-list-file are exclusive: declare the "
                     "samples with one of them");
  }
  const int k = g.homogeneous_neighbors;
  const int kc = g.spatial_neighbors;
  const int ka = g.adjacent_slice_spatial_neighbors;
  switch (g.dataset_type) {
    case DatasetType::kSpatial3D:
      if (g.n_adjacent_slices < 1) {
        throw UsageError("--n-adjacent-slices must be >= 1 for --dataset-type spatial3D (allowed: "
                         "1-5)");
      }
      if (ka > kc) {
        throw UsageError(fmt::format(
            "--adjacent-slice-spatial-neighbors {} must not exceed --spatial-neighbors {}", ka, kc));
      }
      if (k > ka) {
        throw UsageError(fmt::format(
            "--homogeneous-neighbors {} must not exceed --adjacent-slice-spatial-neighbors {} for "
            "spatial3D",
            k, ka));
      }
      break;
    case DatasetType::kSpatial2D:
      if (k > kc) {
        throw UsageError(fmt::format(
            "--homogeneous-neighbors {} must not exceed --spatial-neighbors {}", k, kc));
      }
      break;
    case DatasetType::kScRNA:
      // docs/algorithms.md §3.1: scRNA data have neither coordinates nor niches.
      if (g.spatial_key != defaults.spatial_key) {
        warn("--spatial-key " + g.spatial_key + " is ignored for --dataset-type scRNA");
      }
      if (!g.latent_representation_niche.empty()) {
        warn("--latent-representation-niche " + g.latent_representation_niche +
             " is ignored for --dataset-type scRNA");
      }
      g.spatial_key.clear();
      g.latent_representation_niche.clear();
      break;
  }
  if (g.dataset_type != DatasetType::kSpatial3D) {
    // docs/algorithms.md §3.1: forced to 0 without a third dimension.
    if (g.n_adjacent_slices != defaults.n_adjacent_slices && g.n_adjacent_slices != 0) {
      warn(fmt::format("--n-adjacent-slices {} is ignored: only spatial3D data have adjacent "
                       "slices (--dataset-type spatial3D)",
                       g.n_adjacent_slices));
    }
    g.n_adjacent_slices = 0;
  }
}

void check_spatial_ldsc(SpatialLdscConfig& l, bool weights_needed) {
  if (l.cell_indices_range && !l.sample_filter.empty()) {
    throw UsageError("--cell-indices-range and --sample-filter are exclusive: select spots with "
                     "one of them");
  }
  if (!l.sample_filter.empty()) io::require_safe_name(l.sample_filter, "--sample-filter");
  if (l.results_h5ad == ResultsH5ad::kOnly && (l.cell_indices_range || !l.sample_filter.empty())) {
    throw UsageError("--results-h5ad only builds the results of all spots: drop "
                     "--cell-indices-range / --sample-filter (join range files with merge first)");
  }
  if (l.marker_score_format == MarkerScoreFormat::kFeather || !l.marker_score_feather_path.empty()) {
    throw UsageError("feather marker scores are not supported (gsmap-mpi is built without Arrow): "
                     "convert them to .h5ad and use --marker-score-h5ad-path");
  }
  if (l.marker_score_format == MarkerScoreFormat::kH5ad && l.marker_score_h5ad_path.empty()) {
    throw UsageError("--marker-score-format h5ad needs --marker-score-h5ad-path PATH");
  }
  if (l.marker_score_format == MarkerScoreFormat::kMemmap && !l.marker_score_h5ad_path.empty()) {
    throw UsageError("--marker-score-format memmap contradicts --marker-score-h5ad-path: drop one");
  }
  if (weights_needed && l.snp_gene_weight_adata_path.empty()) {
    throw UsageError("--snp-gene-weight-adata-path is required for spatial LDSC (the SNP-gene "
                     "weight matrix, .h5ad)");
  }
}

void check_cauchy(const CauchyConfig& c) {
  if (c.annotation.empty() && c.cauchy_annotations.empty()) {
    throw UsageError("the Cauchy combination needs an annotation: give --annotation COLUMN and/or "
                     "--cauchy-annotations COLUMN");
  }
  // Annotation names become parts of the Cauchy file names.
  if (!c.annotation.empty()) io::require_safe_name(c.annotation, "--annotation");
  for (const auto& a : c.cauchy_annotations) io::require_safe_name(a, "--cauchy-annotations");
}

bool step_in_range(const Config& c, Step s) {
  return static_cast<int>(c.start_step) <= static_cast<int>(s) &&
         static_cast<int>(s) <= static_cast<int>(c.stop_step);
}

void check_steps(ParseResult& r, const Subcommand& sub) {
  Config& c = r.config;
  require_workdir(c.common.workdir, c.common.project_name);
  if (!c.common.memmap_tmp_dir.empty() && !is_directory(c.common.memmap_tmp_dir)) {
    throw UsageError(fmt::format("--memmap-tmp-dir {}: not an existing directory",
                                 c.common.memmap_tmp_dir));
  }
  const bool quick = sub.name == "quick-mode";
  if (quick && static_cast<int>(c.start_step) > static_cast<int>(c.stop_step)) {
    throw UsageError("--start-step comes after --stop-step (order: latent_to_gene, spatial_ldsc, "
                     "cauchy_combination, report)");
  }
  if (sub.scope & detail::kLatentToGene) check_latent_to_gene(c.l2g, &r.warnings);
  if (sub.scope & detail::kSpatialLdsc) {
    check_spatial_ldsc(c.ldsc, !quick || step_in_range(c, Step::kSpatialLdsc));
  }
  // quick-mode checks traits and annotations at start-up whatever the step range
  // (docs/usage.md "quick-mode").
  if (sub.scope & (detail::kSpatialLdsc | detail::kCauchy)) check_traits(c.ldsc);
  if (sub.scope & detail::kCauchy) check_cauchy(c.cauchy);
  if (sub.name == "latent-to-gene") {
    c.start_step = c.stop_step = Step::kLatentToGene;
  } else if (sub.name == "spatial-ldsc") {
    c.start_step = c.stop_step = Step::kSpatialLdsc;
  } else if (sub.name == "cauchy-combination") {
    c.start_step = c.stop_step = Step::kCauchyCombination;
  }
}

// `report`: traits and annotations are optional (default: every result found).
void check_report(Config& c) {
  require_workdir(c.common.workdir, c.common.project_name);
  if (!c.ldsc.trait_name.empty()) io::require_safe_name(c.ldsc.trait_name, "--trait-name");
  if (!c.ldsc.trait_name.empty() && !c.ldsc.sumstats_config_file.empty()) {
    throw UsageError("report: --trait-name and --sumstats-config-file are exclusive (neither: "
                     "every trait with results)");
  }
  if (!c.cauchy.annotation.empty()) io::require_safe_name(c.cauchy.annotation, "--annotation");
  for (const auto& a : c.cauchy.cauchy_annotations) io::require_safe_name(a, "--cauchy-annotations");
  c.start_step = c.stop_step = Step::kReport;
}

void check_merge(const pipeline::MergeOptions& m) {
  require_workdir(m.workdir, m.project_name);
  if (!m.trait_name.empty() && !m.sumstats_config_file.empty()) {
    throw UsageError("merge: --trait-name and --sumstats-config-file are exclusive (neither: merge "
                     "every trait that has partial results)");
  }
  if (!m.trait_name.empty()) io::require_safe_name(m.trait_name, "--trait-name");
}

std::string shell_quote(const std::string& token) {
  const bool plain = !token.empty() && std::all_of(token.begin(), token.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("-_./=:,+@%").find(ch) !=
                                                               std::string_view::npos;
  });
  if (plain) return token;
  std::string out = "'";
  for (char ch : token) {
    if (ch == '\'') {
      out += "'\\''";
    } else {
      out += ch;
    }
  }
  return out + "'";
}

}  // namespace

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

bool ParseResult::was_given(const std::string& name) const {
  return std::find(given.begin(), given.end(), name) != given.end();
}

const std::vector<std::string>& subcommands() {
  static const std::vector<std::string> names = subcommand_names();
  return names;
}

ParseResult parse(const std::vector<std::string>& args) {
  ParseResult r;
  const std::string usage = "usage: gsmap-mpi <subcommand> [options]; subcommands: " +
                            join(subcommands(), ", ") + " (see gsmap-mpi --help)";
  if (args.empty()) throw UsageError("no subcommand given; " + usage);
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    r.action = Action::kHelp;
    r.help_text = help_text("");
    return r;
  }
  if (first == "--version" || first == "-v" || first == "version") {
    r.action = Action::kVersion;
    return r;
  }
  if (first.starts_with("-")) {
    throw UsageError(fmt::format("expected a subcommand before the options, got {}; {}", first,
                                 usage));
  }
  const Subcommand* sub = detail::find_subcommand(first);
  if (!sub) {
    for (const auto& p : detail::python_only_commands()) {
      if (p.name == first) {
        throw UsageError(fmt::format("'{}' is a gsMap command that gsmap-mpi does not implement; "
                                     "gsMap's Python tool provides it (gsmap {})",
                                     first, first));
      }
    }
    if (auto guess = closest(first, subcommands())) {
      throw UsageError(fmt::format("unknown subcommand '{}'; did you mean '{}'?", first, *guess));
    }
    throw UsageError(fmt::format("unknown subcommand '{}'; {}", first, usage));
  }
  r.subcommand = sub->name;

  const std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& token : rest) {
    if (token == "--help" || token == "-h") {
      r.action = Action::kHelp;
      r.help_text = help_text(sub->name);
      return r;
    }
    if (token == "--version") {
      r.action = Action::kVersion;
      return r;
    }
  }

  // Long options only, exact names: gsMap's names are long, and prefix guessing would turn a
  // typo into a different option. Without short options "-5" stays a value.
  const int style = po::command_line_style::allow_long | po::command_line_style::long_allow_adjacent |
                    po::command_line_style::long_allow_next;
  const po::options_description desc = parse_description(*sub);
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::command_line_parser(rest).options(desc).style(style).allow_unregistered().run();
  } catch (const po::error& e) {
    throw UsageError(fmt::format("{} (see gsmap-mpi {} --help)", e.what(), sub->name));
  }

  std::map<std::string, int> occurrences;
  const OptionSpec* previous = nullptr;
  for (const auto& opt : parsed.options) {
    if (opt.string_key.empty()) {  // a token that is not an option
      const std::string token = opt.original_tokens.empty() ? std::string() : opt.original_tokens[0];
      if (looks_like_option(token)) {
        try {
          reject_option(option_name_of(token), *sub);
        } catch (const UsageError& e) {
          throw UsageError(std::string(e.what()) + " (options start with two dashes: --" +
                           option_name_of(token) + ")");
        }
      }
      std::string message = fmt::format("unexpected argument '{}'", token);
      if (previous && previous->arity == Arity::kList) {
        message += fmt::format("; --{0} takes one value per occurrence: repeat it (--{0} A --{0} B)",
                               previous->name);
      } else if (previous && previous->arity == Arity::kOne) {
        message += fmt::format("; --{} takes one value", previous->name);
      }
      throw UsageError(message);
    }
    const std::string name =
        opt.unregistered && !opt.original_tokens.empty() ? option_name_of(opt.original_tokens[0])
                                                         : opt.string_key;
    const OptionSpec* spec = detail::find_option(name);
    if (opt.unregistered || !spec || !accepts(*sub, *spec)) reject_option(name, *sub);
    if ((spec->arity == Arity::kOne || spec->arity == Arity::kTwo) && ++occurrences[name] > 1) {
      throw UsageError(fmt::format("--{} given more than once", name));
    }
    spec->apply(r, opt.value);
    r.given.push_back(name);
    previous = spec;
  }

  std::string command_line = "gsmap-mpi";
  for (const auto& a : args) command_line += " " + shell_quote(a);
  r.config.common.command_line = command_line;

  if (sub->scope & (detail::kAllSteps | detail::kQuickOnly)) {
    check_steps(r, *sub);
  } else if (sub->scope & detail::kMerge) {
    check_merge(r.merge);
  } else if (sub->scope & detail::kReport) {
    check_report(r.config);
  } else if (sub->scope & detail::kSimulate) {
    detail::check_simulate(r.simulate);
  } else if (sub->scope & detail::kSumstats) {
    sumstats::check_options(r.sumstats);
  } else if (sub->scope & detail::kLdscore) {
    ldscore::check_options(r.ldscore);
    r.warnings.insert(r.warnings.end(), r.ldscore.warnings.begin(), r.ldscore.warnings.end());
  }
  return r;
}

// One example per subcommand: the demo data set of `gsmap-mpi simulate` (docs/usage.md).
std::string example_of(const std::string& sub) {
  const std::string mpirun = "mpirun -np 2 --bind-to none ";
  const std::string traits = "    --sumstats-config-file demo/data/gwas/sumstats.yaml \\\n";
  const std::string ldsc_inputs =
      "    --snp-gene-weight-adata-path demo/data/weights/snp_gene_weights.h5ad \\\n"
      "    --w-ld-dir demo/data/w_ld\n";
  const std::string samples =
      "    --h5ad-yaml demo/data/st/samples.yaml --annotation annotation \\\n"
      "    --latent-representation-cell emb_cell --latent-representation-niche emb_niche";
  const std::string project = " --workdir demo/work --project-name demo \\\n";
  if (sub == "quick-mode") {
    return "  " + mpirun + "gsmap-mpi quick-mode" + project + samples +
           " \\\n    --cauchy-annotations domain \\\n" + traits + ldsc_inputs;
  }
  if (sub == "latent-to-gene") return "  " + mpirun + "gsmap-mpi latent-to-gene" + project + samples + "\n";
  if (sub == "spatial-ldsc") return "  " + mpirun + "gsmap-mpi spatial-ldsc" + project + traits + ldsc_inputs;
  if (sub == "cauchy-combination") {
    return "  gsmap-mpi cauchy-combination" + project +
           "    --annotation annotation --cauchy-annotations domain \\\n"
           "    --sumstats-config-file demo/data/gwas/sumstats.yaml\n";
  }
  if (sub == "simulate") return "  gsmap-mpi simulate --out demo/data --seed 1\n";
  if (sub == "format-sumstats") {
    return "  gsmap-mpi format-sumstats --sumstats height.txt.gz --out gwas/height \\\n"
           "    --snp MarkerName --a1 Allele1 --a2 Allele2 --p p_value --n 250000\n";
  }
  if (sub == "merge") return "  gsmap-mpi merge --workdir demo/work --project-name demo --trait-name planted_T1\n";
  return {};
}

std::string help_text(const std::string& subcommand) {
  std::ostringstream out;
  if (!subcommand.empty()) {
    const Subcommand* sub = detail::find_subcommand(subcommand);
    if (!sub) throw UsageError("unknown subcommand '" + subcommand + "'");
    out << "gsmap-mpi " << sub->name << ": " << sub->summary << "\n\n"
        << "Usage: [mpirun -np N] gsmap-mpi " << sub->name << " [options]\n";
    for (const auto& group : detail::group_order()) {
      const auto desc = describe_group(group, sub, false);
      if (desc.options().empty()) continue;
      out << "\n" << desc;
    }
    if (sub->name == "format-sumstats") {
      out << "\nExample (columns MarkerName Allele1 Allele2 BETA SE p_value):\n"
          << example_of(sub->name);
      return out.str();
    }
    out << "\nExample (the demo data of `gsmap-mpi simulate --out demo/data --seed 1`; "
           "mkdir -p demo/work):\n"
        << example_of(sub->name);
    return out.str();
  }
  out << "gsmap-mpi " << kVersion
      << ": gsMap3D's compute core (latent to gene, spatial LDSC, Cauchy combination) on MPI "
         "ranks, threads and GPUs.\n\n"
         "Usage: [mpirun -np N | srun] gsmap-mpi <subcommand> [options]\n"
         "       gsmap-mpi <subcommand> --help   the options of one subcommand, with defaults\n"
         "       gsmap-mpi --version\n\nSubcommands:\n";
  for (const auto& s : detail::subcommand_table()) {
    out << fmt::format("  {:<20}{}\n", s.name, s.summary);
  }
  out << "\nOptions by section; [..] lists the subcommands that accept each. Option names are "
         "gsMap's; list options are repeated (--h5ad-path A --h5ad-path B).\n";
  for (const auto& group : detail::group_order()) {
    const auto desc = describe_group(group, nullptr, true);
    if (desc.options().empty()) continue;
    out << "\n" << desc;
  }
  std::vector<std::string> commands;
  for (const auto& c : detail::python_only_commands()) commands.push_back(c.name);
  std::vector<std::string> options;
  for (const auto& o : detail::python_only_options()) options.push_back("--" + o.name);
  out << "\nProvided by gsMap's Python tool, not by gsmap-mpi: the find_latent step and the "
         "report's gene diagnostics; "
         "the commands "
      << join(commands, ", ") << "; the options " << join(options, ", ") << ".\n";
  out << "\nExample: a simulated data set, then the whole pipeline on 2 ranks:\n"
      << example_of("simulate") << "  mkdir -p demo/work\n"
      << example_of("quick-mode")
      << "Step names (--start-step, --stop-step) are matched in any case and also take gsMap3D's\n"
         "spellings latent2gene (latent_to_gene) and cauchy (cauchy_combination).\n";
  return out.str();
}

std::vector<std::string> option_names(const std::string& subcommand) {
  const Subcommand* sub = subcommand.empty() ? nullptr : detail::find_subcommand(subcommand);
  if (!subcommand.empty() && !sub) throw UsageError("unknown subcommand '" + subcommand + "'");
  std::vector<std::string> names;
  for (const auto& spec : detail::option_table()) {
    if (!sub || accepts(*sub, spec)) names.push_back("--" + spec.name);
  }
  return names;
}

std::vector<std::string> resolved_options(const ParseResult& parsed) {
  const Subcommand* sub = detail::find_subcommand(parsed.subcommand);
  std::vector<std::string> lines;
  if (!sub) return lines;
  // Compare with the defaults as this dataset type resolves them, so that what --dataset-type
  // implies (no adjacent slices for spatial2D, ...) is not listed as if given.
  ParseResult defaults;
  if (sub->scope & detail::kLatentToGene) {
    defaults.config.l2g.dataset_type = parsed.config.l2g.dataset_type;
    check_latent_to_gene(defaults.config.l2g, nullptr);
    defaults.config.l2g.dataset_type = ParseResult().config.l2g.dataset_type;
  }
  for (const auto& group : detail::group_order()) {
    for (const auto& spec : detail::option_table()) {
      if (spec.group != group || !accepts(*sub, spec) || !spec.show) continue;
      // Run-time defaults (worker counts from the cores) are not choices of the user.
      if (!spec.default_text.empty() && !parsed.was_given(spec.name)) continue;
      const std::string value = spec.show(parsed);
      if (value == spec.show(defaults)) continue;
      if (spec.arity == Arity::kFlag) {
        lines.push_back(value == "on" || spec.negation.empty() ? "--" + spec.name
                                                               : "--" + spec.negation);
      } else {
        lines.push_back("--" + spec.name + " " + (value.empty() ? std::string("(none)") : value));
      }
    }
  }
  return lines;
}

}  // namespace gsmap::cli
