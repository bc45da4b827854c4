#pragma once
// Outputs are replaced atomically and only inside the project (docs/troubleshooting.md, "Outputs
// are replaced atomically"): every output is written under a temporary name in its final
// directory and renamed onto its final name once complete, so a run that fails or is killed
// leaves the previous complete file untouched and never a partial file under the final name. A
// symbolic link planted at an output's final name is refused, never followed (symlinked
// directories above the project, such as a scratch file system, stay allowed).
#include <mpi.h>

#include <string>
#include <string_view>

namespace gsmap::io {

// An output written under a temporary name in its final directory and renamed into place by
// commit().
class AtomicOutput {
 public:
  // Collective over comm (MPI_COMM_NULL or MPI_COMM_SELF: serial). Rank 0 picks a unique temp name
  // "<dir>/.<basename>.tmp-<host>-<pid>-<n>", creates it empty (O_EXCL, never through a link) and
  // broadcasts it; it also removes temp files of this output left by dead processes of this host.
  // Refuses (IoError) when the final path exists and is a symlink or a directory, naming it, and
  // when the directory does not accept a new file (with the OS reason).
  AtomicOutput(std::string final_path, MPI_Comm comm);
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }
  bool committed() const { return committed_; }
  // Collective: barrier; rank 0 fsyncs the temp file, re-checks that the final path is no symlink,
  // rename(2)s the temp file onto the final path and fsyncs the directory; barrier. Every rank
  // throws the same IoError when that fails (printed once, by rank 0).
  void commit();
  // Not committed: rank 0 removes the temp file (best effort; no MPI calls).
  ~AtomicOutput();

 private:
  std::string final_, temp_;
  MPI_Comm comm_;
  bool serial_ = true;
  int rank_ = 0;
  bool committed_ = false;
};

// strerror(err) when `err` is an errno an I/O call fails with (no space, quota, read-only file
// system, permissions, I/O error, missing or wrong kind of path, ...), else "": for adding the OS
// reason to a message after a library call that does not report it, with errno = 0 set before it.
std::string os_io_reason(int err);

// What the file system holding `path`'s folder says about writing there: "No space left on device
// (the file system holding <dir> is full)", "... has no free inodes", "Read-only file system
// (<dir>)", or "" when none of these holds. For messages after a failed write whose library gives
// no OS reason.
std::string storage_problem(const std::string& path);

// IoError naming `path` when it exists and is a symbolic link (lstat; the link is not followed).
void refuse_symlink(const std::string& path);

// Names that become parts of file names (project, trait, sample and annotation names): letters,
// digits and "._-+", not empty, not starting with '.'.
bool is_safe_name(std::string_view name);
// UsageError "<what> '<name>' ..." naming the value and the rule unless is_safe_name(name).
void require_safe_name(std::string_view name, std::string_view what);

}  // namespace gsmap::io
