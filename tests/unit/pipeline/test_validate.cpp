// Input checks of src/pipeline/validate.cpp (docs/troubleshooting.md): the error names the file,
// the sample, the row and the gene of the first bad value, and counts the others.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gsmap/core/error.hpp"
#include "gsmap/pipeline/validate.hpp"

namespace {

using gsmap::InputError;
using gsmap::pipeline::check_expression_block;
using gsmap::pipeline::check_unique_names;

// Rows 100..102 of a sample's file: {g0: 1, g2: 3}, {}, {g1: 5, g2: x}.
gsmap::io::CsrRows block_with(float x) {
  gsmap::io::CsrRows b;
  b.row0 = 100;
  b.n_cols = 3;
  b.indptr = {0, 2, 2, 4};
  b.indices = {0, 2, 1, 2};
  b.data = {1.0f, 3.0f, 5.0f, x};
  return b;
}

gsmap::pipeline::SampleCells sample_cells() {
  gsmap::pipeline::SampleCells s;
  s.sample = {"slice7", "/data/slice7.h5ad"};
  s.layer = "counts";
  s.kept_rows = {7, 100, 101, 102};
  return s;
}

std::string error_of(float x) {
  const std::vector<std::string> genes = {"A", "B", "C"};
  try {
    check_expression_block(block_with(x), sample_cells(), genes);
  } catch (const InputError& e) {
    EXPECT_EQ(e.code(), gsmap::ExitCode::kInput);
    return e.what();
  }
  return "";
}

TEST(CheckExpressionBlock, AcceptsFiniteNonNegative) {
  EXPECT_EQ(error_of(0.0f), "");
  EXPECT_EQ(error_of(2.5f), "");
}

TEST(CheckExpressionBlock, NamesSampleRowGeneAndValue) {
  EXPECT_EQ(error_of(std::numeric_limits<float>::quiet_NaN()),
            "/data/slice7.h5ad: sample 'slice7', layers/counts row 102 (0-based), gene 'C' "
            "(column 2): expression value nan is NaN (1 NaN, infinite or negative values in the "
            "kept cells of rows [100, 103)). Fix: the ranking needs finite, non-negative expression (raw or "
            "normalised counts): fix the matrix (e.g. adata.X.data = np.nan_to_num(adata.X.data)) "
            "or choose another --data-layer");
  EXPECT_NE(error_of(-1.0f).find("expression value -1 is negative"), std::string::npos);
  EXPECT_NE(error_of(std::numeric_limits<float>::infinity()).find("is infinite"),
            std::string::npos);
}

TEST(CheckExpressionBlock, ReportsTheFirstAndCountsAll) {
  auto b = block_with(-2.0f);
  b.data[0] = std::numeric_limits<float>::quiet_NaN();
  try {
    check_expression_block(b, sample_cells(), {"A", "B", "C"});
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("row 100 (0-based), gene 'A'"), std::string::npos) << m;
    EXPECT_NE(m.find("(2 NaN, infinite or negative values"), std::string::npos) << m;
  }
}

TEST(CheckExpressionBlock, IgnoresFilteredCells) {
  auto s = sample_cells();
  s.kept_rows = {100, 101};  // row 102, holding the bad value, was filtered out
  EXPECT_NO_THROW(check_expression_block(block_with(-1.0f), s, {"A", "B", "C"}));
}

TEST(CheckUniqueNames, FirstRepeatAndCount) {
  EXPECT_NO_THROW(check_unique_names({"a", "b", "c"}, "f.h5ad", "var index"));
  try {
    check_unique_names({"a", "b", "a", "c", "b", "a"}, "f.h5ad", "var index");
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("f.h5ad: var index: gene name 'a' appears at positions 0 and 2 (3 repeated "
                      "names in 6)", 0), 0u) << m;
  }
}

}  // namespace
