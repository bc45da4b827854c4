// Output locks: see include/gsmap/pipeline/lock.hpp and docs/troubleshooting.md "Lock messages".
#include "gsmap/pipeline/lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "gsmap/core/log.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;

std::string lock_name(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '+' || c == '-';
    out += ok ? c : '_';
  }
  if (out.empty() || out[0] == '.') out = "_" + out;
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
  return buf;
}

std::string start_time() {
  static const std::string t = [] {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  }();
  return t;
}

std::string holder_text(const std::string& state) {
  return fmt::format("host: {}\npid: {}\nstarted: {}\nstate: {}\n", host_name(), ::getpid(),
                     start_time(), state);
}

struct Holder {
  std::string host, pid, started, state;
  bool empty() const { return host.empty() && pid.empty(); }
  std::string describe() const {
    return fmt::format("host {}, PID {}{}", host.empty() ? "?" : host, pid.empty() ? "?" : pid,
                       started.empty() ? "" : ", started " + started);
  }
};

Holder parse_holder(const std::string& text) {
  Holder h;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    const auto key = line.substr(0, colon), value = line.substr(colon + 2);
    if (key == "host") h.host = value;
    else if (key == "pid") h.pid = value;
    else if (key == "started") h.started = value;
    else if (key == "state") h.state = value;
  }
  return h;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A holder on this host whose process is gone (its record outlived a crash).
bool dead_here(const Holder& h) {
  if (h.host != host_name() || h.pid.empty()) return false;
  const long pid = std::strtol(h.pid.c_str(), nullptr, 10);
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

double stale_seconds() {
  if (const char* v = std::getenv("GSMAP_LOCK_STALE_SECONDS")) {
    const double s = std::strtod(v, nullptr);
    if (s > 0) return s;
  }
  return 120.0;
}

double age_seconds(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 1e30;
  return std::difftime(std::time(nullptr), st.st_mtime);
}

void write_whole(const std::string& path, const std::string& text, int flags) {
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    throw IoError(fmt::format("{}: cannot create lock record ({})", path, std::strerror(errno)));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) throw IoError(fmt::format("{}: cannot write lock record", path));
}

enum class Backend { kOfd, kPosix, kFiles };

}  // namespace

struct LockSet::Impl {
  std::string dir;
  Backend backend = Backend::kOfd;
  bool decided = false;
  struct Entry {
    int fd = -1;
    LockMode mode = LockMode::kNone;
    std::string reader_file;
    bool owner = false;  // files backend: the owner file is ours
  };
  std::map<std::string, Entry> entries;
  std::recursive_mutex mu;  // entries, for the heartbeat
  std::thread heartbeat;
  std::condition_variable_any cv;
  bool stopping = false;
  static inline std::atomic<std::uint64_t> counter{0};

  std::string lock_path(const std::string& name) const { return dir + "/" + name + ".lock"; }
  std::string owner_path(const std::string& name) const { return dir + "/" + name + ".owner"; }
  std::string readers_dir(const std::string& name) const { return dir + "/" + name + ".readers"; }

  void decide() {
    if (decided) return;
    decided = true;
    const char* env = std::getenv("GSMAP_LOCK_MODE");
    const std::string mode = env ? env : "auto";
    if (mode == "files") {
      backend = Backend::kFiles;
      start_heartbeat();
    } else if (mode != "auto" && mode != "fcntl") {
      throw UsageError(fmt::format("GSMAP_LOCK_MODE={}: expected auto, fcntl or files", mode));
    }
  }

  void fall_back(int err) {
    GSMAP_LOG_WARN("fcntl locks are not available in {} ({}): using lock files with a heartbeat "
                   "instead (docs/troubleshooting.md \"Locks on NFS and Lustre\")",
                   dir, std::strerror(err));
    backend = Backend::kFiles;
    start_heartbeat();
  }

  void start_heartbeat() {
    if (heartbeat.joinable()) return;
    heartbeat = std::thread([this] {
      const auto period = std::chrono::duration<double>(std::max(0.5, stale_seconds() / 4));
      std::unique_lock<std::recursive_mutex> lk(mu);
      while (!cv.wait_for(lk, period, [this] { return stopping; })) {
        for (auto& [name, e] : entries) {
          if (e.owner) ::utimensat(AT_FDCWD, owner_path(name).c_str(), nullptr, 0);
          if (!e.reader_file.empty()) ::utimensat(AT_FDCWD, e.reader_file.c_str(), nullptr, 0);
        }
      }
    });
  }

  // ---- fcntl ----
  // 0, EAGAIN (conflict), or another errno.
  int fcntl_lock(Entry& e, short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;
    for (;;) {
      const int cmd = backend == Backend::kOfd ? F_OFD_SETLK : F_SETLK;
      if (::fcntl(e.fd, cmd, &fl) == 0) return 0;
      const int err = errno;
      if (err == EAGAIN || err == EACCES) return EAGAIN;
      if (err == EINVAL && backend == Backend::kOfd) {
        backend = Backend::kPosix;  // kernel without OFD locks
        continue;
      }
      return err;
    }
  }

  Holder writer(const std::string& name) {
    if (backend == Backend::kFiles) return parse_holder(read_text(owner_path(name)));
    return parse_holder(read_text(lock_path(name)));
  }

  std::vector<Holder> readers(const std::string& name, const std::string& mine) {
    std::vector<Holder> out;
    std::error_code ec;
    for (fs::directory_iterator it(readers_dir(name), ec), end; !ec && it != end; it.increment(ec)) {
      const auto p = it->path().string();
      if (p == mine) continue;
      Holder h = parse_holder(read_text(p));
      const bool stale = backend == Backend::kFiles ? age_seconds(p) > stale_seconds() : false;
      if (stale || dead_here(h)) {
        ::unlink(p.c_str());
        continue;
      }
      out.push_back(h);
    }
    return out;
  }

  void add_reader(const std::string& name, Entry& e) {
    if (!e.reader_file.empty()) return;
    std::error_code ec;
    fs::create_directories(readers_dir(name), ec);
    e.reader_file = fmt::format("{}/{}.{}.{}", readers_dir(name), host_name(), ::getpid(), ++counter);
    write_whole(e.reader_file, holder_text("reading"), O_WRONLY | O_CREAT | O_TRUNC);
  }
  void drop_reader(Entry& e) {
    if (e.reader_file.empty()) return;
    ::unlink(e.reader_file.c_str());
    e.reader_file.clear();
  }

  // Tries to take `name` in `want` (from whatever this set holds now). true on success.
  bool try_lock(const std::string& name, LockMode want) {
    std::lock_guard<std::recursive_mutex> lk(mu);
    decide();
    Entry& e = entries[name];
    if (backend != Backend::kFiles) {
      if (e.fd < 0) {
        e.fd = ::open(lock_path(name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (e.fd < 0) {
          throw IoError(fmt::format("{}: cannot open the lock file ({}). Check that the project "
                                    "directory is writable",
                                    lock_path(name), std::strerror(errno)));
        }
      }
      const int rc = fcntl_lock(e, want == LockMode::kExclusive ? F_WRLCK : F_RDLCK);
      if (rc == 0) {
        if (want == LockMode::kExclusive) {
          drop_reader(e);
        } else {
          if (::ftruncate(e.fd, 0) != 0) {
            // Only the writer's record is in the file; an old one is harmless.
          }
          add_reader(name, e);
        }
        e.mode = want;
        return true;
      }
      if (rc == EAGAIN) return false;
      // fcntl locks unsupported here: the files backend from now on.
      if (e.mode == LockMode::kNone) {
        ::close(e.fd);
        e.fd = -1;
      }
      fall_back(rc);
      if (e.mode != LockMode::kNone) {
        throw IoError(fmt::format("{}: fcntl locks stopped working ({})", lock_path(name),
                                  std::strerror(rc)));
      }
    }
    return try_files(name, e, want);
  }

  bool try_files(const std::string& name, Entry& e, LockMode want) {
    std::lock_guard<std::recursive_mutex> lk(mu);
    if (want == LockMode::kShared) {
      add_reader(name, e);
      const auto op = owner_path(name);
      if (!e.owner && fs::exists(op)) {
        const Holder h = parse_holder(read_text(op));
        if (age_seconds(op) > stale_seconds() || dead_here(h)) {
          ::unlink(op.c_str());
        } else {
          if (e.mode == LockMode::kNone) drop_reader(e);
          return false;
        }
      }
      if (e.owner) {
        ::unlink(op.c_str());
        e.owner = false;
      }
      e.mode = LockMode::kShared;
      return true;
    }
    // exclusive
    if (!readers(name, e.reader_file).empty()) return false;
    if (!e.owner) {
      const auto op = owner_path(name);
      for (int attempt = 0; attempt < 2; ++attempt) {
        const int fd = ::open(op.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
          const auto text = holder_text("checking");
          const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
          ::close(fd);
          if (!ok) throw IoError(fmt::format("{}: cannot write lock record", op));
          e.owner = true;
          break;
        }
        if (errno != EEXIST) {
          throw IoError(fmt::format("{}: cannot create the lock file ({})", op, std::strerror(errno)));
        }
        const Holder h = parse_holder(read_text(op));
        if (age_seconds(op) > stale_seconds() || dead_here(h)) {
          GSMAP_LOG_WARN("removing the stale lock {} of {}", op, h.describe());
          ::unlink(op.c_str());
          continue;
        }
        return false;
      }
      if (!e.owner) return false;
      if (!readers(name, e.reader_file).empty()) {  // a reader came in between
        ::unlink(op.c_str());
        e.owner = false;
        return false;
      }
    }
    drop_reader(e);
    e.mode = LockMode::kExclusive;
    return true;
  }

  void set_state(const std::string& name, const std::string& state) {
    std::lock_guard<std::recursive_mutex> lk(mu);
    Entry& e = entries.at(name);
    const auto text = holder_text(state);
    if (backend == Backend::kFiles) {
      if (e.owner) {
        const auto tmp = owner_path(name) + ".tmp";
        write_whole(tmp, text, O_WRONLY | O_CREAT | O_TRUNC);
        std::rename(tmp.c_str(), owner_path(name).c_str());
      }
      return;
    }
    if (::ftruncate(e.fd, 0) != 0 ||
        ::pwrite(e.fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      throw IoError(fmt::format("{}: cannot write the lock record ({})", lock_path(name),
                                std::strerror(errno)));
    }
  }

  void release(const std::string& name) {
    std::lock_guard<std::recursive_mutex> lk(mu);
    auto it = entries.find(name);
    if (it == entries.end()) return;
    Entry& e = it->second;
    if (e.fd >= 0) {
      if (e.mode == LockMode::kExclusive && ::ftruncate(e.fd, 0) != 0) {
        // the record of a released lock is ignored by the next holder anyway
      }
      struct flock fl {};
      fl.l_type = F_UNLCK;
      fl.l_whence = SEEK_SET;
      ::fcntl(e.fd, backend == Backend::kOfd ? F_OFD_SETLK : F_SETLK, &fl);
      ::close(e.fd);
    }
    if (e.owner) ::unlink(owner_path(name).c_str());
    drop_reader(e);
    entries.erase(it);
  }

  [[noreturn]] void busy_writer(const std::string& name, const std::string& what, const Holder& h) {
    throw LockedError(fmt::format(
        "{} is being written by another gsmap-mpi run ({}; lock {}). Wait for that run to finish, "
        "or run this one on other traits, ranges or another --project-name. If no such run is "
        "alive, see docs/troubleshooting.md \"Lock messages\"",
        what, h.describe(), backend == Backend::kFiles ? owner_path(name) : lock_path(name)));
  }
  [[noreturn]] void busy_readers(const std::string& name, const std::string& what) {
    const auto rs = readers(name, entries.count(name) ? entries[name].reader_file : "");
    std::string who;
    for (std::size_t i = 0; i < rs.size() && i < 3; ++i) who += (i ? "; " : "") + rs[i].describe();
    if (who.empty()) who = "host and PID unknown";
    throw LockedError(fmt::format(
        "{} must be recomputed, but another gsmap-mpi run is reading it ({}; lock {}). Wait for "
        "that run to finish; see docs/troubleshooting.md \"Lock messages\"",
        what, who, lock_path(name)));
  }
};

LockSet::LockSet(std::string project_dir) : impl_(std::make_unique<Impl>()) {
  impl_->dir = project_dir + "/.locks";
  std::error_code ec;
  fs::create_directories(impl_->dir, ec);
  if (ec) {
    throw IoError(fmt::format("{}: cannot create the lock directory ({}). Check that --workdir is "
                              "writable",
                              impl_->dir, ec.message()));
  }
}

LockSet::~LockSet() {
  std::vector<std::string> names;
  for (const auto& [n, e] : impl_->entries) names.push_back(n);
  for (const auto& n : names) impl_->release(n);
  {
    std::lock_guard<std::recursive_mutex> lk(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
}

LockMode LockSet::acquire_output(const std::string& name, const std::string& what) {
  if (impl_->try_lock(name, LockMode::kExclusive)) {
    impl_->set_state(name, "checking");
    return LockMode::kExclusive;
  }
  // Held: a writer that is still deciding may let us read; one that writes never will soon.
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  for (;;) {
    if (impl_->try_lock(name, LockMode::kShared)) return LockMode::kShared;
    const Holder h = impl_->writer(name);
    if (h.state == "writing" || Clock::now() > deadline) impl_->busy_writer(name, what, h);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void LockSet::acquire_shared(const std::string& name, const std::string& what) {
  if (mode(name) != LockMode::kNone) return;
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  for (;;) {
    if (impl_->try_lock(name, LockMode::kShared)) return;
    const Holder h = impl_->writer(name);
    if (h.state == "writing" || Clock::now() > deadline) impl_->busy_writer(name, what, h);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void LockSet::upgrade(const std::string& name, const std::string& what) {
  if (mode(name) == LockMode::kExclusive) return;
  if (!impl_->try_lock(name, LockMode::kExclusive)) impl_->busy_readers(name, what);
  impl_->set_state(name, "checking");
}

void LockSet::downgrade(const std::string& name) {
  if (mode(name) != LockMode::kExclusive) return;
  if (!impl_->try_lock(name, LockMode::kShared)) {
    throw IoError(fmt::format("{}: cannot downgrade the lock", impl_->lock_path(name)));
  }
}

void LockSet::mark_writing(const std::string& name) { impl_->set_state(name, "writing"); }

void LockSet::acquire_exclusive_wait(const std::string& name, const std::string& what,
                                     double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (!impl_->try_lock(name, LockMode::kExclusive)) {
    if (Clock::now() > deadline) impl_->busy_writer(name, what, impl_->writer(name));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  impl_->set_state(name, "writing");
}

void LockSet::release(const std::string& name) { impl_->release(name); }

LockMode LockSet::mode(const std::string& name) const {
  auto it = impl_->entries.find(name);
  return it == impl_->entries.end() ? LockMode::kNone : it->second.mode;
}

std::string LockSet::backend() const {
  switch (impl_->backend) {
    case Backend::kOfd: return "fcntl-ofd";
    case Backend::kPosix: return "fcntl";
    case Backend::kFiles: return "files";
  }
  return "?";
}

std::string LockSet::lock_dir() const { return impl_->dir; }

}  // namespace gsmap::pipeline
