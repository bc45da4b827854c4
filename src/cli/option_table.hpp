#pragma once
// Internal to cli/: the table of every option gsmap-mpi knows, which subcommands accept it, how it
// is stored and shown. One table drives parsing, `--help`, the "belongs to another step" errors and
// the resolved-configuration log, so they cannot disagree.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gsmap/cli/parse.hpp"

namespace gsmap::cli::detail {

// Which subcommands accept an option: a subcommand accepts it when their scopes intersect.
enum Scope : unsigned {
  kLatentToGene = 1u << 0,
  kSpatialLdsc = 1u << 1,
  kCauchy = 1u << 2,
  kQuickOnly = 1u << 3,  // quick-mode's own options (--start-step, --stop-step)
  kSimulate = 1u << 4,
  kMerge = 1u << 5,
  kReport = 1u << 6,  // the report subcommand (also quick-mode's last step)
  kLdscore = 1u << 7,  // ldscore-weight-matrix
  kSumstats = 1u << 8,  // format-sumstats
  kAllSteps = kLatentToGene | kSpatialLdsc | kCauchy,
};

struct Subcommand {
  std::string name;
  unsigned scope;
  std::string summary;
};
const std::vector<Subcommand>& subcommand_table();
const Subcommand* find_subcommand(const std::string& name);

enum class Arity {
  kFlag,  // no value
  kOne,   // one value, given at most once
  kList,  // one value per occurrence, repeatable
  kTwo,   // two values (--cell-indices-range START END), given at most once
};

using Tokens = std::vector<std::string>;

struct OptionSpec {
  std::string name;  // without the leading "--"
  std::string group;
  unsigned scope = 0;
  Arity arity = Arity::kOne;
  std::string value_name;  // "N", "PATH", ...
  std::string help;        // without the default / range, which are appended from the fields below
  std::string range;       // "1-200", ">= 2", "scRNA | spatial2D | spatial3D"; empty = free
  // Stores the tokens of one occurrence (throws UsageError for a bad value).
  std::function<void(ParseResult&, const Tokens&)> apply;
  // The current value as text ("" = unset / none). Empty function: the option shows nothing
  // (the negative half of a flag pair). Flags show "on" / "off".
  std::function<std::string(const ParseResult&)> show;
  // A subcommand's own meaning of a shared option: the first entry whose scope the subcommand's
  // intersects replaces `help` in that subcommand's --help (quick-mode and the top-level help
  // show `help`, which covers every meaning).
  std::vector<std::pair<unsigned, std::string>> help_for;
  // A subcommand's own help section for a shared option (first entry whose scope intersects the
  // subcommand's); `group` elsewhere.
  std::vector<std::pair<unsigned, std::string>> group_for;
  // Replaces "Default: <value>" in --help when the default is decided at run time.
  std::string default_text;
  std::string negation;  // flags: the other half of a --x/--no-x pair, if any
  bool display_only = false;  // --help: listed, but handled before option parsing
};
const std::vector<OptionSpec>& option_table();
const OptionSpec* find_option(const std::string& name);

// Options of gsMap steps that gsmap-mpi does not run (docs/migration.md), and gsMap commands
// it does not implement: name -> the gsMap step / command that has it.
struct PythonOnly {
  std::string name;
  std::string step;
};
const std::vector<PythonOnly>& python_only_options();
const std::vector<PythonOnly>& python_only_commands();

// The rules of `simulate` that the option ranges do not express.
void check_simulate(const sim::SimulateOptions& options);

// Help sections, in order.
const std::vector<std::string>& group_order();

}  // namespace gsmap::cli::detail
