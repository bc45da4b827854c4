#pragma once
// RAII owners for CUDA streams and device buffers, on top of the cuda_api.hpp functions. Private to
// the device module; only compiled with the CUDA backend.
#if defined(GSMAP_WITH_CUDA)
#include <cstddef>
#include <utility>

#include "gsmap/device/cuda_api.hpp"

namespace gsmap::device {

class CudaStream {
 public:
  CudaStream() : stream_(cuda::create_stream()) {}
  ~CudaStream() { cuda::destroy_stream(stream_); }
  CudaStream(CudaStream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
  CudaStream& operator=(CudaStream&& other) noexcept {
    std::swap(stream_, other.stream_);
    return *this;
  }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  cuda::Stream get() const { return stream_; }
  void synchronize() const { cuda::synchronize(stream_); }

 private:
  cuda::Stream stream_ = nullptr;
};

// A device array of T that only grows: reserve(n) keeps the storage when it already holds n
// elements (contents are not preserved across a growth; callers upload after reserving).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { cuda::device_free(data_); }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(capacity_, other.capacity_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* reserve(std::size_t count) {
    if (count > capacity_) {
      cuda::device_free(data_);
      data_ = nullptr;
      capacity_ = 0;
      // Grow by half again so that slowly growing batches do not reallocate every time.
      const std::size_t grown = count + count / 2;
      data_ = static_cast<T*>(cuda::device_alloc(grown * sizeof(T)));
      capacity_ = grown;
    }
    return data_;
  }
  // reserve(count) and copy `count` host elements in (asynchronously on `stream`).
  T* upload(const T* host, std::size_t count, cuda::Stream stream) {
    T* device = reserve(count);
    cuda::copy_to_device(device, host, count * sizeof(T), stream);
    return device;
  }
  T* data() const { return data_; }
  std::size_t bytes() const { return capacity_ * sizeof(T); }

 private:
  T* data_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace gsmap::device
#endif  // GSMAP_WITH_CUDA
