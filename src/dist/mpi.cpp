#include "gsmap/dist/mpi.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <iterator>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/atomic_file.hpp"

namespace gsmap::dist {

void check(int rc, const char* what, const char* file, int line) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(ExitCode::kMpi, fmt::format("MPI call failed at {}:{}: {}: {}", file, line, what,
                                          std::string(msg, len)));
}

int rank(MPI_Comm comm) {
  int r = 0;
  GSMAP_MPI_CALL(MPI_Comm_rank(comm, &r));
  return r;
}

int size(MPI_Comm comm) {
  int s = 1;
  GSMAP_MPI_CALL(MPI_Comm_size(comm, &s));
  return s;
}

Partition::Partition(std::int64_t n, int parts) {
  bounds_.assign(static_cast<std::size_t>(parts) + 1, 0);
  const std::int64_t base = n / parts, extra = n % parts;
  for (int r = 0; r < parts; ++r) bounds_[r + 1] = bounds_[r] + base + (r < extra ? 1 : 0);
}

Partition Partition::aligned(std::int64_t n, int parts, const std::vector<std::int64_t>& allowed) {
  Partition p(n, parts);
  for (int r = 1; r < parts; ++r) {
    const std::int64_t target = p.bounds_[r];
    auto it = std::lower_bound(allowed.begin(), allowed.end(), target);
    std::int64_t best = it == allowed.end() ? n : *it;
    if (it != allowed.begin() && target - *std::prev(it) <= best - target) best = *std::prev(it);
    p.bounds_[r] = std::max(p.bounds_[r - 1], std::min(best, n));
  }
  return p;
}

int Partition::owner(std::int64_t row) const {
  auto it = std::upper_bound(bounds_.begin(), bounds_.end(), row);
  return static_cast<int>(it - bounds_.begin()) - 1;
}

std::string Partition::describe() const {
  std::string s;
  for (int r = 0; r < parts(); ++r) {
    s += fmt::format("{}rank {}: cells [{}, {}) = {}", r ? "; " : "", r, start(r), end(r), count(r));
  }
  return s;
}

void allreduce_sum(std::vector<std::int64_t>& values, MPI_Comm comm) {
  allreduce_sum_span(values, comm);
}

void allreduce_sum_span(std::span<std::int64_t> values, MPI_Comm comm) {
  // Chunked so counts fit in an int whatever the gene count.
  constexpr std::size_t kChunk = 1 << 26;
  for (std::size_t off = 0; off < values.size(); off += kChunk) {
    int n = static_cast<int>(std::min(kChunk, values.size() - off));
    GSMAP_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, values.data() + off, n, MPI_INT64_T, MPI_SUM, comm));
  }
}

std::int64_t allreduce_sum(std::int64_t value, MPI_Comm comm) {
  GSMAP_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_SUM, comm));
  return value;
}

std::int64_t allreduce_max(std::int64_t value, MPI_Comm comm) {
  GSMAP_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MAX, comm));
  return value;
}

bool any(bool local, MPI_Comm comm) {
  int v = local ? 1 : 0;
  GSMAP_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, comm));
  return v != 0;
}

Placement local_placement(MPI_Comm comm, int visible_devices) {
  Placement p;
  p.world_rank = rank(comm);
  MPI_Comm local;
  GSMAP_MPI_CALL(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, p.world_rank, MPI_INFO_NULL, &local));
  p.local_rank = rank(local);
  p.local_size = size(local);
  MPI_Comm_free(&local);
  char host[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  GSMAP_MPI_CALL(MPI_Get_processor_name(host, &len));
  p.host.assign(host, len);
  p.device = visible_devices > 0 ? p.local_rank % visible_devices : -1;
  return p;
}

std::vector<Placement> gather_placements(const Placement& mine, MPI_Comm comm) {
  const int me = rank(comm), n = size(comm);
  constexpr int kHost = 256;
  std::vector<char> buf(kHost + 3 * sizeof(int), 0);
  std::copy_n(mine.host.data(), std::min<std::size_t>(mine.host.size(), kHost - 1), buf.data());
  int ints[3] = {mine.local_rank, mine.local_size, mine.device};
  std::memcpy(buf.data() + kHost, ints, sizeof ints);
  std::vector<char> all(me == 0 ? buf.size() * n : 0);
  GSMAP_MPI_CALL(MPI_Gather(buf.data(), static_cast<int>(buf.size()), MPI_CHAR, all.data(),
                            static_cast<int>(buf.size()), MPI_CHAR, 0, comm));
  std::vector<Placement> out;
  if (me != 0) return out;
  for (int r = 0; r < n; ++r) {
    const char* b = all.data() + r * buf.size();
    Placement p;
    p.world_rank = r;
    p.host = std::string(b);
    std::memcpy(ints, b + kHost, sizeof ints);
    p.local_rank = ints[0];
    p.local_size = ints[1];
    p.device = ints[2];
    out.push_back(p);
  }
  return out;
}

namespace {
std::string mpi_error_text(int rc) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  return std::string(msg, static_cast<std::size_t>(len));
}
}  // namespace

namespace {
// The lowest failing rank's (code, message) on every rank; code 0 when no rank failed.
std::pair<int, std::string> lowest_failure(int local_code, const std::string& local_error,
                                           MPI_Comm comm, int& reporter) {
  const int np = size(comm);
  const int failed = local_code == 0 ? np : rank(comm);
  GSMAP_MPI_CALL(MPI_Allreduce(&failed, &reporter, 1, MPI_INT, MPI_MIN, comm));
  if (reporter == np) return {0, {}};
  std::string error = local_error;
  int head[2] = {local_code, static_cast<int>(error.size())};
  GSMAP_MPI_CALL(MPI_Bcast(head, 2, MPI_INT, reporter, comm));
  error.resize(static_cast<std::size_t>(head[1]));
  GSMAP_MPI_CALL(MPI_Bcast(error.data(), head[1], MPI_CHAR, reporter, comm));
  return {head[0], error};
}
}  // namespace

void throw_if_any_failed(const std::string& local_error, MPI_Comm comm) {
  int reporter = 0;
  auto [code, error] = lowest_failure(local_error.empty() ? 0 : static_cast<int>(ExitCode::kIo),
                                      local_error, comm, reporter);
  if (code == 0) return;
  IoError e(error);
  e.set_origin_rank(reporter);
  throw e;
}

void agree_on_checks(MPI_Comm comm, const std::function<void()>& check) {
  int local_code = 0;
  std::string local_error;
  try {
    check();
  } catch (const Error& e) {
    local_code = static_cast<int>(e.code());
    local_error = e.what();
  }
  int reporter = 0;
  auto [code, error] = lowest_failure(local_code, local_error, comm, reporter);
  if (code == 0) return;
  Error e(static_cast<ExitCode>(code), error);
  e.set_origin_rank(reporter);
  throw e;
}

void write_ordered_file(const std::string& path, const std::string& local_bytes, MPI_Comm comm) {
  long long mine = static_cast<long long>(local_bytes.size()), offset = 0;
  GSMAP_MPI_CALL(MPI_Exscan(&mine, &offset, 1, MPI_LONG_LONG, MPI_SUM, comm));
  if (rank(comm) == 0) offset = 0;  // MPI_Exscan leaves rank 0's result undefined
  io::AtomicOutput out(path, comm);   // collective; rank 0 created the (empty) temp file
  MPI_File fh;
  int rc = MPI_File_open(comm, out.temp_path().c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY,
                         MPI_INFO_NULL, &fh);
  std::string error;
  if (rc != MPI_SUCCESS) {
    error = fmt::format("{}: cannot open the new file {} (MPI-IO): {}", path, out.temp_path(),
                        mpi_error_text(rc));
  }
  throw_if_any_failed(error, comm);
  // Chunks below INT_MAX bytes; every rank joins the same number of collective writes, even after
  // a failed one, so that a full disk on one rank cannot leave the others waiting.
  constexpr long long kChunk = 1LL << 30;
  long long rounds = (mine + kChunk - 1) / kChunk;
  rounds = allreduce_max(rounds, comm);
  for (long long i = 0; i < rounds; ++i) {
    long long off = i * kChunk;
    int n = static_cast<int>(std::max(0LL, std::min(kChunk, mine - off)));
    errno = 0;  // MPI-IO reports a class, not the OS reason: take errno when it is an I/O one
    rc = MPI_File_write_at_all(fh, offset + std::min(off, mine),
                               local_bytes.data() + std::min(off, mine), n, MPI_BYTE,
                               MPI_STATUS_IGNORE);
    const std::string reason = io::os_io_reason(errno);
    if (rc != MPI_SUCCESS && error.empty()) {
      error = fmt::format("{}: cannot write {} bytes at offset {} of {}: {}", path, n,
                          offset + std::min(off, mine), out.temp_path(),
                          reason.empty() ? mpi_error_text(rc) : reason);
    }
  }
  errno = 0;
  rc = MPI_File_close(&fh);
  if (rc != MPI_SUCCESS && error.empty()) {
    const std::string reason = io::os_io_reason(errno);
    error = fmt::format("{}: cannot close {}: {}", path, out.temp_path(),
                        reason.empty() ? mpi_error_text(rc) : reason);
  }
  // Open MPI's collective write can return MPI_SUCCESS after its pwritev failed (a full disk, a
  // file-size limit): the file's size is the proof that every byte arrived.
  const long long total = allreduce_sum(static_cast<std::int64_t>(mine), comm);
  if (error.empty() && rank(comm) == 0) {
    struct stat st{};
    if (::stat(out.temp_path().c_str(), &st) != 0) {
      error = fmt::format("{}: cannot check the new file {}: {}", path, out.temp_path(),
                          io::os_io_reason(errno));
    } else if (static_cast<long long>(st.st_size) != total) {
      error = fmt::format(
          "{}: the new file {} holds {} of the {} bytes written, although MPI-IO reported "
          "success (the storage refused a write)",
          path, out.temp_path(), static_cast<long long>(st.st_size), total);
    }
  }
  if (!error.empty()) {
    const std::string problem = io::storage_problem(out.temp_path());
    if (!problem.empty() && error.find(problem) == std::string::npos) error += "; " + problem;
  }
  throw_if_any_failed(error, comm);
  out.commit();
}

}  // namespace gsmap::dist
