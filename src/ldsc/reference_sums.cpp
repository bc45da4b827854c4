#include "gsmap/ldsc/reference_sums.hpp"

#include <algorithm>

namespace gsmap::ldsc {

float numpy_pairwise_sum(const float* a, std::int64_t n) {
  if (n < 8) {
    float res = 0.0f;
    for (std::int64_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    float r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

float reference_f32_mean(std::span<const float> values) {
  constexpr std::int64_t kSlice = 8192;  // numpy's reduction buffer size
  const std::int64_t n = static_cast<std::int64_t>(values.size());
  float sum = 0.0f;
  for (std::int64_t start = 0; start < n; start += kSlice)
    sum += numpy_pairwise_sum(values.data() + start, std::min(kSlice, n - start));
  return static_cast<float>(static_cast<double>(sum) / static_cast<double>(n));
}

float scipy_row_sum(const float* entries, std::int64_t n) {
  if (n == 0) return 0.0f;
  return entries[0] + numpy_pairwise_sum(entries + 1, n - 1);
}

}  // namespace gsmap::ldsc
