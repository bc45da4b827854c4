// Progress counters and rank 0's progress lines (include/gsmap/core/progress.hpp).
#include "gsmap/core/progress.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::core {
namespace {

// The active stage. The counter pointer is read on the workers' hot path (relaxed: the count is
// a statistic, read later by the same stage's owner); the poll function only by its owner thread.
std::atomic<std::atomic<std::int64_t>*> g_counter{nullptr};
// Per-part counters of the active stage; set before g_counter is published, cleared after it is
// withdrawn, so a worker that sees g_counter also sees them.
std::span<std::atomic<std::int64_t>> g_parts;
std::mutex g_mutex;
std::function<void()> g_poll;  // guarded by g_mutex
std::thread::id g_owner;       // guarded by g_mutex

}  // namespace

void progress_add(std::int64_t n) {
  if (auto* c = g_counter.load(std::memory_order_acquire)) c->fetch_add(n, std::memory_order_relaxed);
}

void progress_add(std::int64_t n, std::size_t part) {
  if (auto* c = g_counter.load(std::memory_order_acquire)) {
    c->fetch_add(n, std::memory_order_relaxed);
    if (part < g_parts.size()) g_parts[part].fetch_add(n, std::memory_order_relaxed);
  }
}

void poll_progress() {
  std::function<void()> poll;
  {
    std::lock_guard lock(g_mutex);
    if (!g_poll || g_owner != std::this_thread::get_id()) return;
    poll = g_poll;
  }
  poll();
}

ActiveProgress::ActiveProgress(std::atomic<std::int64_t>& counter, std::function<void()> poll,
                               std::span<std::atomic<std::int64_t>> parts) {
  std::lock_guard lock(g_mutex);
  if (g_counter.load() != nullptr) {
    throw ComputeError("progress: a stage started while another one is still active");
  }
  g_poll = std::move(poll);
  g_owner = std::this_thread::get_id();
  g_parts = parts;
  g_counter.store(&counter, std::memory_order_release);
}

ActiveProgress::~ActiveProgress() {
  std::lock_guard lock(g_mutex);
  g_counter.store(nullptr, std::memory_order_release);
  g_parts = {};
  g_poll = nullptr;
  g_owner = {};
}

std::string format_seconds(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.1f} s", s);
  const auto total = static_cast<std::int64_t>(std::llround(s));
  if (total < 3600) return fmt::format("{}m {:02}s", total / 60, total % 60);
  return fmt::format("{}h {:02}m", total / 3600, (total / 60) % 60);
}

int ProgressReading::percent() const {
  if (total <= 0) return 100;
  const std::int64_t d = std::clamp<std::int64_t>(done, 0, total);
  return static_cast<int>(d * 100 / total);
}

ProgressDisplay::ProgressDisplay(std::string what, std::string unit, double log_every_seconds)
    : what_(std::move(what)), unit_(std::move(unit)), log_every_(log_every_seconds) {}

namespace {
double rate_of(const ProgressReading& r) {
  return r.elapsed > 0 ? static_cast<double>(r.done) / r.elapsed : 0.0;
}
}  // namespace

std::string ProgressDisplay::line(const ProgressReading& r) const {
  const double rate = rate_of(r);
  std::string eta = "ETA ?";
  if (r.done >= r.total) {
    eta = "ETA 0 s";
  } else if (rate > 0) {
    eta = "ETA " + format_seconds(static_cast<double>(r.total - r.done) / rate);
  }
  return fmt::format("{}: {} % ({}/{} {}, {:.0f} {}/s, {})", what_, r.percent(), r.done, r.total,
                     unit_, rate, unit_, eta);
}

std::optional<std::string> ProgressDisplay::log_line(const ProgressReading& r) {
  const int decile = r.percent() / 10;
  const bool first = last_decile_ < 0;
  if (!first && decile <= last_decile_ && r.elapsed - last_log_ < log_every_) return std::nullopt;
  last_decile_ = std::max(last_decile_, decile);
  last_log_ = r.elapsed;
  return line(r);
}

std::string ProgressDisplay::final_line(const ProgressReading& r) const {
  return fmt::format("{}: {} % ({} {} in {}, {:.0f} {}/s)", what_, r.percent(), r.done, unit_,
                     format_seconds(r.elapsed), rate_of(r), unit_);
}

}  // namespace gsmap::core
