// Exact dot products of genotype columns (docs/ldscore.md §6).
#include "gsmap/ldscore/kernel.hpp"

#include <vector>

#include <Eigen/Core>

#if defined(__x86_64__)
#include <immintrin.h>
#define GSMAP_LDSCORE_X86 1
#endif

namespace gsmap::ldscore {
namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// b[y] == b[0] + y * n_pad for every y: the columns are one contiguous block.
bool contiguous(const float* const* b, std::int64_t nb, std::int64_t n_pad) {
  for (std::int64_t y = 1; y < nb; ++y) {
    if (b[y] != b[0] + y * n_pad) return false;
  }
  return true;
}

void eigen_products(const float* const* a, std::int64_t na, const float* const* b,
                    std::int64_t nb, std::int64_t n_pad, float* out) {
  thread_local Matrix ga, gb;
  ga.resize(n_pad, na);
  for (std::int64_t x = 0; x < na; ++x) ga.col(x) = Eigen::Map<const Eigen::VectorXf>(a[x], n_pad);
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> result(
      out, na, nb);
  if (nb > 0 && contiguous(b, nb, n_pad)) {
    result.noalias() = ga.transpose() * Eigen::Map<const Matrix>(b[0], n_pad, nb);
    return;
  }
  gb.resize(n_pad, nb);
  for (std::int64_t y = 0; y < nb; ++y) gb.col(y) = Eigen::Map<const Eigen::VectorXf>(b[y], n_pad);
  result.noalias() = ga.transpose() * gb;
}

#ifdef GSMAP_LDSCORE_X86
__attribute__((target("avx2,fma"))) inline float horizontal_sum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
}

// MA x MB dot products over n_pad entries (multiple of 8), accumulated in registers.
template <int MA, int MB>
__attribute__((target("avx2,fma"))) void tile(const float* const* a, const float* const* b,
                                               std::int64_t n_pad, float* out, std::int64_t ldo) {
  __m256 acc[MA][MB];
  for (int x = 0; x < MA; ++x)
    for (int y = 0; y < MB; ++y) acc[x][y] = _mm256_setzero_ps();
  for (std::int64_t i = 0; i < n_pad; i += 8) {
    __m256 vb[MB];
    for (int y = 0; y < MB; ++y) vb[y] = _mm256_load_ps(b[y] + i);
    for (int x = 0; x < MA; ++x) {
      const __m256 va = _mm256_load_ps(a[x] + i);
      for (int y = 0; y < MB; ++y) acc[x][y] = _mm256_fmadd_ps(va, vb[y], acc[x][y]);
    }
  }
  for (int x = 0; x < MA; ++x)
    for (int y = 0; y < MB; ++y) out[x * ldo + y] = horizontal_sum(acc[x][y]);
}

template <int MA>
__attribute__((target("avx2,fma"))) void row_strip(const float* const* a, const float* const* b,
                                                    std::int64_t nb, std::int64_t n_pad,
                                                    float* out, std::int64_t ldo) {
  std::int64_t y = 0;
  for (; y + 3 <= nb; y += 3) tile<MA, 3>(a, b + y, n_pad, out + y, ldo);
  if (nb - y == 2) tile<MA, 2>(a, b + y, n_pad, out + y, ldo);
  if (nb - y == 1) tile<MA, 1>(a, b + y, n_pad, out + y, ldo);
}

void blocked_products(const float* const* a, std::int64_t na, const float* const* b,
                      std::int64_t nb, std::int64_t n_pad, float* out) {
  std::int64_t x = 0;
  for (; x + 4 <= na; x += 4) row_strip<4>(a + x, b, nb, n_pad, out + x * nb, nb);
  switch (na - x) {
    case 3: row_strip<3>(a + x, b, nb, n_pad, out + x * nb, nb); break;
    case 2: row_strip<2>(a + x, b, nb, n_pad, out + x * nb, nb); break;
    case 1: row_strip<1>(a + x, b, nb, n_pad, out + x * nb, nb); break;
    default: break;
  }
}

bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

}  // namespace

Kernel resolve_kernel(Kernel kernel) {
#ifdef GSMAP_LDSCORE_X86
  if (kernel == Kernel::kAuto) return cpu_has_avx2_fma() ? Kernel::kBlocked : Kernel::kEigen;
  if (kernel == Kernel::kBlocked && !cpu_has_avx2_fma()) return Kernel::kEigen;
  return kernel;
#else
  return Kernel::kEigen;
#endif
}

const char* kernel_name(Kernel kernel) {
  switch (resolve_kernel(kernel)) {
    case Kernel::kBlocked: return "blocked AVX2/FMA";
    case Kernel::kEigen: return "Eigen GEMM";
    case Kernel::kAuto: break;
  }
  return "?";
}

void cross_products(const float* const* a, std::int64_t na, const float* const* b,
                    std::int64_t nb, std::int64_t n_pad, float* out, Kernel kernel) {
  if (na == 0 || nb == 0) return;
#ifdef GSMAP_LDSCORE_X86
  if (resolve_kernel(kernel) == Kernel::kBlocked) {
    blocked_products(a, na, b, nb, n_pad, out);
    return;
  }
#endif
  eigen_products(a, na, b, nb, n_pad, out);
}

}  // namespace gsmap::ldscore
