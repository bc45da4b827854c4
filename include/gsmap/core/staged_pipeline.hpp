#pragma once
// The staging pipeline inside one rank (docs/algorithms.md §4.7):
//
//   run(jobs) -> submission queue (unbounded) -> reader workers -> R->C queue (bounded)
//             -> compute workers -> C->W queue (bounded) -> writer workers
//
// Generic over the payloads: Job (what is submitted, e.g. a batch of cells), Loaded (what a reader
// produces, e.g. the gathered neighbour log ranks) and Computed (what a compute worker produces,
// e.g. the batch's GSS rows). Bounded queues give back-pressure: R->C holds
// compute_workers * compute_input_queue_size items, C->W holds writer_queue_size. With
// write_workers = 0 the compute stage is the last one (spatial LDSC: readers + compute).
//
// Worker pools are created on the first run and reused for later runs (one run per cell type);
// counters are reset per run. The first exception thrown by any stage function stops every worker
// (queues are closed, blocked pushes and pops return), the pools are joined and the exception is
// rethrown from run(); the next run() starts fresh pools.
//
// With writers_first, a compute worker that finds the C->W queue full has produced ahead of the
// writers, which are then the bottleneck: a batch it computes now can only wait. From then on it
// runs at a lower scheduling priority (Linux: nice + kUpstreamNice for that thread, for the life of
// the pool), so that a writer never waits for a core behind it. Workers that never find the queue
// full keep their priority (docs/performance.md "GSS stages: cores busy").
//
// Stage functions run concurrently with themselves (one call per worker at a time) and receive
// their worker index (0 .. workers-1) so they can keep per-worker state (scratch buffers, a CUDA
// stream). Writers must not call HDF5 concurrently: store rows into memory and write from one
// thread.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gsmap/core/bounded_queue.hpp"
#include "gsmap/core/throughput.hpp"

namespace gsmap::core {

enum class PipelineStage : int { kRead = 0, kCompute = 1, kWrite = 2 };

struct PipelineShape {
  int read_workers = 1;
  int compute_workers = 1;
  int write_workers = 1;                     // 0: no writer stage
  std::size_t compute_input_queue_size = 5;  // multiplier: R->C capacity = compute_workers * this
  std::size_t writer_queue_size = 100;       // C->W capacity
  bool writers_first = false;                // see above: compute yields to writers it outruns
  std::array<std::string, 3> stage_names = {"Reader", "Computer", "Writer"};

  std::size_t read_to_compute_capacity() const {
    return static_cast<std::size_t>(compute_workers) * compute_input_queue_size;
  }
  // Throws UsageError naming the offending setting (worker counts >= 1, writers >= 0, queue
  // sizes >= 1).
  void validate() const;
};

// The type-independent machinery: threads, run counters, completion and the first failure.
class PipelineControl {
 public:
  explicit PipelineControl(PipelineShape shape);
  ~PipelineControl();
  PipelineControl(const PipelineControl&) = delete;
  PipelineControl& operator=(const PipelineControl&) = delete;

  const PipelineShape& shape() const { return shape_; }

  // Starts one thread per worker; loop(stage, worker) runs until it returns. close_queues() must
  // make every blocked push/pop of the loops return (called on failure and on stop).
  void start(std::function<void(PipelineStage, int)> loop, std::function<void()> close_queues);
  bool running() const { return !threads_.empty(); }
  // Closes the queues and joins every worker.
  void stop();

  void begin_run(std::uint64_t total_batches);
  void record(PipelineStage stage, std::chrono::steady_clock::duration busy);
  void mark_completed();
  // writers_first: lowers the calling (compute) thread's priority, once per thread.
  static constexpr int kUpstreamNice = 10;
  void yield_to_writers();
  // Keeps the first failure and stops all workers.
  void fail(std::exception_ptr error);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Blocks until every batch of the run completed or a worker failed. On failure the pools are
  // stopped and the failure is rethrown.
  void wait();
  PipelineReport report(std::string label, std::size_t batch_size) const;

  // Live counters (for progress lines and tests).
  std::uint64_t batches_done(PipelineStage stage) const;
  std::uint64_t completed() const;

 private:
  struct StageCounters {
    std::atomic<std::uint64_t> batches{0};
    std::atomic<std::int64_t> busy_ns{0};
  };
  std::atomic<int> yielded_workers_{0};

  PipelineShape shape_;
  std::array<StageCounters, 3> counters_;
  std::vector<std::thread> threads_;
  std::function<void()> close_queues_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::uint64_t total_ = 0, completed_ = 0;
  std::exception_ptr error_;
  std::chrono::steady_clock::time_point run_start_;
  double elapsed_seconds_ = 0.0;
};

template <typename Job, typename Loaded, typename Computed>
struct PipelineStages {
  std::function<Loaded(Job&, int worker)> read;
  std::function<Computed(Loaded&, int worker)> compute;
  std::function<void(Computed&, int worker)> write;  // unused (may be empty) with 0 writers
};

template <typename Job, typename Loaded, typename Computed>
class StagedPipeline {
 public:
  StagedPipeline(PipelineShape shape, PipelineStages<Job, Loaded, Computed> stages)
      : control_(std::move(shape)), stages_(std::move(stages)) {}
  ~StagedPipeline() { control_.stop(); }
  StagedPipeline(const StagedPipeline&) = delete;
  StagedPipeline& operator=(const StagedPipeline&) = delete;

  // Processes every job through all stages and returns when the last one has left the last
  // stage. `label` and `batch_size` (nominal cells per job) only feed the report.
  PipelineReport run(std::vector<Job> jobs, std::string label, std::size_t batch_size) {
    if (!control_.running()) start_pools();
    control_.begin_run(jobs.size());
    for (Job& job : jobs) {
      if (!submitted_->push(std::move(job))) break;  // a worker failed; wait() rethrows
    }
    control_.wait();
    return control_.report(std::move(label), batch_size);
  }

  const PipelineShape& shape() const { return control_.shape(); }
  std::uint64_t batches_done(PipelineStage stage) const { return control_.batches_done(stage); }
  std::uint64_t completed() const { return control_.completed(); }

 private:
  using Clock = std::chrono::steady_clock;

  void start_pools() {
    const PipelineShape& s = control_.shape();
    submitted_ = std::make_unique<BoundedQueue<Job>>(0);
    loaded_ = std::make_unique<BoundedQueue<Loaded>>(s.read_to_compute_capacity());
    computed_ = std::make_unique<BoundedQueue<Computed>>(s.writer_queue_size);
    control_.start([this](PipelineStage stage, int worker) { worker_loop(stage, worker); },
                   [this] {
                     submitted_->close();
                     loaded_->close();
                     computed_->close();
                   });
  }

  void worker_loop(PipelineStage stage, int worker) {
    try {
      switch (stage) {
        case PipelineStage::kRead:
          read_loop(worker);
          break;
        case PipelineStage::kCompute:
          compute_loop(worker);
          break;
        case PipelineStage::kWrite:
          write_loop(worker);
          break;
      }
    } catch (...) {
      control_.fail(std::current_exception());
    }
  }

  // Each loop records a batch's busy time before handing the result on, so that a run's counters
  // are complete when its last batch completes (the wait for room downstream is not busy time).
  void read_loop(int worker) {
    while (auto job = submitted_->pop()) {
      if (control_.stopping()) return;
      const auto started = Clock::now();
      Loaded loaded = stages_.read(*job, worker);
      control_.record(PipelineStage::kRead, Clock::now() - started);
      if (!loaded_->push(std::move(loaded))) return;
    }
  }

  void compute_loop(int worker) {
    const bool last_stage = control_.shape().write_workers == 0;
    bool may_yield = control_.shape().writers_first && !last_stage;
    while (auto loaded = loaded_->pop()) {
      if (control_.stopping()) return;
      const auto started = Clock::now();
      Computed computed = stages_.compute(*loaded, worker);
      control_.record(PipelineStage::kCompute, Clock::now() - started);
      if (may_yield && computed_->full()) {
        control_.yield_to_writers();
        may_yield = false;
      }
      if (last_stage) {
        control_.mark_completed();
      } else if (!computed_->push(std::move(computed))) {
        return;
      }
    }
  }

  void write_loop(int worker) {
    while (auto computed = computed_->pop()) {
      if (control_.stopping()) return;
      const auto started = Clock::now();
      stages_.write(*computed, worker);
      control_.record(PipelineStage::kWrite, Clock::now() - started);
      control_.mark_completed();
    }
  }

  PipelineControl control_;
  PipelineStages<Job, Loaded, Computed> stages_;
  std::unique_ptr<BoundedQueue<Job>> submitted_;
  std::unique_ptr<BoundedQueue<Loaded>> loaded_;
  std::unique_ptr<BoundedQueue<Computed>> computed_;
};

}  // namespace gsmap::core
