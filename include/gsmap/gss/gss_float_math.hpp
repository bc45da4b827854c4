#pragma once
// The two f32 transcendental functions of the GSS (docs/algorithms.md §10.3 steps 10 and 12),
// written with IEEE basic operations and fused multiply-add only, so that the CPU and the CUDA
// backend produce the same bits (libm's expf/powf and CUDA's differ in the last place, which the
// f16 store turns into a differing GSS entry about once in 10^4 non-zero entries).
//
// exp: numpy's f32 SIMD exp (numpy/core/src/umath/loops_exponent_log.dispatch.c.src,
// simd_exp_FLOAT; constants from npy_simd_data.h), transcribed lane by lane: Cody-Waite range
// reduction, a P5/Q2 rational approximation, scaling by 2^k. numpy uses this kernel on every
// AVX2+FMA3 / AVX512F x86 machine, and the fixtures' expected GSS was produced that way, so this
// also reproduces the reference bit for bit (max error 2.52 ulp, numpy's own measurement).
//
// pow(R, 1.5): R * sqrt(R) in f64, rounded once to f32 (correctly rounded except when R^1.5 lies
// within ~2^-29 relative of an f32 rounding boundary). numpy's f32 power on AVX512 machines is
// Intel SVML's low-accuracy powf (vrcp14-based, not portable); it differs from this in the last f32
// place for ~20 % of inputs, which changes ~0.003 % of the stored f16 GSS entries.
//
// Requirements: fmaf must be a true fused multiply-add (glibc and CUDA: yes) and f32 division must
// be IEEE (CUDA: the default -prec-div=true; never build these with --use_fast_math).
#include <cmath>
#include <cstdint>

#include "gsmap/math/f16.hpp"

namespace gsmap::gss {

// Bit casts for the lane functions below; __builtin_bit_cast (not memcpy) lets GCC vectorise the
// loops that use them.
GSMAP_HD std::uint32_t lane_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  return __builtin_bit_cast(std::uint32_t, f);
#endif
}
GSMAP_HD float lane_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  return __builtin_bit_cast(float, u);
#endif
}

namespace numpy_exp_constants {
// Bit patterns of the f32 constants, so no decimal-to-float conversion can move them.
inline constexpr std::uint32_t kLog2e = 0x3fb8aa3bu;          // NPY_LOG2Ef
inline constexpr std::uint32_t kRintMagic = 0x4b400000u;      // NPY_RINT_CVT_MAGICf = 0x1.8p23
inline constexpr std::uint32_t kCodyWaiteHigh = 0xbf317200u;  // -ln2 high part
inline constexpr std::uint32_t kCodyWaiteLow = 0xb5bfbe8eu;   // -ln2 low part
// Scalars, not arrays: device code may use constexpr scalars of the host, not arrays.
inline constexpr std::uint32_t kP0 = 0x3f800000u, kP1 = 0x3f39cbd5u, kP2 = 0x3e7d4c58u,
                               kP3 = 0x3d517d8cu, kP4 = 0x3bdd7159u, kP5 = 0x3a053dd8u;
inline constexpr std::uint32_t kQ0 = 0x3f800000u, kQ1 = 0xbe8c6857u, kQ2 = 0x3cb0e832u;
inline constexpr float kXmax = 88.72283935546875f;       // x >= xmax -> +inf
inline constexpr float kXmin = -103.97208404541015625f;  // x <= xmin -> 0
}  // namespace numpy_exp_constants

// condition ? if_true : if_false through an integer mask. A plain ?: on floats is compiled to a
// branch under -ftrapping-math (GCC's default), which stops loops from vectorising.
GSMAP_HD std::uint32_t select_bits(bool condition, std::uint32_t if_true, std::uint32_t if_false) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(condition);
  return (mask & if_true) | (~mask & if_false);
}
GSMAP_HD float select_float(bool condition, float if_true, float if_false) {
  return lane_float(select_bits(condition, lane_bits(if_true), lane_bits(if_false)));
}

// 2^e as an f32 for e in [-126, 127].
GSMAP_HD float exp2_int(int e) { return lane_float(static_cast<std::uint32_t>(e + 127) << 23); }

// exp(x) in f32, bit-identical to numpy's SIMD float32 exp. Written without branches (selects)
// so that loops over arrays vectorise; the CPU batch path relies on it.
GSMAP_HD float numpy_expf(float x) {
  namespace c = numpy_exp_constants;
  const bool is_nan = x != x;
  const bool overflow = x >= c::kXmax;
  const bool underflow = x <= c::kXmin;
  const float xr = select_float(is_nan | overflow | underflow, 0.0f, x);
  const float magic = lane_float(c::kRintMagic);
  float k = xr * lane_float(c::kLog2e);
  k = (k + magic) - magic;  // round to nearest integer (|k| <= 150)
  float r = fmaf(k, lane_float(c::kCodyWaiteHigh), xr);
  r = fmaf(k, lane_float(c::kCodyWaiteLow), r);
  // numpy adds a third term k * 0.0f: it changes at most the sign of a zero r, which the
  // polynomials cannot see.
  float num = fmaf(lane_float(c::kP5), r, lane_float(c::kP4));
  num = fmaf(num, r, lane_float(c::kP3));
  num = fmaf(num, r, lane_float(c::kP2));
  num = fmaf(num, r, lane_float(c::kP1));
  num = fmaf(num, r, lane_float(c::kP0));
  float den = fmaf(lane_float(c::kQ2), r, lane_float(c::kQ1));
  den = fmaf(den, r, lane_float(c::kQ0));
  const float poly = num / den;  // in [0.70, 1.42]
  // scalef(poly, k) = poly * 2^k rounded once: the first factor keeps poly * 2^k1 a normal f32
  // (exact), the second (2^-25 .. 2) rounds once where the result is subnormal or overflows.
  const int ki = static_cast<int>(k);
  const int k1 = ki < -125 ? -125 : (ki > 127 ? 127 : ki);
  const float scaled = (poly * exp2_int(k1)) * exp2_int(ki - k1);
  const float saturated =
      select_float(overflow, lane_float(0x7f800000u), select_float(underflow, 0.0f, scaled));
  return select_float(is_nan, x, saturated);
}

// round_f16 (f32 -> nearest f16 -> f32) without branches, for finite v >= 0 (weighted means and
// fractions). Normal f16 range: round the f32 mantissa to 10 bits, ties to even, in the integer
// domain; below 2^-14 (f16 subnormals, step 2^-24): add and subtract 0.5; above 65504: +inf.
GSMAP_HD float round_f16_nonnegative(float v) {
  const std::uint32_t u = lane_bits(v);
  const std::uint32_t normal = (u + 0x0fffu + ((u >> 13) & 1u)) & 0xffffe000u;
  const std::uint32_t subnormal = lane_bits((v + 0.5f) - 0.5f);
  const std::uint32_t finite = select_bits(u < 0x38800000u, subnormal, normal);
  return lane_float(select_bits(finite > 0x477fe000u, 0x7f800000u, finite));
}

// math::f32_to_f16 without branches (same bits for every input), so stores vectorise.
GSMAP_HD math::f16_bits f32_to_f16_select(float value) {
  const std::uint32_t x = lane_bits(value);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t absx = x & 0x7fffffffu;
  // normal results: drop 13 mantissa bits, ties to even
  const std::uint32_t normal_base = (absx - 0x38000000u) >> 13;
  const std::uint32_t normal_rem = absx & 0x1fffu;
  const std::uint32_t normal_up = static_cast<std::uint32_t>(normal_rem > 0x1000u) |
                                  (static_cast<std::uint32_t>(normal_rem == 0x1000u) & normal_base);
  const std::uint32_t normal = normal_base + (normal_up & 1u);
  // subnormal results (f32 exponent <= 112): drop 126 - exponent bits, clamped to 14..31 (more
  // than 25 gives 0 either way; the clamp keeps every shift defined for lanes not selected)
  const std::uint32_t exponent = absx >> 23;
  const std::uint32_t shift = exponent > 112u ? 14u : (exponent < 95u ? 31u : 126u - exponent);
  const std::uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
  const std::uint32_t sub_base = mant >> shift;
  const std::uint32_t sub_rem = mant & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1u);
  const std::uint32_t sub_up = static_cast<std::uint32_t>(sub_rem > half) |
                               (static_cast<std::uint32_t>(sub_rem == half) & sub_base);
  const std::uint32_t subnormal = sub_base + (sub_up & 1u);
  const std::uint32_t special = 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u);  // inf, NaN
  std::uint32_t result = absx < 0x38800000u ? subnormal : normal;
  result = absx >= 0x477ff000u ? special : result;
  return static_cast<math::f16_bits>(sign | result);
}

// R^1.5 for R >= 0, deterministic on every IEEE platform.
GSMAP_HD float pow_three_halves(float ratio) {
  // fabs: the argument is already >= 0, but saying so lets compilers drop sqrt's errno path and
  // vectorise.
  const double r = fabs(static_cast<double>(ratio));
  return static_cast<float>(r * sqrt(r));
}

}  // namespace gsmap::gss
