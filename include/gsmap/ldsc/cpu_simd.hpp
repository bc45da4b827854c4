#pragma once
// Instruction-set choice of the CPU loops (spot LD, regression moments). The build targets the
// baseline x86-64 ISA; the hot loops are compiled again for AVX2 (with FMA) and AVX-512 and picked
// at run time. Results are bitwise identical either way: the loops use only IEEE-exact vector
// operations (add, mul, div, sqrt, compare), FMA contraction is off, and where the one-pass
// regression fuses a multiply-add on purpose (docs/algorithms.md §7.5) the baseline copy computes
// the same single rounding with std::fma, so the choice only changes speed.

namespace gsmap::ldsc {

enum class CpuSimd {
  kAuto,      // AVX-512 (one-pass LDSC) or AVX2 where the CPU has it
  kBaseline,  // the build's baseline instruction set (tests compare the choices)
  kAvx2,      // at most AVX2 (tests: the AVX2 copy on a CPU that also has AVX-512)
};

// True when the AVX2 (+ FMA) copy of the loops is built and `simd` allows it on this CPU.
bool use_avx2(CpuSimd simd);
// True when the AVX-512 copy (one-pass LDSC tiles) is built and `simd` allows it on this CPU.
bool use_avx512(CpuSimd simd);

}  // namespace gsmap::ldsc

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define GSMAP_LDSC_HAVE_AVX2_CLONES 1
#define GSMAP_LDSC_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define GSMAP_LDSC_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,prefer-vector-width=512")))
#else
#define GSMAP_LDSC_HAVE_AVX2_CLONES 0
#define GSMAP_LDSC_TARGET_AVX2
#define GSMAP_LDSC_TARGET_AVX512
#endif
