#pragma once
// `gsmap-mpi ldscore-weight-matrix`: the SNP x feature LD-score weight matrix from a PLINK 1
// reference panel (docs/ldscore.md). The options keep gsMap3D's names and defaults
// (docs/ldscore.md §1); check_options() applies the start-up rules (§9, D7) before any file is read.
#include <cstdint>
#include <string>
#include <vector>

#include "gsmap/ldscore/kernel.hpp"

namespace gsmap::ldscore {

enum class MappingType { kBed, kDict };
enum class Strategy { kScore, kTss, kCenter, kAllowRepeat };
enum class LdUnit { kCm, kKb, kSnp };
// batch: every regression SNP of a --batch-size-hm3 batch uses the batch's whole LD block
// (gsMap3D); snp: each SNP its own window (LDSC). docs/ldscore.md §5.2.
enum class WindowMode { kBatch, kSnp };

struct Options {
  // As given on the command line (text), resolved by check_options().
  std::string bfile_root;
  std::string hm3_snp_dir;
  std::string output_dir;
  std::string output_filename = "ld_score_weights";
  std::string mapping_type = "bed";
  std::string mapping_file;
  std::string annot_file;
  std::int64_t feature_window_size = 0;
  std::string strategy = "score";
  double ld_wind = 1.0;
  std::string ld_unit = "CM";
  double maf_min = 0.01;
  std::string chromosomes = "all";
  std::int64_t batch_size_hm3 = 50;
  bool calculate_w_ld = false;
  std::string w_ld_dir;  // empty: <output-dir>/w_ld
  std::string omics_h5ad_path;
  std::string ld_window_mode = "batch";
  int compute_workers = 0;  // threads per rank; 0 = the CPUs this rank may run on
  std::string kernel = "auto";  // auto | eigen | blocked (docs/ldscore.md §6)

  // Filled by check_options().
  MappingType mapping = MappingType::kBed;
  Strategy strategy_kind = Strategy::kScore;
  LdUnit unit = LdUnit::kCm;
  WindowMode window = WindowMode::kBatch;
  Kernel kernel_kind = Kernel::kAuto;
  std::vector<int> chromosome_list;  // processing order (the --chromosomes order)
  std::vector<std::string> warnings;  // for rank 0's log
};

// The start-up rules of docs/ldscore.md §1 and D7 (UsageError): choices, ranges, required options,
// existence of the given directories and files. Reads no file content.
void check_options(Options& options);

// `{chr}` of --bfile-root replaced by `chromosome` (".{chr}" appended when the template has none).
std::string bfile_prefix(const std::string& root, int chromosome);
// `{chr}` / `{chromosome}` of --annot-file replaced.
std::string annot_path(const std::string& templ, int chromosome);

}  // namespace gsmap::ldscore
