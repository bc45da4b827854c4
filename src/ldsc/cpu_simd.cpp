#include "gsmap/ldsc/cpu_simd.hpp"

namespace gsmap::ldsc {

bool use_avx2(CpuSimd simd) {
#if GSMAP_LDSC_HAVE_AVX2_CLONES
  static const bool cpu_has_avx2 = __builtin_cpu_supports("avx2");
  return simd == CpuSimd::kAuto && cpu_has_avx2;
#else
  (void)simd;
  return false;
#endif
}

}  // namespace gsmap::ldsc
