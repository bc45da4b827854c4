// CPU batch GSS (docs/algorithms.md §4, §10.3 steps 8-12). The arithmetic is that of the GSMAP_HD
// functions in marker_score_math.hpp, reorganised so the gene loop is innermost: per group, each
// slot's row is streamed once into f32 accumulators and u16 expressing counts, then branch-free
// passes over the genes apply the f16 roundings, exp, R^1.5 and the f16 store. Every loop
// vectorises; the results are bit-identical to cell_gene_gss() (same f32 operations, same slot
// order; tested here, and against the CUDA build of the same functions).
#include "gsmap/gss/marker_score.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::gss {
namespace {

// On x86-64 the gene loops are compiled twice, for the baseline and for x86-64-v3 (AVX2 + FMA +
// F16C), and the loader picks one per CPU. Both run the same IEEE operations (fmaf is fused either
// way), so the choice never changes a bit; v3 only makes fmaf a single instruction and the
// lanes 8 wide.
// GSMAP_NO_CPU_DISPATCH builds only the portable loops (to test them on any machine).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(GSMAP_NO_CPU_DISPATCH)
#define GSMAP_X86_DISPATCH 1
#define GSMAP_GENE_LOOP __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GSMAP_X86_DISPATCH 0
#define GSMAP_GENE_LOOP
#endif

// Exact f16 -> f32 without branches so the accumulation loop vectorises: shift the magnitude into
// the f32 exponent/mantissa position and rescale by 2^112 (exact for zeros, subnormals and
// normals); inf/NaN get the all-ones exponent.
inline float widen_f16(f16_bits h) {
  const std::uint32_t magnitude = static_cast<std::uint32_t>(h & 0x7fffu) << 13;
  const float scaled = std::bit_cast<float>(magnitude) * 0x1p112f;
  const std::uint32_t special = 0u - static_cast<std::uint32_t>((h & 0x7c00u) == 0x7c00u);
  const std::uint32_t bits =
      (std::bit_cast<std::uint32_t>(scaled) & ~special) | ((0x7f800000u | magnitude) & special);
  return std::bit_cast<float>(bits | (static_cast<std::uint32_t>(h & 0x8000u) << 16));
}

// Step 9, one neighbour row: accumulated[g] += w_hat * L[g] (f32 product, then f32 sum; never
// fused). On x86-64-v3 CPUs the f16 widening is one F16C instruction (exact, like widen_f16).
void accumulate_row_portable(float* __restrict accumulated, const f16_bits* __restrict row,
                             float weight, std::size_t n_genes) {
  for (std::size_t g = 0; g < n_genes; ++g) accumulated[g] += weight * widen_f16(row[g]);
}

#if GSMAP_X86_DISPATCH
__attribute__((target("arch=x86-64-v3"))) void accumulate_row_v3(float* __restrict accumulated,
                                                                 const f16_bits* __restrict row,
                                                                 float weight,
                                                                 std::size_t n_genes) {
  const __m256 w = _mm256_set1_ps(weight);
  std::size_t g = 0;
  for (; g + 8 <= n_genes; g += 8) {
    const __m256 log_rank =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + g)));
    const __m256 sum = _mm256_add_ps(_mm256_loadu_ps(accumulated + g), _mm256_mul_ps(w, log_rank));
    _mm256_storeu_ps(accumulated + g, sum);
  }
  for (; g < n_genes; ++g) accumulated[g] += weight * widen_f16(row[g]);
}
#endif

// Steps 9 and 11 for all slots of one group in one pass over the genes: tiles of 32 genes held in
// registers while every slot's row is added in slot order, so each gene sees exactly the
// operations of accumulate_row and count_expressing slot after slot (same bits), and the
// accumulators are not reloaded per slot. rows[k]: slot k's row; weight[k] == 0 skips the sum;
// counts[k] says whether the slot counts towards the expression fraction, against minimum[k].
#if GSMAP_X86_DISPATCH
__attribute__((target("arch=x86-64-v3"))) void accumulate_slots_v3(
    float* __restrict accumulated, std::uint16_t* __restrict expressing,
    const f16_bits* const* rows, const float* weight, const std::uint8_t* counts,
    const f16_bits* minimum, int n_slots, std::size_t n_genes) {
  std::size_t g = 0;
  for (; g + 32 <= n_genes; g += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m256i equal0 = _mm256_setzero_si256(), equal1 = equal0;  // u16 lanes: rows at their minimum
    int counted = 0;
    for (int k = 0; k < n_slots; ++k) {
      const f16_bits* row = rows[k] + g;
      const __m256i h0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row));
      const __m256i h1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 16));
      if (weight[k] != 0.0f) {
        const __m256 w = _mm256_set1_ps(weight[k]);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(w, _mm256_cvtph_ps(_mm256_castsi256_si128(h0))));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(w, _mm256_cvtph_ps(_mm256_extracti128_si256(h0, 1))));
        a2 = _mm256_add_ps(a2, _mm256_mul_ps(w, _mm256_cvtph_ps(_mm256_castsi256_si128(h1))));
        a3 = _mm256_add_ps(a3, _mm256_mul_ps(w, _mm256_cvtph_ps(_mm256_extracti128_si256(h1, 1))));
      }
      if (counts[k]) {
        const __m256i m = _mm256_set1_epi16(static_cast<short>(minimum[k]));
        equal0 = _mm256_sub_epi16(equal0, _mm256_cmpeq_epi16(h0, m));  // +1 where equal
        equal1 = _mm256_sub_epi16(equal1, _mm256_cmpeq_epi16(h1, m));
        ++counted;
      }
    }
    _mm256_storeu_ps(accumulated + g, a0);
    _mm256_storeu_ps(accumulated + g + 8, a1);
    _mm256_storeu_ps(accumulated + g + 16, a2);
    _mm256_storeu_ps(accumulated + g + 24, a3);
    const __m256i total = _mm256_set1_epi16(static_cast<short>(counted));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(expressing + g), _mm256_sub_epi16(total, equal0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(expressing + g + 16),
                        _mm256_sub_epi16(total, equal1));
  }
  for (; g < n_genes; ++g) {
    float sum = 0.0f;
    std::uint16_t count = 0;
    for (int k = 0; k < n_slots; ++k) {
      if (weight[k] != 0.0f) sum += weight[k] * widen_f16(rows[k][g]);
      if (counts[k]) count = static_cast<std::uint16_t>(count + (rows[k][g] != minimum[k] ? 1 : 0));
    }
    accumulated[g] = sum;
    expressing[g] = count;
  }
}

// accumulate_slots_v3 on AVX-512 CPUs: 64 genes per pass (16 f32 lanes per accumulator), and the
// last genes in masked 16-gene steps. Each gene sees the same f32 multiply and add, slot after
// slot, and the same expressing count (same bits; tested against the AVX2 copy).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,f16c,fma"))) void accumulate_slots_v4(
    float* __restrict accumulated, std::uint16_t* __restrict expressing,
    const f16_bits* const* rows, const float* weight, const std::uint8_t* counts,
    const f16_bits* minimum, int n_slots, std::size_t n_genes) {
  // The maskz forms with every lane selected: GCC 12's unmasked _mm512_cvtph_ps trips
  // -Wmaybe-uninitialized on its undefined pass-through operand.
  constexpr __mmask16 all = 0xffff;
  const __m256i one = _mm256_set1_epi16(1);
  std::size_t g = 0;
  for (; g + 64 <= n_genes; g += 64) {
    __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    __m256i equal[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                        _mm256_setzero_si256()};  // u16 lanes: rows at their minimum
    int counted = 0;
    for (int k = 0; k < n_slots; ++k) {
      const f16_bits* row = rows[k] + g;
      __m256i h[4];
      for (int q = 0; q < 4; ++q) h[q] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 16 * q));
      if (weight[k] != 0.0f) {
        const __m512 w = _mm512_set1_ps(weight[k]);
        for (int q = 0; q < 4; ++q) a[q] = _mm512_add_ps(a[q], _mm512_mul_ps(w, _mm512_maskz_cvtph_ps(all, h[q])));
      }
      if (counts[k]) {
        const __m256i m = _mm256_set1_epi16(static_cast<short>(minimum[k]));
        for (int q = 0; q < 4; ++q) {
          equal[q] = _mm256_mask_add_epi16(equal[q], _mm256_cmpeq_epi16_mask(h[q], m), equal[q], one);
        }
        ++counted;
      }
    }
    const __m256i total = _mm256_set1_epi16(static_cast<short>(counted));
    for (int q = 0; q < 4; ++q) {
      _mm512_storeu_ps(accumulated + g + 16 * q, a[q]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(expressing + g + 16 * q),
                          _mm256_sub_epi16(total, equal[q]));
    }
  }
  for (; g < n_genes; g += 16) {
    const std::size_t left = n_genes - g;
    const __mmask16 lanes = left >= 16 ? all : static_cast<__mmask16>((1u << left) - 1u);
    __m512 a = _mm512_setzero_ps();
    __m256i equal = _mm256_setzero_si256();
    int counted = 0;
    for (int k = 0; k < n_slots; ++k) {
      const __m256i h = _mm256_maskz_loadu_epi16(lanes, rows[k] + g);
      if (weight[k] != 0.0f) {
        a = _mm512_add_ps(a, _mm512_mul_ps(_mm512_set1_ps(weight[k]), _mm512_maskz_cvtph_ps(all, h)));
      }
      if (counts[k]) {
        const __m256i m = _mm256_set1_epi16(static_cast<short>(minimum[k]));
        equal = _mm256_mask_add_epi16(equal, _mm256_cmpeq_epi16_mask(h, m), equal, one);
        ++counted;
      }
    }
    _mm512_mask_storeu_ps(accumulated + g, lanes, a);
    _mm256_mask_storeu_epi16(expressing + g, lanes,
                             _mm256_sub_epi16(_mm256_set1_epi16(static_cast<short>(counted)), equal));
  }
}

bool cpu_has_v4() {
  static const bool v4 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                         __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                         __builtin_cpu_supports("f16c");
  return v4;
}

bool cpu_has_v3() {
  static const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                         __builtin_cpu_supports("f16c");
  return v3;
}
#endif

void accumulate_row(float* accumulated, const f16_bits* row, float weight, std::size_t n_genes) {
#if GSMAP_X86_DISPATCH
  static const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                         __builtin_cpu_supports("f16c");
  if (v3) return accumulate_row_v3(accumulated, row, weight, n_genes);
#endif
  accumulate_row_portable(accumulated, row, weight, n_genes);
}

// Step 11, one neighbour row: count the genes it expresses (log rank != its row minimum).
GSMAP_GENE_LOOP
void count_expressing(std::uint16_t* __restrict expressing, const f16_bits* __restrict row,
                      f16_bits row_minimum, std::size_t n_genes) {
  for (std::size_t g = 0; g < n_genes; ++g) {
    expressing[g] = static_cast<std::uint16_t>(expressing[g] + (row[g] != row_minimum ? 1 : 0));
  }
}

// Steps 9 (f16 rounding) to 11 for every gene of one group: the kept rank ratio R, 0 where
// rank_ratio / the fraction filter zero it (the arithmetic of rank_ratio, expression_fraction and
// passes_fraction_filter, with selects instead of branches).
GSMAP_GENE_LOOP
void kept_ratios(const float* __restrict accumulated, const std::uint16_t* __restrict expressing,
                 const float* __restrict g_mean, const float* __restrict frac, int n_valid,
                 bool use_fraction, float* __restrict ratios, std::size_t n_genes) {
  const float valid = static_cast<float>(n_valid > 0 ? n_valid : 1);
  const bool no_valid = n_valid <= 0;
  for (std::size_t g = 0; g < n_genes; ++g) {
    const float ratio = numpy_expf(round_f16_nonnegative(accumulated[g]) - g_mean[g]);
    const float fraction = select_float(
        no_valid, 0.0f, round_f16_nonnegative(static_cast<float>(expressing[g]) / valid));
    const bool kept = (ratio >= 1.0f) & (!use_fraction | (fraction > frac[g]));
    ratios[g] = select_float(kept, ratio, 0.0f);
  }
}

// R^1.5 as pow_three_halves does (f64 r * sqrt(r), rounded once to f32). On x86-64 with SSE2
// intrinsics, two lanes at a time: compilers vectorise std::sqrt only without errno handling
// (-fno-math-errno), which this library does not assume. sqrtpd is the same IEEE square root.
void three_halves_powers(const float* ratios, float* powers, std::size_t n_genes) {
  std::size_t g = 0;
#if defined(__SSE2__)
  const __m128d sign = _mm_set1_pd(-0.0);
  for (; g + 2 <= n_genes; g += 2) {
    const __m128 two =
        _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ratios + g)));
    const __m128d r = _mm_andnot_pd(sign, _mm_cvtps_pd(two));  // fabs, as pow_three_halves
    const __m128d p = _mm_mul_pd(r, _mm_sqrt_pd(r));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(powers + g), _mm_castps_si128(_mm_cvtpd_ps(p)));
  }
#endif
  for (; g < n_genes; ++g) powers[g] = pow_three_halves(ratios[g]);
}

// Step 12: GSS = exp(R^1.5) - 1, exactly 0 where R = 0.
GSMAP_GENE_LOOP
void gss_from_powers(const float* __restrict ratios, const float* __restrict powers,
                     float* __restrict scores, std::size_t n_genes) {
  for (std::size_t g = 0; g < n_genes; ++g) {
    scores[g] = select_float(ratios[g] != 0.0f, numpy_expf(powers[g]) - 1.0f, 0.0f);
  }
}

GSMAP_GENE_LOOP
void store_f16(const float* __restrict scores, f16_bits* __restrict out, std::size_t n_genes) {
  for (std::size_t g = 0; g < n_genes; ++g) out[g] = f32_to_f16_select(scores[g]);
}

GSMAP_GENE_LOOP
void add_scores(float* __restrict sum, const float* __restrict scores, std::size_t n_genes) {
  for (std::size_t g = 0; g < n_genes; ++g) sum[g] += scores[g];
}

GSMAP_GENE_LOOP
void store_mean_f16(const float* __restrict sum, float divisor, f16_bits* __restrict out,
                    std::size_t n_genes) {
  for (std::size_t g = 0; g < n_genes; ++g) out[g] = f32_to_f16_select(sum[g] / divisor);
}

#if GSMAP_X86_DISPATCH
// Lane permutation that packs the set lanes of an 8-bit mask to the front, low lane first.
struct PackTable {
  alignas(32) std::int32_t lanes[256][8];
  constexpr PackTable() : lanes{} {
    for (int m = 0; m < 256; ++m) {
      int n = 0;
      for (int b = 0; b < 8; ++b) {
        if (m & (1 << b)) lanes[m][n++] = b;
      }
      for (; n < 8; ++n) lanes[m][n] = 0;
    }
  }
};
constexpr PackTable kPackTable;

// Below this, exp(x) < 1 for numpy_expf (2.52 ulp at most; 1 - 2^-20 is 16 ulp below 1), so
// the rank ratio is 0 whatever the fraction: such genes need no exp.
constexpr float kRatioFloor = -0x1p-20f;

// Steps 10-11 of one group's genes up to the exp: x = round_f16(accumulated) - G_Mean and the
// fraction filter, packing the genes that may be kept (x >= kRatioFloor and the filter passed)
// into x_out / gene_out; returns their count. The f16 roundings use F16C (vcvtps2ph, round to
// nearest even), which equals round_f16_nonnegative for finite non-negative inputs (tested over
// every such f32 in test_marker_score.cpp); a block with a negative or non-finite sum (never seen:
// weights and log ranks are >= 0) takes the scalar helpers.
__attribute__((target("arch=x86-64-v3"))) std::size_t pack_candidates_v3(
    const float* __restrict accumulated, const std::uint16_t* __restrict expressing,
    const float* __restrict g_mean, const float* __restrict frac, int n_valid, bool use_fraction,
    float* __restrict x_out, std::int32_t* __restrict gene_out, std::size_t n_genes) {
  const float valid_f = static_cast<float>(n_valid > 0 ? n_valid : 1);
  const bool no_valid = n_valid <= 0;
  constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m256 valid = _mm256_set1_ps(valid_f);
  const __m256 floor = _mm256_set1_ps(kRatioFloor);
  const __m256i largest_finite = _mm256_set1_epi32(0x7f7fffff);
  const __m256i lane_index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const auto scalar_x = [&](std::size_t g) { return round_f16_nonnegative(accumulated[g]) - g_mean[g]; };
  const auto scalar_pass = [&](std::size_t g, float x) {
    const float fraction = select_float(
        no_valid, 0.0f, round_f16_nonnegative(static_cast<float>(expressing[g]) / valid_f));
    return (x >= kRatioFloor) & (!use_fraction | (fraction > frac[g]));
  };
  std::size_t n = 0, g = 0;
  for (; g + 8 <= n_genes; g += 8) {
    const __m256 a = _mm256_loadu_ps(accumulated + g);
    __m256 x;
    int mask;
    const __m256i bits = _mm256_castps_si256(a);
    if (_mm256_movemask_ps(a) != 0 ||
        _mm256_movemask_epi8(_mm256_cmpgt_epi32(bits, largest_finite)) != 0) {
      alignas(32) float xs[8];
      mask = 0;
      for (int l = 0; l < 8; ++l) {
        xs[l] = scalar_x(g + static_cast<std::size_t>(l));
        mask |= scalar_pass(g + static_cast<std::size_t>(l), xs[l]) ? 1 << l : 0;
      }
      x = _mm256_load_ps(xs);
    } else {
      const __m256 rounded = _mm256_cvtph_ps(_mm256_cvtps_ph(a, kRound));
      x = _mm256_sub_ps(rounded, _mm256_loadu_ps(g_mean + g));
      __m256 pass = _mm256_cmp_ps(x, floor, _CMP_GE_OQ);
      if (use_fraction) {
        __m256 fraction = _mm256_setzero_ps();
        if (!no_valid) {
          const __m256 count = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(expressing + g))));
          fraction = _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_div_ps(count, valid), kRound));
        }
        pass = _mm256_and_ps(pass, _mm256_cmp_ps(fraction, _mm256_loadu_ps(frac + g), _CMP_GT_OQ));
      }
      mask = _mm256_movemask_ps(pass);
    }
    const __m256i perm =
        _mm256_load_si256(reinterpret_cast<const __m256i*>(kPackTable.lanes[mask]));
    _mm256_storeu_ps(x_out + n, _mm256_permutevar8x32_ps(x, perm));
    const __m256i genes = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(g)), lane_index);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(gene_out + n),
                        _mm256_permutevar8x32_epi32(genes, perm));
    n += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(mask)));
  }
  for (; g < n_genes; ++g) {
    const float x = scalar_x(g);
    if (scalar_pass(g, x)) {
      x_out[n] = x;
      gene_out[n] = static_cast<std::int32_t>(g);
      ++n;
    }
  }
  return n;
}

// Step 10 on packed genes: R = exp(x), 0 below 1 (the fraction filter has been applied).
GSMAP_GENE_LOOP
void packed_ratios(float* __restrict values, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) {
    const float ratio = numpy_expf(values[j]);
    values[j] = select_float(ratio >= 1.0f, ratio, 0.0f);
  }
}
#endif

}  // namespace

MarkerScoreCalculator::MarkerScoreCalculator(const MarkerScoreOptions& options,
                                             std::span<const float> g_mean,
                                             std::span<const float> frac)
    : options_(options), g_mean_(g_mean.begin(), g_mean.end()), frac_(frac.begin(), frac.end()) {
  if (options_.neighbors_per_block < 1 || options_.n_blocks < 1) {
    throw ComputeError(
        fmt::format("marker score: need at least one neighbour and one block (got K = {}, S = {})",
                    options_.neighbors_per_block, options_.n_blocks));
  }
  if (g_mean_.size() != frac_.size()) {
    throw ComputeError(fmt::format("marker score: G_Mean has {} genes but frac has {}",
                                   g_mean_.size(), frac_.size()));
  }
  // Expressing counts are u16: at most K * S <= 200 * 11 slots in any valid configuration.
  if (options_.slots_per_cell() > std::numeric_limits<std::uint16_t>::max()) {
    throw ComputeError(fmt::format("marker score: {} neighbour slots per cell exceed the limit {}",
                                   options_.slots_per_cell(),
                                   std::numeric_limits<std::uint16_t>::max()));
  }
  const std::size_t n_genes = g_mean_.size();
  accumulated_.resize(n_genes);
  expressing_.resize(n_genes);
  group_gss_.resize(n_genes);
  ratios_.resize(n_genes);
  powers_.resize(n_genes);
  group_sum_.resize(n_genes);
  w_hat_.resize(static_cast<std::size_t>(options_.slots_per_cell()));
  in_fraction_.resize(static_cast<std::size_t>(options_.slots_per_cell()));
  groups_.resize(static_cast<std::size_t>(options_.n_groups()));
  compact_genes_.resize(n_genes);
  compact_f16_.resize(n_genes);
  limit_simd(Simd::kAuto);
}

void MarkerScoreCalculator::limit_simd(Simd simd) {
#if GSMAP_X86_DISPATCH
  use_v4_ = simd == Simd::kAuto && cpu_has_v4();
#else
  (void)simd;
#endif
}

void MarkerScoreCalculator::check_batch(const NeighbourRankBatch& batch, std::size_t gss_size,
                                        std::size_t flags_size) const {
  const std::size_t slots = static_cast<std::size_t>(options_.slots_per_cell());
  auto fail = [](const std::string& what) { throw ComputeError("marker score batch: " + what); };
  if (batch.n_genes != g_mean_.size()) {
    fail(fmt::format("{} genes in the log ranks but {} in G_Mean/frac", batch.n_genes,
                     g_mean_.size()));
  }
  if (batch.log_ranks.size() != batch.n_rows * batch.n_genes) {
    fail(fmt::format("log-rank block holds {} values, expected {} rows x {} genes",
                     batch.log_ranks.size(), batch.n_rows, batch.n_genes));
  }
  if (batch.slot_rows.size() != batch.n_cells * slots ||
      batch.weights.size() != batch.n_cells * slots) {
    fail(fmt::format("{} slot rows and {} weights for {} cells x {} slots", batch.slot_rows.size(),
                     batch.weights.size(), batch.n_cells, slots));
  }
  if (!batch.row_minimum.empty() && batch.row_minimum.size() != batch.n_rows) {
    fail(fmt::format("{} row minima for {} rows", batch.row_minimum.size(), batch.n_rows));
  }
  if (gss_size != batch.n_cells * batch.n_genes) {
    fail(fmt::format("output holds {} values, expected {} cells x {} genes", gss_size,
                     batch.n_cells, batch.n_genes));
  }
  if (flags_size != 0 && flags_size != batch.n_cells) {
    fail(fmt::format("{} zero-weight flags for {} cells", flags_size, batch.n_cells));
  }
  for (std::size_t i = 0; i < batch.slot_rows.size(); ++i) {
    const std::int32_t row = batch.slot_rows[i];
    if (row < -1 || (row >= 0 && static_cast<std::size_t>(row) >= batch.n_rows)) {
      fail(fmt::format("cell {} slot {} refers to row {} of a block of {} rows", i / slots,
                       i % slots, row, batch.n_rows));
    }
  }
}

void MarkerScoreCalculator::accumulate_group(const PreparedGroup& group,
                                             const NeighbourRankBatch& batch,
                                             const f16_bits* row_minimum) {
  const std::size_t n_genes = batch.n_genes;
  const bool use_fraction = !options_.no_expression_fraction;
#if GSMAP_X86_DISPATCH
  if (cpu_has_v3()) {
    slot_row_ptrs_.clear();
    slot_weights_.clear();
    slot_counts_.clear();
    slot_minima_.clear();
    for (int k = 0; k < group.n_slots; ++k) {
      const std::int32_t row = group.slot_rows[k];
      if (row < 0) continue;  // padded neighbour: never read
      const bool counts = use_fraction && group.in_fraction[k];
      if (group.w_hat[k] == 0.0f && !counts) continue;
      slot_row_ptrs_.push_back(batch.log_ranks.data() + static_cast<std::size_t>(row) * n_genes);
      slot_weights_.push_back(group.w_hat[k]);
      slot_counts_.push_back(counts ? 1 : 0);
      slot_minima_.push_back(row_minimum[row]);
    }
    (use_v4_ ? accumulate_slots_v4 : accumulate_slots_v3)(
        accumulated_.data(), expressing_.data(), slot_row_ptrs_.data(), slot_weights_.data(),
        slot_counts_.data(), slot_minima_.data(), static_cast<int>(slot_row_ptrs_.size()), n_genes);
    return;
  }
#endif
  std::fill(accumulated_.begin(), accumulated_.end(), 0.0f);
  std::fill(expressing_.begin(), expressing_.end(), std::uint16_t{0});
  for (int k = 0; k < group.n_slots; ++k) {
    const std::int32_t row = group.slot_rows[k];
    if (row < 0) continue;  // padded neighbour: never read
    const f16_bits* log_ranks = batch.log_ranks.data() + static_cast<std::size_t>(row) * n_genes;
    if (group.w_hat[k] != 0.0f)
      accumulate_row(accumulated_.data(), log_ranks, group.w_hat[k], n_genes);
    if (use_fraction && group.in_fraction[k]) {
      count_expressing(expressing_.data(), log_ranks, row_minimum[row], n_genes);
    }
  }
}

void MarkerScoreCalculator::score_store_compact(int n_valid, f16_bits* out) {
#if GSMAP_X86_DISPATCH
  const std::size_t n_genes = g_mean_.size();
  // Genes left out have R = 0, hence GSS +0 (f16 bits 0), as score_group gives them.
  const std::size_t n = pack_candidates_v3(accumulated_.data(), expressing_.data(), g_mean_.data(),
                                           frac_.data(), n_valid, !options_.no_expression_fraction,
                                           ratios_.data(), compact_genes_.data(), n_genes);
  packed_ratios(ratios_.data(), n);
  three_halves_powers(ratios_.data(), powers_.data(), n);
  gss_from_powers(ratios_.data(), powers_.data(), group_gss_.data(), n);
  store_f16(group_gss_.data(), compact_f16_.data(), n);
  std::fill(out, out + n_genes, f16_bits{0});
  for (std::size_t j = 0; j < n; ++j) out[compact_genes_[j]] = compact_f16_[j];
#else
  score_group(n_valid, group_gss_.data());
  store_f16(group_gss_.data(), out, g_mean_.size());
#endif
}

void MarkerScoreCalculator::score_group(int n_valid, float* group_gss) {
  const std::size_t n_genes = g_mean_.size();
  kept_ratios(accumulated_.data(), expressing_.data(), g_mean_.data(), frac_.data(), n_valid,
              !options_.no_expression_fraction, ratios_.data(), n_genes);
  three_halves_powers(ratios_.data(), powers_.data(), n_genes);
  gss_from_powers(ratios_.data(), powers_.data(), group_gss, n_genes);
}

MarkerScoreBatchStats MarkerScoreCalculator::compute(const NeighbourRankBatch& batch,
                                                     std::span<f16_bits> gss,
                                                     std::span<std::uint8_t> zero_weight_flags) {
  check_batch(batch, gss.size(), zero_weight_flags.size());
  const std::size_t n_genes = batch.n_genes;
  const int slots = options_.slots_per_cell();
  const int n_groups = options_.n_groups();
  const int group_slots = options_.slots_per_group();

  const f16_bits* row_minimum = batch.row_minimum.data();
  if (batch.row_minimum.empty()) {
    row_minimum_.resize(batch.n_rows);
    for (std::size_t r = 0; r < batch.n_rows; ++r) {
      row_minimum_[r] = row_minimum_f16(batch.log_ranks.data() + r * n_genes, n_genes);
    }
    row_minimum = row_minimum_.data();
  }

  MarkerScoreBatchStats stats;
  stats.cells = batch.n_cells;
  for (std::size_t c = 0; c < batch.n_cells; ++c) {
    const std::size_t first_slot = c * static_cast<std::size_t>(slots);
    f16_bits* out = gss.data() + c * n_genes;
    int n_valid_groups = 0;
    for (int b = 0; b < n_groups; ++b) {
      const std::size_t offset = first_slot + static_cast<std::size_t>(b * group_slots);
      groups_[b] = prepare_group(batch.weights.data() + offset, batch.slot_rows.data() + offset,
                                 group_slots, options_.pooling, w_hat_.data() + b * group_slots,
                                 in_fraction_.data() + b * group_slots);
      n_valid_groups += groups_[b].valid ? 1 : 0;
    }
    const bool zero_weights = n_valid_groups == 0;
    if (!zero_weight_flags.empty()) zero_weight_flags[c] = zero_weights ? 1 : 0;
    if (zero_weights) {
      ++stats.zero_weight_cells;
      std::fill(out, out + n_genes, f16_bits{0});
      continue;
    }

    if (n_groups == 1) {
      accumulate_group(groups_[0], batch, row_minimum);
#if GSMAP_X86_DISPATCH
      if (cpu_has_v3()) {
        score_store_compact(groups_[0].n_valid, out);
        continue;
      }
#endif
      score_group(groups_[0].n_valid, group_gss_.data());
      store_f16(group_gss_.data(), out, n_genes);
      continue;
    }

    // Hierarchical: f32 sum of the valid blocks' scores in block order, then the mean.
    bool first = true;
    for (int b = 0; b < n_groups; ++b) {
      if (!groups_[b].valid) continue;
      accumulate_group(groups_[b], batch, row_minimum);
      if (first) {
        score_group(groups_[b].n_valid, group_sum_.data());
        first = false;
      } else {
        score_group(groups_[b].n_valid, group_gss_.data());
        add_scores(group_sum_.data(), group_gss_.data(), n_genes);
      }
    }
    store_mean_f16(group_sum_.data(), static_cast<float>(n_valid_groups), out, n_genes);
  }
  return stats;
}

MarkerScoreBatchStats compute_marker_scores(const MarkerScoreOptions& options,
                                            std::span<const float> g_mean,
                                            std::span<const float> frac,
                                            const NeighbourRankBatch& batch,
                                            std::span<f16_bits> gss,
                                            std::span<std::uint8_t> zero_weight_flags) {
  MarkerScoreCalculator calculator(options, g_mean, frac);
  return calculator.compute(batch, gss, zero_weight_flags);
}

}  // namespace gsmap::gss
