// The table-level semantics of the Cauchy step on hand-made inputs: inner join, missing values and
// labels, p = 0 handling with and without the floored column, backgrounds, order, CSV text, the
// csv.gz reader and the user errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gsmap/cauchy/cauchy.hpp"
#include "gsmap/cauchy/ldsc_csv.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/io/text.hpp"
#include "test_support.hpp"

namespace gsmap::cauchy {
namespace {

namespace fs = std::filesystem;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

TraitPValues make_trait(const std::string& name, std::vector<std::string> spots,
                        std::vector<double> p) {
  TraitPValues t;
  t.trait = name;
  t.spots = std::move(spots);
  t.p = std::move(p);
  for (double v : t.p)
    t.neg_log10_p.push_back(std::isnan(v) ? kNan : -std::log10(std::max(v, 1e-300)));
  return t;
}

SpotAnnotations make_obs(
    std::vector<std::string> spots, std::vector<std::optional<std::string>> labels,
    std::optional<std::vector<std::optional<std::string>>> samples = std::nullopt) {
  SpotAnnotations obs;
  obs.spots = std::move(spots);
  obs.columns.push_back({"cell_type", std::move(labels)});
  obs.sample_name = std::move(samples);
  return obs;
}

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CauchyCombine, InnerJoinInSpotOrderWithMissingValuesAndLabels) {
  const auto a = make_trait("A", {"s3", "s1", "s2", "s4"}, {0.1, 0.01, 1.0, kNan});
  const auto b = make_trait("B", {"s2", "s1", "s3", "s5", "s4"}, {0.5, 0.5, 0.5, 0.5, 0.5});
  const auto obs =
      make_obs({"s5", "s1", "s2", "s3", "s4", "s6"}, {"x", std::nullopt, "y", "y", "x", "x"});
  const CombinedScores scores = combine_scores({a, b}, obs, CauchyOptions{});
  // s4 is dropped (A's p is missing), s5 is not in A, s6 has no LDSC result.
  EXPECT_EQ(scores.spots, (std::vector<std::string>{"s1", "s2", "s3"}));
  EXPECT_EQ(scores.traits, (std::vector<std::string>{"A", "B"}));
  EXPECT_DOUBLE_EQ(scores.q[0][0], 2.0);
  EXPECT_EQ(scores.q[0][1], 0.0);
  EXPECT_DOUBLE_EQ(scores.q[0][2], 1.0);
  EXPECT_DOUBLE_EQ(scores.q[1][2], -std::log10(0.5));
  EXPECT_EQ(scores.labels[0], (std::vector<std::string>{"NaN", "y", "y"}));
  EXPECT_FALSE(scores.sample_names.has_value());
}

// 8 "hot" spots, 4 of them with p = 0 (LDSC's floored column: 300), and 8 ordinary "cold" ones.
struct ZeroPGroup {
  TraitPValues trait;
  SpotAnnotations obs;
  ZeroPGroup() {
    std::vector<std::string> spots;
    std::vector<double> p;
    std::vector<std::optional<std::string>> labels;
    for (int i = 0; i < 16; ++i) {
      spots.push_back("spot" + std::to_string(100 + i));
      p.push_back(i < 4 ? 0.0 : (i < 8 ? 1e-3 * i : 0.05 * (i - 7)));
      labels.emplace_back(i < 8 ? "hot" : "cold");
    }
    trait = make_trait("T", spots, p);
    obs = make_obs(spots, labels);
  }
};

TEST(CauchyCombine, ZeroPSpotsSinkTheirGroupByDefault) {
  // docs/algorithms.md §9.2: q = +inf for p = 0; median (q4 + inf)/2 = inf and NaN quartile -> the
  // strongest group is reported as p_cauchy = 1 with no spots.
  const ZeroPGroup g;
  const CombinedScores scores = combine_scores({g.trait}, g.obs, CauchyOptions{});
  EXPECT_TRUE(std::isinf(scores.q[0][0]));
  const auto rows = cauchy_annotation_level(scores, 0, 0, CauchyOptions{});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].annotation, "cold");  // p_median < 1
  EXPECT_EQ(rows[1].annotation, "hot");
  EXPECT_EQ(rows[1].p_cauchy, 1.0);
  EXPECT_EQ(rows[1].p_median, 1.0);
  EXPECT_EQ(rows[1].top_95_quantile, 0.0);
  EXPECT_EQ(rows[1].total_spots, 0);
  EXPECT_EQ(rows[1].sig_spots, 0);
}

TEST(CauchyCombine, FlooredPKeepsZeroPSpots) {
  const ZeroPGroup g;
  CauchyOptions options;
  options.use_floored_p = true;
  const CombinedScores scores = combine_scores({g.trait}, g.obs, options);
  EXPECT_EQ(scores.q[0][0], 300.0);
  const auto rows = cauchy_annotation_level(scores, 0, 0, options);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].annotation, "hot");
  EXPECT_EQ(rows[0].total_spots, 8);
  EXPECT_EQ(rows[0].sig_spots, 4);  // threshold 0.05/16: the four 1e-300 spots
  EXPECT_LT(rows[0].p_cauchy, 1e-290);
  EXPECT_DOUBLE_EQ(rows[0].top_95_quantile, 300.0);
  // p_median: kept p sorted = 1e-300 x4, then 10^-q of 4e-3, 5e-3, ... -> mean of 1e-300 and 4e-3.
  EXPECT_NEAR(rows[0].p_median, 0.002, 1e-15);
}

TEST(CauchyCombine, SampleLevelUsesTheSampleAsBackground) {
  // sample "a": 4 spots with p = 0.010..0.013, sample "b": 100 spots with p >= 0.3. Against the
  // sample background 0.05/4 = 0.0125 three "a" spots are significant; against all 104 spots
  // (annotation level, 0.05/104) none is.
  std::vector<std::string> spots;
  std::vector<double> p;
  std::vector<std::optional<std::string>> labels, samples;
  for (int i = 0; i < 104; ++i) {
    spots.push_back(fmt::format("spot{:03d}", i));
    p.push_back(i < 4 ? 0.01 + 0.001 * i : 0.3 + 0.001 * i);
    labels.emplace_back(i % 2 == 0 ? "L0" : "L1");
    samples.emplace_back(i < 4 ? "a" : "b");
  }
  const auto scores = combine_scores({make_trait("T", spots, p)}, make_obs(spots, labels, samples),
                                     CauchyOptions{});
  const auto anno = cauchy_annotation_level(scores, 0, 0, CauchyOptions{});
  ASSERT_EQ(anno.size(), 2u);
  for (const auto& r : anno) EXPECT_EQ(r.sig_spots, 0) << r.annotation;
  const auto by_sample = cauchy_sample_level(scores, 0, 0, CauchyOptions{});
  ASSERT_EQ(by_sample.size(), 4u);
  EXPECT_EQ(by_sample[0].sample_name, "a");
  EXPECT_EQ(by_sample[1].sample_name, "a");
  EXPECT_EQ(by_sample[2].sample_name, "b");
  EXPECT_EQ(by_sample[3].sample_name, "b");
  // L0 holds 0.010 and 0.012 (both < 0.0125), L1 0.011 and 0.013; ascending p_median.
  EXPECT_EQ(by_sample[0].annotation, "L0");
  EXPECT_EQ(by_sample[0].sig_spots, 2);
  EXPECT_NEAR(by_sample[0].p_median, 0.011, 1e-15);
  EXPECT_EQ(by_sample[1].annotation, "L1");
  EXPECT_EQ(by_sample[1].sig_spots, 1);
  EXPECT_EQ(by_sample[0].total_spots + by_sample[1].total_spots, 4);
  EXPECT_EQ(by_sample[2].sig_spots + by_sample[3].sig_spots, 0);
  EXPECT_LE(by_sample[2].p_median, by_sample[3].p_median);
}

TEST(CauchyCombine, EqualPMedianKeepsLabelOrder) {
  // Identical q in three groups: rows come out in label byte order whatever the input order.
  const std::vector<std::string> spots = {"a1", "a2", "b1", "b2", "c1", "c2"};
  const auto t = make_trait("T", spots, {0.2, 0.4, 0.2, 0.4, 0.2, 0.4});
  const auto obs = make_obs(spots, {"zeta", "zeta", "Alpha", "Alpha", "beta", "beta"});
  const auto rows =
      cauchy_annotation_level(combine_scores({t}, obs, CauchyOptions{}), 0, 0, CauchyOptions{});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].annotation, "Alpha");
  EXPECT_EQ(rows[1].annotation, "beta");
  EXPECT_EQ(rows[2].annotation, "zeta");
}

TEST(CauchyCombine, UserErrors) {
  const auto t = make_trait("T", {"s1", "s2"}, {0.5, 0.5});
  EXPECT_NE(error_message([&] {
              combine_scores({make_trait("T", {"s1", "s1"}, {0.5, 0.5})}, make_obs({"s1"}, {"x"}),
                             CauchyOptions{});
            }).find("spot 's1': spot name occurs more than once"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              combine_scores({t}, make_obs({"s1", "s1"}, {"x", "y"}), CauchyOptions{});
            }).find("occurs more than once"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              combine_scores({t}, make_obs({"q9"}, {"x"}), CauchyOptions{});
            }).find("no spot name is common"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              combine_scores({t, t}, make_obs({"s1"}, {"x"}), CauchyOptions{});
            }).find("given twice"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              combine_scores({make_trait("T", {"s1"}, {1.5})}, make_obs({"s1"}, {"x"}),
                             CauchyOptions{});
            }).find("outside [0, 1]"),
            std::string::npos);
  CauchyOptions bad;
  bad.outlier_iqr_factor = -1.0;
  EXPECT_THROW(combine_scores({t}, make_obs({"s1"}, {"x"}), bad), UsageError);
  EXPECT_THROW(combine_scores({}, make_obs({"s1"}, {"x"}), CauchyOptions{}), InputError);
}

TEST(CauchyCsv, PandasStyleText) {
  std::vector<CauchyRow> rows;
  rows.push_back({"T", "cell_type", "B cell, \"naive\"", 1e-05, 0.0001, 16.5, 3, 10, "s,1"});
  rows.push_back({"T", "cell_type", "NaN", 1.0, 1.0, 0.0, 0, 0, "s2"});
  EXPECT_EQ(
      format_cauchy_csv(rows, false),
      "trait,annotation_name,annotation,p_cauchy,p_median,top_95_quantile,sig_spots,total_spots\n"
      "T,cell_type,\"B cell, \"\"naive\"\"\",1e-05,0.0001,16.5,3,10\n"
      "T,cell_type,NaN,1.0,1.0,0.0,0,0\n");
  EXPECT_EQ(
      format_cauchy_csv(rows, true),
      "trait,annotation_name,annotation,p_cauchy,p_median,top_95_quantile,sig_spots,total_spots,"
      "sample_name\n"
      "T,cell_type,\"B cell, \"\"naive\"\"\",1e-05,0.0001,16.5,3,10,\"s,1\"\n"
      "T,cell_type,NaN,1.0,1.0,0.0,0,0,s2\n");
  EXPECT_EQ(cauchy_result_path("/w/p/cauchy_combination", "proj", "IQ", "cell_type", false),
            "/w/p/cauchy_combination/proj_IQ.cell_type.cauchy.csv");
  EXPECT_EQ(cauchy_result_path("d", "proj", "IQ", "domain", true),
            "d/proj_IQ.domain.sample_cauchy.csv");
}

TEST(CauchyCsv, WritesOnlyAnnotationFilesWithoutSampleNames) {
  const std::vector<std::string> spots = {"s1", "s2", "s3"};
  const auto scores = combine_scores({make_trait("T", spots, {0.1, 0.2, 0.3})},
                                     make_obs(spots, {"x", "x", "y"}), CauchyOptions{});
  test::TempDir tmp("cauchy_write");
  const auto out = (tmp.path() / "cauchy_combination").string();
  const auto written = write_cauchy_results(scores, out, "proj", CauchyOptions{});
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(fs::path(written[0]).filename(), "proj_T.cell_type.cauchy.csv");
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()),
            1);  // no temp left
}

TEST(CauchyLdscCsv, ReadsGzipDropsMissingAndParsesQuotes) {
  test::TempDir tmp("cauchy_ldsc_csv");
  const std::string text =
      "spot,beta,se,z,p,neg_log10_p\n"
      "a|s1,1.0,0.5,2.0,0.02275,1.643\n"
      "\"b,odd|s1\",1.0,0.5,2.0,1e-05,5.0\n"
      "c|s1,,0.5,2.0,0.5,0.30103\n"     // missing beta -> dropped (dropna)
      "d|s1,1.0,0.5,NaN,NaN,NaN\n"      // singular solve -> dropped
      "e|s1,1.0,0.5,40.0,0.0,300.0\n";  // p = 0 kept (q = inf later)
  const auto path = (tmp.path() / "proj_T.csv.gz").string();
  io::write_file_atomic(path, io::gzip_compress(text));
  LdscCsvReadStats stats;
  const TraitPValues t = read_ldsc_csv(path, "T", &stats);
  EXPECT_EQ(stats.rows, 5);
  EXPECT_EQ(stats.dropped_rows, 2);
  EXPECT_EQ(t.trait, "T");
  EXPECT_EQ(t.spots, (std::vector<std::string>{"a|s1", "b,odd|s1", "e|s1"}));
  EXPECT_EQ(t.p, (std::vector<double>{0.02275, 1e-05, 0.0}));
  EXPECT_EQ(t.neg_log10_p, (std::vector<double>{1.643, 5.0, 300.0}));
  EXPECT_EQ(ldsc_result_path("dir", "proj", "T"), "dir/proj_T.csv.gz");
}

TEST(CauchyLdscCsv, ClearErrors) {
  test::TempDir tmp("cauchy_ldsc_err");
  auto write = [&](const std::string& name, const std::string& text) {
    const auto path = (tmp.path() / name).string();
    io::write_file_atomic(path, text);
    return path;
  };
  const auto no_p = write("no_p.csv", "spot,beta,se,z,pval\na,1,1,1,0.5\n");
  EXPECT_NE(error_message([&] { read_ldsc_csv(no_p, "T"); }).find("no column 'p'"),
            std::string::npos);
  const auto bad = write("bad.csv", "spot,p,neg_log10_p\na,0.5,0.3\nb,zero,1\n");
  const std::string msg = error_message([&] { read_ldsc_csv(bad, "T"); });
  EXPECT_NE(msg.find("line 3, column p"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'zero' is not a number"), std::string::npos) << msg;
  const auto short_row = write("short.csv", "spot,p,neg_log10_p\na,0.5\n");
  EXPECT_NE(error_message([&] {
              read_ldsc_csv(short_row, "T");
            }).find("line 2: 2 fields, the header has 3"),
            std::string::npos);
  EXPECT_THROW(read_ldsc_csv((tmp.path() / "absent.csv.gz").string(), "T"), InputError);
}

}  // namespace
}  // namespace gsmap::cauchy
