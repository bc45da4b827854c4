// Inputs cannot pull in other files, and a file that is not a readable HDF5 file says what it is
// (docs/troubleshooting.md, "Refused HDF5 features" and "Messages"). Files are built with h5py.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gsmap/io/hdf5.hpp"
#include "gsmap/io/weight_matrix.hpp"
#include "test_h5ad_util.hpp"

namespace gsmap::test::h5ad {
namespace {

namespace fs = std::filesystem;

class H5adForeignStorage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("h5ad_foreign");
    const std::string d = dir_->path().string();
    python_json(std::string(kPyPrelude) + "D = " + py_str(d) + R"PY(
import shutil, os
n, g = 6, 4
x = sp.csr_matrix(np.arange(n * g, dtype=np.float32).reshape(n, g))
a = ad.AnnData(X=x, obs=pd.DataFrame(index=[f"c{i}" for i in range(n)]),
               var=pd.DataFrame(index=[f"g{j}" for j in range(g)]))
a.obsm["spatial"] = np.arange(2 * n, dtype=np.float64).reshape(n, 2)
good = D + "/good.h5ad"
a.write_h5ad(good)
# A secret file whose bytes an external dataset would copy into our outputs.
secret = D + "/secret.bin"
np.arange(2 * n, dtype=np.float64).tofile(secret)
with h5py.File(D + "/other.h5", "w") as o:
    o["emb"] = np.ones((n, 3))
def variant(name, fn):
    p = D + "/" + name + ".h5ad"
    shutil.copy(good, p)
    with h5py.File(p, "r+") as f:
        fn(f)
def external_link(f):
    f["obsm/emb_cell"] = h5py.ExternalLink(D + "/other.h5", "/emb")
def external_raw(f):
    del f["obsm/spatial"]
    d = f["obsm"].create_dataset("spatial", shape=(n, 2), dtype="f8",
                                 external=[(secret, 0, n * 2 * 8)])
    d.attrs["encoding-type"] = "array"; d.attrs["encoding-version"] = "0.2.0"
def virtual(f):
    layout = h5py.VirtualLayout(shape=(n, 3), dtype="f8")
    layout[:] = h5py.VirtualSource(D + "/other.h5", "emb", shape=(n, 3))
    d = f["obsm"].create_virtual_dataset("emb_cell", layout)
    d.attrs["encoding-type"] = "array"; d.attrs["encoding-version"] = "0.2.0"
def deep_external_link(f):
    f["uns"].create_group("nested")["link"] = h5py.ExternalLink(D + "/other.h5", "/emb")
def soft_link(f):
    f["uns/alias"] = h5py.SoftLink("/obsm/spatial")
variant("external_link", external_link)
variant("external_raw", external_raw)
variant("virtual", virtual)
variant("deep_external_link", deep_external_link)
variant("soft_link", soft_link)
# Damaged files: truncated copies, empty, text and gzip named .h5ad.
data = open(good, "rb").read()
open(D + "/truncated.h5ad", "wb").write(data[: len(data) // 2])
open(D + "/truncated_tiny.h5ad", "wb").write(data[:200])
open(D + "/empty.h5ad", "wb").close()
open(D + "/csv.h5ad", "w").write("spot,beta,se\nc0,1,2\n")
import gzip
open(D + "/gzip.h5ad", "wb").write(gzip.compress(b"gene,G_Mean\n"))
os.mkdir(D + "/dir.h5ad")
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
TempDir* H5adForeignStorage::dir_ = nullptr;

TEST_F(H5adForeignStorage, PlainFileAndSoftLinksAreRead) {
  io::H5adReader r(file("good"));
  EXPECT_EQ(r.n_obs(), 6);
  io::H5adReader soft(file("soft_link"));  // links inside the file are harmless
  EXPECT_EQ(soft.n_obs(), 6);
}

TEST_F(H5adForeignStorage, ExternalLinkIsRefused) {
  const std::string p = file("external_link");
  expect_input_error([&] { io::H5adReader r(p); }, p,
                     {"obsm/emb_cell", "external link", "other.h5:/emb",
                      "reads only data stored in the file itself"});
  const std::string deep = file("deep_external_link");
  expect_input_error([&] { io::H5adReader r(deep); }, deep, {"uns/nested/link", "external link"});
}

TEST_F(H5adForeignStorage, ExternalRawStorageIsRefused) {
  const std::string p = file("external_raw");
  expect_input_error([&] { io::H5adReader r(p); }, p,
                     {"obsm/spatial", "external raw files", "secret.bin"});
}

TEST_F(H5adForeignStorage, VirtualDatasetIsRefused) {
  const std::string p = file("virtual");
  expect_input_error([&] { io::H5adReader r(p); }, p, {"obsm/emb_cell", "virtual dataset"});
}

TEST_F(H5adForeignStorage, WeightMatrixReaderRefusesToo) {
  const std::string p = file("external_raw");
  expect_input_error([&] { io::read_snp_gene_weights(p); }, p, {"obsm/spatial", "external"});
  const std::string v = file("virtual");
  expect_input_error([&] { io::read_extra_baseline(v); }, v, {"virtual dataset"});
}

TEST_F(H5adForeignStorage, TruncatedFileSaysTruncated) {
  for (const char* name : {"truncated", "truncated_tiny"}) {
    const std::string p = file(name);
    expect_input_error([&] { io::H5adReader r(p); }, p, {"truncated"});
    try {
      io::H5adReader r(p);
    } catch (const InputError& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.find("permission"), std::string::npos) << m;
      EXPECT_EQ(m.find("LOCKING"), std::string::npos) << m;
    }
  }
  // The sizes in the message are the real ones.
  const auto size = fs::file_size(file("truncated"));
  const auto full = fs::file_size(file("good"));
  expect_input_error([&] { io::H5adReader r(file("truncated")); }, file("truncated"),
                     {fmt::format("it has {} bytes, its superblock says {}", size, full)});
}

TEST_F(H5adForeignStorage, NonHdf5FilesSayWhatTheyAre) {
  expect_input_error([&] { io::H5adReader r(file("empty")); }, file("empty"),
                     {"empty (0 bytes)"});
  expect_input_error([&] { io::H5adReader r(file("csv")); }, file("csv"),
                     {"not an HDF5 file", "a text file (it starts with \"spot,beta,se\")"});
  expect_input_error([&] { io::H5adReader r(file("gzip")); }, file("gzip"),
                     {"not an HDF5 file", "a gzip file"});
  expect_input_error([&] { io::H5adReader r(file("dir")); }, file("dir"), {"is a directory"});
}

}  // namespace
}  // namespace gsmap::test::h5ad
