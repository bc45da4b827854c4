#pragma once
// LD windows (docs/ldscore.md §5.2, D1, D2, D6): the coordinate of each SNP of a list (cM, bp or
// its position), the block of a batch of regression SNPs, and a SNP's own window.
#include <cstdint>
#include <optional>
#include <vector>

#include "gsmap/ldscore/options.hpp"
#include "gsmap/ldscore/plink.hpp"

namespace gsmap::ldscore {

struct Window {
  std::int64_t lo = 0, hi = 0;  // positions [lo, hi) in the SNP list
};

struct Coordinates {
  LdUnit unit = LdUnit::kCm;
  std::vector<double> value;  // CM / KB units: cM or bp of each listed SNP
  double w = 0;               // half-width in the coordinate's unit
  std::int64_t w_snps = 0;    // SNP unit: half-width in SNPs
  std::int64_t size = 0;
  bool fallback = false;      // CM unit, every cM 0: bp with w = 1,000,000
};

// The coordinates of the .bim rows `rows` (in .bim order). InputError (D6) when the coordinate
// decreases along the list, naming the .bim line. `cm_fallback`, when given, decides the CM unit's
// fallback to bp instead of the rows (a slice of a chromosome takes the whole chromosome's
// decision, docs/ldscore.md §8).
Coordinates make_coordinates(LdUnit unit, double ld_wind, const Bim& bim,
                             const std::vector<std::int64_t>& rows,
                             std::optional<bool> cm_fallback = std::nullopt);

// The block of a batch whose first and last members are at positions i1 <= i2 (batch mode).
Window batch_block(const Coordinates& c, std::int64_t i1, std::int64_t i2);
// The window of the SNP at position i alone: |coord_j - coord_i| <= w, or |j - i| <= w SNPs.
Window own_window(const Coordinates& c, std::int64_t i);

}  // namespace gsmap::ldscore
