#pragma once
// nvcc compiles kernels/*.cu as C++17 (cmake/GsmapCuda.cmake: CMake 3.25 has no CUDA20 flag), and
// libstdc++'s <span> is empty before C++20. The shared GSMAP_HD math lives in headers that also
// declare the CPU drivers with std::span parameters (gss/marker_score.hpp), so a .cu that includes
// them needs a std::span to parse those declarations. The kernels never use it: this minimal
// stand-in only has to parse. It is inert once nvcc runs as C++20 (then the real <span> is used).
#if __cplusplus < 202002L
#include <cstddef>
#include <span>  // empty here; included first so the real header cannot follow and clash

namespace std {  // NOLINT(cert-dcl58-cpp): C++17 stand-in, see above

template <class T>
class span {
 public:
  using element_type = T;
  constexpr span() noexcept = default;
  constexpr span(T* data, std::size_t size) noexcept : data_(data), size_(size) {}
  template <class Container>
  constexpr span(Container& c) noexcept : data_(c.data()), size_(c.size()) {}  // NOLINT
  constexpr T* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
  constexpr T* begin() const noexcept { return data_; }
  constexpr T* end() const noexcept { return data_ + size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace std
#endif
