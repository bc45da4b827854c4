// Type-independent half of the staging pipeline: worker threads, per-run counters, completion
// and the first failure (include/gsmap/core/staged_pipeline.hpp).
#include "gsmap/core/staged_pipeline.hpp"

#ifdef __linux__
#include <sys/resource.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/progress.hpp"

namespace gsmap::core {

void PipelineShape::validate() const {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw UsageError(what);
  };
  require(read_workers >= 1, fmt::format("the pipeline needs at least 1 {} worker (got {})",
                                         stage_names[0], read_workers));
  require(compute_workers >= 1, fmt::format("the pipeline needs at least 1 {} worker (got {})",
                                            stage_names[1], compute_workers));
  require(write_workers >= 0,
          fmt::format("negative number of {} workers ({})", stage_names[2], write_workers));
  require(compute_input_queue_size >= 1,
          "--compute-input-queue-size must be at least 1 (it multiplies the compute workers)");
  require(write_workers == 0 || writer_queue_size >= 1, "--writer-queue-size must be at least 1");
}

void PipelineControl::yield_to_writers() {
#ifdef __linux__
  // Linux applies nice per thread. Raising the priority back would need a privilege; the thread
  // ends with the pool.
  const auto tid = static_cast<id_t>(::gettid());
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && ::setpriority(PRIO_PROCESS, tid, std::min(19, now + kUpstreamNice)) == 0) {
    yielded_workers_.fetch_add(1, std::memory_order_relaxed);
  }
#endif
}

PipelineControl::PipelineControl(PipelineShape shape) : shape_(std::move(shape)) {
  shape_.validate();
}

PipelineControl::~PipelineControl() { stop(); }

void PipelineControl::start(std::function<void(PipelineStage, int)> loop,
                            std::function<void()> close_queues) {
  if (!threads_.empty()) throw ComputeError("pipeline: worker pools started twice");
  close_queues_ = std::move(close_queues);
  stopping_.store(false, std::memory_order_release);
  {
    std::lock_guard lock(mutex_);
    error_ = nullptr;
  }
  const std::array<int, 3> workers = {shape_.read_workers, shape_.compute_workers,
                                      shape_.write_workers};
  try {
    for (int stage = 0; stage < 3; ++stage) {
      for (int w = 0; w < workers[stage]; ++w) {
        threads_.emplace_back(loop, static_cast<PipelineStage>(stage), w);
      }
    }
  } catch (...) {  // thread creation failed: leave no half-started pool behind
    stop();
    throw;
  }
}

void PipelineControl::stop() {
  if (close_queues_) close_queues_();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  close_queues_ = nullptr;  // the queues belong to the owner and may be gone after this
}

void PipelineControl::begin_run(std::uint64_t total_batches) {
  for (StageCounters& c : counters_) {
    c.batches.store(0);
    c.busy_ns.store(0);
  }
  std::lock_guard lock(mutex_);
  total_ = total_batches;
  completed_ = 0;
  run_start_ = std::chrono::steady_clock::now();
  elapsed_seconds_ = 0.0;
}

void PipelineControl::record(PipelineStage stage, std::chrono::steady_clock::duration busy) {
  StageCounters& c = counters_[static_cast<int>(stage)];
  c.busy_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(busy).count());
  c.batches.fetch_add(1);
}

void PipelineControl::mark_completed() {
  std::lock_guard lock(mutex_);
  if (++completed_ == total_) done_.notify_all();
}

void PipelineControl::fail(std::exception_ptr error) {
  {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
    stopping_.store(true, std::memory_order_release);
  }
  if (close_queues_) close_queues_();
  done_.notify_all();
}

void PipelineControl::wait() {
  std::exception_ptr error;
  {
    std::unique_lock lock(mutex_);
    // The waiting (main) thread also drives the stage's progress reductions (core/progress.hpp).
    const auto finished = [&] { return completed_ >= total_ || error_ != nullptr; };
    while (!done_.wait_for(lock, std::chrono::milliseconds(50), finished)) {
      lock.unlock();
      poll_progress();
      lock.lock();
    }
    error = error_;
    elapsed_seconds_ =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start_).count();
  }
  if (error) {
    stop();  // the next run starts fresh pools
    std::rethrow_exception(error);
  }
}

PipelineReport PipelineControl::report(std::string label, std::size_t batch_size) const {
  PipelineReport r;
  r.label = std::move(label);
  r.batch_size = batch_size;
  {
    std::lock_guard lock(mutex_);
    r.total_batches = total_;
    r.completed_batches = completed_;
    r.elapsed_seconds = elapsed_seconds_;
  }
  const std::array<int, 3> workers = {shape_.read_workers, shape_.compute_workers,
                                      shape_.write_workers};
  for (int stage = 0; stage < 3; ++stage) {
    if (workers[stage] == 0) continue;
    StageThroughput t;
    t.name = shape_.stage_names[stage];
    t.workers = workers[stage];
    t.batches = counters_[stage].batches.load();
    t.busy_seconds = static_cast<double>(counters_[stage].busy_ns.load()) * 1e-9;
    r.stages.push_back(std::move(t));
  }
  r.workers_yielding = yielded_workers_.load(std::memory_order_relaxed);
  return r;
}

std::uint64_t PipelineControl::batches_done(PipelineStage stage) const {
  return counters_[static_cast<int>(stage)].batches.load();
}

std::uint64_t PipelineControl::completed() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

}  // namespace gsmap::core
