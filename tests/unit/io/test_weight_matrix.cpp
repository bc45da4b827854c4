#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gsmap/core/error.hpp"
#include "gsmap/io/weight_matrix.hpp"
#include "test_support.hpp"

namespace {
namespace fs = std::filesystem;
using gsmap::InputError;
using Matrix = Eigen::SparseMatrix<float, Eigen::RowMajor, std::int64_t>;

template <typename Fn>
std::string input_error_message(Fn&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError thrown";
  return {};
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

double row_sum(const Matrix& m, std::int64_t r) {
  double s = 0;
  for (Matrix::InnerIterator it(m, r); it; ++it) s += it.value();
  return s;
}

TEST(WeightMatrix, FixtureMatchesScipy) {
  GSMAP_REQUIRE_SHARED();
  const std::string path =
      (gsmap::test::fixture("fx2d") / "input/weights/snp_gene_weights.h5ad").string();
  auto w = gsmap::io::read_snp_gene_weights(path);
  ASSERT_EQ(w.matrix.rows(), 30000);
  ASSERT_EQ(w.matrix.cols(), 506);
  EXPECT_EQ(w.matrix.nonZeros(), 164468);
  EXPECT_TRUE(w.matrix.isCompressed());
  ASSERT_EQ(w.snp.size(), 30000u);
  ASSERT_EQ(w.features.size(), 506u);
  EXPECT_EQ(w.features.back(), "Unmapped");

  // Per row: stored entries and the f64 sum of the f32 values, from anndata/scipy.
  const std::string py = gsmap::test::run_python(
      "import anndata, numpy as np\n"
      "a = anndata.read_h5ad('" +
      path +
      "')\n"
      "X = a.X.tocsr(); X.sort_indices()\n"
      "print(a.obs_names[0], a.obs_names[-1], a.var_names[0], a.var_names[-1], X.nnz)\n"
      "nnz = np.diff(X.indptr)\n"
      "s = np.asarray(X.astype(np.float64).sum(axis=1)).ravel()\n"
      "print('\\n'.join(f'{k} {v!r}' for k, v in zip(nnz, s)))\n");
  std::istringstream in(py);
  std::string obs0, obs_last, var0, var_last;
  std::int64_t nnz = 0;
  in >> obs0 >> obs_last >> var0 >> var_last >> nnz;
  EXPECT_EQ(w.snp.front(), obs0);
  EXPECT_EQ(w.snp.back(), obs_last);
  EXPECT_EQ(w.features.front(), var0);
  EXPECT_EQ(w.features.back(), var_last);
  EXPECT_EQ(w.matrix.nonZeros(), nnz);
  int bad = 0;
  double total = 0;
  for (std::int64_t r = 0; r < 30000; ++r) {
    std::int64_t k = 0;
    double s = 0;
    in >> k >> s;
    const std::int64_t ours_k = w.matrix.outerIndexPtr()[r + 1] - w.matrix.outerIndexPtr()[r];
    const double ours_s = row_sum(w.matrix, r);
    total += ours_s;
    if ((ours_k != k || std::fabs(ours_s - s) > 1e-12 * std::fabs(s)) && ++bad <= 5) {
      ADD_FAILURE() << "row " << r << ": ours " << ours_k << " " << ours_s << ", scipy " << k << " "
                    << s;
    }
  }
  EXPECT_EQ(bad, 0);
  EXPECT_GT(total, 0.0);
}

// Synthetic files in the other layouts: CSC and dense written by anndata, and a CSR group written
// by hand with unsorted column indices and a repeated (row, col) entry, as scipy allows.
TEST(WeightMatrix, CscDenseAndNonCanonicalCsr) {
  gsmap::test::TempDir dir("wm_layouts");
  const std::string d = dir.path().string();
  gsmap::test::run_python(
      "import anndata, numpy as np, pandas as pd, scipy.sparse as sp, h5py\n"
      "X = np.array([[1.5, 0, 2], [0, 0, 0], [0.25, 4, 0], [0, 0, 8]], dtype=np.float32)\n"
      "obs = pd.DataFrame(index=['rs1', 'rs2', 'rs3', 'rs4'])\n"
      "var = pd.DataFrame(index=['G1', 'G2', 'Unmapped'])\n"
      "anndata.AnnData(sp.csc_matrix(X), obs=obs, var=var).write_h5ad('" +
      d +
      "/csc.h5ad')\n"
      "anndata.AnnData(X.astype(np.float64), obs=obs, var=var).write_h5ad('" +
      d +
      "/dense.h5ad')\n"
      "anndata.AnnData(sp.csr_matrix(X), obs=obs, var=var).write_h5ad('" +
      d +
      "/csr.h5ad')\n"
      "with h5py.File('" +
      d +
      "/csr.h5ad', 'r+') as f:\n"
      "    del f['X/indices']; del f['X/data']; del f['X/indptr']\n"
      "    # row 0: (2, 2.0), (0, 1.0), (0, 0.5) -> 1.5 at col 0 after summing; row 2: unsorted\n"
      "    f['X/indptr'] = np.array([0, 3, 3, 5, 6], dtype=np.int64)\n"
      "    f['X/indices'] = np.array([2, 0, 0, 1, 0, 2], dtype=np.int64)\n"
      "    f['X/data'] = np.array([2, 1, 0.5, 4, 0.25, 8], dtype=np.float32)\n");
  for (const char* name : {"csc.h5ad", "dense.h5ad", "csr.h5ad"}) {
    SCOPED_TRACE(name);
    auto w = gsmap::io::read_snp_gene_weights(d + "/" + name);
    EXPECT_EQ(w.snp, (std::vector<std::string>{"rs1", "rs2", "rs3", "rs4"}));
    EXPECT_EQ(w.features, (std::vector<std::string>{"G1", "G2", "Unmapped"}));
    ASSERT_EQ(w.matrix.rows(), 4);
    ASSERT_EQ(w.matrix.cols(), 3);
    EXPECT_EQ(w.matrix.nonZeros(), 5);
    EXPECT_EQ(w.matrix.coeff(0, 0), 1.5f);
    EXPECT_EQ(w.matrix.coeff(0, 2), 2.0f);
    EXPECT_EQ(w.matrix.coeff(2, 0), 0.25f);
    EXPECT_EQ(w.matrix.coeff(2, 1), 4.0f);
    EXPECT_EQ(w.matrix.coeff(3, 2), 8.0f);
    EXPECT_EQ(w.matrix.coeff(1, 1), 0.0f);
    // Inner indices sorted within every row (what Eigen's algorithms assume).
    for (std::int64_t r = 0; r < 4; ++r) {
      const auto* idx = w.matrix.innerIndexPtr();
      for (auto k = w.matrix.outerIndexPtr()[r] + 1; k < w.matrix.outerIndexPtr()[r + 1]; ++k) {
        EXPECT_LT(idx[k - 1], idx[k]);
      }
    }
  }
  auto b = gsmap::io::read_extra_baseline(d + "/dense.h5ad");
  EXPECT_EQ(b.snp.size(), 4u);
  EXPECT_EQ(b.annotations, (std::vector<std::string>{"G1", "G2", "Unmapped"}));
  EXPECT_EQ(b.values, (std::vector<float>{1.5f, 0, 2, 0, 0, 0, 0.25f, 4, 0, 0, 0, 8}));
  auto c = gsmap::io::read_extra_baseline(d + "/csc.h5ad");
  EXPECT_EQ(c.values, b.values);
}

TEST(WeightMatrix, BadInputs) {
  gsmap::test::TempDir dir("wm_bad");
  const std::string d = dir.path().string();
  std::string msg =
      input_error_message([&] { gsmap::io::read_snp_gene_weights(d + "/none.h5ad"); });
  EXPECT_TRUE(contains(msg, d + "/none.h5ad") && contains(msg, "not found")) << msg;
  std::ofstream(d + "/text.h5ad") << "not hdf5\n";
  msg = input_error_message([&] { gsmap::io::read_snp_gene_weights(d + "/text.h5ad"); });
  EXPECT_TRUE(contains(msg, "not an HDF5 file")) << msg;
  gsmap::test::run_python(
      "import h5py, numpy as np\n"
      "def base(name):\n"
      "    f = h5py.File('" +
      d +
      "/' + name, 'w')\n"
      "    f.attrs['encoding-type'] = 'anndata'\n"
      "    for g in ['obs', 'var']:\n"
      "        f.create_group(g).attrs['_index'] = '_index'\n"
      "    f['obs/_index'] = np.array(['rs1', 'rs2'], dtype=object).astype('S')\n"
      "    f['var/_index'] = np.array(['G1', 'Unmapped'], dtype=object).astype('S')\n"
      "    return f\n"
      "with base('nox.h5ad'): pass\n"
      "with base('legacy.h5ad') as f:\n"
      "    x = f.create_group('X'); x.attrs['h5sparse_format'] = 'csr'\n"
      "with base('badidx.h5ad') as f:\n"
      "    x = f.create_group('X'); x.attrs['encoding-type'] = 'csr_matrix'\n"
      "    x.attrs['shape'] = np.array([2, 2])\n"
      "    x['indptr'] = np.array([0, 1, 2]); x['indices'] = np.array([0, 5])\n"
      "    x['data'] = np.array([1, 2], dtype=np.float32)\n"
      "with base('shape.h5ad') as f:\n"
      "    f['X'] = np.ones((3, 2), dtype=np.float32)\n"
      "with base('noindex.h5ad') as f:\n"
      "    del f['obs'].attrs['_index']\n"
      "with base('nan.h5ad') as f:\n"
      "    x = f.create_group('X'); x.attrs['encoding-type'] = 'csr_matrix'\n"
      "    x.attrs['shape'] = np.array([2, 2])\n"
      "    x['indptr'] = np.array([0, 1, 3]); x['indices'] = np.array([0, 0, 1])\n"
      "    x['data'] = np.array([1, 2, np.nan], dtype=np.float32)\n"
      "with base('inf.h5ad') as f:\n"
      "    f['X'] = np.array([[1, -np.inf], [np.inf, 0]], dtype=np.float32)\n");
  msg = input_error_message([&] { gsmap::io::read_snp_gene_weights(d + "/nox.h5ad"); });
  EXPECT_TRUE(contains(msg, "no X matrix")) << msg;
  msg = input_error_message([&] { gsmap::io::read_snp_gene_weights(d + "/legacy.h5ad"); });
  EXPECT_TRUE(contains(msg, "anndata <= 0.7") && contains(msg, "re-save")) << msg;
  msg = input_error_message([&] { gsmap::io::read_snp_gene_weights(d + "/badidx.h5ad"); });
  EXPECT_TRUE(contains(msg, "X/indices") && contains(msg, "index 5 at position 1")) << msg;
  msg = input_error_message([&] { gsmap::io::read_snp_gene_weights(d + "/shape.h5ad"); });
  EXPECT_TRUE(contains(msg, "shape 3 x 2 does not match obs (2) x var (2)")) << msg;
  msg = input_error_message([&] { gsmap::io::read_extra_baseline(d + "/noindex.h5ad"); });
  EXPECT_TRUE(contains(msg, "obs") && contains(msg, "_index")) << msg;
  // Non-finite weights (every spot's regression would be NaN): the first one's SNP and feature,
  // and the count (docs/troubleshooting.md), for the weight matrix and extra baselines alike.
  msg = input_error_message([&] { gsmap::io::read_snp_gene_weights(d + "/nan.h5ad"); });
  EXPECT_TRUE(contains(msg, d + "/nan.h5ad: X row 1 (SNP 'rs2'), column 1 (feature 'Unmapped'): "
                            "value nan is not finite (1 non-finite values in X)")) << msg;
  msg = input_error_message([&] { gsmap::io::read_extra_baseline(d + "/inf.h5ad"); });
  EXPECT_TRUE(contains(msg, "X row 0 (SNP 'rs1'), column 1 (feature 'Unmapped'): value -inf is "
                            "not finite (2 non-finite values in X)")) << msg;
}

}  // namespace
