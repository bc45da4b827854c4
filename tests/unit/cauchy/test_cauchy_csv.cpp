// read_cauchy_csv (cauchy/cauchy_csv.hpp) reads back what format_cauchy_csv writes.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "gsmap/cauchy/cauchy.hpp"
#include "gsmap/cauchy/cauchy_csv.hpp"
#include "gsmap/core/error.hpp"
#include "test_support.hpp"

namespace gsmap::cauchy {
namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(CauchyCsvRead, ReadsBackWhatTheStepWrites) {
  gsmap::test::TempDir dir("cauchy_csv");
  std::vector<CauchyRow> rows(3);
  rows[0] = {"T", "annotation", "T1", 1.1834776315965848e-43, 7.2e-31, 12.5, 357, 357, ""};
  rows[1] = {"T", "annotation", "a, \"quoted\" type", 0.9014103163235903, 0.799, 0.5, 0, 367, ""};
  rows[2] = {"T", "annotation", "NaN", 1.0, 1.0, 0.0, 0, 5, ""};
  const std::string path = (dir.path() / "p_T.annotation.cauchy.csv").string();
  write(path, format_cauchy_csv(rows, false));
  const auto back = read_cauchy_csv(path);
  ASSERT_EQ(back.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back[i].trait, rows[i].trait);
    EXPECT_EQ(back[i].annotation_name, rows[i].annotation_name);
    EXPECT_EQ(back[i].annotation, rows[i].annotation);
    EXPECT_EQ(back[i].p_cauchy, rows[i].p_cauchy);  // Python repr round-trips exactly
    EXPECT_EQ(back[i].p_median, rows[i].p_median);
    EXPECT_EQ(back[i].top_95_quantile, rows[i].top_95_quantile);
    EXPECT_EQ(back[i].sig_spots, rows[i].sig_spots);
    EXPECT_EQ(back[i].total_spots, rows[i].total_spots);
  }
  rows[0].sample_name = "s1";
  rows[1].sample_name = "s,2";
  rows[2].sample_name = "s3";
  write(path, format_cauchy_csv(rows, true));
  const auto sample = read_cauchy_csv(path);
  ASSERT_EQ(sample.size(), 3u);
  EXPECT_EQ(sample[1].sample_name, "s,2");
}

TEST(CauchyCsvRead, ErrorsNameTheFileAndLine) {
  gsmap::test::TempDir dir("cauchy_csv_bad");
  const std::string path = (dir.path() / "bad.csv").string();
  const auto message = [&](const std::string& text) {
    write(path, text);
    try {
      read_cauchy_csv(path);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("annotation,p_cauchy,p_median,sig_spots\n").find("no column 'total_spots'"),
            std::string::npos);
  const std::string head = "annotation,p_cauchy,p_median,sig_spots,total_spots\n";
  EXPECT_NE(message(head + "T1,0.5,x,1,2\n").find("line 2, column p_median: 'x' is not a number"),
            std::string::npos);
  EXPECT_NE(message(head + "T1,0.5,0.5,1.5,2\n").find("'1.5' is not a count"), std::string::npos);
  EXPECT_NE(message(head + "T1,0.5,0.5,1\n").find("line 2: 4 fields, the header has 5"),
            std::string::npos);
  EXPECT_NE(message("").find("empty file"), std::string::npos);
}

}  // namespace
}  // namespace gsmap::cauchy
