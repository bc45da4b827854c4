// Device discovery, streams and memory for the CUDA backend (the runtime half of cuda_api.hpp).
// Any CUDA error during discovery (no driver, no device) means "no GPU" (docs/development.md §4.1):
// the caller falls back to the CPU.
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "cuda_check.cuh"
#include "gsmap/device/cuda_api.hpp"

namespace gsmap::device::cuda {

namespace {
cudaStream_t as_stream(Stream stream) { return static_cast<cudaStream_t>(stream); }
}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the error state
    return 0;
  }
  return n;
}

void set_device(int device) { GSMAP_CUDA_CALL(cudaSetDevice(device)); }

std::string describe_device(int device) {
  cudaDeviceProp prop{};
  GSMAP_CUDA_CALL(cudaGetDeviceProperties(&prop, device));
  char text[320];
  std::snprintf(text, sizeof text, "%s (sm_%d%d, %d SMs, %.1f GiB)", prop.name, prop.major,
                prop.minor, prop.multiProcessorCount,
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return text;
}

std::string pci_bus_id(int device) {
  char id[64] = {};
  GSMAP_CUDA_CALL(cudaDeviceGetPCIBusId(id, sizeof id, device));
  return id;
}

Stream create_stream() {
  cudaStream_t stream = nullptr;
  GSMAP_CUDA_CALL(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return stream;
}

void destroy_stream(Stream stream) noexcept {
  if (stream != nullptr) cudaStreamDestroy(as_stream(stream));
}

void synchronize(Stream stream) { GSMAP_CUDA_CALL(cudaStreamSynchronize(as_stream(stream))); }

void* device_alloc(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw ComputeError("GPU: cannot allocate " + std::to_string(bytes) +
                       " bytes of device memory (" + cudaGetErrorString(status) +
                       "). Fix: use smaller batches/chunks, fewer compute workers per GPU, or "
                       "--no-gpu");
  }
  return pointer;
}

void device_free(void* pointer) noexcept {
  if (pointer != nullptr) cudaFree(pointer);
}

void* host_alloc_pinned(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* pointer = nullptr;
  GSMAP_CUDA_CALL(cudaMallocHost(&pointer, bytes));
  return pointer;
}

void host_free_pinned(void* pointer) noexcept {
  if (pointer != nullptr) cudaFreeHost(pointer);
}

void copy_to_device(void* device_dst, const void* host_src, std::size_t bytes, Stream stream) {
  if (bytes == 0) return;
  GSMAP_CUDA_CALL(
      cudaMemcpyAsync(device_dst, host_src, bytes, cudaMemcpyHostToDevice, as_stream(stream)));
}

void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes, Stream stream) {
  if (bytes == 0) return;
  GSMAP_CUDA_CALL(
      cudaMemcpyAsync(host_dst, device_src, bytes, cudaMemcpyDeviceToHost, as_stream(stream)));
}

}  // namespace gsmap::device::cuda
