#include "test_support.hpp"

#include <sys/wait.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>

namespace gsmap::test {
namespace fs = std::filesystem;

fs::path shared_dir() { return fs::path(GSMAP_SHARED_DIR); }
fs::path fixture(const std::string& name) { return shared_dir() / "fixtures" / name; }
bool have_shared() { return fs::exists(shared_dir() / "fixtures"); }
fs::path exe() { return fs::path(GSMAP_EXE); }
std::string mpiexec() { return GSMAP_MPIEXEC; }

TempDir::TempDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  path_ = fs::path(GSMAP_BINARY_DIR) / "test_scratch" /
          (tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
           std::to_string(rd() % 100000));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  if (!std::getenv("GSMAP_KEEP_TEST_DIRS")) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

CommandResult run_command(const std::string& command) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  int status = pclose(pipe);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, out};
}

std::string run_python(const std::string& script) {
  static std::atomic<int> counter{0};
  fs::path dir = fs::path(GSMAP_BINARY_DIR) / "test_scratch";
  fs::create_directories(dir);
  fs::path file = dir / ("py_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".py");
  {
    std::ofstream f(file);
    f << script;
  }
  auto r = run_command("/usr/bin/python3 " + file.string());
  fs::remove(file);
  if (r.exit_code != 0) throw std::runtime_error("python failed:\n" + r.output);
  return r.output;
}

}  // namespace gsmap::test
