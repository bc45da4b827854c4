// obs/var columns of every kind anndata writes: nullable integer/boolean (values + mask),
// categoricals with missing values and numeric categories, bool enums, numeric widths, fixed-length
// strings, a categorical index, and the nullable-string-array of anndata 0.10-0.12 (written here
// with h5py in exactly that layout, since Debian's anndata 0.8 cannot write it).
#include <gtest/gtest.h>

#include <cmath>

#include "test_h5ad_util.hpp"

namespace gsmap::test::h5ad {
namespace {

// obs_column(name, a, b) is the rows [a, b) of obs_column(name): kind, categories, dtype, labels.
void expect_ranges_match(const io::H5adReader& r) {
  const auto n = r.n_obs();
  for (const auto& name : r.obs_column_names()) {
    const io::Column whole = r.obs_column(name);
    for (const auto& [a, b] : std::vector<std::pair<std::int64_t, std::int64_t>>{
             {0, n}, {0, 0}, {1, 4}, {n - 2, n}, {3, 3}}) {
      const io::Column part = r.obs_column(name, a, b);
      const io::Column expected = io::slice_rows(whole, a, b);
      ASSERT_EQ(part.index(), expected.index()) << name;
      ASSERT_EQ(io::column_size(part), static_cast<std::size_t>(b - a)) << name;
      for (std::int64_t i = 0; i < b - a; ++i) {
        EXPECT_EQ(io::column_label(part, static_cast<std::size_t>(i)),
                  io::column_label(expected, static_cast<std::size_t>(i)))
            << name << " row " << a + i;
      }
      if (const auto* c = std::get_if<io::Categorical>(&part)) {
        EXPECT_EQ(c->categories, std::get<io::Categorical>(expected).categories) << name;
        EXPECT_EQ(c->ordered, std::get<io::Categorical>(expected).ordered) << name;
      }
      if (const auto* v = std::get_if<io::NumericColumn>(&part)) {
        const auto& e = std::get<io::NumericColumn>(expected);
        EXPECT_EQ(v->dtype, e.dtype) << name;
        EXPECT_EQ(v->is_bool, e.is_bool) << name;
        EXPECT_EQ(v->is_integer, e.is_integer) << name;
      }
    }
  }
  EXPECT_THROW((void)r.obs_column(r.obs_column_names().front(), n - 1, n + 1), std::out_of_range);
}

TEST(H5adColumns, AnndataNullableCategoricalBool) {
  TempDir dir("h5ad_columns");
  const std::string path = (dir.path() / "cols.h5ad").string();
  const json py = python_json(std::string(kPyPrelude) + "P = " + py_str(path) + R"PY(
n = 7
obs = pd.DataFrame({
    "nint": pd.array([1, None, 3, -4, None, 6, 7], dtype="Int64"),
    "nbool": pd.array([True, None, False, True, True, None, False], dtype="boolean"),
    "cat_nan": pd.Categorical(["a", None, "b", "a", None, "c", "b"]),
    "cat_ordered": pd.Categorical(["lo", "hi", "lo", "mid", "hi", "lo", "mid"],
                                  categories=["lo", "mid", "hi"], ordered=True),
    "cat_int": pd.Categorical([3, 1, 3, 2, 1, 1, 2]),
    "flag": [True, False, True, True, False, False, True],
    "text": ["u", "v", "w", "x", "y", "z", "\u00e9t\u00e9"],
    "obj_nan": ["p", np.nan, "p", "q", np.nan, "q", "p"],
    "f64": [1.5, np.nan, -2.0, 1e300, 0.1, 3.0, -0.0],
    "f32": np.array([1.5, np.nan, -2.0, 3.25, 0.1, 3.0, 7.0], dtype=np.float32),
    "i8": np.array([1, -2, 3, 127, -128, 0, 5], dtype=np.int8),
    "u16": np.array([1, 2, 3, 65535, 0, 9, 5], dtype=np.uint16),
    "i64": np.array([2**53, -1, 0, 1, 2, 3, 4], dtype=np.int64),
}, index=[f"cell{i}" for i in range(n)])
var = pd.DataFrame({"gene_type": pd.Categorical(["pc", "lnc"]), "hv": [True, False],
                    "mean": [0.5, 2.0]}, index=["GeneA", "GeneB"])
ad.AnnData(X=np.zeros((n, 2), dtype=np.float32), obs=obs, var=var).write_h5ad(P)
b = ad.read_h5ad(P)
emit({"obs": frame(b.obs), "var": frame(b.var)})
)PY");
  io::H5adReader r(path);
  EXPECT_EQ(r.obs_names(), py.at("obs").at("index").get<std::vector<std::string>>());
  EXPECT_EQ(r.obs_column_names(), py.at("obs").at("columns").get<std::vector<std::string>>());
  for (const auto& [name, col] : py.at("obs").at("cols").items()) {
    expect_column_eq(r.obs_column(name), col, "obs/" + name);
  }
  for (const auto& [name, col] : py.at("var").at("cols").items()) {
    expect_column_eq(r.var_column(name), col, "var/" + name);
  }
  expect_ranges_match(r);
  // Hand-derived checks of the encodings that matter downstream.
  const auto nint = std::get<io::NumericColumn>(r.obs_column("nint"));
  EXPECT_TRUE(nint.is_integer);
  EXPECT_EQ(nint.values[0], 1.0);
  EXPECT_TRUE(std::isnan(nint.values[1]));
  EXPECT_EQ(nint.values[3], -4.0);
  const auto nbool = std::get<io::NumericColumn>(r.obs_column("nbool"));
  EXPECT_TRUE(nbool.is_bool);
  EXPECT_TRUE(std::isnan(nbool.values[5]));
  EXPECT_EQ(io::column_label(r.obs_column("nbool"), 0), "True");
  EXPECT_EQ(io::column_label(r.obs_column("nbool"), 2), "False");
  const auto cat = r.obs_column("cat_nan");
  EXPECT_EQ(io::column_label(cat, 0), "a");
  EXPECT_EQ(io::column_label(cat, 1), std::nullopt);  // code -1
  EXPECT_EQ(io::column_label(r.obs_column("obj_nan"), 1), std::nullopt);
  EXPECT_EQ(io::column_label(r.obs_column("cat_int"), 0), "3");
  EXPECT_TRUE(std::get<io::Categorical>(r.obs_column("cat_ordered")).ordered);
  EXPECT_EQ(io::column_label(r.obs_column("f64"), 0), "1.5");
  EXPECT_EQ(io::column_label(r.obs_column("f64"), 5), "3.0");
  EXPECT_EQ(io::column_label(r.obs_column("i8"), 4), "-128");
  EXPECT_EQ(io::column_label(r.obs_column("flag"), 0), "True");
  EXPECT_EQ(io::column_label(r.obs_column("text"), 6), "\u00e9t\u00e9");
  EXPECT_EQ(io::column_size(r.obs_column("text")), 7u);
  EXPECT_TRUE(r.has_obs_column("flag"));
  EXPECT_FALSE(r.has_obs_column("_index"));
  EXPECT_FALSE(r.has_obs_column("nope"));
  EXPECT_EQ(r.var_names(), (std::vector<std::string>{"GeneA", "GeneB"}));
}

// Layouts anndata 0.8 cannot produce: written with h5py following the anndata 0.10-0.12 spec
// (nullable-string-array) and older writers (fixed-length strings, categorical index).
TEST(H5adColumns, NullableStringsFixedLengthAndCategoricalIndex) {
  TempDir dir("h5ad_columns");
  const std::string path = (dir.path() / "spec.h5ad").string();
  const json py = python_json(std::string(kPyPrelude) + "P = " + py_str(path) + R"PY(
def enc(o, t, v):
    o.attrs["encoding-type"] = t; o.attrs["encoding-version"] = v
strs = h5py.string_dtype("utf-8")
with h5py.File(P, "w") as f:
    enc(f, "anndata", "0.1.0")
    for g in ("layers", "obsm", "obsp", "varm", "varp", "uns"):
        enc(f.create_group(g), "dict", "0.1.0")
    x = f.create_dataset("X", data=np.arange(8, dtype=np.float32).reshape(4, 2)); enc(x, "array", "0.2.0")
    obs = f.create_group("obs"); enc(obs, "dataframe", "0.2.0")
    obs.attrs["_index"] = "cell_id"
    obs.attrs["column-order"] = np.array(["nstr", "fixed", "nstr_nan"], dtype=object)
    idx = obs.create_group("cell_id"); enc(idx, "categorical", "0.2.0")
    idx.attrs["ordered"] = False
    c = idx.create_dataset("categories", data=np.array(["A", "B", "C"], dtype=object), dtype=strs)
    enc(c, "string-array", "0.2.0")
    c = idx.create_dataset("codes", data=np.array([2, 0, 1, 0], dtype=np.int8)); enc(c, "array", "0.2.0")
    ns = obs.create_group("nstr"); enc(ns, "nullable-string-array", "0.1.0"); ns.attrs["na-value"] = "NA"
    d = ns.create_dataset("values", data=np.array(["x", "", "z", ""], dtype=object), dtype=strs)
    ns.create_dataset("mask", data=np.array([False, True, False, False]))
    fx = obs.create_dataset("fixed", data=np.array([b"ab", b"c", b"defg", b""], dtype="S4"))
    enc(fx, "string-array", "0.2.0")
    nn = obs.create_group("nstr_nan"); enc(nn, "nullable-string-array", "0.1.0"); nn.attrs["na-value"] = "NaN"
    nn.create_dataset("values", data=np.array(["", "q", "", "r"], dtype=object), dtype=strs)
    nn.create_dataset("mask", data=np.array([True, False, True, False]))
    var = f.create_group("var"); enc(var, "dataframe", "0.2.0")
    var.attrs["_index"] = "_index"; var.attrs["column-order"] = np.array([], dtype=np.float64)
    v = var.create_dataset("_index", data=np.array([b"G1", b"G2"], dtype="S2")); enc(v, "string-array", "0.2.0")
emit({"ok": True})
)PY");
  ASSERT_TRUE(py.at("ok").get<bool>());
  io::H5adReader r(path);
  EXPECT_EQ(r.n_obs(), 4);
  EXPECT_EQ(r.obs_names(), (std::vector<std::string>{"C", "A", "B", "A"}));  // categorical index
  EXPECT_EQ(r.var_names(), (std::vector<std::string>{"G1", "G2"}));          // fixed-length
  expect_ranges_match(r);
  EXPECT_TRUE(r.var_column_names().empty());                                 // empty f64 order
  EXPECT_EQ(r.obs_column_names(), (std::vector<std::string>{"nstr", "fixed", "nstr_nan"}));
  const auto nstr = std::get<io::StringColumn>(r.obs_column("nstr"));
  EXPECT_EQ(nstr.values, (std::vector<std::string>{"x", "", "z", ""}));
  EXPECT_EQ(nstr.missing, (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(io::column_label(r.obs_column("nstr"), 1), std::nullopt);
  EXPECT_EQ(io::column_label(r.obs_column("nstr"), 3), "");  // present, empty
  const auto nan_strs = r.obs_column("nstr_nan");
  EXPECT_EQ(io::column_label(nan_strs, 0), std::nullopt);
  EXPECT_EQ(io::column_label(nan_strs, 3), "r");
  const auto fixed = std::get<io::StringColumn>(r.obs_column("fixed"));
  EXPECT_EQ(fixed.values, (std::vector<std::string>{"ab", "c", "defg", ""}));
  EXPECT_EQ(r.matrix_info().format, io::MatrixFormat::kDense);
  EXPECT_EQ(r.read_rows_dense("X", 1, 3), (std::vector<float>{2, 3, 4, 5}));
}

}  // namespace
}  // namespace gsmap::test::h5ad
