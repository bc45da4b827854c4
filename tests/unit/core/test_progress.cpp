// Progress counters and rank 0's display rules (core/progress.hpp; docs/usage.md "Progress").
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "gsmap/core/progress.hpp"

namespace gsmap::core {
namespace {

TEST(Progress, LineHasPercentRateAndEta) {
  ProgressDisplay d("ranking", "cells");
  EXPECT_EQ(d.line({4500, 10000, 3.0}), "ranking: 45 % (4500/10000 cells, 1500 cells/s, ETA 3.7 s)");
  EXPECT_EQ(d.line({0, 10000, 1.0}), "ranking: 0 % (0/10000 cells, 0 cells/s, ETA ?)");
  EXPECT_EQ(d.line({10000, 10000, 2.0}), "ranking: 100 % (10000/10000 cells, 5000 cells/s, ETA 0 s)");
  EXPECT_EQ(d.final_line({10000, 10000, 125.0}), "ranking: 100 % (10000 cells in 2m 05s, 80 cells/s)");
}

TEST(Progress, PercentIsFlooredAndAnEmptyStageIsDone) {
  EXPECT_EQ((ProgressReading{999, 1000, 1.0}).percent(), 99);
  EXPECT_EQ((ProgressReading{0, 0, 1.0}).percent(), 100);
  EXPECT_EQ((ProgressReading{5, 3, 1.0}).percent(), 100);
}

TEST(Progress, LogLinesAtMostEveryTenPercentOrMinute) {
  ProgressDisplay d("GSS", "cells", 60.0);
  std::vector<int> logged;
  // Readings every 1 % over 100 s: lines at the first reading and at each new 10 % step.
  for (int p = 0; p <= 100; ++p) {
    if (auto line = d.log_line({p, 100, static_cast<double>(p)})) logged.push_back(p);
  }
  EXPECT_EQ(logged, (std::vector<int>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}));
  // A slow stage: no new 10 % step, but a line after 60 s.
  ProgressDisplay slow("spatial LDSC", "spots", 60.0);
  EXPECT_TRUE(slow.log_line({1, 1000, 0.5}).has_value());
  EXPECT_FALSE(slow.log_line({2, 1000, 30.0}).has_value());
  EXPECT_TRUE(slow.log_line({3, 1000, 61.0}).has_value());
  EXPECT_FALSE(slow.log_line({4, 1000, 100.0}).has_value());
  EXPECT_TRUE(slow.log_line({5, 1000, 121.5}).has_value());
}

TEST(Progress, FormatSeconds) {
  EXPECT_EQ(format_seconds(0.04), "0.0 s");
  EXPECT_EQ(format_seconds(59.94), "59.9 s");
  EXPECT_EQ(format_seconds(61), "1m 01s");
  EXPECT_EQ(format_seconds(3725), "1h 02m");
  EXPECT_EQ(format_seconds(-1), "?");
}

TEST(Progress, CountsFromManyThreadsReachTheActiveStage) {
  std::atomic<std::int64_t> counter{0};
  progress_add(5);  // no active stage: dropped
  int polls = 0;
  {
    ActiveProgress active(counter, [&] { ++polls; });
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([] {
        for (int i = 0; i < 1000; ++i) progress_add(1);
        poll_progress();  // not the owner thread: does nothing
      });
    }
    for (auto& w : workers) w.join();
    poll_progress();  // the owner thread: runs the stage's poll
    EXPECT_THROW({ ActiveProgress again(counter, [] {}); }, std::exception);  // one stage at a time
  }
  progress_add(7);  // stage over: dropped
  EXPECT_EQ(counter.load(), 4000);
  EXPECT_EQ(polls, 1);
}

}  // namespace
}  // namespace gsmap::core
