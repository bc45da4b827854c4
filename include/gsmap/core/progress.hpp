#pragma once
// Progress of a long stage (ranking, neighbours, GSS, spatial LDSC, Cauchy): counters that worker
// threads bump, and the display rules of rank 0's line. The aggregation over the ranks is
// dist::StageProgress (dist/progress.hpp); this part needs no MPI.
//
// Counting: the stage's code calls core::progress_add(n) wherever it finishes n units (cells,
// spots, traits), from any thread. One relaxed atomic add on a counter of its own cache line; no
// lock, no MPI. Without an active stage it does nothing.
//
// Display (rank 0, docs/usage.md "Progress"): on a terminal a live line (percent, rate, ETA)
// redrawn after every aggregation; in the log file, and on stderr when it is not a terminal (mpirun
// and srun pipe it, batch logs), a plain line at each further 10 % or after 60 s without one, and
// a final line with the stage's time and mean rate.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

namespace gsmap::core {

// Adds n finished units to the active stage's counter (any thread).
void progress_add(std::int64_t n);
// The same, for a stage counted in parts (the GSS per cell type): also adds n to part `part`.
void progress_add(std::int64_t n, std::size_t part);

// Called by the thread that waits for workers (e.g. the staged pipeline's wait loop): runs the
// active stage's poll function when the calling thread is the one that registered it, else nothing.
void poll_progress();

// The active stage, one at a time (dist::StageProgress registers itself). `poll` runs on the
// registering thread only. `parts` (may be empty) are the per-part counters. Workers must have
// stopped counting before the stage ends (its destructor withdraws the counters).
class ActiveProgress {
 public:
  ActiveProgress(std::atomic<std::int64_t>& counter, std::function<void()> poll,
                 std::span<std::atomic<std::int64_t>> parts = {});
  ~ActiveProgress();
  ActiveProgress(const ActiveProgress&) = delete;
  ActiveProgress& operator=(const ActiveProgress&) = delete;
};

// "1.2 s", "4m 05s", "1h 02m".
std::string format_seconds(double seconds);

// One aggregated reading: `done` of `total` units after `elapsed` seconds.
struct ProgressReading {
  std::int64_t done = 0;
  std::int64_t total = 0;
  double elapsed = 0.0;
  int percent() const;  // floor(100 * done / total), 100 when total is 0
};

// What rank 0 prints for one stage. `what` names the stage ("ranking"), `unit` its units ("cells").
class ProgressDisplay {
 public:
  ProgressDisplay(std::string what, std::string unit, double log_every_seconds = 60.0);
  // "ranking: 45 % (4500/10000 cells, 1234 cells/s, ETA 4.5 s)".
  std::string line(const ProgressReading& r) const;
  // The plain log line due now, if any: the first reading, a further 10 % step, or
  // log_every_seconds after the previous line. Remembers what it returned.
  std::optional<std::string> log_line(const ProgressReading& r);
  // "ranking: 100 % (10000 cells in 8.1 s, 1234 cells/s)".
  std::string final_line(const ProgressReading& r) const;
  const std::string& what() const { return what_; }
  const std::string& unit() const { return unit_; }

 private:
  std::string what_, unit_;
  double log_every_;
  int last_decile_ = -1;
  double last_log_ = 0.0;
};

}  // namespace gsmap::core
