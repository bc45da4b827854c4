#include "gsmap/core/memory.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace gsmap::core {
namespace {

std::int64_t status_field_kib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      std::istringstream s(line.substr(prefix.size()));
      std::int64_t kib = 0;
      s >> kib;
      return kib;
    }
  }
  return 0;
}

double gib(std::int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

}  // namespace

std::int64_t peak_rss_bytes() { return status_field_kib("VmHWM") * 1024; }
std::int64_t current_rss_bytes() { return status_field_kib("VmRSS") * 1024; }

MemoryLedger& MemoryLedger::instance() {
  static MemoryLedger ledger;
  return ledger;
}

void MemoryLedger::set(const std::string& name, std::int64_t bytes) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(parts_.begin(), parts_.end(), [&](const Part& p) { return p.name == name; });
  if (it == parts_.end()) it = parts_.insert(parts_.end(), Part{name, 0, 0});
  total_ += bytes - it->current;
  it->current = bytes;
  it->peak = std::max(it->peak, bytes);
  note_total();
}

void MemoryLedger::note_total() {
  if (total_ <= peak_total_) return;
  peak_total_ = total_;
  at_peak_.resize(parts_.size());
  for (std::size_t i = 0; i < parts_.size(); ++i) at_peak_[i] = parts_[i].current;
}

void MemoryLedger::add(const std::string& name, std::int64_t delta) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(parts_.begin(), parts_.end(), [&](const Part& p) { return p.name == name; });
  if (it == parts_.end()) it = parts_.insert(parts_.end(), Part{name, 0, 0});
  it->current += delta;
  it->peak = std::max(it->peak, it->current);
  total_ += delta;
  note_total();
}

void MemoryLedger::reset() {
  std::lock_guard lock(mu_);
  parts_.clear();
  at_peak_.clear();
  total_ = peak_total_ = 0;
}

std::int64_t MemoryLedger::peak_total() const {
  std::lock_guard lock(mu_);
  return peak_total_;
}

std::vector<MemoryLedger::Part> MemoryLedger::parts_at_peak_total() const {
  std::lock_guard lock(mu_);
  std::vector<Part> out = parts_;
  for (std::size_t i = 0; i < out.size(); ++i) out[i].current = i < at_peak_.size() ? at_peak_[i] : 0;
  return out;
}

std::vector<MemoryLedger::Part> MemoryLedger::parts() const {
  std::lock_guard lock(mu_);
  return parts_;
}

std::string MemoryLedger::summary() const {
  const auto ps = parts_at_peak_total();
  const std::int64_t peak = peak_rss_bytes();
  std::string out = fmt::format("peak RSS {:.2f} GiB", gib(peak));
  std::int64_t covered = 0;
  std::string terms, apart;
  for (const auto& p : ps) {
    if (p.current > 0) {
      terms += fmt::format("{}{} {:.2f}", terms.empty() ? " = " : " + ", p.name, gib(p.current));
      covered += p.current;
    }
    if (std::llround(gib(p.peak) * 100) != std::llround(gib(p.current) * 100)) {  // as printed
      apart += fmt::format("{}{} {:.2f}", apart.empty() ? "" : ", ", p.name, gib(p.peak));
    }
  }
  if (!terms.empty()) {
    out += terms + fmt::format(" + other {:.2f} GiB (parts as held together at their largest sum",
                               gib(std::max<std::int64_t>(0, peak - covered)));
    out += apart.empty() ? ")" : "; larger apart: " + apart + ")";
  }
  return out;
}

void return_freed_heap_tops() {
#ifdef __GLIBC__
  mallopt(M_TRIM_THRESHOLD, 1 << 20);  // also stops glibc's raising of the mmap threshold
#endif
}

void keep_freed_heap_tops() {
#ifdef __GLIBC__
  mallopt(M_TRIM_THRESHOLD, 64 << 20);  // 2 x DEFAULT_MMAP_THRESHOLD_MAX on 64-bit hosts
#endif
}

}  // namespace gsmap::core
