// LD windows (docs/ldscore.md §5.2).
#include "gsmap/ldscore/blocks.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap::ldscore {

Coordinates make_coordinates(LdUnit unit, double ld_wind, const Bim& bim,
                             const std::vector<std::int64_t>& rows, std::optional<bool> cm_fallback) {
  Coordinates c;
  c.unit = unit;
  c.size = static_cast<std::int64_t>(rows.size());
  if (unit == LdUnit::kSnp) {
    c.w_snps = static_cast<std::int64_t>(std::trunc(ld_wind));
    return c;
  }
  bool use_bp = unit == LdUnit::kKb;
  c.w = 1000.0 * ld_wind;
  if (unit == LdUnit::kCm) {
    use_bp = cm_fallback ? *cm_fallback : !rows.empty() && std::all_of(rows.begin(), rows.end(), [&](std::int64_t r) {
      return bim.cm[static_cast<std::size_t>(r)] == 0.0;
    });
    c.fallback = use_bp;
    c.w = use_bp ? 1'000'000.0 : ld_wind;
  }
  c.value.reserve(rows.size());
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto r = static_cast<std::size_t>(rows[k]);
    const double v = use_bp ? static_cast<double>(bim.bp[r]) : bim.cm[r];
    if (k > 0 && v < c.value.back()) {
      const auto prev = static_cast<std::size_t>(rows[k - 1]);
      throw InputError(
          bim.path, fmt::format("line {}", r + 1),
          fmt::format("{} position {} of {} is smaller than {} at line {} ({}): the LD window "
                      "needs positions sorted along the .bim",
                      use_bp ? "bp" : "cM", v, bim.id[r], c.value.back(), prev + 1, bim.id[prev]),
          "sort the fileset by position (plink --bfile PREFIX --make-bed --out SORTED), or use "
          "--ld-unit SNP");
    }
    c.value.push_back(v);
  }
  return c;
}

Window batch_block(const Coordinates& c, std::int64_t i1, std::int64_t i2) {
  if (c.unit == LdUnit::kSnp) {
    // D2: w SNPs before the first member, w - 1 after the last (gsMap3D).
    return {std::max<std::int64_t>(0, i1 - c.w_snps), std::min(c.size, i2 + c.w_snps)};
  }
  const auto& v = c.value;
  const auto lo = std::lower_bound(v.begin(), v.end(), v[static_cast<std::size_t>(i1)] - c.w);
  const auto hi = std::upper_bound(v.begin(), v.end(), v[static_cast<std::size_t>(i2)] + c.w);
  return {lo - v.begin(), hi - v.begin()};
}

Window own_window(const Coordinates& c, std::int64_t i) {
  if (c.unit == LdUnit::kSnp) {
    return {std::max<std::int64_t>(0, i - c.w_snps), std::min(c.size, i + c.w_snps + 1)};
  }
  const auto& v = c.value;
  const double x = v[static_cast<std::size_t>(i)];
  const auto inside = [&](std::int64_t j) { return std::abs(v[static_cast<std::size_t>(j)] - x) <= c.w; };
  std::int64_t lo = std::lower_bound(v.begin(), v.end(), x - c.w) - v.begin();
  while (lo > 0 && inside(lo - 1)) --lo;
  while (lo < i && !inside(lo)) ++lo;
  std::int64_t hi = std::upper_bound(v.begin(), v.end(), x + c.w) - v.begin();
  while (hi < c.size && inside(hi)) ++hi;
  while (hi > i + 1 && !inside(hi - 1)) --hi;
  return {lo, hi};
}

}  // namespace gsmap::ldscore
