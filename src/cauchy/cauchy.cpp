#include "gsmap/cauchy/cauchy.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <span>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include "gsmap/cauchy/statistics.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::cauchy {
namespace {

void check_options(const CauchyOptions& options) {
  if (!std::isfinite(options.outlier_iqr_factor) || options.outlier_iqr_factor < 0.0) {
    throw UsageError(fmt::format(
        "--cauchy-outlier-iqr-factor must be a finite number >= 0 (got {}); gsMap3D uses 3",
        options.outlier_iqr_factor));
  }
}

std::string describe_source(const std::string& source, const std::string& fallback) {
  return source.empty() ? fallback : source;
}

// Row indexes of `names` in ascending name order; InputError on a repeated name. Traits of one
// LDSC run (and usually the obs) list the same spots in the same order, so the order of the last
// distinct list is kept and reused.
class SpotOrder {
 public:
  const std::vector<std::size_t>& of(const std::vector<std::string>& names,
                                     const std::string& source) {
    if (names_ != nullptr && (names_ == &names || *names_ == names)) return order_;
    order_.resize(names.size());
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    std::sort(order_.begin(), order_.end(),
              [&](std::size_t a, std::size_t b) { return names[a] < names[b]; });
    for (std::size_t i = 1; i < order_.size(); ++i) {
      if (names[order_[i]] == names[order_[i - 1]]) {
        names_ = nullptr;
        throw InputError(source, "spot '" + names[order_[i]] + "'",
                         "spot name occurs more than once, so the join on spot names is ambiguous",
                         "give every spot a unique name (e.g. '<barcode>|<sample>')");
      }
    }
    names_ = &names;
    return order_;
  }

 private:
  const std::vector<std::string>* names_ = nullptr;
  std::vector<std::size_t> order_;
};

// The running inner join: common spot names (ascending) and, per joined source, the row of each.
struct Join {
  std::vector<std::string_view> names;
  std::vector<std::vector<std::size_t>> rows;  // [source][common spot]
};

void intersect_with(Join& join, const std::vector<std::string>& names,
                    const std::vector<std::size_t>& order) {
  if (join.rows.empty()) {
    join.names.reserve(order.size());
    for (std::size_t r : order) join.names.emplace_back(names[r]);
    join.rows.push_back(order);
    return;
  }
  Join next;
  next.rows.resize(join.rows.size() + 1);
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < join.names.size() && j < order.size()) {
    const std::string_view other = names[order[j]];
    if (join.names[i] < other) {
      ++i;
    } else if (other < join.names[i]) {
      ++j;
    } else {
      next.names.push_back(join.names[i]);
      for (std::size_t s = 0; s < join.rows.size(); ++s) next.rows[s].push_back(join.rows[s][i]);
      next.rows.back().push_back(order[j]);
      ++i;
      ++j;
    }
  }
  join = std::move(next);
}

// Marks the rows of one trait that gsMap3D keeps after dropna() and fills their q values.
std::vector<char> usable_rows(const TraitPValues& trait, const CauchyOptions& options,
                              std::vector<double>& q_by_row, std::size_t& n_usable) {
  const std::string source = describe_source(trait.source, "trait " + trait.trait);
  const std::size_t n = trait.spots.size();
  if (trait.p.size() != n) {
    throw InputError(source, "", fmt::format("{} spots but {} p values", n, trait.p.size()));
  }
  const bool have_floored = !trait.neg_log10_p.empty();
  if (have_floored && trait.neg_log10_p.size() != n) {
    throw InputError(
        source, "", fmt::format("{} spots but {} neg_log10_p values", n, trait.neg_log10_p.size()));
  }
  if (options.use_floored_p && !have_floored) {
    throw InputError(source, "column neg_log10_p", "missing, but --cauchy-use-floored-p needs it",
                     "use a spatial-LDSC output that has the neg_log10_p column");
  }
  q_by_row.assign(n, 0.0);
  std::vector<char> usable(n, 0);
  n_usable = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double p = trait.p[i];
    const double floored = have_floored ? trait.neg_log10_p[i] : 0.0;
    if (std::isnan(p) || std::isnan(floored)) continue;  // dropna()
    if (p < 0.0 || p > 1.0) {
      throw InputError(source, "spot '" + trait.spots[i] + "'",
                       fmt::format("p = {} is outside [0, 1]", p),
                       "check that this is a spatial-LDSC result file");
    }
    // Without the floor p = 0 gives q = +inf; such spots never pass the outlier cut
    // (docs/algorithms.md §9.2), reproduced on purpose unless use_floored_p.
    q_by_row[i] = options.use_floored_p ? floored : -std::log10(p);
    usable[i] = 1;
    ++n_usable;
  }
  return usable;
}

std::string label_or_missing(const std::optional<std::string>& label) {
  return label ? *label : std::string(kMissingLabel);
}

bool p_median_less(double a, double b) {
  if (std::isnan(a)) return false;
  return std::isnan(b) || a < b;
}

CauchyRow make_row(const CombinedScores& scores, std::size_t trait, std::size_t annotation,
                   const std::string& label, const GroupStatistics& stats) {
  CauchyRow row;
  row.trait = scores.traits[trait];
  row.annotation_name = scores.annotation_names[annotation];
  row.annotation = label;
  row.p_cauchy = stats.p_cauchy;
  row.p_median = stats.p_median;
  row.top_95_quantile = stats.top_95_quantile;
  row.sig_spots = stats.sig_spots;
  row.total_spots = stats.total_spots;
  return row;
}

// A CombinedScores may be built by hand: make sure every column covers every spot.
void check_table(const CombinedScores& scores) {
  const std::size_t n = scores.spots.size();
  bool consistent = scores.q.size() == scores.traits.size() &&
                    scores.labels.size() == scores.annotation_names.size() &&
                    (!scores.sample_names || scores.sample_names->size() == n);
  for (const auto& column : scores.q) consistent = consistent && column.size() == n;
  for (const auto& column : scores.labels) consistent = consistent && column.size() == n;
  if (!consistent || n == 0) {
    throw ComputeError(
        fmt::format("Cauchy: inconsistent score table ({} spots, {} traits, {} q "
                    "columns, {} annotations, {} label columns)",
                    n, scores.traits.size(), scores.q.size(), scores.annotation_names.size(),
                    scores.labels.size()));
  }
}

void check_indexes(const CombinedScores& scores, std::size_t trait, std::size_t annotation) {
  check_table(scores);
  if (trait >= scores.traits.size() || annotation >= scores.annotation_names.size()) {
    throw ComputeError(
        fmt::format("Cauchy: trait index {} / annotation index {} out of range "
                    "({} traits, {} annotations)",
                    trait, annotation, scores.traits.size(), scores.annotation_names.size()));
  }
}

}  // namespace

CombinedScores combine_scores(const std::vector<TraitPValues>& traits,
                              const SpotAnnotations& annotations, const CauchyOptions& options) {
  check_options(options);
  const std::string obs_source = describe_source(annotations.source, "annotations");
  if (traits.empty()) {
    throw InputError(obs_source, "", "no trait results to combine",
                     "run spatial-ldsc first or name the traits");
  }
  const std::size_t n_obs = annotations.spots.size();
  for (const auto& column : annotations.columns) {
    if (column.labels.size() != n_obs) {
      throw InputError(obs_source, "column " + column.name,
                       fmt::format("{} labels for {} spots", column.labels.size(), n_obs));
    }
  }
  if (annotations.sample_name && annotations.sample_name->size() != n_obs) {
    throw InputError(obs_source, "column sample_name",
                     fmt::format("{} labels for {} spots", annotations.sample_name->size(), n_obs));
  }

  Join join;
  SpotOrder spot_order;
  std::vector<std::vector<double>> q_by_row(traits.size());
  for (std::size_t t = 0; t < traits.size(); ++t) {
    const TraitPValues& trait = traits[t];
    for (std::size_t u = 0; u < t; ++u) {
      if (traits[u].trait == trait.trait) {
        throw InputError(describe_source(trait.source, "trait " + trait.trait), "",
                         "trait '" + trait.trait + "' is given twice", "name each trait once");
      }
    }
    std::size_t n_usable = 0;
    const std::vector<char> usable = usable_rows(trait, options, q_by_row[t], n_usable);
    if (n_usable != trait.spots.size()) {
      GSMAP_LOG_INFO("Cauchy: trait {}: dropped {} of {} spots with missing values", trait.trait,
                     trait.spots.size() - n_usable, trait.spots.size());
    }
    const auto& full_order =
        spot_order.of(trait.spots, describe_source(trait.source, "trait " + trait.trait));
    std::vector<std::size_t> order;
    order.reserve(n_usable);
    for (std::size_t r : full_order) {
      if (usable[r]) order.push_back(r);
    }
    intersect_with(join, trait.spots, order);
  }
  intersect_with(join, annotations.spots, spot_order.of(annotations.spots, obs_source));

  const std::size_t n = join.names.size();
  GSMAP_LOG_INFO("Cauchy: {} spots common to {} trait(s) and the annotations ({} annotated spots)",
                 n, traits.size(), n_obs);
  if (n == 0) {
    throw InputError(
        obs_source, "", "no spot name is common to the spatial-LDSC results and the annotations",
        "use the LDSC results and the obs of the same project (spot names must match)");
  }

  CombinedScores scores;
  scores.spots.assign(join.names.begin(), join.names.end());
  for (std::size_t t = 0; t < traits.size(); ++t) {
    scores.traits.push_back(traits[t].trait);
    std::vector<double> q(n);
    for (std::size_t i = 0; i < n; ++i) q[i] = q_by_row[t][join.rows[t][i]];
    scores.q.push_back(std::move(q));
  }
  const std::vector<std::size_t>& obs_rows = join.rows.back();
  for (const auto& column : annotations.columns) {
    scores.annotation_names.push_back(column.name);
    std::vector<std::string> labels(n);
    for (std::size_t i = 0; i < n; ++i) labels[i] = label_or_missing(column.labels[obs_rows[i]]);
    scores.labels.push_back(std::move(labels));
  }
  if (annotations.sample_name) {
    std::vector<std::string> samples(n);
    for (std::size_t i = 0; i < n; ++i)
      samples[i] = label_or_missing((*annotations.sample_name)[obs_rows[i]]);
    scores.sample_names = std::move(samples);
  }
  return scores;
}

namespace {

// The groups of one annotation column (or of (label, sample) pairs), in the order that breaks
// p_median ties: by label, then sample, byte order. Computed once per annotation and shared by all
// traits.
struct Grouping {
  struct Group {
    std::string label;
    std::string sample;                // sample level only
    std::vector<std::size_t> members;  // spot indexes, ascending (= spot-name order)
    double sig_threshold = 0.0;        // 0.05 / |background|
  };
  std::vector<Group> groups;
  bool sample_level = false;
};

Grouping group_spots(const CombinedScores& scores, std::size_t annotation, bool sample_level) {
  const auto& labels = scores.labels[annotation];
  const std::size_t n = scores.spots.size();
  Grouping grouping;
  grouping.sample_level = sample_level;
  if (!sample_level) {
    std::map<std::string_view, std::vector<std::size_t>> members;
    for (std::size_t i = 0; i < n; ++i) members[labels[i]].push_back(i);
    const double threshold = 0.05 / static_cast<double>(n);
    for (auto& [label, spots] : members) {
      grouping.groups.push_back({std::string(label), {}, std::move(spots), threshold});
    }
    return grouping;
  }
  const auto& samples = *scores.sample_names;
  std::map<std::pair<std::string_view, std::string_view>, std::vector<std::size_t>> members;
  std::map<std::string_view, std::int64_t> spots_per_sample;
  for (std::size_t i = 0; i < n; ++i) {
    members[{labels[i], samples[i]}].push_back(i);
    ++spots_per_sample[samples[i]];
  }
  for (auto& [key, spots] : members) {
    const double threshold = 0.05 / static_cast<double>(spots_per_sample.at(key.second));
    grouping.groups.push_back(
        {std::string(key.first), std::string(key.second), std::move(spots), threshold});
  }
  return grouping;
}

std::vector<CauchyRow> cauchy_rows(const CombinedScores& scores, std::size_t trait,
                                   std::size_t annotation, const Grouping& grouping,
                                   const CauchyOptions& options) {
  const auto& q = scores.q[trait];
  std::vector<CauchyRow> rows;
  rows.reserve(grouping.groups.size());
  std::vector<double> group_q;
  for (const auto& group : grouping.groups) {
    group_q.clear();
    for (std::size_t i : group.members) group_q.push_back(q[i]);
    CauchyRow row =
        make_row(scores, trait, annotation, group.label,
                 combine_group(group_q, group.sig_threshold, options.outlier_iqr_factor));
    row.sample_name = group.sample;
    rows.push_back(std::move(row));
  }
  // gsMap3D sorts by (trait, p_median), sample level by (sample_name, trait, p_median); the trait
  // is the same for all rows here. Stable: ties keep the grouping's label order.
  if (grouping.sample_level) {
    std::stable_sort(rows.begin(), rows.end(), [](const CauchyRow& a, const CauchyRow& b) {
      if (a.sample_name != b.sample_name) return a.sample_name < b.sample_name;
      return p_median_less(a.p_median, b.p_median);
    });
  } else {
    std::stable_sort(rows.begin(), rows.end(), [](const CauchyRow& a, const CauchyRow& b) {
      return p_median_less(a.p_median, b.p_median);
    });
  }
  return rows;
}

}  // namespace

std::vector<CauchyRow> cauchy_annotation_level(const CombinedScores& scores, std::size_t trait,
                                               std::size_t annotation,
                                               const CauchyOptions& options) {
  check_options(options);
  check_indexes(scores, trait, annotation);
  return cauchy_rows(scores, trait, annotation, group_spots(scores, annotation, false), options);
}

std::vector<CauchyRow> cauchy_sample_level(const CombinedScores& scores, std::size_t trait,
                                           std::size_t annotation, const CauchyOptions& options) {
  check_options(options);
  check_indexes(scores, trait, annotation);
  if (!scores.sample_names) return {};
  return cauchy_rows(scores, trait, annotation, group_spots(scores, annotation, true), options);
}

std::string format_cauchy_csv(const std::vector<CauchyRow>& rows, bool sample_level) {
  std::string out =
      "trait,annotation_name,annotation,p_cauchy,p_median,top_95_quantile,sig_spots,total_spots";
  out += sample_level ? ",sample_name\n" : "\n";
  for (const CauchyRow& row : rows) {
    io::append_csv_field(out, row.trait);
    out += ',';
    io::append_csv_field(out, row.annotation_name);
    out += ',';
    io::append_csv_field(out, row.annotation);
    out += ',';
    out += io::format_csv_double(row.p_cauchy);
    out += ',';
    out += io::format_csv_double(row.p_median);
    out += ',';
    out += io::format_csv_double(row.top_95_quantile);
    out += ',';
    out += std::to_string(row.sig_spots);
    out += ',';
    out += std::to_string(row.total_spots);
    if (sample_level) {
      out += ',';
      io::append_csv_field(out, row.sample_name);
    }
    out += '\n';
  }
  return out;
}

std::string cauchy_result_path(const std::string& dir, const std::string& project,
                               const std::string& trait, const std::string& annotation,
                               bool sample_level) {
  const std::string name = fmt::format("{}_{}.{}.{}", project, trait, annotation,
                                       sample_level ? "sample_cauchy.csv" : "cauchy.csv");
  return (std::filesystem::path(dir) / name).string();
}

std::vector<std::string> write_cauchy_results(const CombinedScores& scores,
                                              const std::string& out_dir,
                                              const std::string& project,
                                              const CauchyOptions& options) {
  check_options(options);
  check_table(scores);
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    throw IoError(
        fmt::format("cannot create the Cauchy output directory {}: {}", out_dir, ec.message()));
  }
  const bool sample_level = scores.sample_names.has_value();
  if (!sample_level) {
    GSMAP_LOG_WARN("Cauchy: no 'sample_name' labels; the sample-level analysis is skipped");
  }
  const std::size_t n_traits = scores.traits.size();
  std::vector<std::string> written;
  for (std::size_t a = 0; a < scores.annotation_names.size(); ++a) {
    const std::string& annotation = scores.annotation_names[a];
    const Grouping by_label = group_spots(scores, a, false);
    const Grouping by_sample = sample_level ? group_spots(scores, a, true) : Grouping{};
    // Traits are independent: compute them in parallel, write in trait order.
    std::vector<std::string> annotation_csv(n_traits);
    std::vector<std::string> sample_csv(n_traits);
    tbb::parallel_for(std::size_t{0}, n_traits, [&](std::size_t t) {
      annotation_csv[t] = format_cauchy_csv(cauchy_rows(scores, t, a, by_label, options), false);
      if (sample_level) {
        sample_csv[t] = format_cauchy_csv(cauchy_rows(scores, t, a, by_sample, options), true);
      }
    });
    for (std::size_t t = 0; t < n_traits; ++t) {
      const std::string& trait = scores.traits[t];
      const std::string path = cauchy_result_path(out_dir, project, trait, annotation, false);
      io::write_file_atomic(path, annotation_csv[t]);
      written.push_back(path);
      if (sample_level) {
        const std::string sample_path =
            cauchy_result_path(out_dir, project, trait, annotation, true);
        io::write_file_atomic(sample_path, sample_csv[t]);
        written.push_back(sample_path);
      }
      GSMAP_LOG_INFO("Cauchy: wrote {} ({} x {})", path, trait, annotation);
    }
  }
  return written;
}

}  // namespace gsmap::cauchy
