#pragma once
// The SNP-gene weight matrix and additional baselines (docs/algorithms.md §6.1), loaded once.
#include <string>
#include <vector>

#include <Eigen/SparseCore>

namespace gsmap::io {

struct SnpGeneWeights {
  std::vector<std::string> snp;       // obs index, regression SNP order
  std::vector<std::string> features;  // var index; last = unmapped bin
  // SNPs x features, row-major sparse f32 (dense files are converted).
  Eigen::SparseMatrix<float, Eigen::RowMajor, std::int64_t> matrix;
};
SnpGeneWeights read_snp_gene_weights(const std::string& h5ad_path);

struct ExtraBaseline {
  std::vector<std::string> snp;
  std::vector<std::string> annotations;
  std::vector<float> values;  // row-major snp x annotations
};
ExtraBaseline read_extra_baseline(const std::string& h5ad_path);

}  // namespace gsmap::io
