#pragma once
// Progress of one long stage aggregated over the ranks of a communicator and shown by its rank 0
// (docs/usage.md "Progress"; display rules in core/progress.hpp).
//
// MPI_THREAD_FUNNELED (docs/development.md §3.1): only the thread that constructed the object
// (the main thread) makes MPI calls. Workers only bump an atomic counter (core::progress_add). The
// main thread, while it waits for the workers, polls: every few seconds it starts a non-blocking
// sum (MPI_Iallreduce) of {done, total, finished} over a duplicate of the communicator, and
// completes it with MPI_Test; rank 0 prints the result. The duplicate keeps these reductions out
// of the order of the stage's own collectives. finish() goes on reducing until a round says that
// every rank has finished, so all ranks leave after the same number of rounds.
//
// The main thread polls in three ways: core::poll_progress() from the staged pipeline's wait loop,
// explicit poll() calls between units of work, or run(fn), which runs fn on a helper thread and
// polls until it returns (fn must make no MPI call).
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "gsmap/core/progress.hpp"

namespace gsmap::dist {

class StageProgress {
 public:
  // Collective over `comm` (the first use of a communicator duplicates it). `local_total`: the
  // units this rank will add. `what`/`unit` name the stage in rank 0's lines.
  StageProgress(std::string what, std::int64_t local_total, std::string unit, MPI_Comm comm);
  // A stage counted in named parts (the GSS per cell type; names the same on every rank,
  // local_part_totals[k] this rank's units of part k): core::progress_add(n, k) counts them, and
  // rank 0 logs "<what>: <part> done (N <unit>)" once a part is complete on every rank.
  StageProgress(std::string what, std::vector<std::string> part_names,
                std::vector<std::int64_t> local_part_totals, std::string unit, MPI_Comm comm);
  // Without finish() (an exception unwinds the stage) nothing blocks: the round in flight is left
  // to the MPI_Abort that follows the error.
  ~StageProgress();
  StageProgress(const StageProgress&) = delete;
  StageProgress& operator=(const StageProgress&) = delete;

  // Units finished on this rank (any thread). Same as core::progress_add while this stage is
  // active.
  void add(std::int64_t n) { done_.fetch_add(n, std::memory_order_relaxed); }
  // Main thread: completes the round in flight and starts the next one when it is due. Cheap.
  void poll();
  // Main thread: runs fn() on a helper thread and polls until it returns; returns its result or
  // rethrows its exception. fn must not call MPI.
  template <class Fn>
  std::invoke_result_t<Fn> run(Fn&& fn);
  // Collective, main thread, at the same point on every rank: waits until every rank finished,
  // then rank 0 prints the final line. Returns the aggregated total.
  std::int64_t finish();

  // Seconds between rounds: GSMAP_PROGRESS_INTERVAL (default 2).
  static double interval_seconds();

 private:
  void start_round(bool finished);
  bool test_round();  // true when the round in flight completed (its result is in recv_)
  void show(bool final_line);
  void show_parts();  // rank 0: the parts that completed since the last round

  std::atomic<std::int64_t> done_{0};
  std::int64_t local_total_;
  MPI_Comm comm_;
  int size_ = 1;
  bool rank0_ = false;
  bool live_ = false;
  bool finished_ = false;
  double interval_;
  MPI_Request request_ = MPI_REQUEST_NULL;
  // {done, total, finished, part done..., part total...}, summed over the ranks.
  std::vector<std::int64_t> send_, recv_;
  std::vector<std::string> part_names_;
  std::vector<std::int64_t> part_totals_;
  std::vector<std::atomic<std::int64_t>> part_done_;
  std::vector<char> part_shown_;
  std::chrono::steady_clock::time_point t0_, last_round_;
  core::ProgressDisplay display_;
  std::optional<core::ActiveProgress> active_;
};

template <class Fn>
std::invoke_result_t<Fn> StageProgress::run(Fn&& fn) {
  using R = std::invoke_result_t<Fn>;
  std::packaged_task<R()> task(std::forward<Fn>(fn));
  auto result = task.get_future();
  std::thread worker(std::move(task));
  while (result.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    try {
      poll();
    } catch (...) {
      worker.join();
      throw;
    }
  }
  worker.join();
  return result.get();
}

}  // namespace gsmap::dist
