#pragma once
// Cauchy combination per trait, annotation column and group (docs/algorithms.md §9):
// gsMap3D's `cauchy-combination` step, MPI-free. Inputs are plain structs so that the caller can
// feed them from gsMap's <project>_<trait>.csv.gz (read_ldsc_csv in ldsc_csv.hpp) and from the obs
// of marker_scores.h5ad / concatenated_latent_adata.h5ad.
//
// Deterministic order (gsMap3D's is thread-completion order followed by an unstable sort): groups
// are first ordered by label (byte order), sample-level groups by (label, sample_name); a stable
// sort by p_median (annotation level) or by (sample_name, p_median) (sample level) follows, so
// equal p_median values keep label order. NaN p_median (impossible for finite inputs) sorts last.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gsmap::cauchy {

// gsMap3D fills missing labels with this string; it is then a normal group.
inline constexpr const char* kMissingLabel = "NaN";

// One trait's per-spot spatial-LDSC results. NaN marks a missing value; rows with a missing value
// in the column that is used (p, or neg_log10_p with use_floored_p) are dropped. (read_ldsc_csv
// already drops rows with a missing value in any column, as gsMap3D's dropna() does.)
struct TraitPValues {
  std::string trait;
  std::string source;  // file the values came from, for messages (may be empty)
  std::vector<std::string> spots;
  std::vector<double> p;
  std::vector<double> neg_log10_p;  // LDSC's floored -log10(max(p, 1e-300))
};

// Per-spot labels (obs). Labels are strings as gsMap3D sees them after astype(str); a missing
// label is std::nullopt and becomes the group kMissingLabel.
struct SpotAnnotations {
  std::string source;  // file, for messages
  std::vector<std::string> spots;
  struct Column {
    std::string name;
    std::vector<std::optional<std::string>> labels;
  };
  std::vector<Column> columns;  // the annotation columns to analyse, in output order
  // obs["sample_name"]; absent -> the sample-level analysis is skipped.
  std::optional<std::vector<std::optional<std::string>>> sample_name;
};

struct CauchyOptions {
  double outlier_iqr_factor = 3.0;  // --cauchy-outlier-iqr-factor (gsMap3D's code: 3)
  bool use_floored_p = false;       // --cauchy-use-floored-p: q = neg_log10_p instead of -log10(p)
};

// gsMap3D's df_combined: the inner join of all traits' q = -log10 p on spot name, restricted to
// spots that also have labels, in ascending spot-name (byte) order.
struct CombinedScores {
  std::vector<std::string> spots;
  std::vector<std::string> traits;
  std::vector<std::vector<double>> q;  // [trait][spot]; may be +inf (p = 0) without the floor
  std::vector<std::string> annotation_names;
  std::vector<std::vector<std::string>> labels;          // [annotation][spot], missing -> "NaN"
  std::optional<std::vector<std::string>> sample_names;  // [spot], missing -> "NaN"
};

// Builds the joined table. InputError for: no traits, mismatched vector lengths, a duplicated
// spot name within one trait or within the annotations, a duplicated trait name, no spot common to
// all traits and the annotations (gsMap3D only warns and writes nothing; we refuse, so that a
// missing output is never silent).
CombinedScores combine_scores(const std::vector<TraitPValues>& traits,
                              const SpotAnnotations& annotations, const CauchyOptions& options);

struct CauchyRow {
  std::string trait;
  std::string annotation_name;
  std::string annotation;
  double p_cauchy = 1.0;
  double p_median = 1.0;
  double top_95_quantile = 0.0;
  std::int64_t sig_spots = 0;
  std::int64_t total_spots = 0;
  std::string sample_name;  // sample level only
};

// Rows for one trait and one annotation column (indexes into CombinedScores), sorted as described
// above. Background for sig_spots: all spots of the table (threshold 0.05 / #spots).
std::vector<CauchyRow> cauchy_annotation_level(const CombinedScores& scores, std::size_t trait,
                                               std::size_t annotation,
                                               const CauchyOptions& options);
// Same per (label, sample) pair that occurs; background: all spots of that sample. Empty when the
// table has no sample names.
std::vector<CauchyRow> cauchy_sample_level(const CombinedScores& scores, std::size_t trait,
                                           std::size_t annotation, const CauchyOptions& options);

// The CSV text as pandas' to_csv writes it (header, no index; floats as Python repr; string
// fields quoted only where they contain , " CR or LF). Columns: trait, annotation_name,
// annotation, p_cauchy, p_median, top_95_quantile, sig_spots, total_spots[, sample_name].
std::string format_cauchy_csv(const std::vector<CauchyRow>& rows, bool sample_level);

// <dir>/<project>_<trait>.<annotation>.cauchy.csv or .sample_cauchy.csv
std::string cauchy_result_path(const std::string& dir, const std::string& project,
                               const std::string& trait, const std::string& annotation,
                               bool sample_level);

// Runs every trait x annotation column and writes both CSVs per pair atomically into `out_dir`
// (created if missing); the sample-level file only when the table has sample names (gsMap3D
// skips it too). Returns the paths written, in order.
std::vector<std::string> write_cauchy_results(const CombinedScores& scores,
                                              const std::string& out_dir,
                                              const std::string& project,
                                              const CauchyOptions& options);

}  // namespace gsmap::cauchy
