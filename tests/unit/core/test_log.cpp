// log::report_error: once on stderr and appended, time-stamped, to the log file whatever the rank
// (docs/troubleshooting.md, "Error messages and exit codes").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "gsmap/core/log.hpp"
#include "test_support.hpp"

namespace gsmap::log {
namespace {

TEST(Log, ReportErrorAppendsATimeStampedLineFromAnyRank) {
  gsmap::test::TempDir dir("log");
  const auto path = (dir.path() / "gsmap-mpi.log").string();
  {
    std::ofstream(path) << "[2026-01-01 00:00:00] [info] earlier line\n";
  }
  init(1, 2);  // rank 1 of 2: no file sink of its own, but it knows the path
  add_file(path);
  testing::internal::CaptureStderr();
  report_error("in.h5ad: X: bad value");
  const std::string err = testing::internal::GetCapturedStderr();
  init(0, 1);
  EXPECT_EQ(err, "error: in.h5ad: X: bad value (rank 1 of 2)\n");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  EXPECT_EQ(text.rfind("[2026-01-01 00:00:00] [info] earlier line\n", 0), 0u) << text;
  EXPECT_TRUE(std::regex_search(
      text, std::regex(R"(\n\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] \[error\] in\.h5ad: X: bad value \(rank 1 of 2\)\n$)")))
      << text;
}

}  // namespace
}  // namespace gsmap::log
