#pragma once
// Output locks (docs/usage.md "Concurrent runs", docs/troubleshooting.md "Lock messages"): a run
// holds an exclusive lock on each output set it writes (step x trait x spot range) and a shared
// lock on each upstream output set it reads, on files <project>/.locks/<name>.lock. The locks are
// fcntl open-file-description locks (classic fcntl locks where OFD locks are missing), released by
// the kernel when the process ends, also by a crash. Where fcntl locks are unavailable (ENOLCK,
// ENOSYS, EOPNOTSUPP: some NFS and Lustre mounts) or GSMAP_LOCK_MODE=files, lock files with
// host / PID / heartbeat are used instead; a holder whose heartbeat is older than
// GSMAP_LOCK_STALE_SECONDS (default 120) counts as dead.
//
// Not MPI-aware: the pipeline takes its locks on rank 0 (pipeline/provenance_steps.hpp).
#include <memory>
#include <string>
#include <vector>

#include "gsmap/core/error.hpp"

namespace gsmap::pipeline {

// Another live run holds an output this run needs.
class LockedError : public Error {
 public:
  explicit LockedError(std::string message) : Error(ExitCode::kIo, std::move(message)) {}
};

enum class LockMode { kNone, kShared, kExclusive };

class LockSet {
 public:
  // `project_dir` is created if missing; the lock files go to <project_dir>/.locks/.
  explicit LockSet(std::string project_dir);
  ~LockSet();  // releases every lock
  LockSet(const LockSet&) = delete;
  LockSet& operator=(const LockSet&) = delete;

  // For an output set this run may write: exclusive when free; shared when only readers hold it
  // or its writer is still checking whether to write (waits up to a few seconds for that
  // check). LockedError at once when another run is writing it, naming that run's host and PID.
  LockMode acquire_output(const std::string& name, const std::string& what);
  // For an upstream output set this run reads: shared; LockedError when a run is writing it.
  void acquire_shared(const std::string& name, const std::string& what);
  // Shared -> exclusive (the output turned out stale): LockedError naming the readers / writer.
  void upgrade(const std::string& name, const std::string& what);
  // Exclusive -> shared (the output was up to date: others may read it now).
  void downgrade(const std::string& name);
  // Exclusive held: tells waiting runs that this run writes (they fail instead of waiting).
  void mark_writing(const std::string& name);
  // Exclusive for a short critical section (results h5ad, metadata.yaml): waits for the holder.
  void acquire_exclusive_wait(const std::string& name, const std::string& what, double timeout_s);
  void release(const std::string& name);
  LockMode mode(const std::string& name) const;

  // "fcntl-ofd", "fcntl" or "files" (what this LockSet uses).
  std::string backend() const;
  std::string lock_dir() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Lock names from output names: anything outside [A-Za-z0-9._+-] becomes '_'.
std::string lock_name(const std::string& text);

}  // namespace gsmap::pipeline
