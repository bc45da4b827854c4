// The gsmap-mpi program around the parser: MPI and logging set-up, the banner, dispatch to the
// steps, and the one place where errors become messages and exit codes.
#include "gsmap/cli/commands.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <tbb/global_control.h>

#include <fmt/format.h>

#include "gsmap/cli/parse.hpp"
#include "gsmap/cli/resources.hpp"
#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/io/hdf5.hpp"
#include "gsmap/ldscore/ldscore.hpp"
#include "gsmap/pipeline/steps.hpp"
#include "gsmap/pipeline/validate.hpp"
#include "gsmap/sim/simulate.hpp"
#include "gsmap/sumstats/format.hpp"
#include "gsmap/version.hpp"

namespace gsmap::cli {
namespace {

// MPI_Get_library_version may be called before MPI_Init (MPI-3.1 8.1.1). First line only: MPICH
// reports several.
std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "unknown";
  std::string version(text, static_cast<std::size_t>(length));
  version = version.substr(0, version.find('\n'));
  while (!version.empty() && (version.back() == ' ' || version.back() == '\r' ||
                              version.back() == '\0')) {
    version.pop_back();
  }
  return version;
}

std::string hdf5_version() {
  io::H5Lock lock;
  unsigned major = 0, minor = 0, release = 0;
  if (H5get_libversion(&major, &minor, &release) < 0) return "unknown";
#ifdef H5_HAVE_PARALLEL
  const char* flavour = " (parallel)";
#else
  const char* flavour = " (serial)";
#endif
  return fmt::format("{}.{}.{}{}", major, minor, release, flavour);
}

// Before MPI_Init: the rank a launcher gave this process, so that `mpirun -np 4 gsmap-mpi --help`
// prints once. 0 when not launched by one.
int launcher_rank() {
  for (const char* variable : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const char* value = std::getenv(variable)) return std::atoi(value);
  }
  return 0;
}

// MPI_Init_thread / MPI_Finalize. Only the main thread makes MPI calls (pipeline workers hand
// their results to it), so FUNNELED is enough and is what we ask for.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv) {
    // hwloc, which MPI_Init starts, loads every plugin it finds; three of them only describe
    // devices no rank uses (X11 displays of GPUs, OpenCL devices) or replace hwloc's own XML
    // parser with libxml2, and bring X11, xcb, OpenCL and ICU into every rank: 1.8 MiB of each
    // rank's resident set on Debian 12 (docs/scalability.md "Memory per rank"). Skipped unless
    // the user set HWLOC_PLUGINS_BLACKLIST.
    setenv("HWLOC_PLUGINS_BLACKLIST", "hwloc_gl,hwloc_opencl,hwloc_xml_libxml", /*replace=*/0);
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided_);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int provided() const { return provided_; }

 private:
  int provided_ = MPI_THREAD_SINGLE;
  int rank_ = 0;
  int size_ = 1;
};

std::string thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
    case MPI_THREAD_MULTIPLE: return "MPI_THREAD_MULTIPLE";
    default: return std::to_string(level);
  }
}

// Every rank parsed the same arguments; a usage error is usually the same everywhere, but a path
// check may differ between nodes. Agree on the outcome so no rank runs on alone; the lowest failing
// rank prints its message. Returns the exit code (0 = go on). Collective.
int agree_on_usage(const std::optional<Error>& error, const MpiSession& mpi) {
  const int mine = error ? static_cast<int>(error->code()) : 0;
  int worst = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (worst == 0) return 0;
  const int candidate = error ? mpi.rank() : mpi.size();
  int reporter = 0;
  MPI_Allreduce(&candidate, &reporter, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (mpi.rank() == reporter) std::fprintf(stderr, "error: %s\n", error->what());
  return worst;
}

std::string workers_line(const ParseResult& parsed) {
  const Config& c = parsed.config;
  const bool l2g = parsed.subcommand == "latent-to-gene" ||
                   (parsed.subcommand == "quick-mode" && c.start_step == Step::kLatentToGene);
  const bool ldsc = parsed.subcommand == "spatial-ldsc" ||
                    (parsed.subcommand == "quick-mode" &&
                     static_cast<int>(c.start_step) <= static_cast<int>(Step::kSpatialLdsc) &&
                     static_cast<int>(Step::kSpatialLdsc) <= static_cast<int>(c.stop_step));
  std::vector<std::string> parts;
  if (l2g) {
    parts.push_back(fmt::format("latent to gene: {} read, {} compute, {} write",
                                c.l2g.rank_read_workers, c.l2g.mkscore_compute_workers,
                                c.l2g.mkscore_write_workers));
  }
  if (ldsc) {
    parts.push_back(fmt::format("spatial LDSC: {} read, {} compute", c.ldsc.ldsc_read_workers,
                                c.ldsc.ldsc_compute_workers));
  }
  std::string line;
  for (const auto& p : parts) line += (line.empty() ? "" : "; ") + p;
  return line;
}

void log_banner(const ParseResult& parsed, const MpiSession& mpi,
                const std::vector<RankResources>& ranks) {
  GSMAP_LOG_INFO("gsmap-mpi {} (git {}; CUDA {}, NCCL {}{})", kVersion, kGitHash,
                 kHaveCuda ? "on" : "off", kHaveNccl ? "on" : "off",
                 kTestHooks ? "; test hooks on" : "");
  GSMAP_LOG_INFO("command: {}", parsed.config.common.command_line);
  GSMAP_LOG_INFO("MPI: {} rank{} ({}, {}); HDF5 {}", mpi.size(), mpi.size() == 1 ? "" : "s",
                 mpi_library_version(), thread_level_name(mpi.provided()), hdf5_version());
  for (const auto& line : environment_lines(ranks)) GSMAP_LOG_INFO("{}", line);
  const std::string workers = workers_line(parsed);
  // The CPUs this rank may run on: mpirun binds a rank to one core by default when it starts at
  // most 2 ranks, and every worker thread (and TBB) then shares that core.
  const RankResources& me = ranks.front();
  const auto hardware = static_cast<unsigned>(me.hardware_threads);
  const auto usable = static_cast<unsigned>(me.affinity_cpus);
  GSMAP_LOG_INFO("threads: {} hardware threads per node, {} usable by rank 0 (CPU affinity), {} "
                 "core{} used{}{}",
                 hardware, usable, me.cores, me.cores == 1 ? "" : "s",
                 workers.empty() ? "" : "; workers per rank: ", workers);
  if (usable < hardware && usable * static_cast<unsigned>(mpi.size()) < hardware) {
    GSMAP_LOG_WARN("rank 0 is bound to {} of {} hardware threads (the MPI launcher's CPU binding): "
                   "all its worker threads share them. Fix: mpirun --bind-to none (or "
                   "--map-by slot:PE=<threads per rank>), or srun --cpus-per-task",
                   usable, hardware);
  }
  for (const auto& warning : oversubscription_warnings(ranks)) GSMAP_LOG_WARN("{}", warning);
  const auto lines = resolved_options(parsed);
  GSMAP_LOG_INFO("configuration (options that differ from the defaults):{}",
                 lines.empty() ? " none" : "");
  for (const auto& line : lines) GSMAP_LOG_INFO("  {}", line);
  for (const auto& warning : parsed.warnings) GSMAP_LOG_WARN("{}", warning);
}

// The step subcommands log into WORKDIR/PROJECT/gsmap-mpi.log as well (rank 0; any rank that
// fails appends its error there).
void open_log_file(const ParseResult& parsed, const MpiSession& mpi) {
  std::string project_dir;
  if (parsed.subcommand == "merge") {
    project_dir = parsed.merge.workdir + "/" + parsed.merge.project_name;
  } else if (parsed.subcommand != "simulate" && parsed.subcommand != "ldscore-weight-matrix" &&
             parsed.subcommand != "format-sumstats") {
    project_dir = parsed.config.common.project_dir();
  }
  if (project_dir.empty() || parsed.config.dry_run) return;  // --dry-run writes nothing
  if (mpi.rank() != 0) {
    log::add_file(project_dir + "/gsmap-mpi.log");
    return;
  }
  std::error_code ec;
  std::filesystem::create_directories(project_dir, ec);
  if (ec) {
    throw IoError(fmt::format("{}: cannot create the project directory: {}. Check the permissions "
                              "of --workdir",
                              project_dir, ec.message()));
  }
  log::add_file(project_dir + "/gsmap-mpi.log");
}

// Serial subcommands run on rank 0; the other ranks wait (an error on rank 0 aborts them).
template <class Work>
void on_rank_zero(const MpiSession& mpi, Work&& work) {
  if (mpi.rank() == 0) {
    if (mpi.size() > 1) GSMAP_LOG_INFO("this subcommand runs on rank 0 only");
    work();
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

void dispatch(const ParseResult& parsed, const MpiSession& mpi) {
  const std::string& sub = parsed.subcommand;
  const Config& config = parsed.config;
  if (config.dry_run) {
    pipeline::run_dry_run(config, sub, MPI_COMM_WORLD);
    return;
  }
  if (sub == "quick-mode") {
    pipeline::run_quick_mode(config, MPI_COMM_WORLD);
  } else if (sub == "latent-to-gene") {
    pipeline::run_latent_to_gene(config.l2g, config.common, MPI_COMM_WORLD);
  } else if (sub == "spatial-ldsc") {
    pipeline::run_spatial_ldsc(config, MPI_COMM_WORLD);
  } else if (sub == "cauchy-combination") {
    pipeline::run_cauchy_combination(config, MPI_COMM_WORLD);
  } else if (sub == "report") {
    pipeline::run_report(config, MPI_COMM_WORLD);
  } else if (sub == "simulate") {
    on_rank_zero(mpi, [&] { sim::simulate(parsed.simulate); });
  } else if (sub == "merge") {
    on_rank_zero(mpi, [&] { pipeline::run_merge(parsed.merge); });
  } else if (sub == "format-sumstats") {
    on_rank_zero(mpi, [&] { sumstats::format_sumstats(parsed.sumstats); });
  } else if (sub == "ldscore-weight-matrix") {
    ldscore::run(parsed.ldscore, MPI_COMM_WORLD);
  } else {
    throw Error(ExitCode::kCompute, "internal error: no dispatch for subcommand " + sub);
  }
}

// The failing rank reports, once (stderr and the log file), then the job ends with MPI_Abort: the
// other ranks may be waiting inside a collective, and after a failed parallel HDF5 write the ranks'
// HDF5 states differ, so MPI_Finalize (which closes open HDF5 files collectively) could hang. An
// agreed failure (every rank threw it together: Error::origin_rank) is printed by the rank that
// met it; the others stay silent and wait in a barrier until it has printed, so that the abort
// cannot cut its message off.
int fail(const MpiSession& mpi, ExitCode code, const std::string& message, int origin_rank = -1) {
  const bool agreed = mpi.size() > 1 && origin_rank >= 0;
  if (!agreed || origin_rank == mpi.rank()) log::report_error(message);
  if (mpi.size() > 1) {
    if (agreed) MPI_Barrier(MPI_COMM_WORLD);
    MPI_Abort(MPI_COMM_WORLD, static_cast<int>(code));
  }
  // A file HDF5 could not close (a write failed on a full disk) would be closed again inside
  // MPI_Finalize, where HDF5 1.10 crashes: leave without finalizing, with the exit code.
  bool hdf5_file_open = false;
  {
    io::H5Lock lock;
    hdf5_file_open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE) > 0;
  }
  if (hdf5_file_open) {
    std::fflush(nullptr);
    std::_Exit(static_cast<int>(code));
  }
  return static_cast<int>(code);
}

}  // namespace

std::string version_text() {
  return fmt::format(
      "gsmap-mpi {}\n"
      "git: {}\n"
      "CUDA backend: {}\n"
      "NCCL: {}\n"
      "test hooks: {}\n"
      "MPI: {}\n"
      "HDF5: {}\n",
      kVersion, kGitHash, kHaveCuda ? "on" : "off", kHaveNccl ? "on" : "off",
      kTestHooks ? "on (fault injection; not for production)" : "off", mpi_library_version(),
      hdf5_version());
}

int run(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  ParseResult parsed;
  std::optional<Error> usage_error;
  try {
    parsed = parse(args);
  } catch (const Error& e) {
    usage_error = e;
  }
  // Help and version need no MPI: answer before MPI_Init, once per launch.
  if (!usage_error && parsed.action != Action::kRun) {
    if (launcher_rank() == 0) {
      const std::string text = parsed.action == Action::kHelp ? parsed.help_text : version_text();
      std::fputs(text.c_str(), stdout);
    }
    return 0;
  }

  MpiSession mpi(argc, argv);
  if (mpi.provided() < MPI_THREAD_FUNNELED) {
    if (mpi.rank() == 0) {
      std::fprintf(stderr,
                   "error: the MPI library provides only %s; gsmap-mpi needs MPI_THREAD_FUNNELED. "
                   "Use an MPI built with thread support\n",
                   thread_level_name(mpi.provided()).c_str());
    }
    return static_cast<int>(ExitCode::kMpi);
  }
  if (const int code = agree_on_usage(usage_error, mpi)) return code;

  log::init(mpi.rank(), mpi.size());
  const auto t0 = std::chrono::steady_clock::now();
  try {
    // Worker counts not given follow the cores this rank really has; TBB's loops (ranking,
    // neighbours) get the same number of threads.
    RankResources resources = probe_resources(MPI_COMM_WORLD);
    resources.compute_threads = apply_worker_defaults(
        parsed, resources.cores, parsed.config.common.use_gpu && device::visible_gpus() > 0);
    const tbb::global_control tbb_threads(tbb::global_control::max_allowed_parallelism,
                                          static_cast<std::size_t>(resources.cores));
    const auto ranks = gather_resources(resources, MPI_COMM_WORLD);
    open_log_file(parsed, mpi);
    if (mpi.rank() == 0) log_banner(parsed, mpi, ranks);
    dispatch(parsed, mpi);
    log::progress_done();
    log_run_summary(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
        MPI_COMM_WORLD);
  } catch (const Error& e) {
    return fail(mpi, e.code(), e.what(), e.origin_rank());
  } catch (const std::filesystem::filesystem_error& e) {
    // e.g. "cannot create directories: Permission denied [path]": the OS reason, not a bug.
    return fail(mpi, ExitCode::kIo, e.what());
  } catch (const std::bad_alloc&) {
    return fail(mpi, ExitCode::kCompute,
                "out of memory. Lower --mkscore-batch-size or --spots-per-chunk-quick-mode, or "
                "use more ranks");
  } catch (const std::exception& e) {
    return fail(mpi, ExitCode::kCompute, std::string("internal error: ") + e.what());
  }
  log::progress_done();
  return 0;
}

}  // namespace gsmap::cli
