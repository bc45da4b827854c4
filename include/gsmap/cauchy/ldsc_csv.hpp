#pragma once
// Reading gsMap's per-trait spatial-LDSC table <project>_<trait>.csv.gz (docs/algorithms.md §7.6:
// columns spot, beta, se, z, p, neg_log10_p; plain or gzip, chosen by content) into the Cauchy
// input struct.
#include <cstdint>
#include <string>

#include "gsmap/cauchy/cauchy.hpp"

namespace gsmap::cauchy {

struct LdscCsvReadStats {
  std::int64_t rows = 0;          // data rows in the file
  std::int64_t dropped_rows = 0;  // rows with a missing value in any column (gsMap3D's dropna)
};

// Columns are found by header name: `spot` and `p` are required, `neg_log10_p` is read when present
// (otherwise TraitPValues::neg_log10_p stays empty); every other column only takes part in the
// missing-value check. Missing values are pandas' default NA strings ("", "NaN", "nan", "NA",
// "null", "None", "N/A", "<NA>", ...). Fields may be quoted as pandas writes them.
// InputError (file, line, column) for: no header, a missing required column, a row with the wrong
// number of fields, or a p / neg_log10_p field that is not a number.
TraitPValues read_ldsc_csv(const std::string& path, const std::string& trait,
                           LdscCsvReadStats* stats = nullptr);

// <dir>/<project>_<trait>.csv.gz
std::string ldsc_result_path(const std::string& dir, const std::string& project,
                             const std::string& trait);

}  // namespace gsmap::cauchy
