#include "gsmap/ldsc/cpu_simd.hpp"

namespace gsmap::ldsc {

bool use_avx2(CpuSimd simd) {
#if GSMAP_LDSC_HAVE_AVX2_CLONES
  static const bool cpu_has_avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return simd != CpuSimd::kBaseline && cpu_has_avx2;
#else
  (void)simd;
  return false;
#endif
}

bool use_avx512(CpuSimd simd) {
#if GSMAP_LDSC_HAVE_AVX2_CLONES
  static const bool cpu_has_avx512 = __builtin_cpu_supports("avx512f") &&
                                     __builtin_cpu_supports("avx512vl") &&
                                     __builtin_cpu_supports("avx512dq") &&
                                     __builtin_cpu_supports("avx512bw");
  return simd == CpuSimd::kAuto && cpu_has_avx512;
#else
  (void)simd;
  return false;
#endif
}

}  // namespace gsmap::ldsc
