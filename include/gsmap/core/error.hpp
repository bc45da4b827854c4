#pragma once
// Errors that reach the user. Every user-facing failure names the file, the key or line, what was
// expected and how to fix it; main() turns it into a message and a non-zero exit (MPI_Abort under
// MPI). Library code never calls exit().
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace gsmap {

// Exit codes, distinct per failure class (PLINK-style).
enum class ExitCode : int {
  kOk = 0,
  kUsage = 2,       // bad command line
  kInput = 3,       // malformed or missing input file
  kIo = 4,          // cannot write outputs
  kCompute = 5,     // numerical or internal failure
  kMpi = 6,         // MPI / collective failure
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  ExitCode code() const noexcept { return code_; }
  // -1: this rank met the error. Otherwise every rank of the job throws this error together (an
  // agreed, collective failure) and origin_rank() is the rank that met it: only that rank prints
  // it and no MPI_Abort is needed (cli/commands.cpp).
  int origin_rank() const noexcept { return origin_rank_; }
  void set_origin_rank(int rank) noexcept { origin_rank_ = rank; }

 private:
  ExitCode code_;
  int origin_rank_ = -1;
};

// Bad command line: `what` is the problem, `fix` how to fix it.
class UsageError : public Error {
 public:
  explicit UsageError(std::string message) : Error(ExitCode::kUsage, std::move(message)) {}
};

// Bad input file. Message layout: "<file>: <key/line>: <problem>. <fix>".
class InputError : public Error {
 public:
  InputError(const std::string& file, const std::string& where, const std::string& problem,
             const std::string& fix = {})
      : Error(ExitCode::kInput, compose(file, where, problem, fix)) {}

  static std::string compose(const std::string& file, const std::string& where,
                             const std::string& problem, const std::string& fix) {
    std::string m = file;
    if (!where.empty()) m += ": " + where;
    m += ": " + problem;
    if (!fix.empty()) m += ". Fix: " + fix;
    return m;
  }
};

class IoError : public Error {
 public:
  explicit IoError(std::string message) : Error(ExitCode::kIo, std::move(message)) {}
};

class ComputeError : public Error {
 public:
  explicit ComputeError(std::string message) : Error(ExitCode::kCompute, std::move(message)) {}
};

}  // namespace gsmap
