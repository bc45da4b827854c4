// What each rank has, the worker counts that follow, and the environment and end-of-run lines of
// the log (include/gsmap/cli/resources.hpp).
#include "gsmap/cli/resources.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "gsmap/core/log.hpp"
#include "gsmap/core/memory.hpp"
#include "gsmap/core/throughput.hpp"
#include "gsmap/dist/mpi.hpp"

namespace gsmap::cli {
namespace {

int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  return std::max(0, std::atoi(v));
}

// "MemTotal:  131072000 kB" -> bytes; 0 when unknown.
std::int64_t meminfo_bytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  std::int64_t kib = 0;
  std::string unit;
  while (in >> name >> kib >> unit) {
    if (name == key + ":") return kib * 1024;
  }
  return 0;
}

double gib(std::int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

// "0-3", "0,2,5-6": ranks of one host.
std::string rank_ranges(const std::vector<int>& ranks) {
  std::string out;
  for (std::size_t i = 0; i < ranks.size();) {
    std::size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += j == i ? fmt::format("{}", ranks[i]) : fmt::format("{}-{}", ranks[i], ranks[j]);
    i = j + 1;
  }
  return out;
}

// A host name into a fixed, zero-filled field (truncated to 63 bytes).
void copy_host(char (&field)[64], const std::string& host) {
  std::memset(field, 0, sizeof field);
  std::memcpy(field, host.data(), std::min(host.size(), sizeof field - 1));
}

// Fixed-size record for the gather.
struct Wire {
  char host[64];
  std::int32_t hardware_threads, affinity_cpus, slurm_cpus_per_task, local_ranks, cores,
      compute_threads;
  std::int64_t mem_total, mem_available;
};

}  // namespace

int resolve_cores(int hardware_threads, int affinity_cpus, int slurm_cpus_per_task,
                  int local_ranks) {
  int cores = std::max(1, affinity_cpus);
  if (slurm_cpus_per_task > 0) cores = std::min(cores, slurm_cpus_per_task);
  if (local_ranks > 1 && affinity_cpus * local_ranks > hardware_threads) {
    cores = std::min(cores, std::max(1, hardware_threads / local_ranks));
  }
  return std::max(1, cores);
}

std::string cores_source(int hardware_threads, int affinity_cpus, int slurm_cpus_per_task,
                         int local_ranks) {
  const int cores = resolve_cores(hardware_threads, affinity_cpus, slurm_cpus_per_task, local_ranks);
  if (slurm_cpus_per_task > 0 && cores == slurm_cpus_per_task && cores < affinity_cpus) {
    return "SLURM_CPUS_PER_TASK";
  }
  if (cores < affinity_cpus) {
    return fmt::format("{} hardware threads shared by {} unbound ranks on the node",
                       hardware_threads, local_ranks);
  }
  return "CPU affinity mask";
}

int apply_worker_defaults(ParseResult& parsed, int cores, bool gpu) {
  auto& l2g = parsed.config.l2g;
  auto& ldsc = parsed.config.ldsc;
  const auto set = [&](const char* name, int& field, int value) {
    if (!parsed.was_given(name)) field = value;
  };
  set("rank-read-workers", l2g.rank_read_workers, std::clamp(cores / 4, 1, 16));
  set("mkscore-compute-workers", l2g.mkscore_compute_workers, gpu ? 4 : std::clamp(cores, 1, 16));
  set("mkscore-write-workers", l2g.mkscore_write_workers, std::clamp(cores / 4, 1, 4));
  set("ldsc-read-workers", ldsc.ldsc_read_workers, std::clamp(cores / 8, 1, 10));
  set("ldsc-compute-workers", ldsc.ldsc_compute_workers, std::max(1, cores));
  const Config& c = parsed.config;
  const auto runs = [&](Step s) {
    return static_cast<int>(c.start_step) <= static_cast<int>(s) &&
           static_cast<int>(s) <= static_cast<int>(c.stop_step);
  };
  int busiest = 0;
  // GPU streams of latent to gene do not keep a core busy each.
  if (runs(Step::kLatentToGene) && !gpu) busiest = std::max(busiest, l2g.mkscore_compute_workers);
  if (runs(Step::kSpatialLdsc)) busiest = std::max(busiest, ldsc.ldsc_compute_workers);
  return busiest;
}

RankResources probe_resources(MPI_Comm comm) {
  RankResources r;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) r.host = host;
  r.hardware_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  r.affinity_cpus = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed)
                                                                         : r.hardware_threads;
  r.slurm_cpus_per_task = env_int("SLURM_CPUS_PER_TASK");
  MPI_Comm node = MPI_COMM_NULL;
  GSMAP_MPI_CALL(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  r.local_ranks = dist::size(node);
  GSMAP_MPI_CALL(MPI_Comm_free(&node));
  r.cores = resolve_cores(r.hardware_threads, r.affinity_cpus, r.slurm_cpus_per_task, r.local_ranks);
  r.mem_total = meminfo_bytes("MemTotal");
  r.mem_available = meminfo_bytes("MemAvailable");
  return r;
}

std::vector<RankResources> gather_resources(const RankResources& mine, MPI_Comm comm) {
  Wire w{};
  copy_host(w.host, mine.host);
  w.hardware_threads = mine.hardware_threads;
  w.affinity_cpus = mine.affinity_cpus;
  w.slurm_cpus_per_task = mine.slurm_cpus_per_task;
  w.local_ranks = mine.local_ranks;
  w.cores = mine.cores;
  w.compute_threads = mine.compute_threads;
  w.mem_total = mine.mem_total;
  w.mem_available = mine.mem_available;
  const int me = dist::rank(comm), np = dist::size(comm);
  std::vector<Wire> all(me == 0 ? static_cast<std::size_t>(np) : 0);
  GSMAP_MPI_CALL(MPI_Gather(&w, sizeof w, MPI_BYTE, all.data(), sizeof w, MPI_BYTE, 0, comm));
  std::vector<RankResources> out;
  for (const Wire& x : all) {
    RankResources r;
    r.host = std::string(x.host, strnlen(x.host, sizeof x.host));
    r.hardware_threads = x.hardware_threads;
    r.affinity_cpus = x.affinity_cpus;
    r.slurm_cpus_per_task = x.slurm_cpus_per_task;
    r.local_ranks = x.local_ranks;
    r.cores = x.cores;
    r.compute_threads = x.compute_threads;
    r.mem_total = x.mem_total;
    r.mem_available = x.mem_available;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> environment_lines(const std::vector<RankResources>& ranks) {
  std::vector<std::string> lines;
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  lines.push_back("working directory: " + (ec ? std::string("(unknown)") : cwd.string()));
  if (const char* job = std::getenv("SLURM_JOB_ID")) {
    std::string line = fmt::format("Slurm job {}", job);
    const char* array_job = std::getenv("SLURM_ARRAY_JOB_ID");
    const char* array_task = std::getenv("SLURM_ARRAY_TASK_ID");
    if (array_job && array_task) line += fmt::format(" (array {} task {})", array_job, array_task);
    if (const char* nodes = std::getenv("SLURM_JOB_NODELIST")) line += fmt::format("; nodes {}", nodes);
    if (const char* cpt = std::getenv("SLURM_CPUS_PER_TASK")) line += fmt::format("; {} CPUs per task", cpt);
    lines.push_back(line);
  } else {
    lines.push_back("Slurm job: none (not run under Slurm)");
  }
  std::map<std::string, std::vector<int>> by_host;
  std::vector<std::string> order;
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    if (!by_host.count(ranks[r].host)) order.push_back(ranks[r].host);
    by_host[ranks[r].host].push_back(static_cast<int>(r));
  }
  lines.push_back(fmt::format("hosts: {} node{}", order.size(), order.size() == 1 ? "" : "s"));
  for (const auto& host : order) {
    const auto& rs = by_host[host];
    const RankResources& first = ranks[static_cast<std::size_t>(rs.front())];
    std::vector<int> cores;
    for (int r : rs) cores.push_back(ranks[static_cast<std::size_t>(r)].cores);
    const bool same = std::all_of(cores.begin(), cores.end(), [&](int c) { return c == cores[0]; });
    lines.push_back(fmt::format(
        "  {}: rank{} {}; {} hardware threads, {} core{} per rank ({}); memory {:.1f} GiB, {:.1f} "
        "GiB available",
        host, rs.size() == 1 ? "" : "s", rank_ranges(rs), first.hardware_threads,
        same ? fmt::format("{}", cores[0]) : fmt::format("{}-{}", *std::min_element(cores.begin(), cores.end()),
                                                         *std::max_element(cores.begin(), cores.end())),
        same && cores[0] == 1 ? "" : "s",
        cores_source(first.hardware_threads, first.affinity_cpus, first.slurm_cpus_per_task,
                     first.local_ranks),
        gib(first.mem_total), gib(first.mem_available)));
  }
  return lines;
}

std::vector<std::string> oversubscription_warnings(const std::vector<RankResources>& ranks) {
  std::vector<std::string> out;
  std::map<std::string, std::pair<int, int>> per_host;  // host -> (threads, ranks)
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    const RankResources& x = ranks[r];
    per_host[x.host].first += x.compute_threads;
    per_host[x.host].second += 1;
    if (x.compute_threads > x.cores) {
      out.push_back(fmt::format(
          "rank {} runs {} compute workers on {} core{}: oversubscribed (the workers share cores "
          "and run slower). Lower --mkscore-compute-workers / --ldsc-compute-workers, or give the "
          "rank more cores (srun --cpus-per-task, mpirun --map-by slot:PE=N)",
          r, x.compute_threads, x.cores, x.cores == 1 ? "" : "s"));
    }
  }
  for (const auto& [host, tr] : per_host) {
    const int hw = [&] {
      for (const auto& x : ranks)
        if (x.host == host) return x.hardware_threads;
      return 1;
    }();
    if (tr.first > hw) {
      out.push_back(fmt::format(
          "{}: {} rank{} run {} compute workers on {} hardware threads: the node is oversubscribed",
          host, tr.second, tr.second == 1 ? "" : "s", tr.first, hw));
    }
  }
  return out;
}

void log_run_summary(double wall_seconds, MPI_Comm comm) {
  struct Figures {
    double cpu;
    double peak_rss;
    char host[64];
  } mine{};
  mine.cpu = core::process_cpu_seconds();
  mine.peak_rss = static_cast<double>(core::peak_rss_bytes());
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  copy_host(mine.host, host);
  const int me = dist::rank(comm), np = dist::size(comm);
  std::vector<Figures> all(me == 0 ? static_cast<std::size_t>(np) : 0);
  GSMAP_MPI_CALL(
      MPI_Gather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, 0, comm));
  if (me != 0) return;
  double cpu_total = 0.0;
  for (const auto& f : all) cpu_total += f.cpu;
  GSMAP_LOG_INFO("run summary: wall time {:.1f} s; CPU time {:.1f} s over {} rank{} ({:.2f} cores "
                 "busy on average)",
                 wall_seconds, cpu_total, np, np == 1 ? "" : "s",
                 cpu_total / std::max(wall_seconds, 1e-9));
  for (int r = 0; r < np; ++r) {
    const auto& f = all[static_cast<std::size_t>(r)];
    GSMAP_LOG_INFO("  rank {} ({}): CPU time {:.1f} s ({:.2f} x wall), peak RSS {:.2f} GiB", r,
                   std::string(f.host, strnlen(f.host, sizeof f.host)), f.cpu,
                   f.cpu / std::max(wall_seconds, 1e-9), f.peak_rss / (1024.0 * 1024.0 * 1024.0));
  }
}

}  // namespace gsmap::cli
