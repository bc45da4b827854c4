// ParallelH5adWriter under mpirun (any rank count; CTest runs -np 3): every rank writes its own row
// block collectively (rank 1 owns no rows and still joins), obs rows are gathered to rank 0, and
// the result equals what the serial H5adWriter writes from the same global data — value for
// value through our reader, object for object through h5diff, and anndata opens it.
#include <gtest/gtest.h>
#include <mpi.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <thread>

#include "gsmap/core/error.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/hdf5.hpp"
#include "gsmap/math/f16.hpp"
#include "test_support.hpp"

namespace {

using gsmap::io::Categorical;
using gsmap::io::DataFrame;
using gsmap::io::NumericColumn;
using gsmap::io::ParallelH5adWriter;
using gsmap::io::StringColumn;

constexpr std::int64_t kRows = 11;
constexpr std::int64_t kGenes = 4;

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

// Rank 1 owns no rows (when there is more than one rank); the others split the rows evenly.
std::pair<std::int64_t, std::int64_t> my_rows() {
  const int size = world_size(), rank = world_rank();
  std::vector<std::int64_t> counts(size, 0);
  std::vector<int> owners;
  for (int r = 0; r < size; ++r) {
    if (!(size > 1 && r == 1)) owners.push_back(r);
  }
  for (std::size_t i = 0; i < owners.size(); ++i) {
    counts[owners[i]] =
        kRows / static_cast<std::int64_t>(owners.size()) +
        (static_cast<std::int64_t>(i) < kRows % static_cast<std::int64_t>(owners.size()) ? 1 : 0);
  }
  std::int64_t start = 0;
  for (int r = 0; r < rank; ++r) start += counts[r];
  return {start, counts[rank]};
}

struct Global {
  DataFrame obs, var;
  std::vector<float> x;
  std::vector<std::uint16_t> gss;
  std::vector<double> spatial;
  std::vector<std::int32_t> idx;
};

Global make_global() {
  Global g;
  Categorical cat{{"T", "B", "NK"}, {}, false};
  NumericColumn slice{{}, false, true}, score{{}, false, false}, good{{}, true, false};
  StringColumn sample;
  for (std::int64_t i = 0; i < kRows; ++i) {
    g.obs.index.push_back("cell" + std::to_string(i) + "|s" + std::to_string(i % 2));
    cat.codes.push_back(i % 4 == 3 ? -1 : static_cast<std::int32_t>(i % 3));
    slice.values.push_back(static_cast<double>(i / 5));
    score.values.push_back(i == 6 ? std::numeric_limits<double>::quiet_NaN() : 0.5 * i);
    good.values.push_back(i % 3 ? 1.0 : 0.0);
    sample.values.push_back("s" + std::to_string(i % 2));
  }
  g.obs.columns = {{"annotation", cat},
                   {"slice_id", slice},
                   {"score", score},
                   {"High_quality", good},
                   {"sample_name", sample}};
  g.var.index = {"traitA", "traitB", "traitC", "traitD"};
  for (std::int64_t i = 0; i < kRows * kGenes; ++i) {
    g.x.push_back(static_cast<float>(i) * 0.25f - 3.0f);
    g.gss.push_back(gsmap::math::f32_to_f16(static_cast<float>(i) / 9.0f));
  }
  for (std::int64_t i = 0; i < kRows * 2; ++i) g.spatial.push_back(i * 1.5 - 7.0);
  for (std::int64_t i = 0; i < kRows * 3; ++i)
    g.idx.push_back(static_cast<std::int32_t>(i % 7) - 1);
  return g;
}

// Rows [start, start + n) of the global obs, with the same categories on every rank.
DataFrame obs_slice(const DataFrame& obs, std::int64_t start, std::int64_t n) {
  DataFrame out;
  out.index.assign(obs.index.begin() + start, obs.index.begin() + start + n);
  for (const auto& [name, col] : obs.columns) {
    if (const auto* c = std::get_if<Categorical>(&col)) {
      Categorical s{
          c->categories, {c->codes.begin() + start, c->codes.begin() + start + n}, c->ordered};
      out.columns.emplace_back(name, s);
    } else if (const auto* v = std::get_if<NumericColumn>(&col)) {
      NumericColumn s{
          {v->values.begin() + start, v->values.begin() + start + n}, v->is_bool, v->is_integer};
      out.columns.emplace_back(name, s);
    } else {
      const auto& t = std::get<StringColumn>(col);
      StringColumn s{{t.values.begin() + start, t.values.begin() + start + n}, {}};
      out.columns.emplace_back(name, s);
    }
  }
  return out;
}

// A directory every rank sees: rank 0 creates it and tells the others its path.
struct SharedDir {
  std::unique_ptr<gsmap::test::TempDir> owned;
  std::string path;
  SharedDir() {
    if (world_rank() == 0) {
      owned = std::make_unique<gsmap::test::TempDir>("h5ad_collective");
      path = owned->path().string();
    }
    int len = static_cast<int>(path.size());
    MPI_Bcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD);
    path.resize(static_cast<std::size_t>(len));
    MPI_Bcast(path.data(), len, MPI_CHAR, 0, MPI_COMM_WORLD);
  }
  ~SharedDir() { MPI_Barrier(MPI_COMM_WORLD); }  // nobody still uses it when rank 0 removes it
};

template <typename T>
const T* row_ptr(const std::vector<T>& v, std::int64_t row, std::int64_t cols) {
  return v.data() + row * cols;
}

void write_parallel(const std::string& path, const Global& g, bool complete) {
  const auto [start, n] = my_rows();
  ParallelH5adWriter w(path, MPI_COMM_WORLD, kRows);
  w.create_dense("X", ParallelH5adWriter::DType::kF32, kGenes);
  w.create_dense("layers/gss", ParallelH5adWriter::DType::kF16, kGenes);
  w.create_dense("obsm/spatial", ParallelH5adWriter::DType::kF64, 2);
  w.create_dense("obsm/gsMap_homo_indices", ParallelH5adWriter::DType::kI32, 3);
  w.write_rows("X", start, n, row_ptr(g.x, start, kGenes));
  w.write_rows("layers/gss", start, n, row_ptr(g.gss, start, kGenes));
  w.write_rows("obsm/spatial", start, n, row_ptr(g.spatial, start, 2));
  w.write_rows("obsm/gsMap_homo_indices", start, n, row_ptr(g.idx, start, 3));
  w.write_obs_local(obs_slice(g.obs, start, n));
  w.write_var(world_rank() == 0 ? g.var : DataFrame{});
  w.finish(complete);
}

void write_serial(const std::string& path, const Global& g) {
  gsmap::io::H5adWriter w(path);
  w.write_obs(g.obs);
  w.write_var(g.var);
  w.write_dense_f32("X", g.x, kRows, kGenes);
  w.write_dense_f16("gss", g.gss, kRows, kGenes);
  w.write_obsm_f64("spatial", g.spatial, kRows, 2);
  w.write_obsm_i32("gsMap_homo_indices", g.idx, kRows, 3);
  w.set_root_attr_int("gsmap_complete", 1);
  w.close();
}

TEST(ParallelH5adWriter, CollectiveWriteEqualsSerial) {
  SharedDir dir;
  const Global g = make_global();
  const std::string par = dir.path + "/parallel.h5ad";
  const std::string ser = dir.path + "/serial.h5ad";
  write_parallel(par, g, true);
  if (world_rank() != 0) return;

  write_serial(ser, g);
  EXPECT_TRUE(gsmap::io::is_complete(par));
  gsmap::io::H5adReader p(par), s(ser);
  EXPECT_EQ(p.obs_names(), g.obs.index);
  EXPECT_EQ(p.var_names(), g.var.index);
  EXPECT_EQ(p.obs_column_names(), s.obs_column_names());
  for (const auto& name : s.obs_column_names()) {
    const auto a = p.obs_column(name), b = s.obs_column(name);
    ASSERT_EQ(a.index(), b.index()) << name;
    for (std::int64_t i = 0; i < kRows; ++i) {
      EXPECT_EQ(gsmap::io::column_label(a, i), gsmap::io::column_label(b, i)) << name << " " << i;
    }
  }
  EXPECT_EQ(std::get<Categorical>(p.obs_column("annotation")).categories,
            (std::vector<std::string>{"T", "B", "NK"}));
  EXPECT_EQ(p.read_rows_dense("X", 0, kRows), g.x);
  EXPECT_EQ(p.read_rows_dense("X", 0, kRows), s.read_rows_dense("X", 0, kRows));
  EXPECT_EQ(p.read_rows_dense("gss", 0, kRows), s.read_rows_dense("gss", 0, kRows));
  EXPECT_EQ(p.matrix_info("gss").dtype, "float16");
  EXPECT_EQ(p.obsm("spatial", nullptr), g.spatial);
  EXPECT_EQ(p.obsm_dtype("gsMap_homo_indices"), "int32");
  EXPECT_EQ(p.obsm("gsMap_homo_indices", nullptr), s.obsm("gsMap_homo_indices", nullptr));

  // Object for object, attributes included (h5diff exits 0 only when nothing differs).
  const auto diff = gsmap::test::run_command("h5diff " + ser + " " + par);
  EXPECT_EQ(diff.exit_code, 0) << diff.output;

  // Debian's anndata 0.8 opens the collective file.
  const std::string out = gsmap::test::run_python(
      "import warnings; warnings.filterwarnings('ignore')\n"
      "import anndata as ad\n"
      "a = ad.read_h5ad(r'''" +
      par +
      "''')\n"
      "print(a.shape, a.layers['gss'].dtype, a.obs['annotation'].isna().sum(), "
      "int(a.obs['High_quality'].sum()), a.obs_names[6])\n");
  EXPECT_EQ(out, "(11, 4) float16 2 7 cell6|s0\n");
}

TEST(ParallelH5adWriter, NoCompletionFlagWhenAsked) {
  SharedDir dir;
  const Global g = make_global();
  const std::string par = dir.path + "/partial.h5ad";
  write_parallel(par, g, false);
  if (world_rank() == 0) {
    EXPECT_FALSE(gsmap::io::is_complete(par));
    gsmap::io::H5adReader p(par);
    EXPECT_EQ(p.read_rows_dense("X", 0, kRows), g.x);
  }
}

TEST(ParallelH5adWriter, OneRanksBadRangeFailsEveryRankWithoutHanging) {
  SharedDir dir;
  const Global g = make_global();
  ParallelH5adWriter w(dir.path + "/bad.h5ad", MPI_COMM_WORLD, kRows);
  w.create_dense("X", ParallelH5adWriter::DType::kF32, kGenes);
  const auto [start, n] = my_rows();
  const bool culprit = world_rank() == world_size() - 1;
  // The last rank claims one row too many; the check before the collective call catches it.
  EXPECT_THROW(w.write_rows("X", start, culprit ? n + 1 : n, row_ptr(g.x, start, kGenes)),
               gsmap::IoError);
  // The writer stays usable collectively: a correct write and finish still work.
  w.write_rows("X", start, n, row_ptr(g.x, start, kGenes));
  w.finish(true);
  if (world_rank() == 0) {
    EXPECT_TRUE(gsmap::io::is_complete(dir.path + "/bad.h5ad"));
    gsmap::io::H5adReader p(dir.path + "/bad.h5ad");
    EXPECT_EQ(p.read_rows_dense("X", 0, kRows), g.x);
    EXPECT_EQ(p.var_names(), (std::vector<std::string>{"0", "1", "2", "3"}));
  }
}

// Direct row writes (docs/development.md §2.5): every rank stores its own rows of an f16 and an
// i32 dataset in a scrambled order, from two threads at once, around HDF5; the file equals the
// collective write of the same data, object for object.
TEST(ParallelH5adWriter, DirectRowsFromThreadsEqualCollectiveWrites) {
  SharedDir dir;
  const Global g = make_global();
  const std::string direct = dir.path + "/direct.h5ad", collective = dir.path + "/collective.h5ad";
  const auto [start, n] = my_rows();
  {
    ParallelH5adWriter w(direct, MPI_COMM_WORLD, kRows);
    w.create_dense("X", ParallelH5adWriter::DType::kF32, kGenes);
    w.create_dense("layers/gss", ParallelH5adWriter::DType::kF16, kGenes);
    w.create_dense("obsm/gsMap_homo_indices", ParallelH5adWriter::DType::kI32, 3);
    const auto& gss = w.direct_rows("layers/gss");
    EXPECT_EQ(&gss, &w.direct_rows("layers/gss"));  // one writer per dataset
    // Own rows in reverse order, split over two threads; a lone row and runs of two.
    std::vector<std::int64_t> rows;
    for (std::int64_t r = start + n - 1; r >= start; --r) rows.push_back(r);
    std::vector<std::uint16_t> bits;
    for (const auto r : rows) bits.insert(bits.end(), row_ptr(g.gss, r, kGenes), row_ptr(g.gss, r, kGenes) + kGenes);
    const std::size_t half = rows.size() / 2;
    std::thread other([&] {
      gss.write(std::span<const std::int64_t>(rows).first(half), bits.data());
    });
    gss.write(std::span<const std::int64_t>(rows).subspan(half), bits.data() + half * kGenes);
    other.join();
    w.direct_rows("obsm/gsMap_homo_indices").write_block(start, n, row_ptr(g.idx, start, 3));
    const std::int64_t outside[] = {kRows};
    EXPECT_THROW(gss.write(outside, bits.data()), std::invalid_argument);
    w.write_rows("X", start, n, row_ptr(g.x, start, kGenes));
    w.write_obs_local(obs_slice(g.obs, start, n));
    w.write_var(world_rank() == 0 ? g.var : DataFrame{});
    w.finish(true);
  }
  {
    ParallelH5adWriter w(collective, MPI_COMM_WORLD, kRows);
    w.create_dense("X", ParallelH5adWriter::DType::kF32, kGenes);
    w.create_dense("layers/gss", ParallelH5adWriter::DType::kF16, kGenes);
    w.create_dense("obsm/gsMap_homo_indices", ParallelH5adWriter::DType::kI32, 3);
    w.write_rows("X", start, n, row_ptr(g.x, start, kGenes));
    w.write_rows("layers/gss", start, n, row_ptr(g.gss, start, kGenes));
    w.write_rows("obsm/gsMap_homo_indices", start, n, row_ptr(g.idx, start, 3));
    w.write_obs_local(obs_slice(g.obs, start, n));
    w.write_var(world_rank() == 0 ? g.var : DataFrame{});
    w.finish(true);
  }
  if (world_rank() != 0) return;
  EXPECT_TRUE(gsmap::io::is_complete(direct));
  gsmap::io::H5adReader p(direct);
  EXPECT_EQ(p.read_rows_dense("gss", 0, kRows), gsmap::io::H5adReader(collective).read_rows_dense("gss", 0, kRows));
  EXPECT_EQ(p.obsm("gsMap_homo_indices", nullptr),
            gsmap::io::H5adReader(collective).obsm("gsMap_homo_indices", nullptr));
  const auto diff = gsmap::test::run_command("h5diff " + collective + " " + direct);
  EXPECT_EQ(diff.exit_code, 0) << diff.output;
}

// Large blocks of rows (docs/development.md §2.5): the whole pages inside each block go to the
// disk with direct I/O where the file system allows it, the partial pages at its ends through
// the page cache. Rows of 2,002 bytes never start on a page boundary; every rank writes its rows
// as one large block and one small one (through the page cache), next to each other's edges.
TEST(ParallelH5adWriter, LargeDirectBlocksEqualCollectiveWrites) {
  SharedDir dir;
  constexpr std::int64_t kBigRows = 12011, kBigGenes = 1001;
  std::vector<std::uint16_t> bits(static_cast<std::size_t>(kBigRows * kBigGenes));
  for (std::size_t i = 0; i < bits.size(); ++i) bits[i] = static_cast<std::uint16_t>(i * 2654435761u >> 7);
  const int me = world_rank(), np = world_size();
  const std::int64_t start = kBigRows * me / np, end = kBigRows * (me + 1) / np;
  const std::int64_t split = end - 7;  // the last 7 rows: a small block
  const std::string path = dir.path + "/big.h5ad";
  std::int64_t direct_bytes = 0;
  {
    ParallelH5adWriter w(path, MPI_COMM_WORLD, kBigRows);
    w.create_dense("X", ParallelH5adWriter::DType::kF16, kBigGenes);
    const auto& x = w.direct_rows("X");
    x.write_block(split, end - split, bits.data() + split * kBigGenes);
    x.write_block(start, split - start, bits.data() + start * kBigGenes);
    direct_bytes = x.direct_bytes();
    DataFrame obs;
    for (std::int64_t r = start; r < end; ++r) obs.index.push_back("cell" + std::to_string(r));
    w.write_obs_local(obs);
    DataFrame var;
    if (me == 0) {
      for (std::int64_t gene = 0; gene < kBigGenes; ++gene) var.index.push_back(std::to_string(gene));
    }
    w.write_var(var);
    w.finish(true);
  }
  // Where the file system takes O_DIRECT (not every one does; then all goes through the cache),
  // each rank's large block (> 5 MiB) was written directly, all but its partial end pages.
  const int probe = ::open(path.c_str(), O_RDONLY | O_DIRECT);
  if (probe >= 0) {
    ::close(probe);
    EXPECT_GT(direct_bytes, (split - start) * kBigGenes * 2 - 2 * 4096);
    EXPECT_EQ(direct_bytes % 4096, 0);
  }
  if (me != 0) return;
  EXPECT_TRUE(gsmap::io::is_complete(path));
  gsmap::io::Hid file = gsmap::io::open_file(path, gsmap::io::Access::kRead);
  gsmap::io::Hid ds = gsmap::io::open_dataset(file, "X");
  const auto read = gsmap::io::read_rows<std::uint16_t>(ds, 0, kBigRows);
  ASSERT_EQ(read.size(), bits.size());
  EXPECT_TRUE(std::equal(read.begin(), read.end(), bits.begin()));
}

}  // namespace

// gtest main under MPI: only rank 0 prints; the exit code is the worst over all ranks.
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (world_rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int rc = RUN_ALL_TESTS();
  int worst = 0;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
