#pragma once
// SNP -> feature mappings (docs/ldscore.md §2.3-§2.5, §4): a BED of features (genes, enhancers)
// with one of four strategies, a SNP -> feature table, or per-chromosome annotation matrices. The
// result for one chromosome is the mapping matrix M over its QC-passing SNPs as sparse rows.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "gsmap/ldscore/options.hpp"
#include "gsmap/ldscore/plink.hpp"

namespace gsmap::ldscore {

// Removes every case-insensitive "chr" (docs/ldscore.md §2.3): chr22, CHR22, 22 -> 22.
std::string clean_chromosome(std::string_view chromosome);

struct BedMapping {
  std::string path;
  std::vector<std::string> features;  // sorted distinct names of the whole file (byte order)
  bool has_score = false;
  bool has_strand = false;
  struct Row {
    std::int64_t start = 0, end = 0;  // BED: 0-based start, exclusive end
    std::int32_t feature = 0;
    double score = 1.0;
    std::string score_text;  // a score that is no number (allowed for tss and center): as given
    bool plus = false;     // strand '+'
    std::int64_t line = 0;  // file line (for messages); rows keep file order
  };
  std::map<std::string, std::vector<Row>> rows;  // by cleaned chromosome, file order
};
// docs/ldscore.md §2.3 and D9. InputError for a missing Name column, unequal field counts,
// non-integer coordinates, a missing or non-numeric score where the score is used (strategies
// score and allow_repeat), a missing strand column (strategy tss).
BedMapping read_bed_mapping(const std::string& path, Strategy strategy);

struct DictMapping {
  std::string path;
  std::vector<std::string> features;
  std::unordered_map<std::string, std::int32_t> feature_of;  // SNP id -> feature (last row wins)
};
// Every row is checked and every feature name counted; `keep`, when given, selects the SNP ids
// whose rows are kept (a rank keeps only those of its own variants, docs/ldscore.md §8).
DictMapping read_dict_mapping(const std::string& path,
                              const std::function<bool(std::string_view)>& keep = {});

// The mapping matrix M of one chromosome over its QC-passing SNPs Q, as CSR rows (one row per Q
// SNP; columns ascending, values summed per column). BED and dict mode: F + 1 columns, the last
// (F) = Unmapped.
struct MappingRows {
  std::vector<std::int64_t> ptr{0};
  std::vector<std::int32_t> col;
  std::vector<double> value;
  std::int64_t n_mapped = 0;  // Q SNPs with at least one kept pair (BED) / listed (dict)
};

// One kept (SNP, BED row) pair for the pair CSV (docs/ldscore.md §4.4).
struct KeptPair {
  std::int64_t q = 0;          // position in Q
  std::int32_t feature = 0;
  double score = 0;
  std::int64_t distance2 = 0;  // tss: distance to the TSS; center: twice the distance to the centre
  std::int64_t bed_row = 0;    // position among the chromosome's BED rows (for a textual score)
  std::string chrom;           // the cleaned chromosome of that BED row
};

MappingRows map_bed(const BedMapping& bed, Strategy strategy, std::int64_t window, const Bim& bim,
                    const std::vector<std::int64_t>& q_rows, std::vector<KeptPair>* pairs);
MappingRows map_dict(const DictMapping& dict, const Bim& bim,
                     const std::vector<std::int64_t>& q_rows);

// One chromosome's annotation file (docs/ldscore.md §2.5): names in file order, M over Q (no
// Unmapped column). InputError for non-numeric values, duplicated SNP ids, a thin file whose row
// count differs from the .bim.
struct AnnotationRows {
  std::vector<std::string> names;
  MappingRows rows;
  std::vector<std::string> sparse_names;  // annotations with < 0.01 % non-zero values
};
AnnotationRows read_annotation(const std::string& path, const Bim& bim,
                               const std::vector<std::int64_t>& q_rows);

// The pair table <output-filename>.csv, rows of one chromosome appended to `out` in the order of
// docs/ldscore.md §4.4 (header written by pair_csv_header).
std::string pair_csv_header(bool has_score, Strategy strategy);
void append_pair_csv(std::string& out, const std::vector<KeptPair>& pairs, const BedMapping& bed,
                     Strategy strategy, const Bim& bim, const std::vector<std::int64_t>& q_rows);

}  // namespace gsmap::ldscore
