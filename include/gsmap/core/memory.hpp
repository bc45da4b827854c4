#pragma once
// Memory accounting per rank (docs/performance.md "Memory"): the process's peak resident set size
// from the kernel, and a ledger of the large buffers the engines hold, by name. Engines record what
// they allocate (`MemoryLedger::instance().set("W", bytes)`); the ledger keeps each part's peak and
// the parts as held at the moment their sum was largest, and the pipeline logs one line per rank at
// the end of each step (the parts at their largest sum; parts that were larger at other times after
// it):
//   "memory rank 0: peak RSS 1.21 GiB = log-rank block 0.30 + halo 0.05 + ... + other 0.12 GiB
//    (parts as held together at their largest sum, 0.35 GiB; larger apart: ranked block 0.30)"
// Thread-safe; recording costs one mutex lock (call it per buffer, not per element).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace gsmap::core {

// Peak resident set size of this process so far (VmHWM), in bytes; 0 where unknown.
std::int64_t peak_rss_bytes();
// Current resident set size (VmRSS), in bytes; 0 where unknown.
std::int64_t current_rss_bytes();

class MemoryLedger {
 public:
  static MemoryLedger& instance();

  // The part `name` now holds `bytes` (replaces the previous value; the part's peak is kept).
  void set(const std::string& name, std::int64_t bytes);
  // Adds `delta` (may be negative) to the part's current value.
  void add(const std::string& name, std::int64_t delta);
  // Forgets every part (between steps).
  void reset();

  struct Part {
    std::string name;
    std::int64_t current = 0;
    std::int64_t peak = 0;
  };
  // In first-recorded order.
  std::vector<Part> parts() const;
  // The largest sum of the parts' current values so far, and each part's value at that moment
  // (Part::current; Part::peak is the part's own peak), in first-recorded order.
  std::int64_t peak_total() const;
  std::vector<Part> parts_at_peak_total() const;
  // "peak RSS 1.21 GiB = <part> 0.30 GiB + ... + other 0.12 GiB" (parts' peaks; "other" is the
  // peak RSS not covered by the parts, never negative).
  std::string summary() const;

 private:
  void note_total();  // under mu_
  mutable std::mutex mu_;
  std::vector<Part> parts_;
  std::int64_t total_ = 0, peak_total_ = 0;
  std::vector<std::int64_t> at_peak_;  // parts_[i].current when total_ was peak_total_
};

// RAII: records `bytes` under `name` for the lifetime of the guard.
class MemoryPart {
 public:
  MemoryPart(std::string name, std::int64_t bytes) : name_(std::move(name)), bytes_(bytes) {
    MemoryLedger::instance().add(name_, bytes_);
  }
  ~MemoryPart() { MemoryLedger::instance().add(name_, -bytes_); }
  MemoryPart(const MemoryPart&) = delete;
  MemoryPart& operator=(const MemoryPart&) = delete;

 private:
  std::string name_;
  std::int64_t bytes_;
};

// glibc's heaps of threads other than the main one keep a free top (what their freed blocks left
// at the end of the heap) up to the trim threshold, which glibc raises as a run frees large blocks
// (up to 64 MiB), and malloc_trim() does not shrink them. From return_freed_heap_tops() on, every
// heap gives back a free top above 1 MiB when a block is freed (docs/scalability.md "Memory per
// rank"); keep_freed_heap_tops() sets glibc's largest default threshold again. No-ops elsewhere.
void return_freed_heap_tops();
void keep_freed_heap_tops();

}  // namespace gsmap::core
