#pragma once
// The command line of gsmap-mpi, parsed without MPI (so it is unit-testable): the subcommand and
// the filled settings. Option names are gsMap's (docs/usage.md "All options",
// docs/algorithms.md §3.1, docs/usage.md "Spatial LDSC") plus ours (docs/migration.md). Every
// problem is a UsageError whose message says what is wrong and what is allowed.
#include <string>
#include <vector>

#include "gsmap/ldscore/options.hpp"
#include "gsmap/pipeline/config.hpp"
#include "gsmap/pipeline/steps.hpp"
#include "gsmap/sim/simulate.hpp"
#include "gsmap/sumstats/format.hpp"

namespace gsmap::cli {

enum class Action {
  kRun,      // run `subcommand` with the settings below
  kHelp,     // print help_text and exit 0
  kVersion,  // print version_text() (commands.hpp) and exit 0
};

struct ParseResult {
  Action action = Action::kRun;
  std::string subcommand;  // "quick-mode", "latent-to-gene", ...; empty for top-level help/version
  Config config;           // the step subcommands
  pipeline::MergeOptions merge;
  sim::SimulateOptions simulate;
  ldscore::Options ldscore;
  sumstats::Options sumstats;
  std::string help_text;   // Action::kHelp only
  // Given values that the rules override (e.g. --n-adjacent-slices for spatial2D data); rank 0
  // logs them as warnings.
  std::vector<std::string> warnings;
  // The options given on the command line (names without "--"), in order: what the run-time
  // defaults (worker counts from the rank's cores, cli/resources.hpp) must not override.
  std::vector<std::string> given;
  bool was_given(const std::string& name) const;
};

// `args` = argv[1..]. Throws UsageError. Checks that --workdir (and --memmap-tmp-dir) exist; reads
// no other file.
ParseResult parse(const std::vector<std::string>& args);

// The subcommands gsmap-mpi runs, in help order.
const std::vector<std::string>& subcommands();
// `gsmap-mpi --help` (subcommand empty) or `gsmap-mpi <subcommand> --help`.
std::string help_text(const std::string& subcommand);
// Every option name (with "--") that `subcommand` accepts; empty subcommand: every option.
std::vector<std::string> option_names(const std::string& subcommand);
// The settings that differ from their defaults, one "--name value" per line (flags alone), in help
// order: what rank 0 logs as the resolved configuration.
std::vector<std::string> resolved_options(const ParseResult& parsed);

// Levenshtein distance (for "did you mean").
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace gsmap::cli
