// Pipeline throughput figures and the seed's summary table (include/gsmap/core/throughput.hpp).
#include "gsmap/core/throughput.hpp"

#include <sys/resource.h>

#include <fmt/format.h>

namespace gsmap::core {

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

CpuStopwatch::CpuStopwatch() : wall0_(std::chrono::steady_clock::now()), cpu0_(process_cpu_seconds()) {}

double CpuStopwatch::wall_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
}

double CpuStopwatch::cpu_seconds() const { return process_cpu_seconds() - cpu0_; }

double StageThroughput::mean_batch_seconds() const {
  return batches == 0 ? 0.0 : busy_seconds / static_cast<double>(batches);
}

double StageThroughput::per_worker_batches_per_second() const {
  if (batches == 0) return 0.0;
  // A stage faster than the clock's resolution still gets a finite figure.
  constexpr double kClockResolution = 1e-9;
  const double mean = mean_batch_seconds();
  return 1.0 / (mean > kClockResolution ? mean : kClockResolution);
}

double StageThroughput::total_cells_per_second(std::size_t batch_size) const {
  return per_worker_batches_per_second() * static_cast<double>(batch_size) * workers;
}

double PipelineReport::batches_per_second() const {
  return elapsed_seconds > 0.0 ? static_cast<double>(completed_batches) / elapsed_seconds : 0.0;
}

double PipelineReport::cells_per_second() const {
  return batches_per_second() * static_cast<double>(batch_size);
}

const StageThroughput* PipelineReport::bottleneck() const {
  const StageThroughput* slowest = nullptr;
  for (const StageThroughput& s : stages) {
    if (s.batches == 0) continue;
    if (!slowest ||
        s.total_cells_per_second(batch_size) < slowest->total_cells_per_second(batch_size)) {
      slowest = &s;
    }
  }
  return slowest;
}

std::string PipelineReport::summary_table() const {
  std::string out = fmt::format("Pipeline summary: {}{}\n", label,
                                completed_batches == total_batches ? " completed" : " INCOMPLETE");
  out += fmt::format("  {:<21}{}\n", "Total Batches", total_batches);
  out += fmt::format("  {:<21}{:.2f} s\n", "Time Elapsed", elapsed_seconds);
  out += fmt::format("  {:<21}{:.2f} batches/s ({:.0f} cells/s)\n", "Pipeline Throughput",
                     batches_per_second(), cells_per_second());
  out += fmt::format("  {:<10} {:>24} {:>8} {:>18}\n", "Component", "Throughput (per worker)",
                     "Workers", "Total Throughput");
  for (const StageThroughput& s : stages) {
    out += fmt::format("  {:<10} {:>20.2f} b/s {:>8} {:>14.0f} c/s\n", s.name,
                       s.per_worker_batches_per_second(), s.workers,
                       s.total_cells_per_second(batch_size));
  }
  if (const StageThroughput* slowest = bottleneck()) {
    out += fmt::format("  Bottleneck: {} ({:.0f} cells/s)", slowest->name,
                       slowest->total_cells_per_second(batch_size));
  } else {
    out += "  Bottleneck: none (no batch processed)";
  }
  if (workers_yielding > 0) {
    out += fmt::format("\n  Writers first: {} compute worker(s) found the writers' queue full and "
                       "yield the CPU to the writers", workers_yielding);
  }
  return out;
}

}  // namespace gsmap::core
