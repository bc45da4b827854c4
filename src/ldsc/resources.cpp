#include "gsmap/ldsc/resources.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/ldsc/reference_sums.hpp"

namespace gsmap::ldsc {
namespace {

using Index = std::int64_t;

std::string some_names(const std::vector<std::string>& names, std::size_t count = 5) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < count; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  if (names.size() > count) out += fmt::format(", ... ({} in all)", names.size());
  return out.empty() ? "(none)" : out;
}

void check_weight_matrix(const io::SnpGeneWeights& w, const std::string& path) {
  if (w.matrix.rows() != static_cast<Index>(w.snp.size()) ||
      w.matrix.cols() != static_cast<Index>(w.features.size()))
    throw InputError(path, "X",
                     fmt::format("matrix is {} x {} but obs has {} SNPs and var {} features",
                                 w.matrix.rows(), w.matrix.cols(), w.snp.size(),
                                 w.features.size()),
                     "re-create the SNP-gene weight matrix");
  if (w.features.size() < 2)
    throw InputError(path, "var",
                     "the SNP-gene weight matrix needs at least one gene column and the final "
                     "unmapped column",
                     "use the matrix written by gsMap's ldscore-weight-matrix step");
}

// all_gene(s) = sum of the gene columns, base(s) = all_gene(s) + last column
// (docs/algorithms.md §6.2; over ALL gene columns of W), in f32 as scipy's row sum of W[:, :-1]
// (the fixtures' reference; gsMap3D sums the densified row pairwise, equal up to f32 rounding).
void gene_sums(const SparseRowsF32& w, Index row, Index last_column, std::vector<float>& buffer,
               float& all_gene, float& base) {
  buffer.clear();
  float unmapped = 0.0f;
  for (SparseRowsF32::InnerIterator it(w, row); it; ++it) {
    if (it.col() == last_column)
      unmapped = it.value();
    else
      buffer.push_back(it.value());
  }
  all_gene = scipy_row_sum(buffer.data(), static_cast<Index>(buffer.size()));
  base = all_gene + unmapped;
}

// Marker-score genes present among W's columns, in marker-score order (docs/algorithms.md §6.3).
// A marker gene whose name appears twice in W uses W's first such column.
void align_genes(const io::SnpGeneWeights& w, const std::vector<std::string>& marker_genes,
                 CommonResources& out, std::vector<std::vector<std::int32_t>>& genes_of_column) {
  const FirstPositions column_of(w.features);
  if (column_of.duplicates() > 0)
    GSMAP_LOG_WARN("{}: {} duplicated feature names in var; the first column of each is used",
                   out.paths.weight_matrix, column_of.duplicates());
  genes_of_column.assign(w.features.size(), {});
  for (Index g = 0; g < static_cast<Index>(marker_genes.size()); ++g) {
    const Index column = column_of.find(w.features, marker_genes[g]);
    if (column < 0) continue;
    genes_of_column[column].push_back(static_cast<std::int32_t>(out.genes.size()));
    out.genes.push_back(marker_genes[g]);
    out.marker_column.push_back(static_cast<std::int32_t>(g));
  }
  if (out.genes.empty())
    throw InputError(
        out.paths.weight_matrix, "var index",
        fmt::format("none of the {} marker-score genes ({}: {}) is a column of the SNP-gene "
                    "weight matrix (columns: {})",
                    marker_genes.size(), out.paths.marker_scores, some_names(marker_genes),
                    some_names(w.features)),
        "use a weight matrix built with the same gene symbols (species, gene annotation) as the "
        "spatial data");
}

}  // namespace

CommonResources build_common_resources(const io::SnpGeneWeights& weights,
                                       const io::LdWeights& ld_weights,
                                       const std::vector<io::ExtraBaseline>& extra_baselines,
                                       const std::vector<std::string>& marker_genes,
                                       CommonInputPaths paths) {
  CommonResources out;
  out.paths = std::move(paths);
  out.paths.extra_baselines.resize(extra_baselines.size());
  check_weight_matrix(weights, out.paths.weight_matrix);

  // C0 = SNPs of W with an LD weight, in W order (docs/algorithms.md §6.3). The indexes refer to
  // the input tables' strings and are dropped as soon as the rows are known.
  std::vector<Index> rows, ld_rows;
  {
    const FirstPositions ld_row(ld_weights.snp);
    const FirstPositions w_row(weights.snp);
    if (w_row.duplicates() > 0)
      GSMAP_LOG_WARN("{}: {} duplicated SNP ids in obs; the first row of each is used",
                     out.paths.weight_matrix, w_row.duplicates());
    for (Index r = 0; r < static_cast<Index>(weights.snp.size()); ++r) {
      const Index ld = ld_row.find(ld_weights.snp, weights.snp[r]);
      if (ld < 0 || w_row.find(weights.snp, weights.snp[r]) != r) continue;
      rows.push_back(r);
      ld_rows.push_back(ld);
    }
  }
  if (rows.empty())
    throw InputError(out.paths.weight_matrix, "obs index",
                     fmt::format("no SNP of the weight matrix ({}) has an LD weight in {} ({})",
                                 some_names(weights.snp), out.paths.ld_weight_dir,
                                 some_names(ld_weights.snp)),
                     "use LD weights and a weight matrix with the same SNP ids (rsIDs)");

  // Then intersect with each extra baseline's SNPs, still in W order (docs/algorithms.md §6.3).
  std::vector<std::vector<Index>> extra_rows(extra_baselines.size());
  for (std::size_t e = 0; e < extra_baselines.size(); ++e) {
    const auto& extra = extra_baselines[e];
    const std::string& path = out.paths.extra_baselines[e];
    if (extra.values.size() != extra.snp.size() * extra.annotations.size())
      throw InputError(path, "X", "values do not match the obs x var shape",
                       "re-create the additional baseline file");
    const FirstPositions pos(extra.snp);
    if (pos.duplicates() > 0)
      GSMAP_LOG_WARN("{}: {} duplicated SNP ids; the first row of each is used", path,
                     pos.duplicates());
    std::vector<Index> this_rows(rows.size(), -1);
    for (std::size_t i = 0; i < rows.size(); ++i) this_rows[i] = pos.find(extra.snp, weights.snp[rows[i]]);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (this_rows[i] < 0) continue;
      rows[kept] = rows[i];
      ld_rows[kept] = ld_rows[i];
      this_rows[kept] = this_rows[i];
      for (std::size_t f = 0; f < e; ++f) extra_rows[f][kept] = extra_rows[f][i];
      ++kept;
    }
    if (kept < rows.size())
      GSMAP_LOG_WARN("{}: only {} of {} common SNPs have additional baseline values; using those",
                     path, kept, rows.size());
    if (kept == 0)
      throw InputError(path, "obs index",
                       "no SNP in common with the weight matrix and the LD weights",
                       "use an additional baseline computed for the same SNPs");
    rows.resize(kept);
    ld_rows.resize(kept);
    this_rows.resize(kept);
    for (std::size_t f = 0; f < e; ++f) extra_rows[f].resize(kept);
    extra_rows[e] = std::move(this_rows);
  }

  const Index n = static_cast<Index>(rows.size());
  out.weight_row = rows;
  out.snp.reserve(n);
  out.ld_weight.reserve(n);
  for (Index i = 0; i < n; ++i) {
    out.snp.push_back(weights.snp[rows[i]]);
    out.ld_weight.push_back(ld_weights.weight[ld_rows[i]]);
  }
  out.snp_positions = FirstPositions(out.snp);

  // Baseline table.
  out.baseline_names = {"base", "all_gene"};
  for (const auto& extra : extra_baselines)
    out.baseline_names.insert(out.baseline_names.end(), extra.annotations.begin(),
                              extra.annotations.end());
  const int p = out.n_baseline();
  out.baseline.assign(static_cast<std::size_t>(n) * p, 0.0f);
  const Index last_column = static_cast<Index>(weights.features.size()) - 1;
  std::vector<float> row_buffer;
  for (Index i = 0; i < n; ++i) {
    float* row = out.baseline.data() + i * p;
    float all_gene = 0, base = 0;
    gene_sums(weights.matrix, rows[i], last_column, row_buffer, all_gene, base);
    row[0] = base;
    row[1] = all_gene;
    int column = 2;
    for (std::size_t e = 0; e < extra_baselines.size(); ++e) {
      const auto& extra = extra_baselines[e];
      const std::size_t width = extra.annotations.size();
      const float* values = extra.values.data() + extra_rows[e][i] * width;
      for (std::size_t a = 0; a < width; ++a) row[column++] = values[a];
    }
  }

  // W_G restricted to C0, columns in marker-score gene order.
  out.n_marker_genes = static_cast<Index>(marker_genes.size());
  std::vector<std::vector<std::int32_t>> genes_of_column;
  align_genes(weights, marker_genes, out, genes_of_column);
  // Entries stay in W's column order (not sorted by gene position): that is the order in which
  // scipy's column selection leaves them and the spot-LD sums accumulate in the reference. Built
  // in place, counted first: no intermediate arrays beside W and the result (at 1M SNPs x 13
  // non-zeros these would be a few hundred MB at the step's peak).
  SparseRowsF32& g = out.gene_weights;
  g = SparseRowsF32(n, static_cast<Index>(out.genes.size()));
  Index nnz = 0;
  for (Index i = 0; i < n; ++i)
    for (SparseRowsF32::InnerIterator it(weights.matrix, rows[i]); it; ++it)
      nnz += static_cast<Index>(genes_of_column[it.col()].size());
  g.resizeNonZeros(nnz);
  Index* outer = g.outerIndexPtr();
  Index* inner = g.innerIndexPtr();
  float* values = g.valuePtr();
  Index e = 0;
  outer[0] = 0;
  for (Index i = 0; i < n; ++i) {
    for (SparseRowsF32::InnerIterator it(weights.matrix, rows[i]); it; ++it)
      for (const std::int32_t gene : genes_of_column[it.col()]) {
        inner[e] = gene;
        values[e] = it.value();
        ++e;
      }
    outer[i + 1] = e;
  }
  return out;
}

SparseRowsF32 csr_from_arrays(std::int64_t rows, std::int64_t cols,
                              const std::vector<std::int64_t>& outer,
                              const std::vector<std::int64_t>& inner,
                              const std::vector<float>& values) {
  SparseRowsF32 m(rows, cols);  // compressed, all outer indices 0
  m.resizeNonZeros(static_cast<Index>(values.size()));
  std::copy(outer.begin(), outer.end(), m.outerIndexPtr());
  std::copy(inner.begin(), inner.end(), m.innerIndexPtr());
  std::copy(values.begin(), values.end(), m.valuePtr());
  return m;
}

std::vector<std::string> describe(const CommonResources& common) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format(
      "Spatial LDSC resources: {} common SNPs (weight matrix {} with LD weights from {}), "
      "baseline columns: {}",
      common.n_snps(), common.paths.weight_matrix, common.paths.ld_weight_dir,
      fmt::join(common.baseline_names, ", ")));
  lines.push_back(fmt::format(
      "Genes: {} of {} marker-score genes are columns of the SNP-gene weight matrix; "
      "{} non-zero SNP-gene weights on the common SNPs",
      common.genes.size(), common.n_marker_genes, common.gene_weights.nonZeros()));
  return lines;
}

}  // namespace gsmap::ldsc
