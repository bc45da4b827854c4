// A stage's progress over the ranks: non-blocking reductions driven by the main thread
// (include/gsmap/dist/progress.hpp).
#include "gsmap/dist/progress.hpp"

#include <cstdlib>
#include <map>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/dist/mpi.hpp"

namespace gsmap::dist {
namespace {

using Clock = std::chrono::steady_clock;

// One duplicate per communicator, made on first use (collective) and kept for the run: progress
// rounds never share a communicator with the stages' collectives.
MPI_Comm progress_comm(MPI_Comm comm) {
  static std::map<MPI_Comm, MPI_Comm> dups;
  auto it = dups.find(comm);
  if (it != dups.end()) return it->second;
  MPI_Comm dup = MPI_COMM_NULL;
  GSMAP_MPI_CALL(MPI_Comm_dup(comm, &dup));
  dups.emplace(comm, dup);
  return dup;
}

}  // namespace

double StageProgress::interval_seconds() {
  if (const char* v = std::getenv("GSMAP_PROGRESS_INTERVAL")) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end != v && s > 0) return s;
  }
  return 2.0;
}

StageProgress::StageProgress(std::string what, std::int64_t local_total, std::string unit,
                             MPI_Comm comm)
    : StageProgress(std::move(what), {}, {}, std::move(unit), comm) {
  local_total_ = local_total;
  start_round(false);  // the first round tells rank 0 the total
}

StageProgress::StageProgress(std::string what, std::vector<std::string> part_names,
                             std::vector<std::int64_t> local_part_totals, std::string unit,
                             MPI_Comm comm)
    : local_total_(0),
      comm_(progress_comm(comm)),
      interval_(interval_seconds()),
      part_names_(std::move(part_names)),
      part_totals_(std::move(local_part_totals)),
      part_done_(part_names_.size()),
      part_shown_(part_names_.size(), 0),
      display_(std::move(what), std::move(unit)) {
  if (part_totals_.size() != part_names_.size()) {
    throw ComputeError("progress: part names and totals differ in number");
  }
  size_ = size(comm_);
  rank0_ = rank(comm_) == 0 && log::rank() == 0;
  live_ = rank0_ && log::stderr_is_terminal();
  t0_ = Clock::now();
  const std::size_t n = 3 + 2 * part_names_.size();
  send_.assign(n, 0);
  recv_.assign(n, 0);
  for (const auto t : part_totals_) local_total_ += t;
  active_.emplace(done_, [this] { poll(); },
                  std::span<std::atomic<std::int64_t>>(part_done_.data(), part_done_.size()));
  if (!part_names_.empty()) start_round(false);
}

StageProgress::~StageProgress() {
  if (live_) log::progress_done();
}

void StageProgress::start_round(bool finished) {
  const std::size_t parts = part_names_.size();
  send_[0] = done_.load(std::memory_order_relaxed);
  send_[1] = local_total_;
  send_[2] = finished ? 1 : 0;
  for (std::size_t k = 0; k < parts; ++k) {
    send_[3 + k] = part_done_[k].load(std::memory_order_relaxed);
    send_[3 + parts + k] = part_totals_[k];
  }
  GSMAP_MPI_CALL(MPI_Iallreduce(send_.data(), recv_.data(), static_cast<int>(send_.size()),
                                MPI_INT64_T, MPI_SUM, comm_, &request_));
  last_round_ = Clock::now();
}

bool StageProgress::test_round() {
  if (request_ == MPI_REQUEST_NULL) return false;
  int flag = 0;
  GSMAP_MPI_CALL(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE));
  return flag != 0;
}

void StageProgress::show_parts() {
  const std::size_t parts = part_names_.size();
  for (std::size_t k = 0; k < parts; ++k) {
    const std::int64_t done = recv_[3 + k], total = recv_[3 + parts + k];
    if (part_shown_[k] || done < total) continue;
    part_shown_[k] = 1;
    if (part_names_[k].empty()) continue;
    if (live_) log::progress_done();
    GSMAP_LOG_INFO("{}: {} done ({} {})", display_.what(), part_names_[k], total, display_.unit());
  }
}

void StageProgress::show(bool final_line) {
  if (!rank0_) return;
  show_parts();
  const core::ProgressReading r{recv_[0], recv_[1],
                                std::chrono::duration<double>(Clock::now() - t0_).count()};
  if (final_line) {
    if (live_) log::progress_done();
    GSMAP_LOG_INFO("{}", display_.final_line(r));
    return;
  }
  if (live_) log::progress(display_.line(r));
  if (auto line = display_.log_line(r)) {
    if (live_) {
      log::info_to_file(*line);
    } else {
      GSMAP_LOG_INFO("{}", *line);
    }
  }
}

void StageProgress::poll() {
  if (finished_) return;
  if (test_round()) show(false);
  if (request_ == MPI_REQUEST_NULL &&
      std::chrono::duration<double>(Clock::now() - last_round_).count() >= interval_) {
    start_round(false);
  }
}

std::int64_t StageProgress::finish() {
  if (finished_) return recv_[1];
  for (;;) {
    if (request_ == MPI_REQUEST_NULL) start_round(true);
    while (!test_round()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (recv_[2] == size_) break;  // every rank's last count is in this round
    if (send_[2] == 0) {
      // A round started before this rank finished: show it, then the final round.
      show(false);
    }
  }
  finished_ = true;
  active_.reset();
  show(true);
  return recv_[1];
}

}  // namespace gsmap::dist
