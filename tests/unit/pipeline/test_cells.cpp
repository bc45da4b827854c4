// The processing order of latent-to-gene (docs/algorithms.md §5.1): Hilbert curve per sample.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gsmap/pipeline/cells.hpp"

using namespace gsmap::pipeline;

TEST(HilbertIndex, FirstSquareIsOneContinuousPath) {
  // The first 4^4 points of the curve fill the 16 x 16 corner, each a grid step from the last.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> at(256, {99, 99});
  for (std::uint32_t x = 0; x < 16; ++x) {
    for (std::uint32_t y = 0; y < 16; ++y) {
      const auto d = hilbert_index(x, y);
      ASSERT_LT(d, 256u) << x << "," << y;
      at[d] = {x, y};
    }
  }
  for (std::size_t d = 1; d < at.size(); ++d) {
    const int step = std::abs(static_cast<int>(at[d].first) - static_cast<int>(at[d - 1].first)) +
                     std::abs(static_cast<int>(at[d].second) - static_cast<int>(at[d - 1].second));
    EXPECT_EQ(step, 1) << "index " << d;
  }
  EXPECT_EQ(hilbert_index(65535, 0), (std::uint64_t{1} << 32) - 1);  // the path ends at a corner
}

namespace {

// One sample: a side x side grid of cells, stored in the order `perm` (cell i of the file is grid
// point perm[i]), coordinates (x, y) = (2.5 * column, 2.5 * row).
CellSet grid_cells(int side, const std::vector<int>& perm, int samples = 1) {
  CellSet cs;
  cs.coord_dims = 2;
  for (int s = 0; s < samples; ++s) {
    SampleCells sc;
    sc.global_offset = cs.n;
    for (std::size_t i = 0; i < perm.size(); ++i) {
      sc.kept_rows.push_back(static_cast<std::int64_t>(i));
      cs.coords.push_back(2.5 * (perm[i] % side));
      cs.coords.push_back(2.5 * (perm[i] / side));
      cs.group.push_back(0);
    }
    cs.n += static_cast<std::int64_t>(perm.size());
    cs.samples.push_back(sc);
  }
  return cs;
}

}  // namespace

TEST(ProcessingOrder, ShuffledInputGivesTheSameSpatialOrderAndCompactQuarters) {
  const int side = 64, n = side * side;
  std::vector<int> identity(n), shuffled(n);
  std::iota(identity.begin(), identity.end(), 0);
  shuffled = identity;
  std::mt19937 rng(5);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  const auto plain = processing_order(grid_cells(side, identity));
  const auto mixed = processing_order(grid_cells(side, shuffled));
  ASSERT_EQ(plain.size(), static_cast<std::size_t>(n));
  ASSERT_EQ(std::set<std::int64_t>(mixed.begin(), mixed.end()).size(), static_cast<std::size_t>(n));
  // The same grid points in the same order, whatever the order of the file.
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(shuffled[static_cast<std::size_t>(mixed[static_cast<std::size_t>(i)])],
              plain[static_cast<std::size_t>(i)]);
  }
  // Each quarter of the order is one 32 x 32 quadrant of the grid.
  for (int q = 0; q < 4; ++q) {
    std::set<std::pair<int, int>> quadrants;
    for (int i = q * n / 4; i < (q + 1) * n / 4; ++i) {
      const int point = shuffled[static_cast<std::size_t>(mixed[static_cast<std::size_t>(i)])];
      quadrants.insert({point % side / 32, point / side / 32});
    }
    EXPECT_EQ(quadrants.size(), 1u) << "quarter " << q;
  }
}

TEST(ProcessingOrder, SamplesStayInDeclaredOrderAndPartitionSplitsTheOrder) {
  std::vector<int> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  const CellSet cs = grid_cells(10, identity, 3);
  const auto order = processing_order(cs);
  for (std::size_t i = 0; i < order.size(); ++i) {
    EXPECT_EQ(order[i] / 100, static_cast<std::int64_t>(i) / 100) << "position " << i;
  }
  const CellPartition cp = partition_cells(cs, 40, 4);
  std::vector<std::int64_t> seen;
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(cp.work.count(r), 75);
    const auto cells = cp.work_cells(r);
    seen.insert(seen.end(), cells.begin(), cells.end());
    // Stage A keeps whole ranking chunks of the input order.
    const bool at_chunk = std::any_of(cp.chunks.begin(), cp.chunks.end(), [&](const auto& ch) {
      return ch.begin == cp.partition.start(r);
    });
    EXPECT_TRUE(at_chunk || cp.partition.count(r) == 0) << "rank " << r;
  }
  EXPECT_EQ(seen, order);
}

TEST(StageBCells, OwnCellsAndTheirCandidatesOnlyOnAShuffledGrid) {
  // A 64 x 64 grid stored shuffled, 4 ranks: rank 1's processed quarter needs its own cells and
  // the cells within candidate reach (9 nearest) of them, not the tissue.
  const int side = 64, n = side * side;
  std::vector<int> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(5));
  CellSet cs = grid_cells(side, perm, 2);  // two slices: slice_starts
  CellPartition cp = partition_cells(cs, 100, 4);
  cp.keep_only_work(1);
  const auto own = cp.work_cells(1);
  const auto starts = cs.slice_starts();
  ASSERT_EQ(starts, (std::vector<std::int64_t>{0, n, 2 * n}));
  EXPECT_EQ(cs.slice_of(n - 1), 0);
  EXPECT_EQ(cs.slice_of(n), 1);

  gsmap::gss::CellTable table;
  table.n = cs.n;
  table.coord_dim = 2;
  table.coords = cs.coords;
  table.slice_starts = starts;
  table.group = cs.group;
  gsmap::gss::NeighborParams params;
  params.k_central = 9;
  params.k_homogeneous = 3;
  const auto needed = stage_b_cells(table, params, own);
  ASSERT_TRUE(std::is_sorted(needed.begin(), needed.end()));
  const std::set<std::int64_t> have(needed.begin(), needed.end());
  for (const auto c : own) EXPECT_TRUE(have.count(c)) << "own cell " << c;
  // Every candidate of an own cell is there, on the own cell's slice (rank 1 owns part of slice 0).
  gsmap::gss::NormalizedEmbedding dense;
  dense.rows = cs.n;
  dense.dim = 1;
  dense.values.assign(static_cast<std::size_t>(cs.n), 0);
  table.cell = &dense;
  const gsmap::gss::HomogeneousNeighborFinder finder(table, params);
  std::set<std::int64_t> expected(own.begin(), own.end());
  for (const auto c : own) {
    for (const auto cand : finder.candidate_row(c)) {
      ASSERT_GE(cand, 0);
      EXPECT_EQ(cs.slice_of(cand), cs.slice_of(c));
      expected.insert(cand);
    }
  }
  EXPECT_EQ(have, expected);
  // A compact quarter of 2 x 4096 cells: own 2048 cells plus a boundary, far below all cells.
  EXPECT_EQ(own.size(), 2048u);
  EXPECT_LT(needed.size(), 2600u);
}

namespace {

// A shuffled side x side grid per sample with several cell types: type = (column / 8 + row / 8)
// % types, and every 97th grid point of type `rare` (a type with few, scattered cells).
CellSet typed_grid(int side, int samples, int types, std::uint32_t seed, bool with_quality) {
  std::vector<int> perm(static_cast<std::size_t>(side * side));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(seed));
  CellSet cs = grid_cells(side, perm, samples);
  const std::int32_t rare = types;
  cs.group_names.clear();
  for (int t = 0; t <= types; ++t) cs.group_names.push_back("type" + std::to_string(t));
  std::mt19937 rng(seed + 1);
  for (std::int64_t i = 0; i < cs.n; ++i) {
    const int point = perm[static_cast<std::size_t>(i % (side * side))];
    const int col = point % side, row = point / side;
    cs.group[static_cast<std::size_t>(i)] = point % 97 == 0 ? rare : (col / 8 + row / 8) % types;
    if (with_quality) cs.high_quality.push_back(rng() % 5 != 0);
  }
  return cs;
}


// A search over all cells of `cs` (coordinates, slices, cell types, High_quality; no embedding is
// read): the reference of the region searches.
struct AllCellsTable {
  std::vector<std::int64_t> starts;
  gsmap::gss::NormalizedEmbedding none;
  gsmap::gss::CellTable table;
  explicit AllCellsTable(const CellSet& cs) : starts(cs.slice_starts()) {
    none.rows = cs.n;
    none.dim = 1;
    table.n = cs.n;
    table.coord_dim = 2;
    table.coords = cs.coords;
    table.slice_starts = starts;
    table.group = cs.group;
    table.high_quality = cs.high_quality;
    table.cell = &none;
  }
  AllCellsTable(const AllCellsTable&) = delete;
  AllCellsTable& operator=(const AllCellsTable&) = delete;
};
}  // namespace

TEST(ProcessingOrder, PositionsOfAnyRangeAreTheSliceOfTheWholeOrderWithTies) {
  // Ties everywhere: scRNA-like cells (no coordinates, the key is the cell type) and a grid whose
  // points repeat (several cells on one point). Any range of positions is that slice of the order.
  CellSet scrna = typed_grid(30, 2, 3, 11, false);
  scrna.coords.clear();
  CellSet repeated = typed_grid(30, 2, 3, 12, false);
  for (double& v : repeated.coords) v = std::floor(v / 10.0);
  for (const CellSet* cs : {&scrna, &repeated}) {
    const auto order = processing_order(*cs);
    ASSERT_EQ(std::set<std::int64_t>(order.begin(), order.end()).size(), static_cast<std::size_t>(cs->n));
    for (const auto& [a, b] : std::vector<std::pair<std::int64_t, std::int64_t>>{
             {0, 1}, {1, 2}, {0, 900}, {450, 1350}, {899, 901}, {1, 1799}, {333, 334}, {1000, 1800}, {7, 7}}) {
      const auto part = processing_positions(*cs, a, b);
      EXPECT_EQ(part, std::vector<std::int64_t>(order.begin() + a, order.begin() + b)) << a << ", " << b;
    }
    const CellPartition cp = partition_cells(*cs, 64, 3, 2);
    EXPECT_EQ(cp.order_first, cp.work.start(2));
    const auto mine = cp.work_cells(2);
    EXPECT_EQ(std::vector<std::int64_t>(mine.begin(), mine.end()),
              std::vector<std::int64_t>(order.begin() + cp.work.start(2), order.begin() + cp.work.end(2)));
  }
}

TEST(StageBSearch, CandidateRowsOfTheRegionSearchAreThoseOfTheSearchOverAllCells) {
  // Two shuffled slices with clustered and rare cell types, 4 ranks: each rank's candidate rows
  // from the search over its region (boxes per cell type, widened until proven exact) equal the
  // rows of a search over all cells; with and without the High_quality pool filter.
  for (const bool quality : {false, true}) {
    CellSet cs = typed_grid(48, 2, 4, 21, quality);
    const AllCellsTable reference(cs);
    gsmap::gss::NeighborParams params;
    params.k_central = 31;
    params.k_homogeneous = 5;
    params.high_quality_filter = quality;
    const gsmap::gss::HomogeneousNeighborFinder all(reference.table, params);
    std::int64_t most = 0;
    for (int r = 0; r < 4; ++r) {
      const CellPartition cp = partition_cells(cs, 100, 4, r);
      const auto own = cp.work_cells(r);
      const StageBSearch search = stage_b_search(cs, params, own);
      ASSERT_EQ(search.candidates.size(), own.size() * 31u);
      for (std::size_t i = 0; i < own.size(); ++i) {
        const auto expected = all.candidate_row(own[i]);
        const std::vector<std::int32_t> got(search.candidates.begin() + static_cast<std::ptrdiff_t>(i * 31),
                                            search.candidates.begin() + static_cast<std::ptrdiff_t>((i + 1) * 31));
        ASSERT_EQ(got, expected) << "rank " << r << ", cell " << own[i] << (quality ? ", High_quality" : "");
      }
      // Needed cells: own cells and their candidates, ascending.
      std::set<std::int64_t> expected(own.begin(), own.end());
      for (const auto c : search.candidates) {
        if (c >= 0) expected.insert(c);
      }
      EXPECT_EQ(search.cells, std::vector<std::int64_t>(expected.begin(), expected.end()));
      most = std::max(most, search.searched);
    }
    // The search structures cover a rank's region and its reach, not both slices.
    EXPECT_LT(most, cs.n * 3 / 4) << (quality ? "High_quality" : "");
  }
}

TEST(StageBSearch, Spatial3dRowsOfTheRegionSearchAreThoseOfTheSearchOverAllCells) {
  // Shuffled slices, 4 ranks, one and two adjacent slices: every block of a rank's rows (own
  // slice, then each adjacent slice) equals the row of a search over all cells. Five slices of
  // 36 x 36 (ranks own parts of slices: boxes within a slice) and eight of 24 x 24 (two whole
  // slices per rank). The rare cell type has no cells on slice 1 and none in the pool of slice 3,
  // so its adjacent slices need the extended search (docs/algorithms.md §3.4) over slices that the
  // region search sees only through its representatives.
  for (const auto& [side, slices] : std::vector<std::pair<int, int>>{{36, 5}, {24, 8}}) {
    for (const int n_adjacent : {1, 2}) {
      for (const bool quality : {false, true}) {
        CellSet cs = typed_grid(side, slices, 3, 23, quality);
        const std::int32_t rare = 3;
        for (std::int64_t i = 0; i < cs.n; ++i) {
          auto& g = cs.group[static_cast<std::size_t>(i)];
          const auto slice = cs.slice_of(i);
          if (slice == 1 && g == rare) g = 0;
          if (quality && slice == 3 && g == rare) cs.high_quality[static_cast<std::size_t>(i)] = 0;
          if (!quality && slice == 3 && g == rare) g = 1;
        }
        const AllCellsTable reference(cs);
        gsmap::gss::NeighborParams params;
        params.dataset_type = gsmap::DatasetType::kSpatial3D;
        params.k_central = 31;
        params.k_adjacent = 11;
        params.k_homogeneous = 5;
        params.n_adjacent = n_adjacent;
        params.high_quality_filter = quality;
        const auto k_cand = static_cast<std::size_t>(params.candidate_columns());
        const gsmap::gss::HomogeneousNeighborFinder all(reference.table, params);
        std::int64_t most = 0;
        std::size_t adjacent_found = 0;
        for (int r = 0; r < 4; ++r) {
          const CellPartition cp = partition_cells(cs, 100, 4, r);
          const auto own = cp.work_cells(r);
          const StageBSearch search = stage_b_search(cs, params, own);
          ASSERT_EQ(search.candidates.size(), own.size() * k_cand);
          for (std::size_t i = 0; i < own.size(); ++i) {
            const auto expected = all.candidate_row(own[i]);
            const std::vector<std::int32_t> got(
                search.candidates.begin() + static_cast<std::ptrdiff_t>(i * k_cand),
                search.candidates.begin() + static_cast<std::ptrdiff_t>((i + 1) * k_cand));
            ASSERT_EQ(got, expected) << "n_adjacent " << n_adjacent << ", rank " << r << ", cell "
                                     << own[i] << (quality ? ", High_quality" : "");
            adjacent_found += static_cast<std::size_t>(
                std::count_if(expected.begin() + params.k_central, expected.end(),
                              [](std::int32_t c) { return c >= 0; }));
          }
          std::set<std::int64_t> needed(own.begin(), own.end());
          for (const auto c : search.candidates) {
            if (c >= 0) needed.insert(c);
          }
          EXPECT_EQ(search.cells, std::vector<std::int64_t>(needed.begin(), needed.end()));
          most = std::max(most, search.searched);
        }
        EXPECT_GT(adjacent_found, 0u);
        // The search covers a rank's region and its footprint on the adjacent slices, plus the
        // representatives: with two whole slices per rank, at most 2 + 2 x n_adjacent of the eight.
        if (slices == 8) {
          EXPECT_LE(most, (3 + 2 * n_adjacent) * side * side)
              << "n_adjacent " << n_adjacent << (quality ? ", High_quality" : "");
        } else if (n_adjacent == 1) {
          EXPECT_LT(most, cs.n * 3 / 4) << (quality ? "High_quality" : "");
        }
      }
    }
  }
}

TEST(AllCellsMemory, PeakKeepsThePartsHeldTogether) {
  auto& mem = AllCellsMemory::instance();
  mem.reset();
  mem.set("a", 400);
  mem.set("b", 100);
  mem.set("b", 0);
  mem.set("c", 50);
  EXPECT_EQ(mem.peak(), 500);
  EXPECT_EQ(mem.current(), 450);
  EXPECT_EQ(mem.describe_peak(100), "a 4.0 + b 1.0");
  mem.reset();
  EXPECT_EQ(mem.peak(), 0);
}

TEST(UniqueNames, RowsOfASampleAsMakeUniqueOverAllNames) {
  // Repeats, a repeat whose first suffix is taken by another name ("a-1"), a name that looks like
  // a suffix of another ("a-2" appears after "a" would have produced it).
  const std::vector<std::string> all{"a", "b", "a", "a-1", "a", "c", "b", "a-2", "a", "b-1", "b", "a"};
  const auto expected = make_unique_names(all);
  const auto dir = std::filesystem::temp_directory_path() / ("gsmap_unique_names_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "names.h5ad").string();
  {
    gsmap::io::H5adWriter w(path);
    gsmap::io::DataFrame obs;
    obs.index = all;
    w.write_obs(obs);
    gsmap::io::DataFrame var;
    var.index = {"g"};
    w.write_var(var);
    w.close();
  }
  const gsmap::io::H5adReader reader(path);
  const auto n = static_cast<std::int64_t>(all.size());
  for (const std::int64_t block : {std::int64_t{1}, std::int64_t{5}, std::int64_t{100}}) {
    std::vector<std::int64_t> every(all.size());
    std::iota(every.begin(), every.end(), 0);
    EXPECT_EQ(unique_names_of_rows(reader, n, every, block), expected) << "block " << block;
    for (std::int64_t r = 0; r < n; ++r) {
      const std::vector<std::int64_t> one{r};
      EXPECT_EQ(unique_names_of_rows(reader, n, one, block),
                std::vector<std::string>{expected[static_cast<std::size_t>(r)]}) << "row " << r;
    }
    const std::vector<std::int64_t> some{2, 4, 8, 10, 11};
    std::vector<std::string> want;
    for (const auto r : some) want.push_back(expected[static_cast<std::size_t>(r)]);
    EXPECT_EQ(unique_names_of_rows(reader, n, some, block), want);
  }
  std::filesystem::remove_all(dir);
}

TEST(StageBSearch, SearchAndSelectOverTheRegionGiveTheRowsOfTheFinderOverAllCells) {
  // spatial2D with an embedding reader: each round reads the embeddings of the cells it searches
  // and does SELECT in the same pass; the rows equal find() over all cells, for every rank.
  CellSet cs = typed_grid(48, 2, 4, 31, false);
  const auto starts = cs.slice_starts();
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  std::vector<double> cell_values(static_cast<std::size_t>(cs.n) * 6), niche_values(static_cast<std::size_t>(cs.n) * 3);
  for (auto& v : cell_values) v = normal(rng);
  for (auto& v : niche_values) v = normal(rng);
  const auto cell_all = gsmap::gss::normalize_cell_embedding(cell_values, cs.n, 6, gsmap::gss::StoredFloat::kF64, "cell");
  const auto niche_all = gsmap::gss::normalize_niche_embedding(niche_values, cs.n, 3, gsmap::gss::StoredFloat::kF64, "niche");
  gsmap::gss::CellTable table;
  table.n = cs.n;
  table.coord_dim = 2;
  table.coords = cs.coords;
  table.slice_starts = starts;
  table.group = cs.group;
  table.cell = &cell_all;
  table.niche = &niche_all;
  gsmap::gss::NeighborParams params;
  params.k_central = 31;
  params.k_homogeneous = 5;
  const gsmap::gss::HomogeneousNeighborFinder all(table, params);
  const auto rows_of = [](const gsmap::gss::NormalizedEmbedding& e, std::span<const std::int64_t> cells) {
    gsmap::gss::NormalizedEmbedding out;
    out.rows = static_cast<std::int64_t>(cells.size());
    out.dim = e.dim;
    for (const auto c : cells) out.values.insert(out.values.end(), e.row(c), e.row(c) + e.dim);
    return out;
  };
  int most_rounds = 0;
  for (int r = 0; r < 4; ++r) {
    const CellPartition cp = partition_cells(cs, 100, 4, r);
    const auto own = cp.work_cells(r);
    gsmap::gss::NeighborResult got;
    std::int64_t read_rows = 0;
    const StageBSearch search = stage_b_search(
        cs, params, own,
        [&](std::span<const std::int64_t> cells) {
          read_rows = std::max(read_rows, static_cast<std::int64_t>(cells.size()));
          StageBEmbeddings e;
          e.cell = rows_of(cell_all, cells);
          e.niche = rows_of(niche_all, cells);
          return e;
        },
        &got);
    EXPECT_TRUE(search.candidates.empty());
    const auto expected = all.find(own);
    EXPECT_EQ(got.k_total, expected.k_total);
    EXPECT_EQ(got.indices, expected.indices) << "rank " << r;
    EXPECT_EQ(got.cell_sims, expected.cell_sims) << "rank " << r;
    EXPECT_EQ(got.niche_sims, expected.niche_sims) << "rank " << r;
    EXPECT_EQ(got.neighbor_count, expected.neighbor_count) << "rank " << r;
    EXPECT_LT(read_rows, cs.n * 3 / 4) << "rank " << r;
    most_rounds = std::max(most_rounds, search.rounds);
  }
  EXPECT_GE(most_rounds, 1);
}
