#pragma once
// Reading back the Cauchy results that write_cauchy_results (cauchy.hpp) wrote: the report shows
// them as they are on disk.
#include <string>
#include <vector>

#include "gsmap/cauchy/cauchy.hpp"

namespace gsmap::cauchy {

// <project>_<trait>.<annotation>.cauchy.csv or .sample_cauchy.csv, rows in file order. Columns
// are found by header name (trait, annotation_name, annotation, p_cauchy, p_median,
// top_95_quantile, sig_spots, total_spots[, sample_name]); fields may be quoted. InputError
// naming the file and line for a missing column, a wrong field count or a field that is not a
// number.
std::vector<CauchyRow> read_cauchy_csv(const std::string& path);

}  // namespace gsmap::cauchy
