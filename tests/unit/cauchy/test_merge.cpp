// Merging <project>_<trait>_cells_<start>_<end>.csv.gz files: numeric order (not glob's
// lexicographic order, docs/usage.md "merge"), and clear errors for gaps, overlaps and bad files.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gsmap/cauchy/ldsc_csv.hpp"
#include "gsmap/cauchy/merge.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/io/text.hpp"
#include "test_support.hpp"

namespace gsmap::cauchy {
namespace {

namespace fs = std::filesystem;
constexpr const char* kHeader = "spot,beta,se,z,p,neg_log10_p";

// Writes rows for spots [start, end) (optionally one row short) as spatial-ldsc would.
void write_partial(const fs::path& dir, const std::string& name, int start, int end,
                   bool drop_last_row = false, const std::string& header = kHeader) {
  std::string text = header + "\n";
  for (int i = start; i < end - (drop_last_row ? 1 : 0); ++i) {
    text += fmt::format("cell{}|s0,1e-08,5e-09,2.0,{},{}\n", i, 0.5 + i * 1e-5, 0.3);
  }
  io::write_file_atomic((dir / name).string(), io::gzip_compress(text));
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

TEST(CauchyMerge, NumericOrderNotLexicographic) {
  test::TempDir tmp("cauchy_merge");
  // Lexicographically: cells_0_200, cells_1000_2000, cells_200_1000.
  write_partial(tmp.path(), "proj_T_cells_1000_2000.csv.gz", 1000, 2000);
  write_partial(tmp.path(), "proj_T_cells_200_1000.csv.gz", 200, 1000);
  write_partial(tmp.path(), "proj_T_cells_0_200.csv.gz", 0, 200);
  // Not ours: another trait sharing the prefix, a non-gzip name, an unrelated project.
  write_partial(tmp.path(), "proj_T_x_cells_0_5.csv.gz", 0, 5);
  write_partial(tmp.path(), "proj_T_cells_0_5.csv", 0, 5);
  write_partial(tmp.path(), "other_T_cells_0_5.csv.gz", 0, 5);

  const auto files = list_partial_ldsc(tmp.path().string(), "proj", "T");
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].start, 0);
  EXPECT_EQ(files[1].start, 200);
  EXPECT_EQ(files[2].start, 1000);
  EXPECT_EQ(files[2].end, 2000);
  EXPECT_EQ(fs::path(files[1].path).filename(), "proj_T_cells_200_1000.csv.gz");

  const std::string out = merge_partial_ldsc(tmp.path().string(), "proj", "T", 2000);
  EXPECT_EQ(out, (tmp.path() / "proj_T.csv.gz").string());
  // One header, spots in numeric order; the merged file is gzip and reads as an LDSC result.
  const std::string text = io::read_text_file(out);
  EXPECT_EQ(text.rfind(kHeader, 0), 0u);
  EXPECT_EQ(text.find(kHeader, 1), std::string::npos);
  const TraitPValues merged = read_ldsc_csv(out, "T");
  ASSERT_EQ(merged.spots.size(), 2000u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(merged.spots[i], fmt::format("cell{}|s0", i));
  EXPECT_DOUBLE_EQ(merged.p[1999], 0.5 + 1999 * 1e-5);
  // The total is optional.
  EXPECT_NO_THROW(merge_partial_ldsc(tmp.path().string(), "proj", "T"));
}

TEST(CauchyMerge, GapIsRefusedNamingTheFiles) {
  test::TempDir tmp("cauchy_merge_gap");
  write_partial(tmp.path(), "proj_T_cells_0_200.csv.gz", 0, 200);
  write_partial(tmp.path(), "proj_T_cells_300_1000.csv.gz", 300, 1000);
  const std::string msg =
      error_message([&] { merge_partial_ldsc(tmp.path().string(), "proj", "T"); });
  EXPECT_NE(msg.find("proj_T_cells_0_200.csv.gz and proj_T_cells_300_1000.csv.gz"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("gap: spots [200, 300) are in no partial file"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(tmp.path() / "proj_T.csv.gz"));
}

TEST(CauchyMerge, OverlapIsRefusedNamingTheFiles) {
  test::TempDir tmp("cauchy_merge_overlap");
  write_partial(tmp.path(), "proj_T_cells_0_250.csv.gz", 0, 250);
  write_partial(tmp.path(), "proj_T_cells_200_1000.csv.gz", 200, 1000);
  const std::string msg =
      error_message([&] { merge_partial_ldsc(tmp.path().string(), "proj", "T"); });
  EXPECT_NE(msg.find("proj_T_cells_0_250.csv.gz and proj_T_cells_200_1000.csv.gz"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("overlap: spots [200, 250) are in both files"), std::string::npos) << msg;
}

TEST(CauchyMerge, EndsAndContentsAreChecked) {
  test::TempDir tmp("cauchy_merge_ends");
  const std::string dir = tmp.path().string();
  EXPECT_NE(error_message([&] { merge_partial_ldsc(dir, "proj", "T"); }).find("no partial"),
            std::string::npos);

  write_partial(tmp.path(), "proj_T_cells_100_200.csv.gz", 100, 200);
  EXPECT_NE(error_message([&] {
              merge_partial_ldsc(dir, "proj", "T");
            }).find("proj_T_cells_100_200.csv.gz: the first partial file starts at spot 100"),
            std::string::npos);

  write_partial(tmp.path(), "proj_T_cells_0_100.csv.gz", 0, 100);
  EXPECT_NO_THROW(merge_partial_ldsc(dir, "proj", "T", 200));
  EXPECT_NE(error_message([&] {
              merge_partial_ldsc(dir, "proj", "T", 250);
            }).find("the last partial file ends at spot 200, but there are 250 spots"),
            std::string::npos);

  write_partial(tmp.path(), "proj_T_cells_200_300.csv.gz", 200, 300, /*drop_last_row=*/true);
  EXPECT_NE(error_message([&] {
              merge_partial_ldsc(dir, "proj", "T");
            }).find("99 data rows, but its name says spots [200, 300) = 100 rows"),
            std::string::npos);

  write_partial(tmp.path(), "proj_T_cells_200_300.csv.gz", 200, 300, false, "spot,p");
  EXPECT_NE(
      error_message([&] { merge_partial_ldsc(dir, "proj", "T"); }).find("header 'spot,p' differs"),
      std::string::npos);
}

// Spot names quoted by RFC 4180 (a comma, a quote, a line break): merge counts records, not lines,
// keeps the bytes of the partial files, and the Cauchy reader gets the names back.
TEST(CauchyMerge, QuotedSpotNamesSpanningLines) {
  test::TempDir tmp("cauchy_merge_quoted");
  const std::vector<std::string> names = {"a,b|s0", "say \"hi\"|s0", "two\nlines|s0", "plain|s0"};
  std::string all = std::string(kHeader) + "\n";
  for (int part = 0; part < 2; ++part) {
    std::string text = std::string(kHeader) + "\n";
    for (int i = 2 * part; i < 2 * part + 2; ++i) {
      std::string row;
      io::append_csv_field(row, names[i]);
      row += fmt::format(",1e-08,5e-09,2.0,{},0.3\n", 0.5 + i * 0.1);
      text += row;
      all += row;
    }
    io::write_file_atomic(
        (tmp.path() / fmt::format("proj_T_cells_{}_{}.csv.gz", 2 * part, 2 * part + 2)).string(),
        io::gzip_compress(text));
  }
  const std::string merged = merge_partial_ldsc(tmp.path().string(), "proj", "T", 4);
  EXPECT_EQ(io::read_text_file(merged), all);
  const auto read = read_ldsc_csv(merged, "T");
  EXPECT_EQ(read.spots, names);
  EXPECT_EQ(read.p, (std::vector<double>{0.5, 0.5 + 0.1, 0.5 + 2 * 0.1, 0.5 + 3 * 0.1}));
}

}  // namespace
}  // namespace gsmap::cauchy
