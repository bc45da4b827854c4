#pragma once
// One log stream: rank 0 writes to the terminal and to <workdir>/<project>/gsmap-mpi.log; other
// ranks log warnings and errors to stderr only, prefixed with their rank. A one-line progress
// display goes to the terminal only (never into the log file).
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace gsmap::log {

// Call once, early (before the work directory is known); rank/size from MPI.
void init(int rank, int size);
// Adds the log file once the work directory is known. Every rank learns the path (for
// report_error); only rank 0 writes the run's log lines there.
void add_file(const std::string& path);
// An error, once, by the rank that met it: "error: <message>" on stderr (with "(rank r of N)"
// under MPI) and a time-stamped line appended to the log file when there is one, whatever the rank.
void report_error(const std::string& message);
// The process-wide logger.
std::shared_ptr<spdlog::logger> get();
int rank();
int size();

// An info line for rank 0's log file only (the progress lines that a terminal shows live).
void info_to_file(const std::string& line);
bool stderr_is_terminal();

// Progress on one terminal line (rank 0, interactive terminals: carriage return; otherwise logged
// sparsely by the caller's policy, core/progress.hpp). progress_done() ends the line.
void progress(const std::string& line);
void progress_done();

}  // namespace gsmap::log

#define GSMAP_LOG_INFO(...) ::gsmap::log::get()->info(__VA_ARGS__)
#define GSMAP_LOG_WARN(...) ::gsmap::log::get()->warn(__VA_ARGS__)
#define GSMAP_LOG_ERROR(...) ::gsmap::log::get()->error(__VA_ARGS__)
#define GSMAP_LOG_DEBUG(...) ::gsmap::log::get()->debug(__VA_ARGS__)
