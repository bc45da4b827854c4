#include "gsmap/io/weight_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/io/hdf5.hpp"

// Reads the matrix part of an .h5ad directly with the HDF5 helpers (docs/algorithms.md §6.1):
// these files are loaded once, whole, so none of the general h5ad reader's machinery is needed.
namespace gsmap::io {
namespace {

using Index = std::int64_t;
template <int Options>
using SparseF32 = Eigen::SparseMatrix<float, Options, Index>;

const char* const kResaveFix =
    "re-save the file with a current anndata (>= 0.8): adata = anndata.read_h5ad(path); "
    "adata.write_h5ad(path)";

// Reads all n values of a 1-D dataset straight into `dst` (no intermediate copy: the matrix of the
// real resource has ~10^8 entries).
template <typename T>
void read_into(hid_t dset, T* dst, std::size_t n, const std::string& file, const std::string& key) {
  H5Lock lock;
  Hid space(H5Dget_space(dset));
  const hssize_t points = H5Sget_simple_extent_npoints(space);
  if (points < 0 || static_cast<std::size_t>(points) != n) {
    throw InputError(file, key, fmt::format("{} values, expected {}", points, n),
                     "the sparse matrix is inconsistent; re-write the file");
  }
  if (n == 0) return;
  if (H5Dread(dset, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0) {
    throw InputError(file, key, "HDF5 cannot read the dataset",
                     "check the file is complete; lzf-compressed files need re-saving with "
                     "gzip or no compression");
  }
}

std::int64_t dataset_length(hid_t dset) {
  auto shape = dataset_shape(dset);
  return shape.empty() ? 0 : static_cast<std::int64_t>(shape[0]);
}

// Row labels of an anndata dataframe group (obs or var): the child named by its `_index` attribute,
// a string array or (rarely) a categorical.
std::vector<std::string> dataframe_index(hid_t file, const std::string& group,
                                         const std::string& path) {
  if (!is_group(file, group)) {
    throw InputError(path, group, "dataframe group missing", kResaveFix);
  }
  Hid g = open_group(file, group);
  auto index_name = read_attr_string(g, "_index");
  if (!index_name) {
    throw InputError(path, group, "no `_index` attribute (an anndata <= 0.7 file?)", kResaveFix);
  }
  const std::string key = group + "/" + *index_name;
  if (is_dataset(g, *index_name)) {
    Hid d = open_dataset(g, *index_name);
    try {
      return read_strings(d);
    } catch (const std::exception& e) {
      throw InputError(path, key, fmt::format("cannot read the index as strings ({})", e.what()));
    }
  }
  if (is_group(g, *index_name) && is_dataset(g, *index_name + "/categories") &&
      is_dataset(g, *index_name + "/codes")) {
    Hid cats_d = open_dataset(g, *index_name + "/categories");
    Hid codes_d = open_dataset(g, *index_name + "/codes");
    auto cats = read_strings(cats_d);
    auto codes = read_all<std::int64_t>(codes_d);
    std::vector<std::string> out;
    out.reserve(codes.size());
    for (std::int64_t c : codes) {
      if (c < 0 || c >= static_cast<std::int64_t>(cats.size())) {
        throw InputError(path, key, "missing value in the index", "index labels must be set");
      }
      out.push_back(cats[static_cast<std::size_t>(c)]);
    }
    return out;
  }
  throw InputError(path, key, "index named by `_index` not found", kResaveFix);
}

// Sorts each outer segment by inner index and sums repeated inner indices (scipy allows both in a
// CSR/CSC file; Eigen requires neither), compacting in place.
template <int Options>
void canonicalise(SparseF32<Options>& m) {
  Index* outer = m.outerIndexPtr();
  Index* inner = m.innerIndexPtr();
  float* value = m.valuePtr();
  const Index n_outer = m.outerSize();
  Index write = 0;
  std::vector<std::pair<Index, float>> scratch;
  for (Index o = 0; o < n_outer; ++o) {
    const Index begin = outer[o], end = outer[o + 1];
    outer[o] = write;
    bool sorted = std::is_sorted(inner + begin, inner + end);
    if (!sorted) {
      scratch.clear();
      for (Index k = begin; k < end; ++k) scratch.emplace_back(inner[k], value[k]);
      std::stable_sort(scratch.begin(), scratch.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (Index k = begin; k < end; ++k) {
        inner[k] = scratch[static_cast<std::size_t>(k - begin)].first;
        value[k] = scratch[static_cast<std::size_t>(k - begin)].second;
      }
    }
    for (Index k = begin; k < end; ++k) {
      if (write > outer[o] && inner[write - 1] == inner[k]) {
        value[write - 1] += value[k];
      } else {
        inner[write] = inner[k];
        value[write] = value[k];
        ++write;
      }
    }
  }
  outer[n_outer] = write;
  m.resizeNonZeros(write);
}

// A csr_matrix / csc_matrix group (docs/development.md §2.1) into an Eigen matrix of the same major
// order.
template <int Options>
SparseF32<Options> read_compressed(hid_t x, Index rows, Index cols, const std::string& path) {
  constexpr bool kRowMajor = (Options & Eigen::RowMajorBit) != 0;
  const Index n_outer = kRowMajor ? rows : cols;
  const Index n_inner = kRowMajor ? cols : rows;
  for (const char* name : {"data", "indices", "indptr"}) {
    if (!is_dataset(x, name)) {
      throw InputError(path, fmt::format("X/{}", name), "dataset missing from the sparse X",
                       kResaveFix);
    }
  }
  Hid data_d = open_dataset(x, "data");
  Hid indices_d = open_dataset(x, "indices");
  Hid indptr_d = open_dataset(x, "indptr");
  const Index nnz = dataset_length(data_d);
  if (dataset_length(indices_d) != nnz) {
    throw InputError(path, "X/indices",
                     fmt::format("{} entries but X/data has {}", dataset_length(indices_d), nnz),
                     "the sparse matrix is inconsistent; re-write the file");
  }
  SparseF32<Options> m(rows, cols);
  m.resizeNonZeros(nnz);
  read_into(indptr_d, m.outerIndexPtr(), static_cast<std::size_t>(n_outer + 1), path, "X/indptr");
  read_into(indices_d, m.innerIndexPtr(), static_cast<std::size_t>(nnz), path, "X/indices");
  read_into(data_d, m.valuePtr(), static_cast<std::size_t>(nnz), path, "X/data");

  const Index* outer = m.outerIndexPtr();
  if (outer[0] != 0 || outer[n_outer] != nnz) {
    throw InputError(path, "X/indptr",
                     fmt::format("starts at {} and ends at {}, expected 0 and nnz = {}", outer[0],
                                 outer[n_outer], nnz),
                     "the sparse matrix is inconsistent; re-write the file");
  }
  for (Index o = 0; o < n_outer; ++o) {
    if (outer[o + 1] < outer[o]) {
      throw InputError(path, "X/indptr", fmt::format("decreases at position {}", o + 1),
                       "the sparse matrix is inconsistent; re-write the file");
    }
  }
  const Index* inner = m.innerIndexPtr();
  for (Index k = 0; k < nnz; ++k) {
    if (inner[k] < 0 || inner[k] >= n_inner) {
      throw InputError(path, "X/indices",
                       fmt::format("index {} at position {} outside [0, {})", inner[k], k, n_inner),
                       "the sparse matrix is inconsistent; re-write the file");
    }
  }
  canonicalise(m);
  return m;
}

// A dense X dataset, read in row blocks so only one block is held densely.
SparseF32<Eigen::RowMajor> read_dense(hid_t file, const std::string& path) {
  Hid d = open_dataset(file, "X");
  auto shape = dataset_shape(d);
  if (shape.size() != 2) {
    throw InputError(path, "X", fmt::format("dense X has {} dimensions, expected 2", shape.size()));
  }
  const auto rows = static_cast<Index>(shape[0]);
  const auto cols = static_cast<Index>(shape[1]);
  std::vector<Index> outer(static_cast<std::size_t>(rows) + 1, 0);
  std::vector<Index> inner;
  std::vector<float> values;
  const Index block = std::max<Index>(1, (Index{1} << 24) / std::max<Index>(cols, 1));
  for (Index r0 = 0; r0 < rows; r0 += block) {
    const Index nr = std::min(block, rows - r0);
    auto dense = read_rows<float>(d, static_cast<hsize_t>(r0), static_cast<hsize_t>(nr));
    for (Index r = 0; r < nr; ++r) {
      const float* row = dense.data() + r * cols;
      for (Index c = 0; c < cols; ++c) {
        if (row[c] != 0.0f) {
          inner.push_back(c);
          values.push_back(row[c]);
        }
      }
      outer[static_cast<std::size_t>(r0 + r + 1)] = static_cast<Index>(inner.size());
    }
  }
  SparseF32<Eigen::RowMajor> m(rows, cols);
  m.resizeNonZeros(static_cast<Index>(values.size()));
  std::copy(outer.begin(), outer.end(), m.outerIndexPtr());
  std::copy(inner.begin(), inner.end(), m.innerIndexPtr());
  std::copy(values.begin(), values.end(), m.valuePtr());
  return m;
}

SparseF32<Eigen::RowMajor> read_x(hid_t file, const std::string& path) {
  if (is_dataset(file, "X")) return read_dense(file, path);
  if (!is_group(file, "X")) {
    throw InputError(path, "X", "no X matrix in the file", "the weight matrix must be in X");
  }
  Hid x = open_group(file, "X");
  auto encoding = read_attr_string(x, "encoding-type");
  if (!encoding) {
    throw InputError(path, "X", "sparse X has no encoding-type attribute (an anndata <= 0.7 file?)",
                     kResaveFix);
  }
  auto shape = read_attr_ints(x, "shape");
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) {
    throw InputError(path, "X", "sparse X has no valid `shape` attribute", kResaveFix);
  }
  if (*encoding == "csr_matrix")
    return read_compressed<Eigen::RowMajor>(x, shape[0], shape[1], path);
  if (*encoding == "csc_matrix") {
    // Eigen converts the storage order on assignment (a transpose-copy).
    return SparseF32<Eigen::RowMajor>(
        read_compressed<Eigen::ColMajor>(x, shape[0], shape[1], path));
  }
  throw InputError(path, "X", fmt::format("unsupported X encoding-type '{}'", *encoding),
                   "X must be a dense array or a csr_matrix / csc_matrix");
}

struct LabelledMatrix {
  std::vector<std::string> rows;
  std::vector<std::string> cols;
  SparseF32<Eigen::RowMajor> matrix;
};

LabelledMatrix read_labelled_matrix(const std::string& path) {
  Hid file = open_file(path, Access::kRead);
  LabelledMatrix out;
  out.rows = dataframe_index(file, "obs", path);
  out.cols = dataframe_index(file, "var", path);
  out.matrix = read_x(file, path);
  if (out.matrix.rows() != static_cast<Index>(out.rows.size()) ||
      out.matrix.cols() != static_cast<Index>(out.cols.size())) {
    throw InputError(
        path, "X",
        fmt::format("shape {} x {} does not match obs ({}) x var ({})", out.matrix.rows(),
                    out.matrix.cols(), out.rows.size(), out.cols.size()),
        "the file is inconsistent; re-write it with anndata");
  }
  // Finite values only (docs/troubleshooting.md "Weight matrix"): one NaN weight turns every spot's
  // regression into NaN. Checked here, on the first read, before any output is written.
  const Index* outer = out.matrix.outerIndexPtr();
  const Index* inner = out.matrix.innerIndexPtr();
  const float* value = out.matrix.valuePtr();
  for (Index r = 0; r < out.matrix.outerSize(); ++r) {
    for (Index k = outer[r]; k < outer[r + 1]; ++k) {
      if (!std::isfinite(value[k])) {
        std::int64_t bad = 0;
        for (Index q = 0; q < out.matrix.nonZeros(); ++q) bad += !std::isfinite(value[q]);
        throw InputError(
            path, fmt::format("X row {} (SNP '{}'), column {} (feature '{}')", r,
                              out.rows[static_cast<std::size_t>(r)], inner[k],
                              out.cols[static_cast<std::size_t>(inner[k])]),
            fmt::format("value {} is not finite ({} non-finite values in X)", value[k], bad),
            "every weight must be a finite number; re-create the matrix (gsmap "
            "ldscore-weight-matrix) or replace NaN with 0");
      }
    }
  }
  return out;
}

}  // namespace

SnpGeneWeights read_snp_gene_weights(const std::string& h5ad_path) {
  LabelledMatrix m = read_labelled_matrix(h5ad_path);
  if (m.cols.empty()) {
    throw InputError(h5ad_path, "var", "no feature columns",
                     "the SNP-gene weight matrix needs gene columns and a last 'Unmapped' column");
  }
  GSMAP_LOG_INFO(
      "{}: SNP-gene weights for {} SNPs x {} features ({} gene columns + '{}'), {} "
      "stored entries",
      h5ad_path, m.rows.size(), m.cols.size(), m.cols.size() - 1, m.cols.back(),
      m.matrix.nonZeros());
  SnpGeneWeights w;
  w.snp = std::move(m.rows);
  w.features = std::move(m.cols);
  w.matrix = std::move(m.matrix);
  return w;
}

ExtraBaseline read_extra_baseline(const std::string& h5ad_path) {
  LabelledMatrix m = read_labelled_matrix(h5ad_path);
  ExtraBaseline b;
  const auto n_cols = static_cast<std::size_t>(m.matrix.cols());
  b.values.assign(static_cast<std::size_t>(m.matrix.rows()) * n_cols, 0.0f);
  for (Index r = 0; r < m.matrix.outerSize(); ++r) {
    for (SparseF32<Eigen::RowMajor>::InnerIterator it(m.matrix, r); it; ++it) {
      b.values[static_cast<std::size_t>(r) * n_cols + static_cast<std::size_t>(it.col())] =
          it.value();
    }
  }
  GSMAP_LOG_INFO("{}: additional baseline, {} SNPs x {} annotations", h5ad_path, m.rows.size(),
                 m.cols.size());
  b.snp = std::move(m.rows);
  b.annotations = std::move(m.cols);
  return b;
}

}  // namespace gsmap::io
