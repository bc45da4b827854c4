#pragma once
// Merging the partial spatial-LDSC files of `--cell-indices-range` runs,
// <project>_<trait>_cells_<start>_<end>.csv.gz, into <project>_<trait>.csv.gz (the file the
// Cauchy step reads). gsMap3D's documentation concatenates sorted(glob(...)), i.e. lexicographic
// order (cells_1000000_... before cells_200000_...); we order by the numeric start and refuse
// incomplete or overlapping coverage (docs/usage.md "merge").
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gsmap::cauchy {

struct PartialLdscFile {
  std::string path;
  std::int64_t start = 0;  // first spot (absolute position, inclusive)
  std::int64_t end = 0;    // one past the last spot
};

// The files in `dir` named exactly <project>_<trait>_cells_<start>_<end>.csv.gz (decimal
// integers), ascending by (start, end). IoError if `dir` cannot be listed.
std::vector<PartialLdscFile> list_partial_ldsc(const std::string& dir, const std::string& project,
                                               const std::string& trait);

// Checks that the files tile [0, total) (or [0, last end) when total is unknown) without gaps or
// overlaps; InputError naming the offending files otherwise (also for no files, or start >= end).
void check_partial_coverage(const std::vector<PartialLdscFile>& files,
                            std::optional<std::int64_t> total_spots, const std::string& dir);

// Lists, checks and concatenates the partial files in numeric order (one header; every file's
// header must equal the first; every file must hold end - start data rows) and writes
// <dir>/<project>_<trait>.csv.gz atomically (gzip). An existing merged file is replaced.
// Returns the path written. The partial files are left in place.
std::string merge_partial_ldsc(const std::string& dir, const std::string& project,
                               const std::string& trait,
                               std::optional<std::int64_t> total_spots = std::nullopt);

}  // namespace gsmap::cauchy
