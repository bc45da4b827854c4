#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <thread>

#include <sys/resource.h>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/dist/halo.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/dist/progress.hpp"
#include "gsmap/io/text.hpp"
#include "test_support.hpp"

using namespace gsmap::dist;

TEST(Partition, BalancedAndCovering) {
  Partition p(10, 3);
  EXPECT_EQ(p.start(0), 0);
  EXPECT_EQ(p.end(0), 4);
  EXPECT_EQ(p.end(1), 7);
  EXPECT_EQ(p.end(2), 10);
  EXPECT_EQ(p.owner(0), 0);
  EXPECT_EQ(p.owner(4), 1);
  EXPECT_EQ(p.owner(9), 2);
  Partition q(2, 4);  // more ranks than rows: empty ranges at the end
  EXPECT_EQ(q.count(0), 1);
  EXPECT_EQ(q.count(1), 1);
  EXPECT_EQ(q.count(2), 0);
  EXPECT_EQ(q.count(3), 0);
}

TEST(Halo, EveryRankGetsTheRowsItAsksFor) {
  const int me = rank(MPI_COMM_WORLD), n = size(MPI_COMM_WORLD);
  const std::int64_t total = 37;
  const std::size_t row_bytes = 3 * sizeof(std::int64_t);
  Partition p(total, n);
  // Row r holds (r, 10r, 100r).
  std::vector<std::int64_t> own;
  for (std::int64_t r = p.start(me); r < p.end(me); ++r) {
    own.insert(own.end(), {r, 10 * r, 100 * r});
  }
  HaloExchange halo(p, MPI_COMM_WORLD, row_bytes, reinterpret_cast<const std::byte*>(own.data()));
  // Round 1: every other row not owned. Round 2: nothing (collective with empty request).
  std::vector<std::int64_t> needed;
  for (std::int64_t r = 0; r < total; r += 2) {
    if (p.owner(r) != me) needed.push_back(r);
  }
  auto got = halo.exchange(needed);
  ASSERT_EQ(got.size(), needed.size() * row_bytes);
  for (std::size_t i = 0; i < needed.size(); ++i) {
    std::int64_t v[3];
    std::memcpy(v, got.data() + i * row_bytes, row_bytes);
    EXPECT_EQ(v[0], needed[i]);
    EXPECT_EQ(v[1], 10 * needed[i]);
    EXPECT_EQ(v[2], 100 * needed[i]);
  }
  auto none = halo.exchange({});
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(halo.rows_received(), static_cast<std::int64_t>(needed.size()));
}

TEST(Redistribution, EveryRowReachesItsOwnerOnceInSmallRounds) {
  // 41 rows keyed 0..40, held round-robin (key k on rank k % n), sent to the owners of a
  // contiguous partition; rounds of at most 2 rows force several rounds.
  const int me = rank(MPI_COMM_WORLD), n = size(MPI_COMM_WORLD);
  const std::int64_t total = 41;
  const Partition p(total, n);
  std::vector<std::int64_t> keys;
  std::vector<int> dest;
  for (std::int64_t k = me; k < total; k += n) {
    keys.push_back(k);
    dest.push_back(p.owner(k));
  }
  const std::size_t row_bytes = 2 * sizeof(std::int64_t);
  std::vector<std::int64_t> row(2);
  std::vector<std::int64_t> got(static_cast<std::size_t>(2 * p.count(me)), -1);
  const auto counts = send_rows_to_owners(
      keys, dest, row_bytes,
      [&](std::size_t i) {
        row = {keys[i], 7 * keys[i]};
        return reinterpret_cast<const std::byte*>(row.data());
      },
      [&](std::int64_t key, const std::byte* bytes) {
        ASSERT_GE(key, p.start(me));
        ASSERT_LT(key, p.end(me));
        auto* slot = got.data() + 2 * (key - p.start(me));
        EXPECT_EQ(slot[0], -1) << "key " << key << " placed twice";
        std::memcpy(slot, bytes, row_bytes);
      },
      2 * row_bytes, MPI_COMM_WORLD);
  for (std::int64_t k = p.start(me); k < p.end(me); ++k) {
    EXPECT_EQ(got[static_cast<std::size_t>(2 * (k - p.start(me)))], k);
    EXPECT_EQ(got[static_cast<std::size_t>(2 * (k - p.start(me)) + 1)], 7 * k);
  }
  EXPECT_EQ(counts.rows_local + counts.rows_received, p.count(me));
  EXPECT_EQ(counts.rows_local + counts.rows_sent, static_cast<std::int64_t>(keys.size()));
  std::int64_t most = 0;
  for (int r = 0; r < n; ++r) {
    std::int64_t away = 0;
    for (std::int64_t k = r; k < total; k += n) away += p.owner(k) != r;
    most = std::max(most, (away + 1) / 2);
  }
  EXPECT_EQ(counts.rounds, most);
}

TEST(WindowedFetch, RowsArriveAsAPrefixWhileTheHoldersReleaseTheirWindows) {
  // 997 rows, row k = (k, 10k, 100k), held in a contiguous partition. Each rank needs a scattered
  // share (the rows a fixed scramble gives it, as a shuffled input gives a processing order) plus
  // every 7th row (a halo wanted by all). Windows of 16 rows: many rounds.
  const int me = rank(MPI_COMM_WORLD), n = size(MPI_COMM_WORLD);
  const std::int64_t total = 997, window = 16;
  const Partition p(total, n);
  const std::size_t row_bytes = 3 * sizeof(std::int64_t);
  std::vector<std::int64_t> held;
  for (std::int64_t k = p.start(me); k < p.end(me); ++k) held.insert(held.end(), {k, 10 * k, 100 * k});
  std::vector<std::int64_t> needed;
  for (std::int64_t k = 0; k < total; ++k) {
    if ((k * 7919 + 13) % 101 % n == me || k % 7 == 0) needed.push_back(k);
  }
  std::vector<std::int64_t> out(3 * needed.size(), -1), slot(needed.size(), -1);
  std::int64_t calls = 0, released = 0, last_filled = 0, peak = 0;
  const std::int64_t n_held = p.count(me);
  // Every share in the same number of rounds, each in windows of at most 16 rows.
  const WindowPlan plan = windows_of(p, window);
  std::int64_t most = 0;
  for (int r = 0; r < n; ++r) most = std::max(most, (p.count(r) + window - 1) / window);
  EXPECT_EQ(plan.rounds, most);
  for (int r = 0; r < n; ++r) {
    EXPECT_LE(plan.rows[static_cast<std::size_t>(r)], window);
    EXPECT_GE(plan.rows[static_cast<std::size_t>(r)] * plan.rounds, p.count(r));
  }
  const std::int64_t w_me = plan.rows[static_cast<std::size_t>(me)];
  const auto counts = fetch_rows_in_windows(
      p, needed, row_bytes, reinterpret_cast<const std::byte*>(held.data()), window,
      reinterpret_cast<std::byte*>(out.data()), slot,
      [&](std::int64_t x, std::int64_t held_done, std::int64_t filled) {
        EXPECT_EQ(x, calls++);
        EXPECT_EQ(held_done, std::min(n_held, (x + 1) * w_me));
        EXPECT_GE(filled, last_filled);
        // Every row of `out` below `filled` is written (the prefix), none above.
        for (std::int64_t i = 0; i < static_cast<std::int64_t>(needed.size()); ++i) {
          EXPECT_EQ(out[static_cast<std::size_t>(3 * i)] >= 0, i < filled) << "row " << i << " round " << x;
        }
        // The rank's held rows of windows < x are released; window x is held while its rows arrive.
        peak = std::max(peak, n_held - released + filled);
        released = held_done;
        last_filled = filled;
      },
      MPI_COMM_WORLD);
  EXPECT_EQ(calls, counts.rounds);
  EXPECT_EQ(counts.rounds, most);
  EXPECT_EQ(counts.window_rows, w_me);
  EXPECT_EQ(last_filled, static_cast<std::int64_t>(needed.size()));
  EXPECT_EQ(counts.rows_local + counts.rows_received, static_cast<std::int64_t>(needed.size()));
  std::vector<bool> used(needed.size(), false);
  for (std::size_t k = 0; k < needed.size(); ++k) {
    ASSERT_GE(slot[k], 0);
    ASSERT_LT(slot[k], static_cast<std::int64_t>(needed.size()));
    EXPECT_FALSE(used[static_cast<std::size_t>(slot[k])]);
    used[static_cast<std::size_t>(slot[k])] = true;
    const std::int64_t* v = out.data() + 3 * slot[k];
    EXPECT_EQ(v[0], needed[k]);
    EXPECT_EQ(v[1], 10 * needed[k]);
    EXPECT_EQ(v[2], 100 * needed[k]);
  }
  // Memory in rows: held rows not yet released plus rows filled stay within the larger of the two
  // blocks and a few windows, far below both blocks together.
  const auto n_needed = static_cast<std::int64_t>(needed.size());
  EXPECT_LE(peak, std::max(n_held, n_needed) + 3 * window) << "held " << n_held << ", needed " << n_needed;
  if (n > 1) EXPECT_LT(peak, n_held + n_needed - 3 * window);
  // Nothing needed, still collective: every rank joins every round.
  std::vector<std::int64_t> none_slot;
  const auto none = fetch_rows_in_windows(p, {}, row_bytes, reinterpret_cast<const std::byte*>(held.data()),
                                          window, nullptr, none_slot, nullptr, MPI_COMM_WORLD);
  EXPECT_EQ(none.rounds, most);
  EXPECT_EQ(none.rows_received, 0);
}

TEST(Reduce, ExactSumIndependentOfRanks) {
  const int me = rank(MPI_COMM_WORLD), n = size(MPI_COMM_WORLD);
  Partition p(1000, n);
  std::vector<std::int64_t> sums(2, 0);
  for (std::int64_t r = p.start(me); r < p.end(me); ++r) {
    sums[0] += r;
    sums[1] += r * r;
  }
  allreduce_sum(sums, MPI_COMM_WORLD);
  EXPECT_EQ(sums[0], 999 * 1000 / 2);
  EXPECT_EQ(sums[1], 999LL * 1000 * 1999 / 6);
  EXPECT_TRUE(any(me == n - 1, MPI_COMM_WORLD));
  EXPECT_FALSE(any(false, MPI_COMM_WORLD));
}

TEST(OrderedFile, GzipMembersFromAllRanksFormOneFile) {
  const int me = rank(MPI_COMM_WORLD), n = size(MPI_COMM_WORLD);
  static gsmap::test::TempDir* dir = nullptr;
  std::string path;
  // Rank 0 chooses the directory; everyone uses the same path.
  char buf[512] = {0};
  if (me == 0) {
    dir = new gsmap::test::TempDir("ordered_file");
    std::strncpy(buf, (dir->path() / "x.csv.gz").c_str(), sizeof buf - 1);
  }
  MPI_Bcast(buf, sizeof buf, MPI_CHAR, 0, MPI_COMM_WORLD);
  path = buf;
  std::string text = me == 0 ? "spot,value\n" : "";
  text += "rank" + std::to_string(me) + ",1\n";
  write_ordered_file(path, gsmap::io::gzip_compress(text), MPI_COMM_WORLD);
  if (me == 0) {
    std::string all = gsmap::io::read_text_file(path);
    std::string expect = "spot,value\n";
    for (int r = 0; r < n; ++r) expect += "rank" + std::to_string(r) + ",1\n";
    EXPECT_EQ(all, expect);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    delete dir;
  }
}

// A write the storage refuses (here the file-size limit, as a full disk would: Open MPI's
// collective write can report success after its pwritev failed) is an error on every rank, and
// no file appears under the final name.
TEST(OrderedFile, RefusedWriteIsAnErrorAndLeavesNoFile) {
  const int me = rank(MPI_COMM_WORLD);
  static gsmap::test::TempDir* dir = nullptr;
  char buf[512] = {0};
  if (me == 0) {
    dir = new gsmap::test::TempDir("ordered_file_refused");
    std::strncpy(buf, (dir->path() / "x.csv.gz").c_str(), sizeof buf - 1);
  }
  MPI_Bcast(buf, sizeof buf, MPI_CHAR, 0, MPI_COMM_WORLD);
  const std::string path = buf;
  const std::string bytes(64 * 1024, static_cast<char>('a' + me));
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string what;
  try {
    write_ordered_file(path, bytes, MPI_COMM_WORLD);
  } catch (const gsmap::IoError& e) {
    what = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  EXPECT_NE(what.find(path), std::string::npos) << "no error naming the file; got: " << what;
  EXPECT_FALSE(std::filesystem::exists(path));
  if (me == 0) {
    delete dir;
    dir = nullptr;
  }
}

TEST(Placement, EveryRankReported) {
  auto mine = local_placement(MPI_COMM_WORLD, 0);
  auto all = gather_placements(mine, MPI_COMM_WORLD);
  if (rank(MPI_COMM_WORLD) == 0) {
    ASSERT_EQ(static_cast<int>(all.size()), size(MPI_COMM_WORLD));
    for (const auto& p : all) {
      EXPECT_FALSE(p.host.empty());
      EXPECT_EQ(p.device, -1);
      EXPECT_LT(p.local_rank, p.local_size);
    }
  }
}

// Progress rounds (non-blocking sums on a duplicate communicator) beside the stage's own blocking
// collectives, ranks at different speeds: no deadlock, every rank leaves finish() with the total,
// rank 0 prints the aggregated lines (docs/usage.md "Progress").
TEST(StageProgress, AggregatesOverRanksBesideTheStagesCollectives) {
  setenv("GSMAP_PROGRESS_INTERVAL", "0.002", 1);
  const int me = rank(MPI_COMM_WORLD), np = size(MPI_COMM_WORLD);
  const std::int64_t mine = 10 * (me + 1);
  const std::int64_t steps = allreduce_max(mine, MPI_COMM_WORLD);
  if (me == 0) testing::internal::CaptureStderr();
  {
    StageProgress p("test", mine, "units", MPI_COMM_WORLD);
    for (std::int64_t i = 0; i < steps; ++i) {
      if (i < mine) p.add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + me));
      p.poll();
      EXPECT_EQ(allreduce_sum(std::int64_t{1}, MPI_COMM_WORLD), np);  // the stage's own collective
    }
    EXPECT_EQ(p.finish(), 10 * np * (np + 1) / 2);
  }
  {
    // run(): the work on a helper thread (counted through core::progress_add), the main thread polls.
    StageProgress q("helper", 50, "units", MPI_COMM_WORLD);
    const int result = q.run([&] {
      for (int i = 0; i < 50; ++i) {
        gsmap::core::progress_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(1 + me));
      }
      return 7;
    });
    EXPECT_EQ(result, 7);
    EXPECT_EQ(q.finish(), 50 * np);
  }
  {
    // Named parts (the GSS per cell type): a line when a part is complete on every rank.
    StageProgress typed("typed", {"part 'A'", "part 'B'"}, {me + 1, 2}, "units", MPI_COMM_WORLD);
    gsmap::core::progress_add(me + 1, 0);
    gsmap::core::progress_add(2, 1);
    EXPECT_EQ(typed.finish(), np * (np + 1) / 2 + 2 * np);
  }
  {
    StageProgress e("throws", 1, "units", MPI_COMM_SELF);
    EXPECT_THROW(e.run([]() -> int { throw std::runtime_error("stage failed"); }),
                 std::runtime_error);
    EXPECT_EQ(e.finish(), 1);
  }
  if (me == 0) {
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find(fmt::format("test: 0 % (0/{} units", 10 * np * (np + 1) / 2)),
              std::string::npos) << err;
    EXPECT_NE(err.find(fmt::format("test: 100 % ({} units in ", 10 * np * (np + 1) / 2)),
              std::string::npos) << err;
    EXPECT_NE(err.find(fmt::format("helper: 100 % ({} units in ", 50 * np)), std::string::npos)
        << err;
    EXPECT_NE(err.find(fmt::format("typed: part 'A' done ({} units)", np * (np + 1) / 2)),
              std::string::npos) << err;
    EXPECT_NE(err.find(fmt::format("typed: part 'B' done ({} units)", 2 * np)), std::string::npos)
        << err;
    EXPECT_LT(err.find("typed: part 'B' done"), err.find("typed: 100 %")) << err;
  }
}
