#pragma once
// The reference's f32 summations, reproduced bit for bit. The expected outputs carry these f32
// roundings (N-bar is compared exactly; the baseline sums move near-zero betas by up to 1e-4
// relative when rounded differently), so where the reference sums in f32 we sum the same way.
#include <cstdint>
#include <span>

namespace gsmap::ldsc {

// numpy's pairwise_sum for float32 (numpy/core/src/umath/loops_utils.h): below 8 elements a plain
// loop from 0, up to 128 eight interleaved partial sums, above that two halves split at a multiple
// of 8.
float numpy_pairwise_sum(const float* values, std::int64_t n);

// np.float32(pandas.Series(f32 values).mean()): numpy adds the pairwise sums of 8192-element
// slices to an f32 accumulator starting at 0; the sum is divided in f64 by the count.
float reference_f32_mean(std::span<const float> values);

// scipy's CSR row sum (np.add.reduceat over the row's stored entries): the first entry plus the
// pairwise sum of the others, in f32. Empty rows sum to 0.
float scipy_row_sum(const float* entries, std::int64_t n);

}  // namespace gsmap::ldsc
