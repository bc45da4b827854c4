#pragma once
// The dense products of the LD computation (docs/ldscore.md §6): dot products between genotype
// columns of dosages 0/1/2 (and 0/1 observed-call indicators). Every product and partial sum is an
// integer below 2^24, so single-precision arithmetic is exact whatever the summation order: the
// result does not depend on the kernel, its blocking, SIMD width or the thread count.
#include <cstdint>

namespace gsmap::ldscore {

enum class Kernel {
  kAuto,     // kBlocked where the CPU has AVX2 and FMA, else kEigen
  kEigen,    // Eigen's single-threaded GEMM on the gathered columns
  kBlocked,  // our own register-blocked AVX2/FMA kernel (4 x 3 dot products at a time)
};

// Column length padding: columns hold n_pad = round_up(n, 8) floats, 32-byte aligned.
constexpr std::int64_t kColumnAlign = 8;
inline std::int64_t padded(std::int64_t n) { return (n + kColumnAlign - 1) / kColumnAlign * kColumnAlign; }

// out[x * nb + y] = sum_i a[x][i] * b[y][i], i < n_pad. `scratch` is reused between calls.
void cross_products(const float* const* a, std::int64_t na, const float* const* b,
                    std::int64_t nb, std::int64_t n_pad, float* out, Kernel kernel);

// The kernel kAuto resolves to on this CPU.
Kernel resolve_kernel(Kernel kernel);
const char* kernel_name(Kernel kernel);

}  // namespace gsmap::ldscore
