// Cauchy combination on the shared fixtures: expected/ldsc_<trait>.csv + the labels of
// expected/cells.csv must reproduce expected/cauchy_<trait>_<annotation>[_by_sample].csv within the
// fixtures' tolerances (README: p_cauchy, p_median, top_95_quantile <= 1e-4 relative, sig_spots
// identical, total_spots within 1, same row order). Also gsMap3D's own workdir (fx2d): its
// csv.gz read by read_ldsc_csv must give gsMap3D's own Cauchy files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gsmap/cauchy/cauchy.hpp"
#include "gsmap/cauchy/ldsc_csv.hpp"
#include "gsmap/io/text.hpp"
#include "test_support.hpp"

namespace gsmap::cauchy {
namespace {

namespace fs = std::filesystem;

struct ExpectedRow {
  std::string trait, annotation_name, annotation;
  double p_cauchy, p_median, top_95_quantile;
  std::int64_t sig_spots, total_spots;
  std::string sample_name;
};

std::vector<ExpectedRow> read_expected(const fs::path& path, bool sample_level) {
  io::LineReader reader(path.string());
  std::string line;
  EXPECT_TRUE(reader.next(line));
  EXPECT_EQ(line, std::string("trait,annotation_name,annotation,p_cauchy,p_median,top_95_quantile,"
                              "sig_spots,total_spots") +
                      (sample_level ? ",sample_name" : ""));
  std::vector<ExpectedRow> rows;
  while (reader.next(line)) {
    const auto f = io::split_char(line, ',');
    EXPECT_EQ(f.size(), sample_level ? 9u : 8u) << line;
    if (f.size() < 8) continue;
    ExpectedRow r;
    r.trait = std::string(f[0]);
    r.annotation_name = std::string(f[1]);
    r.annotation = std::string(f[2]);
    r.p_cauchy = std::stod(std::string(f[3]));
    r.p_median = std::stod(std::string(f[4]));
    r.top_95_quantile = std::stod(std::string(f[5]));
    r.sig_spots = std::stoll(std::string(f[6]));
    r.total_spots = std::stoll(std::string(f[7]));
    if (sample_level && f.size() > 8) r.sample_name = std::string(f[8]);
    rows.push_back(r);
  }
  return rows;
}

// expected/cells.csv: spot,sample_name,slice_id,<obs columns...>
SpotAnnotations read_cells(const fs::path& path, const std::vector<std::string>& columns) {
  io::LineReader reader(path.string());
  std::string line;
  reader.next(line);
  const auto header = io::split_char(line, ',');
  std::vector<std::size_t> index;
  for (const auto& name : columns) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    index.push_back(static_cast<std::size_t>(it - header.begin()));
  }
  const std::size_t sample_col = static_cast<std::size_t>(
      std::find(header.begin(), header.end(), "sample_name") - header.begin());
  SpotAnnotations obs;
  obs.source = path.string();
  for (const auto& name : columns) obs.columns.push_back({name, {}});
  obs.sample_name.emplace();
  while (reader.next(line)) {
    const auto f = io::split_char(line, ',');
    obs.spots.emplace_back(f[0]);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string_view v = f[index[c]];
      obs.columns[c].labels.push_back(v.empty() ? std::nullopt : std::optional<std::string>(v));
    }
    obs.sample_name->emplace_back(std::string(f[sample_col]));
  }
  return obs;
}

double relative_difference(double actual, double expected) {
  if (actual == expected) return 0.0;
  return std::abs(actual - expected) / std::max(std::abs(expected), 1e-300);
}

struct Worst {
  double rel = 0.0;
  std::int64_t total_diff = 0;
  int rows = 0;
};

void compare_rows(const std::vector<CauchyRow>& actual, const std::vector<ExpectedRow>& expected,
                  bool sample_level, const std::string& what, Worst& worst) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const auto& a = actual[i];
    const auto& e = expected[i];
    const std::string where = what + " row " + std::to_string(i + 1) + " (" + e.annotation + ")";
    EXPECT_EQ(a.trait, e.trait) << where;
    EXPECT_EQ(a.annotation_name, e.annotation_name) << where;
    EXPECT_EQ(a.annotation, e.annotation) << where;
    if (sample_level) {
      EXPECT_EQ(a.sample_name, e.sample_name) << where;
    }
    for (auto [x, y, name] :
         {std::tuple{a.p_cauchy, e.p_cauchy, "p_cauchy"},
          std::tuple{a.p_median, e.p_median, "p_median"},
          std::tuple{a.top_95_quantile, e.top_95_quantile, "top_95_quantile"}}) {
      const double rel = relative_difference(x, y);
      EXPECT_LE(rel, 1e-4) << where << " " << name << ": " << x << " vs " << y;
      worst.rel = std::max(worst.rel, rel);
    }
    EXPECT_EQ(a.sig_spots, e.sig_spots) << where;
    EXPECT_LE(std::abs(a.total_spots - e.total_spots), 1) << where;
    worst.total_diff = std::max(worst.total_diff, std::abs(a.total_spots - e.total_spots));
    ++worst.rows;
  }
}

std::vector<std::string> fixture_traits(const fs::path& expected_dir) {
  std::vector<std::string> traits;
  for (const auto& entry : fs::directory_iterator(expected_dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("ldsc_") && name.ends_with(".csv")) {
      traits.push_back(name.substr(5, name.size() - 5 - 4));
    }
  }
  std::sort(traits.begin(), traits.end());
  return traits;
}

class CauchyFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(CauchyFixture, MatchesExpected) {
  GSMAP_REQUIRE_SHARED();
  const fs::path expected_dir = test::fixture(GetParam()) / "expected";
  const std::vector<std::string> annotations = {"annotation", "domain"};
  const auto traits = fixture_traits(expected_dir);
  ASSERT_GE(traits.size(), 2u);

  std::vector<TraitPValues> inputs;
  for (const auto& trait : traits) {
    inputs.push_back(read_ldsc_csv((expected_dir / ("ldsc_" + trait + ".csv")).string(), trait));
  }
  const SpotAnnotations obs = read_cells(expected_dir / "cells.csv", annotations);
  const CauchyOptions options;
  const CombinedScores scores = combine_scores(inputs, obs, options);
  EXPECT_EQ(scores.spots.size(), obs.spots.size());  // every kept cell has LDSC results

  Worst worst;
  for (std::size_t t = 0; t < traits.size(); ++t) {
    for (std::size_t a = 0; a < annotations.size(); ++a) {
      const std::string stem = "cauchy_" + traits[t] + "_" + annotations[a];
      compare_rows(cauchy_annotation_level(scores, t, a, options),
                   read_expected(expected_dir / (stem + ".csv"), false), false, stem, worst);
      compare_rows(cauchy_sample_level(scores, t, a, options),
                   read_expected(expected_dir / (stem + "_by_sample.csv"), true), true,
                   stem + "_by_sample", worst);
    }
  }
  std::printf("[ %s ] %d rows, max relative difference %.3g, max |total_spots diff| %lld\n",
              GetParam().c_str(), worst.rows, worst.rel, static_cast<long long>(worst.total_diff));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CauchyFixture, ::testing::Values("fx2d", "fx3d", "fxgrid"));

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CauchyGsmap3dWorkdir, ReproducesGsmap3dOwnFiles) {
  GSMAP_REQUIRE_SHARED();
  const fs::path fx = test::fixture("fx2d");
  const fs::path workdir = fx / "gsmap3d_workdir" / "proj";
  const std::vector<std::string> traits = {"null_trait", "planted_T1"};
  std::vector<TraitPValues> inputs;
  for (const auto& trait : traits) {
    LdscCsvReadStats stats;
    inputs.push_back(read_ldsc_csv(
        ldsc_result_path((workdir / "spatial_ldsc").string(), "proj", trait), trait, &stats));
    EXPECT_EQ(stats.rows, 1958);
    EXPECT_EQ(stats.dropped_rows, 0);
  }
  const SpotAnnotations obs = read_cells(fx / "expected" / "cells.csv", {"annotation", "domain"});
  const CombinedScores scores = combine_scores(inputs, obs, CauchyOptions{});
  test::TempDir tmp("cauchy_gsmap3d");
  const auto written = write_cauchy_results(scores, tmp.path().string(), "proj", CauchyOptions{});
  ASSERT_EQ(written.size(), 8u);

  int identical = 0;
  Worst worst;
  for (const auto& path : written) {
    const fs::path name = fs::path(path).filename();
    const fs::path reference = workdir / "cauchy_combination" / name;
    ASSERT_TRUE(fs::exists(reference)) << name;  // same file names as gsMap3D
    const bool sample_level = name.string().ends_with(".sample_cauchy.csv");
    // Same header, columns, labels, order; numbers within the tolerance.
    const auto ours = read_expected(path, sample_level);
    const auto theirs = read_expected(reference, sample_level);
    ASSERT_EQ(ours.size(), theirs.size()) << name;
    std::vector<CauchyRow> as_rows;
    for (const auto& r : ours) {
      as_rows.push_back({r.trait, r.annotation_name, r.annotation, r.p_cauchy, r.p_median,
                         r.top_95_quantile, r.sig_spots, r.total_spots, r.sample_name});
    }
    compare_rows(as_rows, theirs, sample_level, name.string(), worst);
    identical += slurp(path) == slurp(reference);
  }
  std::printf(
      "[ gsmap3d_workdir ] %d rows, max relative difference %.3g, %d of %zu files "
      "byte-identical\n",
      worst.rows, worst.rel, identical, written.size());
}

}  // namespace
}  // namespace gsmap::cauchy
