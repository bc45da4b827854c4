#include "gsmap/pipeline/backend_setup.hpp"

#include <fmt/format.h>

#include "gsmap/core/log.hpp"
#include "gsmap/device/backend.hpp"
#include "gsmap/dist/mpi.hpp"
#include "gsmap/ldsc/engine.hpp"

namespace gsmap::pipeline {

bool setup_backend(const CommonConfig& common, MPI_Comm comm) {
  // Every rank must agree, or ranks would run different code paths with the same data.
  const bool local = device::use_cuda(common.use_gpu);
  const bool all_have_gpu = !dist::any(!local, comm);
  if (local && !all_have_gpu) {
    GSMAP_LOG_WARN("some ranks see no GPU: every rank runs on the CPU");
  }
  const auto mine = dist::local_placement(comm, all_have_gpu ? device::visible_gpus() : 0);
  if (all_have_gpu) device::select_device(mine.device);
  const auto all = dist::gather_placements(mine, comm);
  if (dist::rank(comm) == 0) {
    std::string table;
    for (const auto& p : all) {
      table += fmt::format("{}rank {} -> {} (local rank {}/{}) -> {}", table.empty() ? "" : "; ",
                           p.world_rank, p.host, p.local_rank, p.local_size,
                           p.device >= 0 ? fmt::format("GPU {}", p.device) : std::string("CPU"));
    }
    GSMAP_LOG_INFO("Backend {}: {}", all_have_gpu ? "CUDA" : "CPU", table);
  }
  return all_have_gpu;
}

std::unique_ptr<gss::GssBackend> make_gss_backend(const CommonConfig& common, MPI_Comm comm) {
  return setup_backend(common, comm) ? gss::make_cuda_gss_backend() : gss::make_cpu_gss_backend();
}

std::unique_ptr<ldsc::LdscBackend> make_ldsc_backend(const CommonConfig& common, MPI_Comm comm) {
  if (setup_backend(common, comm)) return ldsc::make_cuda_backend();
  return ldsc::make_cpu_backend();
}

}  // namespace gsmap::pipeline
