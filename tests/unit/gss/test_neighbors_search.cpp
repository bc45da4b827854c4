// The exact spatial search (docs/algorithms.md §3.3: a uniform grid, rings of grid cells) against
// brute force on shapes that stress it — clustered and sparse pools, points far outside the pool,
// degenerate pools (one location, a line), three coordinate columns, coordinates with a large
// offset — and the F16C similarity against the scalar einsum kernel (§3.2) for every dimension
// up to 70.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "gsmap/gss/embedding.hpp"
#include "gsmap/gss/neighbors.hpp"

namespace gsmap::gss {
namespace {

using Row = std::vector<std::int32_t>;

struct Layout {
  int dim = 2;
  std::vector<double> coords;
  std::vector<std::int32_t> slice, group;
  std::vector<float> emb;
  NormalizedEmbedding cell;

  std::int64_t n() const { return static_cast<std::int64_t>(slice.size()); }
  void add(const std::vector<double>& xyz, std::int32_t s, std::int32_t g) {
    coords.insert(coords.end(), xyz.begin(), xyz.end());
    slice.push_back(s);
    group.push_back(g);
    emb.push_back(1.0f);
    emb.push_back(0.5f);
  }
  CellTable table() {
    cell = normalize_cell_embedding(emb, n(), 2, "test: emb_cell");
    CellTable t;
    t.n = n();
    t.coord_dim = dim;
    t.coords = coords;
    t.slice_id = slice;
    t.group = group;
    t.cell = &cell;
    return t;
  }
};

// The k nearest of `q` among the cells of `slice` and q's group, by (d2, index), -1 padded.
Row brute_force(const Layout& l, std::int64_t q, std::int32_t slice, int k) {
  std::vector<std::pair<double, std::int32_t>> pool;
  const auto d = static_cast<std::size_t>(l.dim);
  for (std::int64_t j = 0; j < l.n(); ++j) {
    const auto sj = static_cast<std::size_t>(j);
    if (l.slice[sj] != slice || l.group[sj] != l.group[static_cast<std::size_t>(q)]) continue;
    double sum = 0.0;
    for (std::size_t c = 0; c < d; ++c) {
      const double diff = l.coords[static_cast<std::size_t>(q) * d + c] - l.coords[sj * d + c];
      sum += diff * diff;
    }
    pool.emplace_back(sum, static_cast<std::int32_t>(j));
  }
  std::sort(pool.begin(), pool.end());
  Row row(static_cast<std::size_t>(k), -1);
  for (std::size_t j = 0; j < std::min(row.size(), pool.size()); ++j) row[j] = pool[j].second;
  return row;
}

NeighborParams spatial2d(int k_central) {
  NeighborParams p;
  p.dataset_type = DatasetType::kSpatial2D;
  p.k_central = k_central;
  p.k_homogeneous = 1;
  p.n_adjacent = 0;
  return p;
}

void expect_brute_force(Layout& l, int k, const char* what) {
  const CellTable t = l.table();
  const HomogeneousNeighborFinder finder(t, spatial2d(k));
  for (std::int64_t q = 0; q < l.n(); ++q) {
    ASSERT_EQ(finder.candidate_row(q), brute_force(l, q, l.slice[static_cast<std::size_t>(q)], k))
        << what << ", cell " << q;
  }
}

TEST(GridSearch, ClustersSparseCellsAndLatticeTiesMatchBruteForce) {
  Layout l;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> around(0.0, 0.3);
  std::uniform_real_distribution<double> wide(-50.0, 50.0);
  for (int i = 0; i < 600; ++i) {  // two dense clusters
    const double cx = i % 2 ? 10.0 : -20.0;
    l.add({cx + around(rng), 5.0 + around(rng)}, 0, i % 3);
  }
  for (int i = 0; i < 80; ++i) l.add({wide(rng), wide(rng)}, 0, i % 3);  // sparse outliers
  for (int y = 0; y < 12; ++y) {  // a lattice: exact ties at many distances
    for (int x = 0; x < 12; ++x) l.add({40.0 + x, -40.0 + y}, 0, (x + y) % 3);
  }
  for (const int k : {1, 7, 60, 301}) expect_brute_force(l, k, "clusters");
}

TEST(GridSearch, DegeneratePoolsMatchBruteForce) {
  {
    Layout l;  // every point at one location: all ties, broken by index
    for (int i = 0; i < 50; ++i) l.add({3.0, 3.0}, 0, 0);
    expect_brute_force(l, 17, "one location");
  }
  {
    Layout l;  // a line (zero height)
    for (int i = 0; i < 200; ++i) l.add({0.25 * (i % 37), 1.0}, 0, 0);
    expect_brute_force(l, 25, "horizontal line");
  }
  {
    Layout l;  // a diagonal line: a nearly empty grid
    for (int i = 0; i < 300; ++i) l.add({1.0 * i, 2.0 * i}, 0, 0);
    expect_brute_force(l, 9, "diagonal");
  }
  {
    Layout l;  // large offset, small spacing: rounding of the grid arithmetic
    for (int i = 0; i < 400; ++i) l.add({1e7 + 0.5 * (i % 20), -3e6 + 0.5 * (i / 20)}, 0, 0);
    expect_brute_force(l, 30, "offset lattice");
  }
  {
    Layout l;  // three coordinate columns: the grid bounds by the first two, d2 uses all three
    l.dim = 3;
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(0.0, 10.0);
    for (int i = 0; i < 500; ++i) l.add({u(rng), u(rng), 3.0 * u(rng)}, 0, 0);
    expect_brute_force(l, 40, "3 columns");
  }
}

TEST(GridSearch, AdjacentSliceQueriesFarOutsideThePoolMatchBruteForce) {
  // spatial3D: slice 1 lies far to the right of slices 0 and 2; its cells' adjacent blocks are
  // searched from outside the other pools' grids.
  Layout l;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 20.0);
  for (int i = 0; i < 900; ++i) {
    const std::int32_t s = i % 3;
    l.add({u(rng) + (s == 1 ? 500.0 : 0.0), u(rng)}, s, 0);
  }
  const CellTable t = l.table();
  NeighborParams p;
  p.dataset_type = DatasetType::kSpatial3D;
  p.k_central = 50;
  p.k_adjacent = 40;
  p.k_homogeneous = 5;
  p.n_adjacent = 1;
  const HomogeneousNeighborFinder finder(t, p);
  for (std::int64_t q = 0; q < l.n(); q += 7) {
    const std::int32_t s = l.slice[static_cast<std::size_t>(q)];
    Row expected = brute_force(l, q, s, 50);
    // Adjacent blocks: +1 before -1 (docs/algorithms.md §3.4); at the edges the extended search.
    const std::vector<std::int32_t> blocks =
        s == 0 ? std::vector<std::int32_t>{1, 2} : s == 1 ? std::vector<std::int32_t>{2, 0}
                                                          : std::vector<std::int32_t>{1, 0};
    for (const std::int32_t b : blocks) {
      const Row adjacent = brute_force(l, q, b, 40);
      expected.insert(expected.end(), adjacent.begin(), adjacent.end());
    }
    ASSERT_EQ(finder.candidate_row(q), expected) << "cell " << q;
  }
}

TEST(GridSearch, SimilaritiesEqualTheScalarKernelForEveryDimension) {
  // select_block's cs and ns (F16C where the CPU has it) against similarity_f16, dims 1 .. 70.
  std::mt19937_64 rng(17);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (int dim = 1; dim <= 70; ++dim) {
    const std::int64_t rows = 40;
    std::vector<float> raw(static_cast<std::size_t>(rows * dim));
    for (auto& v : raw) v = g(rng);
    const NormalizedEmbedding cell = normalize_cell_embedding(raw, rows, dim, "test: cell");
    const NormalizedEmbedding niche = normalize_niche_embedding(
        std::vector<float>(raw.rbegin(), raw.rend()), rows, dim, "test: niche");
    NeighborParams p;
    p.cell_similarity_threshold = -1.0;  // keep every similarity as it is
    Row candidates(static_cast<std::size_t>(rows - 1));
    for (std::int64_t j = 1; j < rows; ++j) {
      candidates[static_cast<std::size_t>(j - 1)] = static_cast<std::int32_t>(j);
    }
    const int k = static_cast<int>(candidates.size());
    Row index(static_cast<std::size_t>(k));
    std::vector<f16_bits> cs(index.size()), ns(index.size());
    SelectScratch scratch;
    select_block(0, candidates, k, cell, &niche, SelectThresholds::from(p), scratch, index.data(),
                 cs.data(), ns.data());
    for (std::size_t slot = 0; slot < index.size(); ++slot) {
      const std::int64_t c = index[slot];
      ASSERT_GE(c, 1);
      ASSERT_EQ(cs[slot], similarity_f16(cell.row(0), cell.row(c), dim)) << "dim " << dim;
      ASSERT_EQ(ns[slot], similarity_f16(niche.row(0), niche.row(c), dim)) << "dim " << dim;
    }
  }
}

}  // namespace
}  // namespace gsmap::gss
