// Atomic outputs (io/atomic_file.hpp, docs/troubleshooting.md): the previous file survives a
// failed write byte for byte, a symlink at an output is refused and never followed, temp files of
// dead processes are cleaned up, and names that become file names are checked.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/atomic_file.hpp"
#include "gsmap/io/text.hpp"
#include "test_support.hpp"

namespace gsmap::io {
namespace {

namespace fs = std::filesystem;
using gsmap::test::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Everything in `dir` but `keep`: what a write left behind.
std::vector<std::string> others(const fs::path& dir, const std::string& keep) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename() != keep) out.push_back(e.path().filename().string());
  }
  return out;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(AtomicOutput, CommitReplacesTheFileAndLeavesNoTemp) {
  TempDir dir("atomic");
  const fs::path final_path = dir.path() / "out.csv";
  spit(final_path, "old\n");
  {
    AtomicOutput out(final_path.string(), MPI_COMM_NULL);
    EXPECT_EQ(fs::path(out.temp_path()).parent_path(), dir.path());
    EXPECT_EQ(fs::path(out.temp_path()).filename().string().rfind(".out.csv.tmp-", 0), 0u)
        << out.temp_path();
    EXPECT_TRUE(fs::exists(out.temp_path()));
    spit(out.temp_path(), "new\n");
    EXPECT_EQ(slurp(final_path), "old\n");  // untouched until commit
    out.commit();
    EXPECT_TRUE(out.committed());
  }
  EXPECT_EQ(slurp(final_path), "new\n");
  EXPECT_TRUE(others(dir.path(), "out.csv").empty());
}

TEST(AtomicOutput, AFailedWriteLeavesThePreviousFileByteIdentical) {
  TempDir dir("atomic");
  const fs::path final_path = dir.path() / "results.h5ad";
  const std::string old_bytes("\x89HDF\r\n\x1a\n complete earlier result", 33);
  spit(final_path, old_bytes);
  try {
    AtomicOutput out(final_path.string(), MPI_COMM_NULL);
    spit(out.temp_path(), "half a file");
    throw InputError("late.h5ad", "obsm/spatial", "bad input met while writing");
  } catch (const InputError&) {
  }
  EXPECT_EQ(slurp(final_path), old_bytes);
  EXPECT_TRUE(others(dir.path(), "results.h5ad").empty()) << "the temp file was not removed";
}

TEST(AtomicOutput, RefusesASymlinkAtTheOutputAndNeverFollowsIt) {
  TempDir dir("atomic");
  const fs::path victim = dir.path() / "victim.txt";
  spit(victim, "precious\n");
  fs::create_directories(dir.path() / "proj");
  const fs::path link = dir.path() / "proj" / "out.csv";
  fs::create_symlink(victim, link);
  const std::string message =
      error_of([&] { AtomicOutput out(link.string(), MPI_COMM_NULL); });
  EXPECT_NE(message.find(link.string() + ": is a symbolic link"), std::string::npos) << message;
  EXPECT_EQ(slurp(victim), "precious\n");
  // A dangling link too (it does not "exist" for stat, but lstat sees it).
  const fs::path dangling = dir.path() / "proj" / "gone.csv";
  fs::create_symlink(dir.path() / "nowhere", dangling);
  EXPECT_THROW(write_file_atomic(dangling.string(), "x"), IoError);
  EXPECT_FALSE(fs::exists(dir.path() / "nowhere"));
}

TEST(AtomicOutput, ASymlinkPlantedWhileWritingIsRefusedAtCommit) {
  TempDir dir("atomic");
  const fs::path victim = dir.path() / "victim.txt";
  spit(victim, "precious\n");
  const fs::path final_path = dir.path() / "out.csv";
  AtomicOutput out(final_path.string(), MPI_COMM_NULL);
  spit(out.temp_path(), "new\n");
  fs::create_symlink(victim, final_path);
  EXPECT_THROW(out.commit(), IoError);
  EXPECT_EQ(slurp(victim), "precious\n");
  EXPECT_TRUE(fs::is_symlink(final_path));
}

TEST(AtomicOutput, SymlinkedDirectoriesAboveTheOutputAreFine) {
  TempDir dir("atomic");
  fs::create_directories(dir.path() / "scratch" / "proj");
  fs::create_directory_symlink(dir.path() / "scratch", dir.path() / "work");
  const fs::path final_path = dir.path() / "work" / "proj" / "out.csv";
  write_file_atomic(final_path.string(), "through a linked directory\n");
  EXPECT_EQ(slurp(dir.path() / "scratch" / "proj" / "out.csv"), "through a linked directory\n");
}

TEST(AtomicOutput, RefusesADirectoryAtTheOutput) {
  TempDir dir("atomic");
  fs::create_directories(dir.path() / "out.csv");
  const std::string message = error_of([&] { write_file_atomic((dir.path() / "out.csv").string(), "x"); });
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
}

// As root, permission bits do not stop writes, so the OS reason is checked with causes root meets
// too: a file where a directory is expected (ENOTDIR) and a directory that does not exist.
TEST(AtomicOutput, FailuresCarryTheOsReason) {
  TempDir dir("atomic");
  spit(dir.path() / "plain", "a file\n");
  const std::string not_dir =
      error_of([&] { write_file_atomic((dir.path() / "plain" / "out.csv").string(), "x"); });
  EXPECT_NE(not_dir.find("Not a directory"), std::string::npos) << not_dir;
  EXPECT_NE(not_dir.find((dir.path() / "plain" / "out.csv").string()), std::string::npos) << not_dir;
  const std::string missing =
      error_of([&] { write_file_atomic((dir.path() / "absent" / "out.csv").string(), "x"); });
  EXPECT_NE(missing.find("No such file or directory"), std::string::npos) << missing;
  // /proc accepts no new files, even from root.
  const std::string proc = error_of([] { write_file_atomic("/proc/gsmap_out.csv", "x"); });
  EXPECT_NE(proc.find("/proc/gsmap_out.csv: cannot create a file in /proc: "), std::string::npos)
      << proc;
}

TEST(AtomicOutput, RemovesTempFilesOfDeadProcessesOnly) {
  TempDir dir("atomic");
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // a pid that no longer runs
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const fs::path dead = dir.path() / fmt::format(".out.csv.tmp-{}-{}-0", host, child);
  const fs::path live = dir.path() / fmt::format(".out.csv.tmp-{}-{}-0", host, ::getppid());
  const fs::path other_host = dir.path() / fmt::format(".out.csv.tmp-otherhost-{}-0", child);
  const fs::path other_file = dir.path() / fmt::format(".in.csv.tmp-{}-{}-0", host, child);
  for (const auto& p : {dead, live, other_host, other_file}) spit(p, "partial");
  write_file_atomic((dir.path() / "out.csv").string(), "done\n");
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other_host));
  EXPECT_TRUE(fs::exists(other_file));
}

TEST(SafeNames, LettersDigitsAndDotUnderscoreDashPlus) {
  for (const char* ok : {"fx2d", "Height_UKB", "T2D-2024", "a.b", "x+y", "IQ", "0"}) {
    EXPECT_TRUE(is_safe_name(ok)) << ok;
    EXPECT_NO_THROW(require_safe_name(ok, "trait"));
  }
  for (const char* bad : {"", ".", "..", ".hidden", "../../x", "a/b", "a b", "a\\b", "tab\t",
                          "new\nline", "caf\xc3\xa9", "x;rm", "$HOME", "*"}) {
    EXPECT_FALSE(is_safe_name(bad)) << bad;
  }
  const std::string message = error_of([] { require_safe_name("../../evil", "--trait-name"); });
  EXPECT_NE(message.find("--trait-name '../../evil'"), std::string::npos) << message;
  EXPECT_NE(message.find("letters, digits and . _ - +"), std::string::npos) << message;
  EXPECT_THROW(require_safe_name("a/b", "x"), UsageError);
}

}  // namespace
}  // namespace gsmap::io
