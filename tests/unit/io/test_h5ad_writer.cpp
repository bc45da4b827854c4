// H5adWriter round trips: what we write, Debian's anndata 0.8 reads back with the same values;
// our own reader agrees; identical inputs give identical bytes; the completion flag.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <thread>

#include "gsmap/math/f16.hpp"
#include "test_h5ad_util.hpp"

namespace gsmap::test::h5ad {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Content {
  io::DataFrame obs, var;
  std::vector<float> x;             // 5 x 3 dense
  std::vector<std::uint16_t> gss;   // 5 x 3 f16 bits
  io::CsrRows counts;               // 5 x 3 CSR
  std::vector<double> spatial;      // 5 x 2
  std::vector<float> emb;           // 5 x 4
  std::vector<std::int32_t> idx;    // 5 x 2
  std::vector<std::uint16_t> sims;  // 5 x 2 f16
};

Content make_content() {
  Content c;
  c.obs.index = {"cell0|s1", "cell1|s1", "cell0-1|s1", "\u00e9|s2", "cell4|s2"};
  c.obs.columns.emplace_back("annotation",
                             io::Categorical{{"T cell", "B cell", "NK"}, {0, 1, -1, 2, 0}, false});
  c.obs.columns.emplace_back("slice_id", io::NumericColumn{{0, 0, 0, 1, 1}, false, true});
  c.obs.columns.emplace_back("score",
                             io::NumericColumn{{0.5, kNaN, -1e-300, 2.0, 1e300}, false, false});
  c.obs.columns.emplace_back("High_quality", io::NumericColumn{{1, 0, 1, 1, 0}, true, false});
  c.obs.columns.emplace_back("maybe", io::NumericColumn{{1, kNaN, 0, 1, 0}, true, false});
  c.obs.columns.emplace_back("count_na", io::NumericColumn{{3, 4, kNaN, -7, 0}, false, true});
  c.obs.columns.emplace_back("sample_name", io::StringColumn{{"s1", "s1", "s1", "s2", "s2"}, {}});
  c.obs.columns.emplace_back(
      "note", io::StringColumn{{"x", "", "y", "", "z"}, {false, true, false, true, false}});
  c.var.index = {"GeneA", "GeneB", "GeneC"};
  c.var.columns.emplace_back("mean", io::NumericColumn{{0.25, 1.5, 3.0}, false, false});
  for (int i = 0; i < 15; ++i) {
    c.x.push_back(static_cast<float>(i) * 0.1f - 0.3f);
    c.gss.push_back(math::f32_to_f16(static_cast<float>(i) / 7.0f));
  }
  c.counts.n_cols = 3;
  c.counts.indptr = {0, 2, 2, 3, 5, 6};
  c.counts.indices = {0, 2, 1, 0, 2, 1};
  c.counts.data = {1, 4, 2, 7, 0.5f, 3};
  for (int i = 0; i < 10; ++i) c.spatial.push_back(i * 1.25 - 3.0);
  for (int i = 0; i < 20; ++i) c.emb.push_back(static_cast<float>(i) / 3.0f);
  c.idx = {0, 1, 1, -1, 2, 0, 3, 4, 4, -1};
  for (int i = 0; i < 10; ++i)
    c.sims.push_back(math::f32_to_f16(0.6f + 0.01f * static_cast<float>(i)));
  return c;
}

void write_content(const std::string& path, const Content& c, bool complete) {
  io::H5adWriter w(path);
  w.write_obs(c.obs);
  w.write_var(c.var);
  w.write_dense_f32("X", c.x, 5, 3);
  w.write_dense_f16("gss", c.gss, 5, 3);
  w.write_csr_f32("counts", c.counts);
  w.write_obsm_f64("spatial", c.spatial, 5, 2);
  w.write_obsm_f32("emb_cell", c.emb, 5, 4);
  w.write_obsm_i32("gsMap_homo_indices", c.idx, 5, 2);
  w.write_obsm_f16("gsMap_homo_cell_sims", c.sims, 5, 2);
  w.set_root_attr_string("gsmap_version", "test");
  if (complete) w.set_root_attr_int("gsmap_complete", 1);
  w.close();
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(H5adWriter, AnndataReadsWhatWeWrite) {
  TempDir dir("h5ad_writer");
  const std::string path = (dir.path() / "ours.h5ad").string();
  const Content c = make_content();
  write_content(path, c, true);
  const json py = python_json(std::string(kPyPrelude) + "P = " + py_str(path) + R"PY(
a = ad.read_h5ad(P)
with h5py.File(P, "r") as f:
    complete = int(f.attrs["gsmap_complete"])
emit({"obs": frame(a.obs), "var": frame(a.var), "X": dense(a.X), "X_dtype": str(a.X.dtype),
      "gss": dense(a.layers["gss"]), "gss_dtype": str(a.layers["gss"].dtype),
      "counts": csr(a.layers["counts"]), "counts_format": a.layers["counts"].format,
      "obsm": {k: {"dtype": str(v.dtype), "values": dense(v)} for k, v in a.obsm.items()},
      "complete": complete, "shape": list(a.shape)})
)PY");
  EXPECT_EQ(py.at("shape"), json::array({5, 3}));
  EXPECT_EQ(py.at("obs").at("index").get<std::vector<std::string>>(), c.obs.index);
  EXPECT_EQ(py.at("var").at("index").get<std::vector<std::string>>(), c.var.index);
  EXPECT_EQ(py.at("complete").get<int>(), 1);

  // Columns as pandas sees them: categorical, int64, float64, bool, nullable boolean and
  // integer, string, and a string column with missing values (a categorical with -1).
  const json& cols = py.at("obs").at("cols");
  for (const auto& [name, col] : c.obs.columns) {
    if (name == "note") continue;  // stored as a categorical, checked below
    expect_column_eq(col, cols.at(name), "obs/" + name);
  }
  EXPECT_EQ(cols.at("maybe").at("values"), json::parse("[1, null, 0, 1, 0]"));
  EXPECT_EQ(cols.at("count_na").at("values"), json::parse("[3, 4, null, -7, 0]"));
  EXPECT_EQ(cols.at("note").at("kind"), "categorical");
  EXPECT_EQ(cols.at("note").at("categories"), json::parse(R"(["x", "y", "z"])"));
  EXPECT_EQ(cols.at("note").at("codes"), json::parse("[0, -1, 1, -1, 2]"));
  expect_column_eq(c.var.columns[0].second, py.at("var").at("cols").at("mean"), "var/mean");

  // Matrices and obsm, value for value, with the stored types.
  EXPECT_EQ(py.at("X_dtype"), "float32");
  EXPECT_EQ(py.at("gss_dtype"), "float16");
  EXPECT_EQ(py.at("counts_format"), "csr");
  const auto x = py.at("X").get<std::vector<std::vector<double>>>();
  const auto gss = py.at("gss").get<std::vector<std::vector<double>>>();
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(x[i][j], static_cast<double>(c.x[i * 3 + j]));
      EXPECT_EQ(gss[i][j], static_cast<double>(math::f16_to_f32(c.gss[i * 3 + j])));
    }
  }
  expect_csr_rows_eq(c.counts, py.at("counts"), 0, 5);
  const json& obsm = py.at("obsm");
  EXPECT_EQ(obsm.at("spatial").at("dtype"), "float64");
  EXPECT_EQ(obsm.at("emb_cell").at("dtype"), "float32");
  EXPECT_EQ(obsm.at("gsMap_homo_indices").at("dtype"), "int32");
  EXPECT_EQ(obsm.at("gsMap_homo_cell_sims").at("dtype"), "float16");
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 2; ++j) {
      EXPECT_EQ(obsm.at("spatial").at("values")[i][j].get<double>(), c.spatial[i * 2 + j]);
      EXPECT_EQ(obsm.at("gsMap_homo_indices").at("values")[i][j].get<double>(), c.idx[i * 2 + j]);
      EXPECT_EQ(obsm.at("gsMap_homo_cell_sims").at("values")[i][j].get<double>(),
                static_cast<double>(math::f16_to_f32(c.sims[i * 2 + j])));
    }
    for (int j = 0; j < 4; ++j) {
      EXPECT_EQ(obsm.at("emb_cell").at("values")[i][j].get<double>(),
                static_cast<double>(c.emb[i * 4 + j]));
    }
  }
}

TEST(H5adWriter, OurReaderReadsWhatWeWrite) {
  TempDir dir("h5ad_writer");
  const std::string path = (dir.path() / "ours.h5ad").string();
  const Content c = make_content();
  write_content(path, c, false);
  io::H5adReader r(path);
  EXPECT_EQ(r.obs_names(), c.obs.index);
  EXPECT_EQ(r.var_names(), c.var.index);
  std::vector<std::string> names;
  for (const auto& [name, col] : c.obs.columns) names.push_back(name);
  EXPECT_EQ(r.obs_column_names(), names);
  for (const auto& [name, col] : c.obs.columns) {
    for (std::size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(io::column_label(r.obs_column(name), i), io::column_label(col, i))
          << name << " row " << i;
    }
  }
  EXPECT_EQ(r.read_rows_dense("X", 0, 5), c.x);
  const auto gss = r.read_rows_dense("gss", 1, 4);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(gss[i], math::f16_to_f32(c.gss[3 + i]));
  const auto counts = r.read_rows("counts", 0, 5);
  EXPECT_EQ(counts.indptr, c.counts.indptr);
  EXPECT_EQ(counts.indices, c.counts.indices);
  EXPECT_EQ(counts.data, c.counts.data);
  EXPECT_EQ(r.obsm("spatial", nullptr), c.spatial);
  EXPECT_EQ(r.obsm_f32("emb_cell", nullptr), c.emb);
  EXPECT_EQ(r.obsm_dtype("gsMap_homo_cell_sims"), "float16");
  std::int64_t cols = 0;
  const auto sims = r.obsm_f32("gsMap_homo_cell_sims", &cols);
  EXPECT_EQ(cols, 2);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sims[i], math::f16_to_f32(c.sims[i]));
  const auto idx = r.obsm("gsMap_homo_indices", nullptr);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(idx[i], c.idx[i]);
  EXPECT_FALSE(io::is_complete(path));
}

TEST(H5adReader, RowSelectionsOfObsmAndObsNames) {
  // Rows by ranges (docs/algorithms.md §5.2): any ascending row list, gaps read through or not.
  TempDir dir("h5ad_rows");
  const std::string path = (dir.path() / "rows.h5ad").string();
  const Content c = make_content();
  write_content(path, c, false);
  io::H5adReader r(path);
  const std::vector<std::vector<std::int64_t>> lists = {{}, {0}, {4}, {1, 3}, {0, 2, 3, 4}, {0, 1, 2, 3, 4}};
  for (const auto& rows : lists) {
    std::int64_t cols = 0;
    const auto got = r.obsm_rows("spatial", rows, &cols);
    ASSERT_EQ(cols, 2);
    ASSERT_EQ(got.size(), rows.size() * 2);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      EXPECT_EQ(got[2 * k], c.spatial[static_cast<std::size_t>(2 * rows[k])]);
      EXPECT_EQ(got[2 * k + 1], c.spatial[static_cast<std::size_t>(2 * rows[k] + 1)]);
    }
    const auto emb = r.obsm_rows("emb_cell", rows, &cols);  // f32 on disk, exact in f64
    ASSERT_EQ(cols, 4);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      for (std::size_t d = 0; d < 4; ++d) {
        EXPECT_EQ(emb[4 * k + d], static_cast<double>(c.emb[static_cast<std::size_t>(rows[k]) * 4 + d]));
      }
    }
  }
  const std::vector<std::int64_t> descending = {3, 1};
  EXPECT_THROW(r.obsm_rows("spatial", descending, nullptr), std::out_of_range);
  EXPECT_THROW(r.obsm_rows("no_such_key", {}, nullptr), gsmap::InputError);
  for (std::int64_t a = 0; a <= 5; ++a) {
    for (std::int64_t b = a; b <= 5; ++b) {
      EXPECT_EQ(r.obs_names(a, b), std::vector<std::string>(c.obs.index.begin() + a, c.obs.index.begin() + b));
    }
  }
  EXPECT_THROW(r.obs_names(2, 6), std::out_of_range);
}

TEST(H5adWriter, IdenticalInputsGiveIdenticalBytes) {
  TempDir dir("h5ad_writer");
  const std::string a = (dir.path() / "a.h5ad").string();
  const std::string b = (dir.path() / "b.h5ad").string();
  const Content c = make_content();
  write_content(a, c, true);
  // HDF5 time stamps have a resolution of one second: make sure a clock tick lies between.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  write_content(b, c, true);
  const std::string bytes_a = read_bytes(a), bytes_b = read_bytes(b);
  EXPECT_GT(bytes_a.size(), 1000u);
  EXPECT_TRUE(bytes_a == bytes_b) << "files differ although written from identical inputs";
}

TEST(H5adWriter, DefaultsForXOnlyAndEmptyMatrices) {
  TempDir dir("h5ad_writer");
  const std::string path = (dir.path() / "xonly.h5ad").string();
  {
    io::H5adWriter w(path);
    io::CsrRows empty;  // the all-zero placeholder X of concatenated_latent_adata.h5ad
    empty.n_cols = 4;
    empty.indptr.assign(4, 0);
    w.write_csr_f32("X", empty);
  }  // destructor closes, adding default obs/var
  const json py = python_json(std::string(kPyPrelude) + "P = " + py_str(path) + R"PY(
a = ad.read_h5ad(P)
emit({"shape": list(a.shape), "obs": list(a.obs_names), "var": list(a.var_names),
      "nnz": int(a.X.nnz)})
)PY");
  EXPECT_EQ(py.at("shape"), json::array({3, 4}));
  EXPECT_EQ(py.at("obs"), json::parse(R"(["0", "1", "2"])"));
  EXPECT_EQ(py.at("var"), json::parse(R"(["0", "1", "2", "3"])"));
  EXPECT_EQ(py.at("nnz"), 0);
  io::H5adReader r(path);
  EXPECT_EQ(r.read_rows("X", 0, 3).indptr, (std::vector<std::int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(r.row_detected_counts(), (std::vector<std::int64_t>{0, 0, 0}));
}

TEST(H5adWriter, IsComplete) {
  TempDir dir("h5ad_writer");
  const Content c = make_content();
  const std::string done = (dir.path() / "done.h5ad").string();
  const std::string partial = (dir.path() / "partial.h5ad").string();
  const std::string text = (dir.path() / "text.h5ad").string();
  write_content(done, c, true);
  write_content(partial, c, false);
  std::ofstream(text) << "not hdf5\n";
  EXPECT_TRUE(io::is_complete(done));
  EXPECT_FALSE(io::is_complete(partial));
  EXPECT_FALSE(io::is_complete(text));
  EXPECT_FALSE(io::is_complete((dir.path() / "missing.h5ad").string()));
}

TEST(H5adWriter, RejectsInconsistentInput) {
  TempDir dir("h5ad_writer");
  io::H5adWriter w((dir.path() / "bad.h5ad").string());
  EXPECT_THROW(w.write_dense_f32("X", std::vector<float>(5), 2, 3), std::invalid_argument);
  io::DataFrame df;
  df.index = {"a", "b"};
  df.columns.emplace_back("short", io::NumericColumn{{1.0}, false, false});
  EXPECT_THROW(w.write_obs(df), std::invalid_argument);
  io::DataFrame bad_code;
  bad_code.index = {"a"};
  bad_code.columns.emplace_back("c", io::Categorical{{"x"}, {1}, false});
  EXPECT_THROW(w.write_var(bad_code), std::invalid_argument);
}

}  // namespace
}  // namespace gsmap::test::h5ad
