// The staged reader -> compute -> writer pipeline: results independent of worker counts and queue
// sizes, pools reused across runs, failures propagated without deadlock, back-pressure bounds.
#include <gtest/gtest.h>

#ifdef __linux__
#include <sys/resource.h>
#include <unistd.h>
#endif

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gsmap/core/error.hpp"
#include "gsmap/core/staged_pipeline.hpp"

namespace gsmap::core {
namespace {

using namespace std::chrono_literals;

struct Batch {
  std::size_t id = 0;
  std::size_t first_cell = 0, n_cells = 0;
};
struct LoadedBatch {
  Batch batch;
  std::vector<std::uint64_t> values;
};
struct ComputedBatch {
  Batch batch;
  std::vector<std::uint64_t> rows;
};
using TestPipeline = StagedPipeline<Batch, LoadedBatch, ComputedBatch>;

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser: an arbitrary deterministic map
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::vector<Batch> make_batches(std::size_t n_cells, std::size_t batch_size) {
  std::vector<Batch> batches;
  for (std::size_t first = 0; first < n_cells; first += batch_size) {
    batches.push_back({batches.size(), first, std::min(batch_size, n_cells - first)});
  }
  return batches;
}

// Reader: per cell a pseudo-random value; compute: a per-cell digest; writer: rows into `out` at
// their global cell index (batches are disjoint, so no lock).
PipelineStages<Batch, LoadedBatch, ComputedBatch> digest_stages(std::vector<std::uint64_t>& out,
                                                                std::uint64_t salt) {
  PipelineStages<Batch, LoadedBatch, ComputedBatch> stages;
  stages.read = [salt](Batch& b, int) {
    LoadedBatch loaded{b, {}};
    for (std::size_t i = 0; i < b.n_cells; ++i)
      loaded.values.push_back(mix(salt + b.first_cell + i));
    return loaded;
  };
  stages.compute = [](LoadedBatch& l, int) {
    ComputedBatch c{l.batch, {}};
    for (std::uint64_t v : l.values) c.rows.push_back(mix(v) ^ (v >> 7));
    return c;
  };
  stages.write = [&out](ComputedBatch& c, int) {
    for (std::size_t i = 0; i < c.rows.size(); ++i) out[c.batch.first_cell + i] = c.rows[i];
  };
  return stages;
}

std::vector<std::uint64_t> serial_digest(std::size_t n_cells, std::uint64_t salt) {
  std::vector<std::uint64_t> out(n_cells);
  for (std::size_t i = 0; i < n_cells; ++i) {
    const std::uint64_t v = mix(salt + i);
    out[i] = mix(v) ^ (v >> 7);
  }
  return out;
}

TEST(StagedPipeline, ResultsIndependentOfWorkersAndQueueSizes) {
  constexpr std::size_t kCells = 4999, kBatch = 50;  // 100 batches, the last one short
  const auto expected = serial_digest(kCells, 11);
  for (int workers = 1; workers <= 8; ++workers) {
    for (std::size_t queue : {std::size_t{1}, std::size_t{3}, std::size_t{10}}) {
      PipelineShape shape;
      shape.read_workers = workers;
      shape.compute_workers = 9 - workers;
      shape.write_workers = 1 + workers % 3;
      shape.compute_input_queue_size = queue;
      shape.writer_queue_size = queue;
      std::vector<std::uint64_t> out(kCells, 0);
      TestPipeline pipeline(shape, digest_stages(out, 11));
      const PipelineReport report = pipeline.run(make_batches(kCells, kBatch), "cells", kBatch);
      ASSERT_EQ(out, expected) << workers << " workers, queue " << queue;
      EXPECT_EQ(report.total_batches, 100u);
      EXPECT_EQ(report.completed_batches, 100u);
      ASSERT_EQ(report.stages.size(), 3u);
      for (const StageThroughput& s : report.stages) EXPECT_EQ(s.batches, 100u) << s.name;
      EXPECT_EQ(report.stages[0].workers, workers);
      EXPECT_EQ(report.stages[1].workers, 9 - workers);
      EXPECT_EQ(report.stages[2].workers, 1 + workers % 3);
    }
  }
}

TEST(StagedPipeline, PoolsReusedAcrossRunsWithCountersReset) {
  PipelineShape shape;
  shape.read_workers = 3;
  shape.compute_workers = 2;
  shape.write_workers = 2;
  std::vector<std::uint64_t> out(1000, 0);
  TestPipeline pipeline(shape, digest_stages(out, 5));
  const auto first = pipeline.run(make_batches(1000, 100), "type A", 100);
  EXPECT_EQ(first.total_batches, 10u);
  EXPECT_EQ(out, serial_digest(1000, 5));
  std::fill(out.begin(), out.end(), 0);
  const auto second = pipeline.run(make_batches(370, 100), "type B", 100);
  EXPECT_EQ(second.total_batches, 4u);
  for (const StageThroughput& s : second.stages) EXPECT_EQ(s.batches, 4u) << s.name;
  const auto expected = serial_digest(370, 5);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin()));
  EXPECT_EQ(out[370], 0u);
  const auto empty = pipeline.run({}, "type C", 100);
  EXPECT_EQ(empty.total_batches, 0u);
  EXPECT_EQ(empty.completed_batches, 0u);
}

TEST(StagedPipeline, WithoutWriterStageComputeCompletes) {
  PipelineShape shape;
  shape.read_workers = 2;
  shape.compute_workers = 3;
  shape.write_workers = 0;
  std::vector<std::uint64_t> out(777, 0);
  auto stages = digest_stages(out, 3);
  stages.compute = [&out](LoadedBatch& l, int) {
    for (std::size_t i = 0; i < l.values.size(); ++i) {
      const std::uint64_t v = l.values[i];
      out[l.batch.first_cell + i] = mix(v) ^ (v >> 7);
    }
    return ComputedBatch{};
  };
  stages.write = nullptr;
  TestPipeline pipeline(shape, stages);
  const auto report = pipeline.run(make_batches(777, 10), "ldsc chunks", 10);
  EXPECT_EQ(out, serial_digest(777, 3));
  ASSERT_EQ(report.stages.size(), 2u);
  EXPECT_EQ(report.stages[1].batches, 78u);
  EXPECT_EQ(report.completed_batches, 78u);
}

// A failure in any stage, also while other workers are blocked on full queues, reaches the caller
// as the original exception; the pipeline is usable again afterwards.
TEST(StagedPipeline, WorkerExceptionStopsAllAndIsRethrown) {
  for (int failing_stage = 0; failing_stage < 3; ++failing_stage) {
    PipelineShape shape;
    shape.read_workers = 4;
    shape.compute_workers = 2;
    shape.write_workers = 2;
    shape.compute_input_queue_size = 1;
    shape.writer_queue_size = 1;
    std::vector<std::uint64_t> out(20000, 0);
    auto stages = digest_stages(out, 1);
    std::atomic<bool> armed{true};
    auto fail_at_batch_37 = [&](const Batch& b, int stage) {
      if (armed && stage == failing_stage && b.id == 37) {
        throw InputError("ranks.h5", "row 1850", "stage " + std::to_string(stage) + " failed");
      }
    };
    auto read = stages.read;
    auto compute = stages.compute;
    auto write = stages.write;
    stages.read = [=](Batch& b, int w) {
      fail_at_batch_37(b, 0);
      return read(b, w);
    };
    stages.compute = [=](LoadedBatch& l, int w) {
      fail_at_batch_37(l.batch, 1);
      return compute(l, w);
    };
    stages.write = [=](ComputedBatch& c, int w) {
      std::this_thread::sleep_for(100us);  // slow writers: upstream workers block on full queues
      fail_at_batch_37(c.batch, 2);
      write(c, w);
    };
    TestPipeline pipeline(shape, stages);
    try {
      pipeline.run(make_batches(20000, 100), "failing", 100);
      ADD_FAILURE() << "no exception from stage " << failing_stage;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("stage " + std::to_string(failing_stage) + " failed"),
                std::string::npos);
    }
    armed = false;
    std::fill(out.begin(), out.end(), 0);
    const auto report = pipeline.run(make_batches(20000, 100), "after failure", 100);
    EXPECT_EQ(report.completed_batches, 200u);
    EXPECT_EQ(out, serial_digest(20000, 1));
  }
}

TEST(StagedPipeline, DestroyedWhileIdleAfterFailureDoesNotHang) {
  PipelineShape shape;
  shape.read_workers = 2;
  shape.compute_workers = 2;
  shape.write_workers = 1;
  PipelineStages<Batch, LoadedBatch, ComputedBatch> stages;
  stages.read = [](Batch&, int) -> LoadedBatch { throw std::runtime_error("unreadable"); };
  stages.compute = [](LoadedBatch& l, int) { return ComputedBatch{l.batch, {}}; };
  stages.write = [](ComputedBatch&, int) {};
  TestPipeline pipeline(shape, stages);
  EXPECT_THROW(pipeline.run(make_batches(1000, 10), "x", 10), std::runtime_error);
}

// Readers never run further ahead of a stalled compute stage than the R->C capacity plus one batch
// held by each compute worker and one by each reader waiting to push.
TEST(StagedPipeline, BackPressureBoundsReadAhead) {
  PipelineShape shape;
  shape.read_workers = 3;
  shape.compute_workers = 2;
  shape.write_workers = 1;
  shape.compute_input_queue_size = 2;  // R->C capacity 4
  shape.writer_queue_size = 3;
  std::atomic<int> reads_started{0}, computes_started{0}, writes_started{0};
  std::atomic<bool> compute_gate{false}, write_gate{true};
  PipelineStages<Batch, LoadedBatch, ComputedBatch> stages;
  stages.read = [&](Batch& b, int) {
    ++reads_started;
    return LoadedBatch{b, {}};
  };
  stages.compute = [&](LoadedBatch& l, int) {
    ++computes_started;
    while (!compute_gate) std::this_thread::sleep_for(1ms);
    return ComputedBatch{l.batch, {}};
  };
  stages.write = [&](ComputedBatch&, int) {
    ++writes_started;
    while (!write_gate) std::this_thread::sleep_for(1ms);
  };
  TestPipeline pipeline(shape, stages);

  auto wait_for = [](const std::atomic<int>& counter, int value) {
    for (int i = 0; i < 2000 && counter.load() < value; ++i) std::this_thread::sleep_for(1ms);
    return counter.load();
  };
  std::thread runner([&] { pipeline.run(make_batches(3000, 1), "stalled compute", 1); });
  const int read_bound = 4 + 2 + 3;
  EXPECT_EQ(wait_for(reads_started, read_bound), read_bound);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(reads_started.load(), read_bound);
  EXPECT_EQ(computes_started.load(), 2);

  // Now stall the writers instead: computes stop at C->W capacity + writers + compute workers.
  write_gate = false;
  compute_gate = true;
  std::this_thread::sleep_for(50ms);
  const int writes = writes_started.load();
  const int computes = computes_started.load();
  EXPECT_LE(computes - writes, 3 + 2);  // queued + one waiting to push per compute worker
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(computes_started.load(), computes);
  write_gate = true;
  runner.join();
  EXPECT_EQ(reads_started.load(), 3000);
}

TEST(StagedPipeline, SummaryTableNamesTheBottleneck) {
  PipelineShape shape;
  shape.read_workers = 4;
  shape.compute_workers = 1;
  shape.write_workers = 2;
  PipelineStages<Batch, LoadedBatch, ComputedBatch> stages;
  stages.read = [](Batch& b, int) { return LoadedBatch{b, {}}; };
  stages.compute = [](LoadedBatch& l, int) {
    std::this_thread::sleep_for(2ms);
    return ComputedBatch{l.batch, {}};
  };
  stages.write = [](ComputedBatch&, int) {};
  TestPipeline pipeline(shape, stages);
  const PipelineReport report = pipeline.run(make_batches(50 * 500, 500), "Brain", 500);
  ASSERT_NE(report.bottleneck(), nullptr);
  EXPECT_EQ(report.bottleneck()->name, "Computer");
  // 2 ms per batch in one worker: at most 500 batches/s, i.e. 250000 cells/s. The lower bound only
  // says a busy time was measured: a loaded machine (CI with parallel tests, sanitizers) may
  // oversleep several-fold.
  EXPECT_LT(report.stages[1].per_worker_batches_per_second(), 500.0);
  EXPECT_GT(report.stages[1].per_worker_batches_per_second(), 20.0);
  EXPECT_GE(report.elapsed_seconds, 50 * 0.002);
  const std::string table = report.summary_table();
  std::cout << table << "\n";
  EXPECT_NE(table.find("Pipeline summary: Brain completed"), std::string::npos);
  EXPECT_NE(table.find("Total Batches        50"), std::string::npos);
  EXPECT_NE(table.find("Reader"), std::string::npos);
  EXPECT_NE(table.find("Writer"), std::string::npos);
  EXPECT_NE(table.find("Bottleneck: Computer"), std::string::npos);
}

// writers_first: compute workers that find the writers' queue full (a slow writer) run at
// nice + kUpstreamNice from then on, and the summary says so; the writer keeps its priority. With
// writers that keep up (a queue that cannot fill), nobody's priority changes.
TEST(StagedPipeline, ComputeWorkersThatOutrunTheWritersYieldToThem) {
#ifdef __linux__
  const auto nice_of = [](pid_t tid) {
    errno = 0;
    return ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  };
  const int base = nice_of(::gettid());
  if (base + PipelineControl::kUpstreamNice > 19) GTEST_SKIP() << "already at nice " << base;
  for (const bool slow_writer : {true, false}) {
    SCOPED_TRACE(slow_writer ? "slow writer" : "writer keeps up");
    PipelineShape shape;
    shape.read_workers = 1;
    shape.compute_workers = 2;
    shape.write_workers = 1;
    shape.writer_queue_size = slow_writer ? 2 : 100;  // 40 batches never fill 100
    shape.writers_first = true;
    std::array<std::atomic<pid_t>, 2> compute_tid{};
    std::atomic<pid_t> writer_tid{0};
    PipelineStages<Batch, LoadedBatch, ComputedBatch> stages;
    stages.read = [](Batch& b, int) { return LoadedBatch{b, {}}; };
    stages.compute = [&](LoadedBatch& l, int worker) {
      compute_tid[static_cast<std::size_t>(worker)] = ::gettid();
      return ComputedBatch{l.batch, {l.batch.id}};
    };
    stages.write = [&](ComputedBatch&, int) {
      writer_tid = ::gettid();
      if (slow_writer) std::this_thread::sleep_for(2ms);
    };
    TestPipeline pipeline(shape, stages);
    const PipelineReport report = pipeline.run(make_batches(40 * 10, 10), "x", 10);
    EXPECT_EQ(report.completed_batches, 40u);
    // The pools outlive the run: the threads' priorities now.
    EXPECT_EQ(nice_of(writer_tid.load()), base);
    int lowered = 0;
    for (const auto& tid : compute_tid) {
      if (tid.load() == 0) continue;  // a worker that computed no batch
      const int nice = nice_of(tid.load());
      EXPECT_TRUE(nice == base || nice == base + PipelineControl::kUpstreamNice) << nice;
      lowered += nice == base + PipelineControl::kUpstreamNice;
    }
    EXPECT_EQ(lowered, report.workers_yielding);
    const std::string table = report.summary_table();
    if (slow_writer) {
      EXPECT_GE(report.workers_yielding, 1);
      EXPECT_NE(table.find("Writers first: " + std::to_string(report.workers_yielding) +
                           " compute worker(s)"), std::string::npos) << table;
    } else {
      EXPECT_EQ(report.workers_yielding, 0);
      EXPECT_EQ(table.find("Writers first:"), std::string::npos) << table;
    }
  }
#else
  GTEST_SKIP() << "per-thread priorities are Linux's";
#endif
}

TEST(Throughput, FiguresFollowTheSeedDefinitions) {
  StageThroughput s{"Computer", 4, 10, 5.0};  // 0.5 s per batch per worker
  EXPECT_DOUBLE_EQ(s.mean_batch_seconds(), 0.5);
  EXPECT_DOUBLE_EQ(s.per_worker_batches_per_second(), 2.0);
  EXPECT_DOUBLE_EQ(s.total_cells_per_second(500), 4000.0);  // 2 b/s * 500 cells * 4 workers
  PipelineReport r;
  r.batch_size = 500;
  r.total_batches = r.completed_batches = 59;
  r.elapsed_seconds = 2.0;
  r.stages = {{"Reader", 16, 59, 59.0 / 8.99}, s, {"Writer", 4, 59, 59.0 / 101.91}};
  EXPECT_DOUBLE_EQ(r.batches_per_second(), 29.5);
  EXPECT_DOUBLE_EQ(r.cells_per_second(), 14750.0);
  EXPECT_EQ(r.bottleneck()->name, "Computer");
  EXPECT_EQ(StageThroughput{}.per_worker_batches_per_second(), 0.0);
}

TEST(PipelineShape, RejectsImpossibleShapes) {
  PipelineShape shape;
  shape.compute_workers = 0;
  EXPECT_THROW(shape.validate(), UsageError);
  shape.compute_workers = 1;
  shape.compute_input_queue_size = 0;
  EXPECT_THROW(shape.validate(), UsageError);
  shape.compute_input_queue_size = 5;
  EXPECT_NO_THROW(shape.validate());
  EXPECT_EQ(shape.read_to_compute_capacity(), 5u);
}

}  // namespace
}  // namespace gsmap::core
