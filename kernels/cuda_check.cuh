#pragma once
// One checking macro for the CUDA runtime (file, line, the call and CUDA's message), shared by the
// kernels/*.cu translation units.
#include <cuda_runtime.h>

#include <string>

#include "gsmap/core/error.hpp"

namespace gsmap::device::cuda::detail {

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file,
                                          int line) {
  throw ComputeError(std::string("CUDA error in ") + call + " (" + file + ":" +
                     std::to_string(line) + "): " + cudaGetErrorName(status) + ": " +
                     cudaGetErrorString(status));
}

}  // namespace gsmap::device::cuda::detail

#define GSMAP_CUDA_CALL(call)                                                              \
  do {                                                                                     \
    const cudaError_t gsmap_cuda_status_ = (call);                                         \
    if (gsmap_cuda_status_ != cudaSuccess)                                                 \
      ::gsmap::device::cuda::detail::throw_cuda_error(gsmap_cuda_status_, #call, __FILE__, \
                                                      __LINE__);                           \
  } while (false)

// After a kernel launch: configuration errors surface here, execution errors at synchronize().
#define GSMAP_CUDA_CHECK_LAUNCH(kernel_name)                                                    \
  do {                                                                                         \
    const cudaError_t gsmap_cuda_status_ = cudaGetLastError();                                 \
    if (gsmap_cuda_status_ != cudaSuccess)                                                     \
      ::gsmap::device::cuda::detail::throw_cuda_error(gsmap_cuda_status_, "launch of " kernel_name, \
                                                      __FILE__, __LINE__);                     \
  } while (false)
