#pragma once
// Resources shared by all traits of a spatial LDSC run (docs/algorithms.md §6.1–§6.3): the common
// SNP set C0, the baseline table, the LD weights and the SNP-gene weights of the genes that the
// marker scores carry. Built once; read-only afterwards (safe to share between threads).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/SparseCore>

#include "gsmap/io/gwas.hpp"
#include "gsmap/io/weight_matrix.hpp"
#include "gsmap/ldsc/snp_index.hpp"

namespace gsmap::ldsc {

using SparseRowsF32 = Eigen::SparseMatrix<float, Eigen::RowMajor, std::int64_t>;

// Where the inputs came from, for messages.
struct CommonInputPaths {
  std::string weight_matrix;                      // --snp-gene-weight-adata-path
  std::string ld_weight_dir;                      // --w-ld-dir
  std::vector<std::string> extra_baselines;       // --additional-baseline-h5ad-path-list, in order
  std::string marker_scores;                      // where the marker-score gene list came from
};

struct CommonResources {
  CommonInputPaths paths;

  // C0 = SNPs of W that have an LD weight (and a row in every extra baseline), in W's row order.
  std::vector<std::string> snp;
  std::vector<std::int64_t> weight_row;  // row of snp[i] in W
  FirstPositions snp_positions;          // over `snp` (ids are unique there)
  // Position of `id` in C0, or -1.
  std::int64_t index_of_snp(std::string_view id) const { return snp_positions.find(snp, id); }

  // Baseline table A (|C0| x n_baseline, row-major): base, all_gene, extra columns in file order.
  // f32 like the reference: all_gene sums W's gene entries of the row in stored order in f32,
  // base = all_gene + unmapped in f32 (these roundings are what the expected outputs carry).
  std::vector<std::string> baseline_names;
  std::vector<float> baseline;
  // LD weight w(s) of each C0 SNP.
  std::vector<float> ld_weight;

  // Marker-score genes found among W's columns, in marker-score order; marker_column[g] is the
  // gene's column in a marker-score row (n_marker_genes wide).
  std::vector<std::string> genes;
  std::vector<std::int32_t> marker_column;
  std::int64_t n_marker_genes = 0;
  // W_G restricted to C0: |C0| x genes.size(), row i = W row weight_row[i], columns = genes.
  // Within a row the entries keep W's column order, so column indices are NOT sorted: use the raw
  // CSR arrays (compressed), not Eigen algorithms that assume sorted inner indices.
  SparseRowsF32 gene_weights;

  std::int64_t n_snps() const { return static_cast<std::int64_t>(snp.size()); }
  int n_baseline() const { return static_cast<int>(baseline_names.size()); }
  // Regression features P = spot LD + baseline columns + intercept.
  int n_features() const { return n_baseline() + 2; }
};

// Builds C0 and the aligned weights (docs/algorithms.md §6.1–§6.3). Duplicate SNP ids in W or an
// extra baseline: the first row is used (warning). InputError when C0 is empty or when no
// marker-score gene is a column of W (the message shows a few names of each side).
CommonResources build_common_resources(const io::SnpGeneWeights& weights,
                                       const io::LdWeights& ld_weights,
                                       const std::vector<io::ExtraBaseline>& extra_baselines,
                                       const std::vector<std::string>& marker_genes,
                                       CommonInputPaths paths);

// A compressed row-major matrix holding exactly these CSR arrays (inner indices may be unsorted;
// Eigen's insertion-based assignment would assert on that in debug builds).
SparseRowsF32 csr_from_arrays(std::int64_t rows, std::int64_t cols,
                              const std::vector<std::int64_t>& outer,
                              const std::vector<std::int64_t>& inner,
                              const std::vector<float>& values);

// Log lines describing the resources (counts of SNPs, genes, baseline columns).
std::vector<std::string> describe(const CommonResources& common);

}  // namespace gsmap::ldsc
