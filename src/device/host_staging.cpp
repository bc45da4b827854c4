#include "gsmap/device/host_staging.hpp"

#include <cstdlib>
#include <exception>
#include <new>
#include <utility>

#include "gsmap/device/backend.hpp"

#if defined(GSMAP_WITH_CUDA)
#include "gsmap/device/cuda_api.hpp"
#endif

namespace gsmap::device {

HostStagingBuffer::~HostStagingBuffer() { release(); }

HostStagingBuffer::HostStagingBuffer(HostStagingBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      pinned_(std::exchange(other.pinned_, false)) {}

HostStagingBuffer& HostStagingBuffer::operator=(HostStagingBuffer&& other) noexcept {
  std::swap(data_, other.data_);
  std::swap(capacity_, other.capacity_);
  std::swap(pinned_, other.pinned_);
  return *this;
}

void* HostStagingBuffer::reserve_bytes(std::size_t bytes) {
  if (bytes <= capacity_ && data_ != nullptr) return data_;
  release();
  if (bytes == 0) return nullptr;
  const std::size_t grown = bytes + bytes / 4;
#if defined(GSMAP_WITH_CUDA)
  if (visible_gpus() > 0) {
    try {
      data_ = cuda::host_alloc_pinned(grown);
      pinned_ = true;
    } catch (const std::exception&) {  // pinning refused (limits): ordinary memory still works
      data_ = nullptr;
    }
  }
#endif
  if (data_ == nullptr) {
    data_ = std::malloc(grown);  // NOLINT(cppcoreguidelines-no-malloc): raw bytes, any T
    if (data_ == nullptr) throw std::bad_alloc();
    pinned_ = false;
  }
  capacity_ = grown;
  return data_;
}

void HostStagingBuffer::release() noexcept {
  if (data_ == nullptr) return;
#if defined(GSMAP_WITH_CUDA)
  if (pinned_) {
    cuda::host_free_pinned(data_);
  } else {
    std::free(data_);  // NOLINT(cppcoreguidelines-no-malloc)
  }
#else
  std::free(data_);  // NOLINT(cppcoreguidelines-no-malloc)
#endif
  data_ = nullptr;
  capacity_ = 0;
  pinned_ = false;
}

}  // namespace gsmap::device
