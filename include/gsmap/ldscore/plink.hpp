#pragma once
// PLINK 1 binary filesets (.bed/.bim/.fam; docs/ldscore.md §2.1): the .fam line count, the .bim
// table, and the SNP-major .bed read by variant ranges with pread, so that a rank reads only the
// variants it needs.
#include <cstdint>
#include <string>
#include <vector>

namespace gsmap::ldscore {

// Individuals = lines of the .fam (blank lines are not counted). InputError if missing or empty.
std::int64_t count_fam(const std::string& path);

struct Bim {
  std::string path;
  std::vector<std::string> chrom;  // as written
  std::vector<std::string> id;
  std::vector<double> cm;
  std::vector<std::int32_t> bp;
  std::int64_t size() const { return static_cast<std::int64_t>(id.size()); }
};
// Six whitespace-separated fields per line; InputError naming the line and column otherwise.
Bim read_bim(const std::string& path);
// Rows [first, last) of the .bim (rows = non-blank lines; last < 0: to the end), so that a rank
// keeps only the variants of its LD window (docs/ldscore.md §8). Empty when the range is empty.
Bim read_bim_rows(const std::string& path, std::int64_t first, std::int64_t last);

// Per-variant call counts: observed calls, sum of dosages (copies of BIM allele 2), sum of squares.
struct CallCounts {
  std::int32_t n_obs = 0;
  std::int32_t sum = 0;
  std::int32_t sum_sq = 0;
};

class BedFile {
 public:
  // Checks the magic bytes 6C 1B 01 (SNP-major) and the exact size 3 + m * ceil(n / 4)
  // (docs/ldscore.md D12); InputError naming the file and the fix otherwise.
  BedFile(std::string path, std::int64_t n_samples, std::int64_t n_variants);
  ~BedFile();
  BedFile(const BedFile&) = delete;
  BedFile& operator=(const BedFile&) = delete;

  const std::string& path() const { return path_; }
  std::int64_t n_samples() const { return n_; }
  std::int64_t n_variants() const { return m_; }
  std::int64_t bytes_per_variant() const { return stride_; }
  // The packed blocks of variants [first, first + count) into `out` (count * stride bytes).
  void read(std::int64_t first, std::int64_t count, std::vector<std::uint8_t>& out) const;

 private:
  std::string path_;
  std::int64_t n_ = 0, m_ = 0, stride_ = 0;
  int fd_ = -1;
};

// Counts of one packed variant block of n individuals (padding bits ignored).
CallCounts count_calls(const std::uint8_t* block, std::int64_t n);
// Decodes one packed block into `dosage` (0, 1, 2; 0 for a missing call) and, when `observed` is
// not null, 1 / 0 for observed / missing. Entries n ... n_pad - 1 are set to 0.
void decode_variant(const std::uint8_t* block, std::int64_t n, std::int64_t n_pad, float* dosage,
                    float* observed);

}  // namespace gsmap::ldscore
