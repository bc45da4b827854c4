// Matrix storage variants written by anndata/scipy (CSR, CSC, dense; float32, float64, integer;
// int64 index arrays; gzip chunks): every row range read equals the same rows of the full matrix
// and of what python reads, CSC streamed with tiny chunks included.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

#include "test_h5ad_util.hpp"

namespace gsmap::test::h5ad {
namespace {

// One file with X and several layers in different storage; python returns each matrix as CSR
// (sorted indices within rows where scipy converts) and the detected counts of X-like rules.
struct MatrixFile {
  TempDir dir{"h5ad_matrix"};
  std::string path;
  json py;

  MatrixFile() {
    path = (dir.path() / "formats.h5ad").string();
    py = python_json(std::string(kPyPrelude) + "P = " + py_str(path) + R"PY(
rng = np.random.default_rng(3)
n, g = 37, 23
dense_vals = rng.integers(0, 6, size=(n, g)).astype(np.float64) * (rng.random((n, g)) < 0.3)
dense_vals[5, :] = 0            # an empty row
dense_vals[:, 7] = 0            # an empty column
dense_vals[9, 3] = -2.5         # negative values are stored but not "detected"
x = sp.csr_matrix(dense_vals.astype(np.float32))
x.data[::11] = 0                # explicit zeros stay stored in CSR
a = ad.AnnData(X=x, dtype=np.float32,
               obs=pd.DataFrame(index=[f"c{i}" for i in range(n)]),
               var=pd.DataFrame(index=[f"g{j}" for j in range(g)]))
csc = sp.csc_matrix(dense_vals.astype(np.float32))
csc.data[::13] = 0              # explicit zeros in CSC too
a.layers["csc_f32"] = csc
a.layers["dense_f64"] = dense_vals + 0.125
a.layers["dense_i32"] = dense_vals.astype(np.int32)
wide = sp.csr_matrix(dense_vals * 1.0000001)
wide.indices = wide.indices.astype(np.int64); wide.indptr = wide.indptr.astype(np.int64)
a.layers["csr_f64_i64"] = wide
a.layers["csr_i64"] = sp.csr_matrix(dense_vals.astype(np.int64))
a.layers["csc_f64_i64"] = sp.csc_matrix(dense_vals * 3.3)
a.write_h5ad(P, compression="gzip")
with h5py.File(P, "r+") as f:   # scipy keeps int32 indices on write; force int64 for this one
    g_ = f["layers/csc_f64_i64"]
    for k in ("indices", "indptr"):
        v = g_[k][...].astype(np.int64); del g_[k]; g_.create_dataset(k, data=v)
b = ad.read_h5ad(P)
out = {"X": csr(b.X), "layers": {k: csr(v) for k, v in b.layers.items()},
       "dense": {k: dense(v) for k, v in b.layers.items()},
       "dtypes": {k: str(v.dtype) for k, v in b.layers.items()},
       "csr_detected": [int(d) for d in np.diff(b.X.indptr)],
       "pos_detected": {k: [int(d) for d in np.asarray((v > 0).sum(axis=1)).ravel()]
                        for k, v in b.layers.items()}}
emit(out)
)PY");
  }
};

MatrixFile& shared_file() {
  static MatrixFile f;
  return f;
}

TEST(H5adMatrix, FormatsAndTypes) {
  auto& f = shared_file();
  io::H5adReader r(f.path);
  EXPECT_EQ(r.matrix_info("X").format, io::MatrixFormat::kCsr);
  EXPECT_EQ(r.matrix_info("csc_f32").format, io::MatrixFormat::kCsc);
  EXPECT_EQ(r.matrix_info("dense_f64").format, io::MatrixFormat::kDense);
  EXPECT_EQ(r.matrix_info("dense_f64").nnz, 37 * 23);
  EXPECT_EQ(r.matrix_info("csc_f64_i64").format, io::MatrixFormat::kCsc);
  for (const auto& [name, dtype] : f.py.at("dtypes").items()) {
    EXPECT_EQ(r.matrix_info(name).dtype, dtype.get<std::string>()) << name;
  }
  EXPECT_EQ(r.matrix_info("X").dtype, "float32");
  EXPECT_EQ(r.matrix_info("X").nnz, static_cast<std::int64_t>(f.py.at("X").at("data").size()));
}

// Every row range [a, b) of every layer equals python's rows, for the default and tiny streaming
// chunks (CSC and the dense detected counts cross chunk boundaries many times).
TEST(H5adMatrix, EveryRowRangeEqualsFullRead) {
  auto& f = shared_file();
  io::H5adReader r(f.path);
  std::vector<std::string> layers{"X"};
  for (const auto& [name, m] : f.py.at("layers").items()) layers.push_back(name);
  for (std::int64_t chunk : {std::int64_t{1} << 22, std::int64_t{7}, std::int64_t{1}}) {
    r.set_stream_chunk_entries(chunk);
    for (const auto& layer : layers) {
      const json& m = layer == "X" ? f.py.at("X") : f.py.at("layers").at(layer);
      const std::int64_t n = r.matrix_info(layer).n_rows;
      ASSERT_EQ(n, 37);
      const io::CsrRows full = r.read_rows(layer, 0, n);
      for (std::int64_t a = 0; a <= n; a += (chunk == 1 ? 5 : 1)) {
        for (std::int64_t b = a; b <= n; b += 3) {
          SCOPED_TRACE(::testing::Message()
                       << layer << " rows [" << a << ", " << b << ") chunk " << chunk);
          const io::CsrRows part = r.read_rows(layer, a, b);
          expect_csr_rows_eq(part, m, a, b);
          // and the same as slicing our own full read
          ASSERT_EQ(std::vector<std::int32_t>(part.indices),
                    std::vector<std::int32_t>(full.indices.begin() + full.indptr[a],
                                              full.indices.begin() + full.indptr[b]));
        }
      }
    }
  }
}

TEST(H5adMatrix, DenseRowsEqualPython) {
  auto& f = shared_file();
  io::H5adReader r(f.path);
  r.set_stream_chunk_entries(5);
  for (const auto& [layer, rows] : f.py.at("dense").items()) {
    const auto expected = rows.get<std::vector<std::vector<double>>>();
    for (auto [a, b] : {std::pair<std::int64_t, std::int64_t>{0, 37}, {4, 11}, {36, 37}, {8, 8}}) {
      const auto block = r.read_rows_dense(layer, a, b);
      ASSERT_EQ(block.size(), static_cast<std::size_t>((b - a) * 23)) << layer;
      for (std::int64_t i = a; i < b; ++i) {
        for (std::size_t j = 0; j < 23; ++j) {
          ASSERT_EQ(block[(i - a) * 23 + j], static_cast<float>(expected[i][j]))
              << layer << " " << i << "," << j;
        }
      }
    }
  }
}

TEST(H5adMatrix, DetectedCounts) {
  auto& f = shared_file();
  io::H5adReader r(f.path);
  // CSR: stored entries, explicit zeros included (docs/algorithms.md §1.1).
  const auto csr = r.row_detected_counts("X");
  EXPECT_EQ(csr, f.py.at("csr_detected").get<std::vector<std::int64_t>>());
  // CSC and dense: entries > 0, streamed in chunks of any size.
  for (std::int64_t chunk : {std::int64_t{1} << 22, std::int64_t{3}}) {
    r.set_stream_chunk_entries(chunk);
    for (const char* layer : {"csc_f32", "dense_f64", "dense_i32", "csc_f64_i64"}) {
      EXPECT_EQ(r.row_detected_counts(layer),
                f.py.at("pos_detected").at(layer).get<std::vector<std::int64_t>>())
          << layer << " chunk " << chunk;
    }
  }
  EXPECT_EQ(csr[5], 0);  // the empty row
}

TEST(H5adMatrix, DetectedCountsCapped) {
  // row_detected_capped: the same counts capped, 1 byte per row; CSR indptr read in blocks.
  auto& f = shared_file();
  io::H5adReader r(f.path);
  const auto capped = [](std::vector<std::int64_t> v, std::int64_t cap) {
    std::vector<std::uint8_t> out;
    for (const auto c : v) out.push_back(static_cast<std::uint8_t>(std::min(c, cap)));
    return out;
  };
  for (std::int64_t chunk : {std::int64_t{1} << 22, std::int64_t{3}, std::int64_t{17}}) {
    r.set_stream_chunk_entries(chunk);
    for (const std::uint8_t cap : {std::uint8_t{2}, std::uint8_t{20}, std::uint8_t{255}}) {
      EXPECT_EQ(r.row_detected_capped("X", cap), capped(r.row_detected_counts("X"), cap))
          << "chunk " << chunk << " cap " << int{cap};
      for (const char* layer : {"csc_f32", "dense_f64", "dense_i32", "csc_f64_i64"}) {
        EXPECT_EQ(r.row_detected_capped(layer, cap), capped(r.row_detected_counts(layer), cap))
            << layer << " chunk " << chunk << " cap " << int{cap};
      }
    }
  }
}

TEST(H5adMatrix, RowRangeOutsideMatrixIsRejected) {
  io::H5adReader r(shared_file().path);
  EXPECT_THROW(r.read_rows("X", 30, 38), std::out_of_range);
  EXPECT_THROW(r.read_rows("X", 5, 4), std::out_of_range);
  EXPECT_THROW(r.read_rows_dense("dense_f64", -1, 3), std::out_of_range);
}

}  // namespace
}  // namespace gsmap::test::h5ad
