// Device discovery for the CUDA backend. Any CUDA error (no driver, no device) means "no GPU"
// (toolchain.md pitfall 8): the caller falls back to the CPU.
#include <cuda_runtime.h>

#include "gsmap/device/cuda_api.hpp"

namespace gsmap::device::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error state
    return 0;
  }
  return n;
}

}  // namespace gsmap::device::cuda
