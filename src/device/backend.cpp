// use_cuda(): the --use-gpu decision and its one warning (the logging half of backend.hpp).
#include <mutex>

#include "gsmap/core/log.hpp"
#include "gsmap/device/backend.hpp"

namespace gsmap::device {
namespace {
std::once_flag g_cpu_fallback_warning;
}  // namespace

bool use_cuda(bool use_gpu_option) {
  if (!use_gpu_option) return false;
  if (visible_gpus() > 0) return true;
  std::call_once(g_cpu_fallback_warning, [] {
    GSMAP_LOG_WARN("--use-gpu: no CUDA device visible (or built without CUDA); running on the CPU");
  });
  return false;
}

}  // namespace gsmap::device
