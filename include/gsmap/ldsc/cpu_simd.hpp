#pragma once
// Instruction-set choice of the CPU loops (spot LD, regression moments). The build targets the
// baseline x86-64 ISA; the hot loops are compiled a second time for AVX2 and picked at run time.
// Results are bitwise identical either way: the loops use only IEEE-exact vector operations
// (add, mul, div, compare) and FMA contraction is off, so the choice only changes speed.

namespace gsmap::ldsc {

enum class CpuSimd {
  kAuto,      // AVX2 where the CPU has it
  kBaseline,  // the build's baseline instruction set (tests compare the two)
};

// True when the AVX2 copy of the loops is built and `simd` allows it on this CPU.
bool use_avx2(CpuSimd simd);

}  // namespace gsmap::ldsc

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define GSMAP_LDSC_HAVE_AVX2_CLONES 1
#define GSMAP_LDSC_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define GSMAP_LDSC_HAVE_AVX2_CLONES 0
#define GSMAP_LDSC_TARGET_AVX2
#endif
