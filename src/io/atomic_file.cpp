// AtomicOutput: temp file in the final directory + rename(2) (docs/troubleshooting.md, "Outputs
// are replaced atomically"). Only rank 0 touches the directory; the other ranks learn the temp name
// and any failure by broadcast, so every rank throws the same error (printed once by rank 0).
#include "gsmap/io/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <filesystem>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::io {
namespace {

namespace fs = std::filesystem;

std::string os_reason(int err) { return std::strerror(err); }

// The folder of `path` ("." for a bare name).
std::string directory_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "host";
  std::string h(buf);
  // The host becomes part of a file name: keep it to the safe set.
  for (char& c : h) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) c = '_';
  }
  return h.empty() ? "host" : h;
}

std::atomic<unsigned> g_counter{0};

// Whether process `pid` of this host still runs. A killed process that its (gone) parent has not
// reaped yet is a zombie: it holds no file any more, so it counts as dead (Linux: state Z or X in
// /proc/<pid>/stat; elsewhere kill(pid, 0) alone decides).
bool process_alive(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::FILE* f = std::fopen(fmt::format("/proc/{}/stat", pid).c_str(), "r");
  if (f == nullptr) return true;
  char buf[512] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const std::string_view stat(buf, n);
  const auto paren = stat.rfind(')');  // the command name may contain spaces and parentheses
  if (paren == std::string_view::npos || paren + 2 >= stat.size()) return true;
  const char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

// Removes ".<base>.tmp-<host>-<pid>-<n>" files in `dir` left by processes of this host that no
// longer exist (a killed run); files of live processes or other hosts are left alone.
void remove_stale_temps(const std::string& dir, const std::string& base, const std::string& host) {
  const std::string prefix = "." + base + ".tmp-" + host + "-";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
    const std::string_view rest = name.substr(prefix.size());  // "<pid>-<n>"
    const auto dash = rest.find('-');
    if (dash == std::string_view::npos) continue;
    const std::string pid_text(rest.substr(0, dash));
    char* end = nullptr;
    const long pid = std::strtol(pid_text.c_str(), &end, 10);
    if (end == pid_text.c_str() || *end != '\0' || pid <= 0) continue;
    if (pid == ::getpid()) continue;
    if (process_alive(static_cast<pid_t>(pid))) continue;
    ::unlink((dir + "/" + std::string(name)).c_str());
  }
  ::closedir(d);
}

void fsync_path(const std::string& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    throw IoError(fmt::format("{}: cannot open {} to flush it: {}", path, what, os_reason(errno)));
  }
  // EINVAL: the file system does not support fsync on this kind of file (some do not for
  // directories); nothing more can be done there.
  if (::fsync(fd) != 0 && errno != EINVAL) {
    const int err = errno;
    ::close(fd);
    throw IoError(fmt::format("{}: cannot flush {} to disk: {}", path, what, os_reason(err)));
  }
  ::close(fd);
}

// Rank 0's outcome broadcast to every rank: "" = success. Non-root ranks throw the same error
// marked as met by rank 0.
void share_outcome(MPI_Comm comm, bool serial, const std::string& error) {
  std::string message = error;
  if (!serial) {
    int length = static_cast<int>(message.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, comm);
    message.resize(static_cast<std::size_t>(length));
    if (length > 0) MPI_Bcast(message.data(), length, MPI_CHAR, 0, comm);
  }
  if (message.empty()) return;
  IoError e(message);
  if (!serial) e.set_origin_rank(0);
  throw e;
}

}  // namespace

std::string os_io_reason(int err) {
  switch (err) {
    case ENOSPC: case EDQUOT: case EIO: case EROFS: case EACCES: case EPERM: case EFBIG:
    case ENOENT: case ENOTDIR: case EISDIR: case ESTALE: case ENXIO: case ETXTBSY:
      return std::strerror(err);
    default:
      return {};
  }
}

std::string storage_problem(const std::string& path) {
  const std::string dir = directory_of(path);
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return {};
  if (vfs.f_flag & ST_RDONLY) return fmt::format("{} ({})", std::strerror(EROFS), dir);
  if (vfs.f_blocks > 0 && vfs.f_bavail == 0) {
    return fmt::format("{} (the file system holding {} is full)", std::strerror(ENOSPC), dir);
  }
  if (vfs.f_files > 0 && vfs.f_favail == 0) {
    return fmt::format("{} (the file system holding {} has no free inodes)",
                       std::strerror(ENOSPC), dir);
  }
  return {};
}

void refuse_symlink(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    throw IoError(fmt::format(
        "{}: is a symbolic link; gsmap-mpi never writes an output through a link. Fix: remove the "
        "link (rm {}); symlinked directories above the project are fine",
        path, path));
  }
}

AtomicOutput::AtomicOutput(std::string final_path, MPI_Comm comm)
    : final_(std::move(final_path)), comm_(comm) {
  serial_ = comm == MPI_COMM_NULL || comm == MPI_COMM_SELF;
  if (!serial_) MPI_Comm_rank(comm, &rank_);
  std::string error;
  if (rank_ == 0) {
    try {
      const fs::path p(final_);
      const std::string dir = directory_of(final_);
      const std::string base = p.filename().string();
      refuse_symlink(final_);
      struct stat st {};
      if (::lstat(final_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        throw IoError(fmt::format("{}: is a directory where an output file belongs. Fix: move it "
                                  "away",
                                  final_));
      }
      const std::string host = host_name();
      remove_stale_temps(dir, base, host);
      temp_ = fmt::format("{}/.{}.tmp-{}-{}-{}", dir, base, host, ::getpid(), g_counter++);
      const int fd = ::open(temp_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                            0666);
      if (fd < 0) {
        const int err = errno;
        temp_.clear();
        throw IoError(fmt::format("{}: cannot create a file in {}: {}", final_, dir,
                                  os_reason(err)));
      }
      ::close(fd);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  if (!serial_) {
    int length = static_cast<int>(temp_.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, comm_);
    temp_.resize(static_cast<std::size_t>(length));
    if (length > 0) MPI_Bcast(temp_.data(), length, MPI_CHAR, 0, comm_);
  }
  share_outcome(comm_, serial_, error);
}

void AtomicOutput::commit() {
  if (committed_) return;
  if (!serial_) MPI_Barrier(comm_);
  std::string error;
  if (rank_ == 0) {
    try {
      fsync_path(temp_, O_RDONLY, "the new file");
      refuse_symlink(final_);
      if (std::rename(temp_.c_str(), final_.c_str()) != 0) {
        throw IoError(fmt::format("{}: cannot move the new file {} onto it: {}", final_, temp_,
                                  os_reason(errno)));
      }
      fsync_path(directory_of(final_), O_RDONLY | O_DIRECTORY, "the directory");
      // Again now: a killed run's processes may still have been exiting when this one started
      // (an output written by batches has its temp file for the whole step).
      remove_stale_temps(directory_of(final_), fs::path(final_).filename().string(), host_name());
    } catch (const Error& e) {
      error = e.what();
    }
  }
  committed_ = error.empty();
  share_outcome(comm_, serial_, error);
  if (!serial_) MPI_Barrier(comm_);
}

AtomicOutput::~AtomicOutput() {
  if (committed_ || rank_ != 0 || temp_.empty()) return;
  ::unlink(temp_.c_str());
}

bool is_safe_name(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  return true;
}

void require_safe_name(std::string_view name, std::string_view what) {
  if (is_safe_name(name)) return;
  throw UsageError(fmt::format(
      "{} '{}' cannot be used: it becomes part of a file name, so it may contain only letters, "
      "digits and . _ - + (not empty, not starting with '.'). Fix: rename it",
      what, name));
}

}  // namespace gsmap::io
