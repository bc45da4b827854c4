// Bad inputs: each gives an InputError whose message names the file and the key (and, for missing
// keys, what the file does have).
#include <gtest/gtest.h>

#include <fstream>

#include "test_h5ad_util.hpp"

namespace gsmap::test::h5ad {
namespace {

// Makes a valid small file plus broken variants of it with h5py; returns their paths by name.
class H5adBadInputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("h5ad_errors");
    const std::string d = dir_->path().string();
    python_json(std::string(kPyPrelude) + "D = " + py_str(d) + R"PY(
import shutil
n, g = 6, 4
x = sp.csr_matrix(np.array([[1, 0, 2, 0], [0, 3, 0, 0], [4, 0, 0, 5], [0, 0, 0, 0],
                            [6, 7, 0, 0], [0, 0, 8, 0]], dtype=np.float32))
a = ad.AnnData(X=x, obs=pd.DataFrame({"annotation": pd.Categorical(list("aabbab"))},
                                     index=[f"c{i}" for i in range(n)]),
               var=pd.DataFrame(index=[f"g{j}" for j in range(g)]))
a.obsm["spatial"] = np.arange(2 * n, dtype=np.float64).reshape(n, 2)
a.layers["counts"] = x.copy()
good = D + "/good.h5ad"
a.write_h5ad(good)
def variant(name, fn):
    p = D + "/" + name + ".h5ad"
    shutil.copy(good, p)
    with h5py.File(p, "r+") as f:
        fn(f)
def obsm_1d(f):
    d = f["obsm"].create_dataset("flat", data=np.arange(n, dtype=np.float64))
    d.attrs["encoding-type"] = "array"; d.attrs["encoding-version"] = "0.2.0"
def obsm_short(f):
    d = f["obsm"].create_dataset("short", data=np.zeros((n - 1, 2)))
    d.attrs["encoding-type"] = "array"; d.attrs["encoding-version"] = "0.2.0"
def not_monotone(f):
    f["X/indptr"][3] = 1
def out_of_range(f):
    f["X/indptr"][6] = 99
def bad_index(f):
    f["X/indices"][2] = 17
def shape_mismatch(f):
    f["X"].attrs["shape"] = np.array([n + 1, g], dtype=np.int64)
def legacy_root(f):
    for k in ("encoding-type", "encoding-version"):
        del f.attrs[k]
def legacy_sparse(f):
    for k in ("encoding-type", "encoding-version"):
        del f["X"].attrs[k]
    f["X"].attrs["h5sparse_format"] = "csr"
    f["X"].attrs["h5sparse_shape"] = np.array([n, g])
def legacy_categorical(f):
    codes = f["obs/annotation/codes"][...]
    cats = f["obs/annotation/categories"][...]
    del f["obs/annotation"]
    c = f["obs"].create_group("__categories").create_dataset("annotation", data=cats)
    d = f["obs"].create_dataset("annotation", data=codes)
    d.attrs["categories"] = c.ref
variant("obsm_1d", obsm_1d)
variant("obsm_short", obsm_short)
variant("not_monotone", not_monotone)
variant("out_of_range", out_of_range)
variant("bad_index", bad_index)
variant("shape_mismatch", shape_mismatch)
variant("legacy_root", legacy_root)
variant("legacy_sparse", legacy_sparse)
variant("legacy_categorical", legacy_categorical)
with open(D + "/text.h5ad", "w") as t:
    t.write("this is not HDF5\n")
emit({"ok": True})
)PY");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& name) {
    return (dir_->path() / (name + ".h5ad")).string();
  }
  static TempDir* dir_;
};
TempDir* H5adBadInputs::dir_ = nullptr;

TEST_F(H5adBadInputs, GoodFileReads) {
  io::H5adReader r(file("good"));
  EXPECT_EQ(r.n_obs(), 6);
  EXPECT_EQ(r.read_rows("X", 0, 6).indptr, (std::vector<std::int64_t>{0, 2, 3, 5, 5, 7, 8}));
}

TEST_F(H5adBadInputs, MissingFile) {
  const std::string p = file("does_not_exist");
  expect_input_error([&] { io::H5adReader r(p); }, p, {"not found"});
}

TEST_F(H5adBadInputs, TextFileIsNotHdf5) {
  const std::string p = file("text");
  expect_input_error([&] { io::H5adReader r(p); }, p, {"not an HDF5 file"});
}

TEST_F(H5adBadInputs, MissingObsColumnListsExisting) {
  const std::string p = file("good");
  io::H5adReader r(p);
  expect_input_error([&] { r.obs_column("cell_type"); }, p, {"obs/cell_type", "annotation"});
  expect_input_error([&] { r.var_column("symbol"); }, p, {"var/symbol", "(none)"});
}

TEST_F(H5adBadInputs, MissingObsmKeyListsExisting) {
  const std::string p = file("good");
  io::H5adReader r(p);
  expect_input_error([&] { r.obsm("emb_cell", nullptr); }, p, {"obsm/emb_cell", "spatial"});
}

TEST_F(H5adBadInputs, MissingLayerListsExisting) {
  const std::string p = file("good");
  io::H5adReader r(p);
  EXPECT_FALSE(r.has_layer("raw"));
  expect_input_error([&] { r.read_rows("raw", 0, 1); }, p, {"layers/raw", "counts"});
  expect_input_error([&] { r.matrix_info("raw"); }, p, {"layers/raw", "X"});
}

TEST_F(H5adBadInputs, ObsmWrongDimensionality) {
  const std::string p = file("obsm_1d");
  io::H5adReader r(p);
  expect_input_error([&] { r.obsm("flat", nullptr); }, p, {"obsm/flat", "2-D"});
  expect_input_error([&] { r.obsm_f32("flat", nullptr); }, p, {"obsm/flat"});
  const std::string q = file("obsm_short");
  io::H5adReader s(q);
  expect_input_error([&] { s.obsm("short", nullptr); }, q, {"obsm/short", "5 rows"});
}

TEST_F(H5adBadInputs, IndptrNotMonotone) {
  const std::string p = file("not_monotone");
  io::H5adReader r(p);
  expect_input_error([&] { r.read_rows("X", 0, 6); }, p, {"X/indptr", "monotone"});
  expect_input_error([&] { r.row_detected_counts("X"); }, p, {"X/indptr"});
  expect_input_error([&] { r.row_detected_capped("X", 20); }, p, {"X/indptr"});
  // Rows whose indptr slice is intact still read (only the rows read are validated).
  EXPECT_EQ(r.read_rows("X", 4, 6).indices, (std::vector<std::int32_t>{0, 1, 2}));
}

TEST_F(H5adBadInputs, IndptrOutOfRange) {
  const std::string p = file("out_of_range");
  io::H5adReader r(p);
  expect_input_error([&] { r.read_rows("X", 5, 6); }, p, {"X/indptr", "out of range"});
}

TEST_F(H5adBadInputs, ColumnIndexOutOfRange) {
  const std::string p = file("bad_index");
  io::H5adReader r(p);
  expect_input_error([&] { r.read_rows("X", 0, 3); }, p, {"X/indices", "out of range"});
}

TEST_F(H5adBadInputs, ShapeAttributeMismatch) {
  const std::string p = file("shape_mismatch");
  io::H5adReader r(p);
  expect_input_error([&] { r.matrix_info("X"); }, p, {"X", "shape"});
  expect_input_error([&] { r.read_rows("X", 0, 1); }, p, {"X", "shape"});
}

TEST_F(H5adBadInputs, LegacyFilesAskForResave) {
  const std::string p = file("legacy_root");
  expect_input_error([&] { io::H5adReader r(p); }, p,
                     {"encoding-type", "anndata <= 0.7", "re-save"});
  const std::string q = file("legacy_sparse");
  io::H5adReader r(q);
  expect_input_error([&] { r.read_rows("X", 0, 1); }, q, {"X", "encoding-type", "re-save"});
  const std::string c = file("legacy_categorical");
  io::H5adReader rc(c);
  expect_input_error([&] { rc.obs_column("annotation"); }, c, {"obs/annotation", "anndata <= 0.7"});
}

}  // namespace
}  // namespace gsmap::test::h5ad
