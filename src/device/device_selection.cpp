// Device discovery and selection (backend.hpp); no logging, so the standalone GPU self-test can
// link it without the rest of gsmap_core.
#include <atomic>

#include "gsmap/device/backend.hpp"

#if defined(GSMAP_WITH_CUDA)
#include "gsmap/device/cuda_api.hpp"
#endif

namespace gsmap::device {
namespace {
std::atomic<int> g_selected_device{0};
}  // namespace

bool cuda_built() {
#if defined(GSMAP_WITH_CUDA)
  return true;
#else
  return false;
#endif
}

int visible_gpus() {
#if defined(GSMAP_WITH_CUDA)
  return cuda::device_count();
#else
  return 0;
#endif
}

void select_device(int device) {
#if defined(GSMAP_WITH_CUDA)
  cuda::set_device(device);
  g_selected_device.store(device);
#else
  (void)device;
#endif
}

int selected_device() { return g_selected_device.load(); }

}  // namespace gsmap::device
