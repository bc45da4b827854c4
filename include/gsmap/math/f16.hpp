#pragma once
// IEEE binary16 helpers shared by host and device code. gsMap3D rounds several intermediates to
// f16 (docs/algorithms.md §10.3); we reproduce those roundings bit for bit with these functions.
// Storage type is the raw 16-bit pattern (uint16_t) so host code needs no compiler half type.
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define GSMAP_HD __host__ __device__ __forceinline__
#else
#define GSMAP_HD inline
#endif

namespace gsmap::math {

using f16_bits = std::uint16_t;

GSMAP_HD std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

GSMAP_HD float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// f32 -> f16 bits, round to nearest even; overflow -> inf; NaN stays NaN.
GSMAP_HD f16_bits f32_to_f16(float value) {
  const std::uint32_t x = float_bits(value);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) {  // inf or NaN
    return static_cast<f16_bits>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
  }
  if (absx >= 0x477ff000u) {  // >= 65520 rounds to inf
    return static_cast<f16_bits>(sign | 0x7c00u);
  }
  if (absx < 0x38800000u) {  // result is subnormal or zero (|x| < 2^-14)
    if (absx < 0x33000000u) return static_cast<f16_bits>(sign);  // < 2^-25 rounds to 0
    const std::uint32_t exp = absx >> 23;
    const std::uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126u - exp;  // 14..24 -> places to drop to reach 2^-24 units
    const std::uint32_t half = 1u << (shift - 1);
    std::uint32_t r = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1u);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return static_cast<f16_bits>(sign | r);
  }
  // normal
  std::uint32_t r = ((absx - 0x38000000u) >> 13);  // rebias exponent 127 -> 15
  const std::uint32_t rem = absx & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
  return static_cast<f16_bits>(sign | r);
}

// f16 bits -> f32, exact.
GSMAP_HD float f16_to_f32(f16_bits h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    if (mant == 0) return bits_float(sign);
    // subnormal: mant * 2^-24
    float f = static_cast<float>(mant) * 5.9604644775390625e-08f;
    return sign ? -f : f;
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));
  return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

// Round an f32 value to the nearest f16 and widen it back (the reference's ".astype(float16)").
GSMAP_HD float round_f16(float value) { return f16_to_f32(f32_to_f16(value)); }

}  // namespace gsmap::math
