#pragma once
// Memory accounting per rank (docs/performance.md "Memory"): the process's peak resident set size
// from the kernel, and a ledger of the large buffers the engines hold, by name. Engines record what
// they allocate (`MemoryLedger::instance().set("W", bytes)`); the ledger keeps each part's peak, and
// the pipeline logs one line per rank at the end of each step:
//   "memory rank 0: peak RSS 1.21 GiB = log-rank block 0.30 + halo 0.05 + GSS block 0.08 + ..."
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
  // "peak RSS 1.21 GiB = <part> 0.30 GiB + ... + other 0.12 GiB" (parts' peaks; "other" is the
  // peak RSS not covered by the parts, never negative).
  std::string summary() const;

 private:
  mutable std::mutex mu_;
  std::vector<Part> parts_;
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

}  // namespace gsmap::core
