#include "gsmap/core/log.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace gsmap::log {
namespace {
std::shared_ptr<spdlog::logger> g_logger;
int g_rank = 0;
int g_size = 1;
std::mutex g_progress_mutex;
bool g_progress_open = false;
std::string g_file_path;  // guarded by g_progress_mutex
std::shared_ptr<spdlog::sinks::basic_file_sink_mt> g_file_sink;  // rank 0's log file, if any
}  // namespace

void init(int rank, int size) {
  g_rank = rank;
  g_size = size;
  {
    std::lock_guard lock(g_progress_mutex);
    g_file_path.clear();
  }
  g_file_sink.reset();
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(spdlog::color_mode::automatic);
  g_logger = std::make_shared<spdlog::logger>("gsmap", sink);
  if (rank == 0) {
    g_logger->set_pattern("[%Y-%m-%d %H:%M:%S] [%^%l%$] %v");
    g_logger->set_level(spdlog::level::info);
  } else {
    g_logger->set_pattern(fmt::format("[%Y-%m-%d %H:%M:%S] [rank {}] [%^%l%$] %v", rank));
    g_logger->set_level(spdlog::level::warn);
  }
  g_logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(g_logger);
}

void add_file(const std::string& path) {
  {
    std::lock_guard lock(g_progress_mutex);
    g_file_path = path;
  }
  if (g_rank != 0 || !g_logger) return;
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
  file->set_pattern("[%Y-%m-%d %H:%M:%S] [%l] %v");
  g_logger->sinks().push_back(file);
  g_file_sink = file;
}

void info_to_file(const std::string& line) {
  if (g_rank != 0 || !g_file_sink) return;
  spdlog::details::log_msg msg(g_logger->name(), spdlog::level::info, line);
  g_file_sink->log(msg);
  g_file_sink->flush();
}

bool stderr_is_terminal() { return isatty(fileno(stderr)) != 0; }

std::shared_ptr<spdlog::logger> get() {
  if (!g_logger) init(0, 1);
  return g_logger;
}

void report_error(const std::string& message) {
  progress_done();
  const std::string where =
      g_size > 1 ? fmt::format(" (rank {} of {})", g_rank, g_size) : std::string();
  std::fprintf(stderr, "error: %s%s\n", message.c_str(), where.c_str());
  std::fflush(stderr);
  std::string path;
  {
    std::lock_guard lock(g_progress_mutex);
    path = g_file_path;
  }
  if (path.empty()) return;
  // Appended with its own handle (O_APPEND): rank 0's file sink flushes every line, so lines never
  // interleave within a line on a local file system.
  if (g_logger) g_logger->flush();
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return;
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32] = {};
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  std::fprintf(f, "[%s] [error] %s%s\n", stamp, message.c_str(), where.c_str());
  std::fclose(f);
}

int rank() { return g_rank; }
int size() { return g_size; }

void progress(const std::string& line) {
  if (g_rank != 0) return;
  std::lock_guard lock(g_progress_mutex);
  if (isatty(fileno(stderr))) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    g_progress_open = true;
  }
}

void progress_done() {
  if (g_rank != 0) return;
  std::lock_guard lock(g_progress_mutex);
  if (g_progress_open) {
    std::fprintf(stderr, "\n");
    g_progress_open = false;
  }
}

}  // namespace gsmap::log
