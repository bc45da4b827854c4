#pragma once
// Helpers shared by the tests: where the shared fixtures are, temp directories, running the
// executable and Debian's python for cross-checks.
#include <filesystem>
#include <string>

namespace gsmap::test {

std::filesystem::path shared_dir();                 // ../shared next to the checkout
std::filesystem::path fixture(const std::string& name);  // shared/fixtures/<name>
bool have_shared();                                 // false -> tests that need it GTEST_SKIP
std::filesystem::path exe();                        // the built gsmap-mpi
std::string mpiexec();                              // mpirun

// A fresh directory under the build tree's test scratch area, removed on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};
// Runs a shell command, capturing its output.
CommandResult run_command(const std::string& command);
// Runs /usr/bin/python3 with a script; returns its stdout (throws on failure).
std::string run_python(const std::string& script);

}  // namespace gsmap::test

#define GSMAP_REQUIRE_SHARED()                                         \
  do {                                                                 \
    if (!::gsmap::test::have_shared()) GTEST_SKIP() << "../shared absent"; \
  } while (0)
