// Every .h5ad shipped with the fixtures (and the real squidpy subset) read by H5adReader equals
// what Debian's anndata reads: names, every obs/var column, obsm, X and layers, detected counts.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "test_h5ad_util.hpp"

namespace gsmap::test::h5ad {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> shared_h5ad_files() {
  std::vector<std::string> files;
  if (!have_shared()) return files;
  std::error_code ec;
  for (const auto& fx : fs::directory_iterator(shared_dir() / "fixtures", ec)) {
    const fs::path st = fx.path() / "input" / "st";
    if (fs::is_directory(st, ec)) {
      for (const auto& f : fs::directory_iterator(st, ec)) {
        if (f.path().extension() == ".h5ad") files.push_back(f.path().string());
      }
    }
    const fs::path weights = fx.path() / "input" / "weights" / "snp_gene_weights.h5ad";
    if (fs::exists(weights, ec)) files.push_back(weights.string());
  }
  const fs::path real =
      shared_dir() / "data" / "real" / "squidpy" / "visium_mouse_brain_subset.h5ad";
  if (fs::exists(real, ec)) files.push_back(real.string());
  std::sort(files.begin(), files.end());
  return files;
}

json python_dump(const std::string& path) {
  return python_json(std::string(kPyPrelude) + "P = " + py_str(path) + R"PY(
a = ad.read_h5ad(P)
with h5py.File(P, "r") as f:
    enc = f["X"].attrs.get("encoding-type", "array")
    if isinstance(enc, bytes): enc = enc.decode()
    x_dtype = str(f["X"].dtype if isinstance(f["X"], h5py.Dataset) else f["X"]["data"].dtype)
X = a.X
if sp.issparse(X) and X.format == "csr":
    detected = np.diff(X.indptr)
else:
    detected = np.asarray((X > 0).sum(axis=1)).ravel()
emit({"n_obs": a.n_obs, "n_vars": a.n_vars, "obs": frame(a.obs), "var": frame(a.var),
      "obsm": {k: {"dtype": str(np.asarray(v).dtype), "values": dense(v)} for k, v in a.obsm.items()},
      "X": csr(X), "X_format": enc, "X_dtype": x_dtype,
      "layers": {k: csr(v) for k, v in a.layers.items()},
      "detected": [int(d) for d in detected]})
)PY");
}

class SharedH5ad : public ::testing::TestWithParam<std::string> {};

TEST_P(SharedH5ad, MatchesAnndata) {
  const std::string path = GetParam();
  const json py = python_dump(path);
  io::H5adReader r(path);

  ASSERT_EQ(r.n_obs(), py.at("n_obs").get<std::int64_t>());
  ASSERT_EQ(r.n_vars(), py.at("n_vars").get<std::int64_t>());
  EXPECT_EQ(r.obs_names(), py.at("obs").at("index").get<std::vector<std::string>>());
  EXPECT_EQ(r.var_names(), py.at("var").at("index").get<std::vector<std::string>>());

  // Every obs and var column, in column order.
  EXPECT_EQ(r.obs_column_names(), py.at("obs").at("columns").get<std::vector<std::string>>());
  for (const auto& [name, col] : py.at("obs").at("cols").items()) {
    EXPECT_TRUE(r.has_obs_column(name));
    expect_column_eq(r.obs_column(name), col, "obs/" + name);
  }
  EXPECT_EQ(r.var_column_names(), py.at("var").at("columns").get<std::vector<std::string>>());
  for (const auto& [name, col] : py.at("var").at("cols").items()) {
    expect_column_eq(r.var_column(name), col, "var/" + name);
  }

  // obsm: values in f64 and through f32, and the stored type.
  std::vector<std::string> keys;
  for (const auto& [key, m] : py.at("obsm").items()) keys.push_back(key);
  EXPECT_EQ(r.obsm_keys(), keys);
  for (const auto& [key, m] : py.at("obsm").items()) {
    SCOPED_TRACE("obsm/" + key);
    std::int64_t n_cols = -1;
    const auto v = r.obsm(key, &n_cols);
    const auto f = r.obsm_f32(key, nullptr);
    EXPECT_EQ(r.obsm_dtype(key), m.at("dtype").get<std::string>());
    const auto rows = m.at("values").get<std::vector<std::vector<double>>>();
    ASSERT_EQ(static_cast<std::int64_t>(rows.size()), r.n_obs());
    ASSERT_EQ(n_cols, static_cast<std::int64_t>(rows.at(0).size()));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (std::size_t j = 0; j < rows[i].size(); ++j) {
        ASSERT_EQ(v[i * n_cols + j], rows[i][j]) << i << "," << j;
        ASSERT_EQ(f[i * n_cols + j], static_cast<float>(rows[i][j])) << i << "," << j;
      }
    }
  }

  // X: info, the full matrix, random row ranges (one hyperslab each), a dense block.
  const auto info = r.matrix_info("X");
  const json& x = py.at("X");
  EXPECT_EQ(info.n_rows, r.n_obs());
  EXPECT_EQ(info.n_cols, r.n_vars());
  EXPECT_EQ(info.dtype, py.at("X_dtype").get<std::string>());
  const std::string fmt = py.at("X_format");
  EXPECT_EQ(info.format, fmt == "csr_matrix"   ? io::MatrixFormat::kCsr
                         : fmt == "csc_matrix" ? io::MatrixFormat::kCsc
                                               : io::MatrixFormat::kDense);
  if (info.format != io::MatrixFormat::kDense) {
    EXPECT_EQ(info.nnz, static_cast<std::int64_t>(x.at("data").size()));
  }
  expect_csr_rows_eq(r.read_rows("X", 0, info.n_rows), x, 0, info.n_rows);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 5; ++trial) {
    std::uniform_int_distribution<std::int64_t> pick(0, info.n_rows);
    std::int64_t a = pick(rng), b = pick(rng);
    if (a > b) std::swap(a, b);
    SCOPED_TRACE(::testing::Message() << "rows [" << a << ", " << b << ")");
    expect_csr_rows_eq(r.read_rows("X", a, b), x, a, b);
  }
  {
    const std::int64_t a = info.n_rows / 3, b = std::min(info.n_rows, a + 5);
    const auto block = r.read_rows_dense("X", a, b);
    const auto indptr = x.at("indptr").get<std::vector<std::int64_t>>();
    std::vector<float> expected(static_cast<std::size_t>((b - a) * info.n_cols), 0.0f);
    for (std::int64_t row = a; row < b; ++row) {
      for (auto e = indptr[row]; e < indptr[row + 1]; ++e) {
        expected[(row - a) * info.n_cols + x.at("indices")[e].get<std::int64_t>()] +=
            static_cast<float>(x.at("data")[e].get<double>());
      }
    }
    EXPECT_EQ(block, expected);
  }
  EXPECT_EQ(r.row_detected_counts("X"), py.at("detected").get<std::vector<std::int64_t>>());

  // Layers.
  std::vector<std::string> layer_names;
  for (const auto& [name, m] : py.at("layers").items()) {
    layer_names.push_back(name);
    SCOPED_TRACE("layers/" + name);
    ASSERT_TRUE(r.has_layer(name));
    expect_csr_rows_eq(r.read_rows(name, 0, info.n_rows), m, 0, info.n_rows);
    const std::int64_t half = info.n_rows / 2;
    expect_csr_rows_eq(r.read_rows(name, half, info.n_rows), m, half, info.n_rows);
  }
  EXPECT_EQ(r.layer_names(), layer_names);
}

std::string file_test_name(const ::testing::TestParamInfo<std::string>& info) {
  const fs::path p(info.param);
  std::string name =
      p.parent_path().parent_path().parent_path().filename().string() + "_" + p.stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SharedH5ad);
INSTANTIATE_TEST_SUITE_P(Files, SharedH5ad, ::testing::ValuesIn(shared_h5ad_files()),
                         file_test_name);

TEST(SharedH5adList, FindsEveryFixtureFile) {
  GSMAP_REQUIRE_SHARED();
  // fx2d, fx3d (4 slices), fxgrid: st files + one weight matrix each, plus the squidpy subset.
  EXPECT_EQ(shared_h5ad_files().size(), 10u);
}

}  // namespace
}  // namespace gsmap::test::h5ad
