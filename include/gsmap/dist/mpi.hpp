#pragma once
// MPI helpers: checked calls, the row partition, exact reductions, error agreement, and the local
// rank -> GPU mapping. Every function that is collective says so; all ranks of the communicator
// must call it, the same number of times (docs/development.md §3.1).
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace gsmap::dist {

// Throws gsmap::Error(kMpi) with the library's message when rc != MPI_SUCCESS.
void check(int rc, const char* what, const char* file, int line);
#define GSMAP_MPI_CALL(call) ::gsmap::dist::check((call), #call, __FILE__, __LINE__)

int rank(MPI_Comm comm);
int size(MPI_Comm comm);

// Contiguous, balanced partition of [0, n) over `parts`: part r owns [start(r), end(r)); the first
// n % parts parts get one row more. Pure function of (n, parts).
class Partition {
 public:
  Partition() = default;
  Partition(std::int64_t n, int parts);
  // Balanced like the above, but every boundary is one of `allowed` (ascending, starting at 0):
  // the nearest allowed position to r * n / parts. Used to keep work units (ranking chunks) whole.
  static Partition aligned(std::int64_t n, int parts, const std::vector<std::int64_t>& allowed);
  std::int64_t start(int r) const { return bounds_[r]; }
  std::int64_t end(int r) const { return bounds_[r + 1]; }
  std::int64_t count(int r) const { return end(r) - start(r); }
  std::int64_t total() const { return bounds_.back(); }
  int parts() const { return static_cast<int>(bounds_.size()) - 1; }
  int owner(std::int64_t row) const;  // binary search
  std::string describe() const;       // "rank 0: [0, 500) 500 cells; ..."

 private:
  std::vector<std::int64_t> bounds_{0};
};

// Collective: element-wise int64 sum (exact, so the order of the reduction cannot matter).
void allreduce_sum(std::vector<std::int64_t>& values, MPI_Comm comm);
void allreduce_sum_span(std::span<std::int64_t> values, MPI_Comm comm);
std::int64_t allreduce_sum(std::int64_t value, MPI_Comm comm);
std::int64_t allreduce_max(std::int64_t value, MPI_Comm comm);
// Collective: true on every rank if `local` is true on any rank.
bool any(bool local, MPI_Comm comm);
// Collective: when any rank's `local_error` is not empty, every rank throws IoError with the
// message of the lowest failing rank, marked as met by that rank (Error::origin_rank: it alone
// prints it).
void throw_if_any_failed(const std::string& local_error, MPI_Comm comm);
// Collective: runs `check` on every rank; when it throws gsmap::Error on any rank, every rank
// throws the lowest failing rank's error (same exit code), marked as met by that rank, so a check
// that fails everywhere alike (a bad name in a YAML file) is printed once, not once per rank.
void agree_on_checks(MPI_Comm comm, const std::function<void()>& check);

// Where this rank runs: node-local rank (shared-memory communicator), host name, the GPU it should
// use (local rank modulo visible devices; -1 without GPUs).
struct Placement {
  int world_rank = 0;
  int local_rank = 0;
  int local_size = 1;
  std::string host;
  int device = -1;
};
// Collective: computes this rank's placement; `visible_devices` is this rank's device count.
Placement local_placement(MPI_Comm comm, int visible_devices);
// Collective: gathers every rank's placement to rank 0 (empty elsewhere).
std::vector<Placement> gather_placements(const Placement& mine, MPI_Comm comm);

// Collective: writes one file from byte blocks held by each rank, in rank order (rank 0's block
// first). Written to a temp file in the same directory with MPI-IO and renamed onto `path` after
// every rank is done (io::AtomicOutput), so a failed run leaves an earlier file intact and a crash
// never leaves a partial file under the final name. Concatenated gzip members form one valid
// gzip file, which is how ranks produce one .csv.gz together.
void write_ordered_file(const std::string& path, const std::string& local_bytes, MPI_Comm comm);

}  // namespace gsmap::dist
