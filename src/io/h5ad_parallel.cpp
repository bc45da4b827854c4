// ParallelH5adWriter: every rank writes its own row block of dense datasets with one collective
// HDF5 call (MPI-IO driver). Strings cannot be written in parallel as variable-length data
// (docs/development.md §2.3), so obs/var and every string attribute are gathered to rank 0 and
// written after the parallel file is closed, by a serial reopen; `gsmap_complete = 1` goes last.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/h5ad.hpp"
#include "h5ad_internal.hpp"

namespace gsmap::io {
namespace {

using namespace h5ad_detail;

const char* const kDictGroups[] = {"layers", "obsm", "obsp", "varm", "varp", "uns"};

// Every rank learns whether any rank failed and, if one did, throws the lowest failing rank's
// message, marked as met by that rank (Error::origin_rank: only it prints the message).
void throw_if_failed(MPI_Comm comm, const std::string& local_error) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int failed = local_error.empty() ? 0 : 1, any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, comm);
  if (!any_failed) return;
  int candidate = failed ? rank : std::numeric_limits<int>::max(), reporter = 0;
  MPI_Allreduce(&candidate, &reporter, 1, MPI_INT, MPI_MIN, comm);
  std::string message = local_error;
  int length = static_cast<int>(message.size());
  MPI_Bcast(&length, 1, MPI_INT, reporter, comm);
  message.resize(static_cast<std::size_t>(length));
  MPI_Bcast(message.data(), length, MPI_CHAR, reporter, comm);
  IoError e(message);
  e.set_origin_rank(reporter);
  throw e;
}

// "<path>: <error>" plus the state of the file system when it explains a failed write (full or
// read-only: MPI-IO does not pass the OS reason on); "" when there is no error.
std::string located(const std::string& path, const std::string& error) {
  if (error.empty()) return error;
  const std::string problem = storage_problem(path);
  return path + ": " + error + (problem.empty() ? "" : "; " + problem);
}

// Runs fn and returns its failure message ("" on success), for throw_if_failed.
template <typename F>
std::string capture(F&& fn) {
  try {
    fn();
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

struct ParallelH5adWriter::Impl {
  struct Dense {
    hid_t dataset = H5I_INVALID_HID;
    DType type = DType::kF32;
    std::int64_t n_cols = 0;
  };

  std::string path;
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  std::int64_t n_rows = 0;
  // Raw ids: on the normal path they are closed collectively; when a rank unwinds through the
  // destructor alone, a collective close would hang, so they are left to process exit / abort.
  hid_t file = H5I_INVALID_HID;
  std::map<std::string, Dense> datasets;  // ordered: identical metadata order on every rank
  // csr_matrix groups: their three member datasets, open until the parallel file closes.
  struct Csr {
    hid_t data = H5I_INVALID_HID, indices = H5I_INVALID_HID, indptr = H5I_INVALID_HID;
    std::int64_t n_cols = 0, nnz = 0;
    bool wide = false;  // int64 indices and indptr
  };
  std::map<std::string, Csr> csrs;
  DataFrame obs;                          // rank 0: gathered rows
  bool obs_given = false;
  DataFrame var;  // rank 0
  bool var_given = false;
  bool finished = false;
  std::map<std::string, std::unique_ptr<DirectRows>> direct;  // by dataset

  void close_direct() {
    for (auto& [name, d] : direct) {
      if (d->fd_ >= 0) ::close(d->fd_);
      d->fd_ = -1;
      if (d->direct_fd_ >= 0) ::close(d->direct_fd_);
      d->direct_fd_ = -1;
    }
  }

  void close_parallel_handles() {
    close_direct();
    H5Lock lock;
    for (auto& [name, d] : datasets) {
      if (d.dataset >= 0) H5Dclose(d.dataset);
      d.dataset = H5I_INVALID_HID;
    }
    for (auto& [name, c] : csrs) {
      for (hid_t* id : {&c.data, &c.indices, &c.indptr}) {
        if (*id >= 0) H5Dclose(*id);
        *id = H5I_INVALID_HID;
      }
    }
    if (file >= 0) {
      errno = 0;
      const herr_t status = H5Fclose(file);
      file = H5I_INVALID_HID;
      if (status < 0) throw std::runtime_error(with_hdf5_detail("collective close of the HDF5 file failed"));
    }
  }
};

namespace {

hid_t create_parallel_file(const std::string& path, MPI_Comm comm) {
  quiet_hdf5_errors();
  H5Lock lock;
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  H5Pset_all_coll_metadata_ops(fapl, true);
  H5Pset_coll_metadata_write(fapl, true);
  Hid fcpl(H5Pcreate(H5P_FILE_CREATE));
  H5Pset_obj_track_times(fcpl, false);  // the root group carries no time stamp either
  return H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
}

struct TypePair {
  Hid file_type;
  Hid mem_type;
};

TypePair types_of(ParallelH5adWriter::DType t) {
  H5Lock lock;
  switch (t) {
    case ParallelH5adWriter::DType::kF16: {
      return {f16_file_type(), f16_file_type()};
    }
    case ParallelH5adWriter::DType::kF32:
      return {Hid(H5Tcopy(H5T_IEEE_F32LE)), Hid(H5Tcopy(H5T_NATIVE_FLOAT))};
    case ParallelH5adWriter::DType::kF64:
      return {Hid(H5Tcopy(H5T_IEEE_F64LE)), Hid(H5Tcopy(H5T_NATIVE_DOUBLE))};
    case ParallelH5adWriter::DType::kI32:
      return {Hid(H5Tcopy(H5T_STD_I32LE)), Hid(H5Tcopy(H5T_NATIVE_INT32))};
  }
  throw std::invalid_argument("unknown DType");
}

// Creates the groups on the way to `h5path` that do not exist yet (same calls on every rank).
void create_parents(hid_t file, const std::string& h5path) {
  for (std::size_t pos = h5path.find('/'); pos != std::string::npos;
       pos = h5path.find('/', pos + 1)) {
    const std::string parent = h5path.substr(0, pos);
    if (!link_exists(file, parent)) create_group(file, parent);
  }
}

DataFrame range_frame(std::int64_t n) {
  DataFrame df;
  df.index.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) df.index.push_back(std::to_string(i));
  return df;
}

// Gathers each rank's serialised dataframe to rank 0, in rank order.
std::vector<DataFrame> gather_frames(MPI_Comm comm, const DataFrame& local) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const std::vector<char> bytes = serialize_dataframe(local);
  long long my_size = static_cast<long long>(bytes.size());
  std::vector<long long> sizes(rank == 0 ? size : 0);
  MPI_Gather(&my_size, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, 0, comm);
  std::string error;
  std::vector<int> counts, displs;
  if (rank == 0) {
    long long total = 0;
    for (long long s : sizes) {
      counts.push_back(static_cast<int>(s));
      displs.push_back(static_cast<int>(total));
      total += s;
    }
    if (total > std::numeric_limits<int>::max()) {
      error = fmt::format(
          "obs of all ranks serialises to {} bytes, more than one MPI_Gatherv "
          "can carry (2 GiB)",
          total);
    }
  }
  throw_if_failed(comm, error);
  std::vector<char> all(rank == 0 ? static_cast<std::size_t>(displs.back() + counts.back()) : 0);
  MPI_Gatherv(bytes.data(), static_cast<int>(bytes.size()), MPI_CHAR, all.data(), counts.data(),
              displs.data(), MPI_CHAR, 0, comm);
  std::vector<DataFrame> frames;
  if (rank == 0) {
    for (int r = 0; r < size; ++r) {
      frames.push_back(deserialize_dataframe(all.data() + displs[r], counts[r]));
    }
  }
  return frames;
}

}  // namespace

ParallelH5adWriter::ParallelH5adWriter(const std::string& path, MPI_Comm comm, std::int64_t n_rows)
    : impl_(new Impl) {
  impl_->path = path;
  impl_->comm = comm;
  impl_->n_rows = n_rows;
  MPI_Comm_rank(comm, &impl_->rank);
  std::string error;
  impl_->file = create_parallel_file(path, comm);
  if (impl_->file < 0) {
    error = fmt::format(
        "{}: cannot create the HDF5 file ({}; is the directory on a file system every rank "
        "sees?)",
        path, hdf5_error_detail());
  } else {
    error = capture([&] {
      for (const char* g : kDictGroups) create_group(impl_->file, g);
    });
  }
  try {
    throw_if_failed(comm, error);
  } catch (...) {
    delete impl_;
    impl_ = nullptr;
    throw;
  }
}

ParallelH5adWriter::~ParallelH5adWriter() {
  if (!impl_) return;
  int comm_size = 1;
  MPI_Comm_size(impl_->comm, &comm_size);
  // While unwinding, a collective close could wait for ranks that never come; alone, closing is
  // safe, and leaving the file open would have HDF5 close it inside MPI_Finalize.
  if (!impl_->finished && (std::uncaught_exceptions() == 0 || comm_size == 1)) {
    try {
      impl_->close_parallel_handles();
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing sensible to do in a destructor
    }
  }
  impl_->close_direct();
  delete impl_;
}

void ParallelH5adWriter::create_dense(const std::string& h5path, DType type, std::int64_t n_cols) {
  if (!impl_ || impl_->finished) throw std::logic_error("ParallelH5adWriter used after finish()");
  const std::string error = capture([&] {
    if (impl_->datasets.count(h5path)) throw std::invalid_argument(h5path + " created twice");
    if (n_cols < 0) throw std::invalid_argument(h5path + ": negative column count");
    create_parents(impl_->file, h5path);
    const auto types = types_of(type);
    Hid d = create_dataset(impl_->file, h5path, types.file_type,
                           {static_cast<hsize_t>(impl_->n_rows), static_cast<hsize_t>(n_cols)});
    Impl::Dense dense;
    H5Lock lock;
    dense.dataset = H5Dopen2(impl_->file, h5path.c_str(), H5P_DEFAULT);
    dense.type = type;
    dense.n_cols = n_cols;
    impl_->datasets.emplace(h5path, dense);
  });
  throw_if_failed(impl_->comm, located(impl_->path, error));
}

namespace {

// Collective write of the block [start, start + count) of a 1-D or 2-D dataset (`dims` entries in
// start and count). A rank with an empty block still joins the collective call, selecting nothing.
void write_block(hid_t dataset, hid_t mem_type, int dims, const hsize_t* start,
                 const hsize_t* count, const void* data, const std::string& what) {
  H5Lock lock;
  Hid file_space(H5Dget_space(dataset));
  Hid mem_space;
  if (std::all_of(count, count + dims, [](hsize_t c) { return c > 0; })) {
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    mem_space = Hid(H5Screate_simple(dims, count, nullptr));
  } else {
    H5Sselect_none(file_space);
    const hsize_t one = 1;
    mem_space = Hid(H5Screate_simple(1, &one, nullptr));
    H5Sselect_none(mem_space);
  }
  Hid dxpl(H5Pcreate(H5P_DATASET_XFER));
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  errno = 0;
  if (H5Dwrite(dataset, mem_type, mem_space, file_space, dxpl, data) < 0) {
    throw std::runtime_error(with_hdf5_detail("collective H5Dwrite failed for " + what));
  }
}

// Collective 1-D write of `count` elements at [offset, offset + count) (count may be 0).
void write_range(hid_t dataset, hid_t mem_type, std::int64_t offset, std::int64_t count,
                 const void* data, const std::string& what) {
  const hsize_t start = static_cast<hsize_t>(offset), n = static_cast<hsize_t>(count);
  write_block(dataset, mem_type, 1, &start, &n, data, what);
}

}  // namespace

void ParallelH5adWriter::write_rows(const std::string& h5path, std::int64_t row0,
                                    std::int64_t n_local, const void* data) {
  if (!impl_ || impl_->finished) throw std::logic_error("ParallelH5adWriter used after finish()");
  // Validate before the collective call: a rank that threw alone would leave the others waiting.
  auto it = impl_->datasets.find(h5path);
  std::string error;
  if (it == impl_->datasets.end()) {
    error = h5path + " was not created with create_dense";
  } else if (row0 < 0 || n_local < 0 || row0 + n_local > impl_->n_rows) {
    error = fmt::format("{}: rows [{}, {}) outside [0, {})", h5path, row0, row0 + n_local,
                        impl_->n_rows);
  } else if (n_local > 0 && it->second.n_cols > 0 && data == nullptr) {
    error = h5path + ": null data for a non-empty block";
  }
  throw_if_failed(impl_->comm, located(impl_->path, error));

  const Impl::Dense& d = it->second;
  error = capture([&] {
    H5Lock lock;
    const auto types = types_of(d.type);
    const hsize_t start[2] = {static_cast<hsize_t>(row0), 0};
    const hsize_t count[2] = {static_cast<hsize_t>(n_local), static_cast<hsize_t>(d.n_cols)};
    write_block(d.dataset, types.mem_type, 2, start, count, data, h5path);
  });
  throw_if_failed(impl_->comm, located(impl_->path, error));
}

namespace {

// pwritev of `iov` at `offset`, resumed after partial writes; throws IoError naming the file.
void write_all(const std::string& path, int fd, std::vector<iovec>& iov, std::int64_t offset) {
  std::size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
    const ssize_t done = ::pwritev(fd, iov.data() + first, count, static_cast<off_t>(offset));
    if (done < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      const std::string problem = storage_problem(path);
      throw IoError(fmt::format("{}: writing rows failed: {}{}", path, std::strerror(err),
                                problem.empty() ? "" : "; " + problem));
    }
    offset += done;
    auto left = static_cast<std::size_t>(done);
    while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (left > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
}

}  // namespace

const ParallelH5adWriter::DirectRows& ParallelH5adWriter::direct_rows(const std::string& h5path) {
  if (!impl_ || impl_->finished) throw std::logic_error("ParallelH5adWriter used after finish()");
  if (auto found = impl_->direct.find(h5path); found != impl_->direct.end()) return *found->second;
  if constexpr (std::endian::native != std::endian::little) {
    throw IoError(impl_->path + ": direct row writes need a little-endian host");
  }
  auto it = impl_->datasets.find(h5path);
  if (it == impl_->datasets.end()) {
    throw std::logic_error(h5path + " was not created with create_dense");
  }
  auto d = std::make_unique<DirectRows>();
  d->path_ = impl_->path;
  d->n_rows_ = impl_->n_rows;
  {
    H5Lock lock;
    const haddr_t address = H5Dget_offset(it->second.dataset);
    Hid type(H5Dget_type(it->second.dataset));
    if (address == HADDR_UNDEF) {
      throw IoError(fmt::format("{}: dataset {} has no contiguous storage to write rows into",
                                impl_->path, h5path));
    }
    d->offset_ = static_cast<std::int64_t>(address);
    d->row_bytes_ = it->second.n_cols * static_cast<std::int64_t>(H5Tget_size(type));
  }
  d->fd_ = ::open(impl_->path.c_str(), O_WRONLY | O_CLOEXEC);
  if (d->fd_ < 0) {
    throw IoError(fmt::format("{}: cannot open the file to write rows: {}", impl_->path,
                              std::strerror(errno)));
  }
#ifdef __linux__
  // The dataset's extent gets its disk blocks at once (best effort: where the file system has no
  // fallocate, the writes allocate them): rows written later in any order then skip the
  // file system's block allocation, about a third of the kernel time of scattered row writes
  // (docs/development.md §2.5). Rank 0 asks once for all ranks; mode 0 never touches bytes that
  // another rank has already written.
  if (impl_->rank == 0) {
    (void)::fallocate(d->fd_, 0, static_cast<off_t>(d->offset_),
                      static_cast<off_t>(d->row_bytes_ * d->n_rows_));
  }
#endif
#ifdef O_DIRECT
  // Large blocks of rows bypass the page cache where the file system allows it (write_block);
  // where it does not (open fails), every write goes through fd_.
  d->direct_fd_ = ::open(impl_->path.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT);
#endif
  return *impl_->direct.emplace(h5path, std::move(d)).first->second;
}

void ParallelH5adWriter::DirectRows::write(std::span<const std::int64_t> rows,
                                           const void* data) const {
  if (rows.empty() || row_bytes_ == 0) return;
  // Rows by file position; each run of consecutive rows is one pwritev.
  std::vector<std::size_t> order(rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rows[a] < rows[b]; });
  const auto* bytes = static_cast<const char*>(data);
  std::vector<iovec> iov;
  std::size_t k = 0;
  while (k < order.size()) {
    const std::int64_t first = rows[order[k]];
    iov.clear();
    std::int64_t next = first;
    for (; k < order.size() && rows[order[k]] == next; ++k, ++next) {
      if (next < 0 || next >= n_rows_) break;
      iov.push_back({const_cast<char*>(bytes) + order[k] * static_cast<std::size_t>(row_bytes_),
                     static_cast<std::size_t>(row_bytes_)});
    }
    if (iov.empty()) {
      throw std::invalid_argument(fmt::format("{}: row {} outside [0, {})", path_,
                                              rows[order[k]], n_rows_));
    }
    write_all(path_, fd_, iov, offset_ + first * row_bytes_);
  }
}

void ParallelH5adWriter::DirectRows::write_block(std::int64_t row0, std::int64_t n,
                                                 const void* data) const {
  if (n <= 0 || row_bytes_ == 0) return;
  if (row0 < 0 || row0 + n > n_rows_) {
    throw std::invalid_argument(
        fmt::format("{}: rows [{}, {}) outside [0, {})", path_, row0, row0 + n, n_rows_));
  }
  const auto* bytes = static_cast<const char*>(data);
  const std::int64_t begin = offset_ + row0 * row_bytes_, end = begin + n * row_bytes_;
  // The whole pages inside [begin, end) go to the disk with direct I/O, from an aligned bounce
  // buffer: no copy into the page cache, whose cost on some machines exceeds the ranking's (docs/
  // development.md §2.5). The partial pages at both ends are written through the page cache (a
  // neighbouring block writes the rest of those pages). Pages written directly are never also
  // written through the cache, so the two paths never hold different bytes of one page; the fsync
  // of the commit makes both durable.
  constexpr std::int64_t kPage = 4096, kBounce = std::int64_t{1} << 20;
  const std::int64_t first = (begin + kPage - 1) / kPage * kPage, last = end / kPage * kPage;
  if (direct_fd_ < 0 || direct_failed_.load(std::memory_order_relaxed) ||
      last - first < 4 * kBounce) {
    std::vector<iovec> iov{{const_cast<char*>(bytes), static_cast<std::size_t>(end - begin)}};
    write_all(path_, fd_, iov, begin);
    return;
  }
  std::vector<iovec> iov{{const_cast<char*>(bytes), static_cast<std::size_t>(first - begin)}};
  write_all(path_, fd_, iov, begin);
  iov = {{const_cast<char*>(bytes + (last - begin)), static_cast<std::size_t>(end - last)}};
  write_all(path_, fd_, iov, last);
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  void* raw = nullptr;
  if (::posix_memalign(&raw, kPage, kBounce) != 0) throw std::bad_alloc();
  const std::unique_ptr<char, Free> bounce(static_cast<char*>(raw));
  for (std::int64_t at = first; at < last; at += kBounce) {
    const std::int64_t len = std::min(kBounce, last - at);
    std::memcpy(bounce.get(), bytes + (at - begin), static_cast<std::size_t>(len));
    ssize_t done = 0;
    do {
      done = ::pwrite(direct_fd_, bounce.get(), static_cast<std::size_t>(len), static_cast<off_t>(at));
    } while (done < 0 && errno == EINTR);
    if (done == len) {
      direct_bytes_.fetch_add(len, std::memory_order_relaxed);
      continue;
    }
    if (done < 0 && errno == EINVAL) {
      // The file system refuses this alignment after all: this and every later block go through
      // the page cache.
      direct_failed_.store(true, std::memory_order_relaxed);
    }
    // A short or failed direct write (a full disk included): the rest through the page cache,
    // whose write reports the error with the file system's state.
    const std::int64_t from = at + std::max<ssize_t>(done, 0);
    iov = {{const_cast<char*>(bytes + (from - begin)), static_cast<std::size_t>(last - from)}};
    write_all(path_, fd_, iov, from);
    return;
  }
}

void ParallelH5adWriter::DirectRows::start_writeback(std::int64_t row0, std::int64_t n) const {
  if (n <= 0 || row_bytes_ == 0 || fd_ < 0) return;
#ifdef SYNC_FILE_RANGE_WRITE
  // Errors are reported by the fsync of the commit; this only starts the disk writes early.
  (void)::sync_file_range(fd_, static_cast<off_t>(offset_ + row0 * row_bytes_),
                          static_cast<off_t>(n * row_bytes_), SYNC_FILE_RANGE_WRITE);
#endif
}

void ParallelH5adWriter::write_obs_local(const DataFrame& obs_local) {
  if (!impl_ || impl_->finished) throw std::logic_error("ParallelH5adWriter used after finish()");
  std::string error = capture([&] { check_dataframe(obs_local, "obs"); });
  throw_if_failed(impl_->comm, located(impl_->path, error));
  const std::vector<DataFrame> parts = gather_frames(impl_->comm, obs_local);
  error = capture([&] {
    if (impl_->rank != 0) return;
    DataFrame whole;
    whole.index_name = obs_local.index_name;
    for (const auto& part : parts) append_rows(whole, part);
    if (static_cast<std::int64_t>(whole.index.size()) != impl_->n_rows) {
      throw std::invalid_argument(fmt::format("obs rows of all ranks add up to {}, expected {}",
                                              whole.index.size(), impl_->n_rows));
    }
    impl_->obs = std::move(whole);
    impl_->obs_given = true;
  });
  throw_if_failed(impl_->comm, located(impl_->path, error));
}

void ParallelH5adWriter::write_var(const DataFrame& var) {
  if (!impl_ || impl_->finished) throw std::logic_error("ParallelH5adWriter used after finish()");
  std::string error;
  if (impl_->rank == 0) {
    error = capture([&] { check_dataframe(var, "var"); });
    impl_->var = var;
    impl_->var_given = true;
  }
  throw_if_failed(impl_->comm, located(impl_->path, error));
}

void ParallelH5adWriter::create_csr(const std::string& h5path, std::int64_t n_cols,
                                    std::int64_t nnz) {
  if (!impl_ || impl_->finished) throw std::logic_error("ParallelH5adWriter used after finish()");
  const std::string error = capture([&] {
    if (impl_->csrs.count(h5path) || impl_->datasets.count(h5path)) {
      throw std::invalid_argument(h5path + " created twice");
    }
    if (n_cols < 0 || nnz < 0) throw std::invalid_argument(h5path + ": negative size");
    create_parents(impl_->file, h5path);
    Impl::Csr csr;
    csr.n_cols = n_cols;
    csr.nnz = nnz;
    // scipy keeps indices and indptr of one dtype (io/h5ad_writer.cpp).
    const auto int32_max = static_cast<std::int64_t>(std::numeric_limits<std::int32_t>::max());
    csr.wide = nnz > int32_max || n_cols > int32_max;
    const hid_t index_type = csr.wide ? H5T_STD_I64LE : H5T_STD_I32LE;
    Hid group = create_group(impl_->file, h5path);
    create_dataset(group, "data", H5T_IEEE_F32LE, {static_cast<hsize_t>(nnz)});
    create_dataset(group, "indices", index_type, {static_cast<hsize_t>(nnz)});
    create_dataset(group, "indptr", index_type, {static_cast<hsize_t>(impl_->n_rows + 1)});
    H5Lock lock;
    csr.data = H5Dopen2(group, "data", H5P_DEFAULT);
    csr.indices = H5Dopen2(group, "indices", H5P_DEFAULT);
    csr.indptr = H5Dopen2(group, "indptr", H5P_DEFAULT);
    impl_->csrs.emplace(h5path, csr);
  });
  throw_if_failed(impl_->comm, located(impl_->path, error));
}

void ParallelH5adWriter::write_csr_rows(const std::string& h5path, std::int64_t row0,
                                        std::int64_t nnz0, const CsrRows& local) {
  if (!impl_ || impl_->finished) throw std::logic_error("ParallelH5adWriter used after finish()");
  auto it = impl_->csrs.find(h5path);
  const std::int64_t n_local = local.indptr.empty() ? 0 : local.n_rows();
  const auto nnz_local = static_cast<std::int64_t>(local.data.size());
  std::string error;
  if (it == impl_->csrs.end()) {
    error = h5path + " was not created with create_csr";
  } else if (row0 < 0 || row0 + n_local > impl_->n_rows || nnz0 < 0 ||
             nnz0 + nnz_local > it->second.nnz) {
    error = fmt::format("{}: rows [{}, {}) / entries [{}, {}) outside the matrix ({} rows, {} "
                        "entries)",
                        h5path, row0, row0 + n_local, nnz0, nnz0 + nnz_local, impl_->n_rows,
                        it->second.nnz);
  } else if (local.indices.size() != local.data.size() ||
             (n_local > 0 && (local.indptr.front() != 0 || local.indptr.back() != nnz_local))) {
    error = h5path + ": inconsistent CsrRows (indptr/indices/data)";
  }
  throw_if_failed(impl_->comm, located(impl_->path, error));

  const Impl::Csr& c = it->second;
  error = capture([&] {
    // indptr entries row0 + 1 ... row0 + n_local: the global end of each local row.
    std::vector<std::int64_t> ends(static_cast<std::size_t>(n_local));
    for (std::int64_t r = 0; r < n_local; ++r) {
      ends[static_cast<std::size_t>(r)] = nnz0 + local.indptr[static_cast<std::size_t>(r + 1)];
    }
    write_range(c.data, H5T_NATIVE_FLOAT, nnz0, nnz_local, local.data.data(), h5path + "/data");
    if (c.wide) {
      std::vector<std::int64_t> wide(local.indices.begin(), local.indices.end());
      write_range(c.indices, H5T_NATIVE_INT64, nnz0, nnz_local, wide.data(), h5path + "/indices");
      write_range(c.indptr, H5T_NATIVE_INT64, row0 + 1, n_local, ends.data(), h5path + "/indptr");
    } else {
      std::vector<std::int32_t> narrow(ends.begin(), ends.end());
      write_range(c.indices, H5T_NATIVE_INT32, nnz0, nnz_local, local.indices.data(),
                  h5path + "/indices");
      write_range(c.indptr, H5T_NATIVE_INT32, row0 + 1, n_local, narrow.data(),
                  h5path + "/indptr");
    }
  });
  throw_if_failed(impl_->comm, located(impl_->path, error));
}

void ParallelH5adWriter::finish(bool mark_complete) {
  if (!impl_ || impl_->finished) throw std::logic_error("ParallelH5adWriter::finish() twice");
  Impl& im = *impl_;
  std::string error = capture([&] { im.close_parallel_handles(); });
  throw_if_failed(im.comm, located(im.path, error));

  // Serial phase on rank 0: everything variable-length, then the completion flag last.
  if (im.rank == 0) {
    error = capture([&] {
      Hid file = open_file(im.path, Access::kReadWrite);
      set_encoding(file, "anndata", "0.1.0");
      for (const char* g : kDictGroups) {
        Hid group = open_group(file, g);
        set_encoding(group, "dict", "0.1.0");
      }
      for (const auto& [name, d] : im.datasets) {
        Hid dataset = open_dataset(file, name);
        set_encoding(dataset, "array", "0.2.0");
      }
      for (const auto& [name, c] : im.csrs) {
        Hid group = open_group(file, name);
        set_encoding(group, "csr_matrix", "0.1.0");
        write_attr_int64s(group, "shape", {im.n_rows, c.n_cols});
        Hid indptr = open_dataset(group, "indptr");
        const std::int64_t zero = 0;
        H5Lock lock;
        Hid file_space(H5Dget_space(indptr));
        const hsize_t start = 0, one = 1;
        H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, nullptr, &one, nullptr);
        Hid mem_space(H5Screate_simple(1, &one, nullptr));
        if (H5Dwrite(indptr, H5T_NATIVE_INT64, mem_space, file_space, H5P_DEFAULT, &zero) < 0) {
          throw std::runtime_error(with_hdf5_detail("cannot write " + name + "/indptr"));
        }
      }
      auto x = im.datasets.find("X");
      auto x_csr = im.csrs.find("X");
      const std::int64_t n_vars = x != im.datasets.end()    ? x->second.n_cols
                                  : x_csr != im.csrs.end() ? x_csr->second.n_cols
                                                           : 0;
      write_dataframe(file, "obs", im.obs_given ? im.obs : range_frame(im.n_rows));
      write_dataframe(file, "var", im.var_given ? im.var : range_frame(n_vars));
      H5Lock lock;
      if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0) throw std::runtime_error(with_hdf5_detail("flush failed"));
      if (mark_complete) {
        write_attr_int64s(file, "gsmap_complete", {1}, true);
        if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0) throw std::runtime_error(with_hdf5_detail("flush failed"));
      }
    });
  }
  im.finished = true;
  throw_if_failed(im.comm, located(im.path, error));
}

bool is_complete(const std::string& path) {
  try {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return false;
    quiet_hdf5_errors();
    {
      H5Lock lock;
      if (H5Fis_hdf5(path.c_str()) <= 0) return false;
    }
    Hid file = open_file(path, Access::kRead);
    const auto flag = read_attr_ints(file, "gsmap_complete");
    return flag.size() == 1 && flag[0] == 1;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace gsmap::io
