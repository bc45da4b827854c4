// Hand-made cases of the spatial homogeneous-neighbour search (docs/algorithms.md §3.3–§3.5, §10.3
// steps 5-7): distance ties on a square grid, slice adjacency, the niche-bonus SELECT with its f16
// score, padding, all-zero similarities, strategies, annotation / High_quality pools, validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

#include "gsmap/core/error.hpp"
#include "gsmap/core/progress.hpp"
#include "gsmap/gss/embedding.hpp"
#include "gsmap/gss/neighbors.hpp"

namespace gsmap::gss {
namespace {

using math::f16_to_f32;
using math::f32_to_f16;
using Row = std::vector<std::int32_t>;

// Owns the arrays a CellTable views.
struct Cells {
  int coord_dim = 2;
  std::vector<double> coords;
  std::vector<std::int32_t> slice, group;
  std::vector<std::uint8_t> high_quality;
  std::vector<float> emb;  // cell embedding, emb_dim per cell
  int emb_dim = 2;
  NormalizedEmbedding cell;
  std::vector<float> niche_raw;
  int niche_dim = 0;
  NormalizedEmbedding niche;

  std::int64_t n() const { return static_cast<std::int64_t>(coords.size()) / coord_dim; }

  void add(std::vector<double> xy, std::int32_t s = 0, std::int32_t g = 0,
           std::vector<float> e = {1.0f, 0.0f}, bool hq = true) {
    coords.insert(coords.end(), xy.begin(), xy.end());
    slice.push_back(s);
    group.push_back(g);
    high_quality.push_back(hq ? 1 : 0);
    emb.insert(emb.end(), e.begin(), e.end());
  }

  CellTable table() {
    cell = normalize_cell_embedding(emb, n(), emb_dim, "test: emb_cell");
    CellTable t;
    t.n = n();
    t.coord_dim = coord_dim;
    t.coords = coords;
    t.slice_id = slice;
    t.group = group;
    t.high_quality = high_quality;
    t.cell = &cell;
    if (niche_dim > 0) {
      niche = normalize_niche_embedding(niche_raw, n(), niche_dim, "test: emb_niche");
      t.niche = &niche;
    }
    return t;
  }
};

NeighborParams params_2d(int k_central, int k) {
  NeighborParams p;
  p.dataset_type = DatasetType::kSpatial2D;
  p.k_central = k_central;
  p.k_homogeneous = k;
  p.n_adjacent = 0;
  return p;
}

std::vector<std::int64_t> iota_cells(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

Row slots(const NeighborResult& r, std::size_t row) {
  const auto k = static_cast<std::size_t>(r.k_total);
  return Row(r.indices.begin() + static_cast<std::ptrdiff_t>(row * k),
             r.indices.begin() + static_cast<std::ptrdiff_t>((row + 1) * k));
}

// 5 x 5 unit grid, cell id = 5 * y + x.
Cells grid5() {
  Cells c;
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 5; ++x) c.add({static_cast<double>(x), static_cast<double>(y)});
  }
  return c;
}

// ------------------------------------------------------------------------------------------------
// Spatial candidates and distance ties

TEST(SpatialCandidates, SquareGridTiesGoToTheLowerIndex) {
  Cells c = grid5();
  const CellTable t = c.table();
  // Centre cell 12: itself, then the four at distance 1 (7, 11, 13, 17), then the diagonals
  // (6, 8, 16, 18) at d^2 = 2. Cuts inside a tie keep the lowest global indices.
  EXPECT_EQ(HomogeneousNeighborFinder(t, params_2d(3, 1)).candidate_row(12), (Row{12, 7, 11}));
  EXPECT_EQ(HomogeneousNeighborFinder(t, params_2d(7, 1)).candidate_row(12),
            (Row{12, 7, 11, 13, 17, 6, 8}));
  // Corner 0: d^2 0: {0}; 1: {1, 5}; 2: {6}; 4: {2, 10}; 5: {7, 11}.
  EXPECT_EQ(HomogeneousNeighborFinder(t, params_2d(5, 1)).candidate_row(0), (Row{0, 1, 5, 6, 2}));
  EXPECT_EQ(HomogeneousNeighborFinder(t, params_2d(8, 1)).candidate_row(0),
            (Row{0, 1, 5, 6, 2, 10, 7, 11}));
}

TEST(SpatialCandidates, TiesOnALatticeMatchBruteForce) {
  // 30 x 30 lattice (many exact ties at every distance), two groups and a High_quality filter.
  Cells c;
  std::uint32_t state = 7;
  for (int y = 0; y < 30; ++y) {
    for (int x = 0; x < 30; ++x) {
      state = state * 1664525u + 1013904223u;
      c.add({static_cast<double>(x) * 0.5, static_cast<double>(y) * 0.5}, 0,
            static_cast<std::int32_t>(state >> 31), {1.0f, 0.0f}, ((state >> 20) & 7u) != 0);
    }
  }
  const CellTable t = c.table();
  NeighborParams p = params_2d(37, 5);
  p.high_quality_filter = true;
  const HomogeneousNeighborFinder finder(t, p);
  for (std::int64_t q = 0; q < t.n; ++q) {
    std::vector<std::pair<double, std::int32_t>> pool;
    for (std::int64_t j = 0; j < t.n; ++j) {
      if (c.group[static_cast<std::size_t>(j)] != c.group[static_cast<std::size_t>(q)] ||
          !c.high_quality[static_cast<std::size_t>(j)])
        continue;
      const double dx =
          c.coords[static_cast<std::size_t>(2 * q)] - c.coords[static_cast<std::size_t>(2 * j)];
      const double dy = c.coords[static_cast<std::size_t>(2 * q + 1)] -
                        c.coords[static_cast<std::size_t>(2 * j + 1)];
      pool.emplace_back(dx * dx + dy * dy, static_cast<std::int32_t>(j));
    }
    std::sort(pool.begin(), pool.end());
    Row expected(37, -1);
    for (std::size_t j = 0; j < std::min<std::size_t>(37, pool.size()); ++j)
      expected[j] = pool[j].second;
    ASSERT_EQ(finder.candidate_row(q), expected) << "cell " << q;
  }
}

TEST(SpatialCandidates, PaddingWhenThePoolIsSmallerThanK) {
  // One cell type with 4 cells: candidates 4 valid + 6 x -1; K = 6 picks the 4 and two -1 slots.
  Cells c;
  for (int i = 0; i < 4; ++i) c.add({static_cast<double>(i), 0.0});
  const CellTable t = c.table();
  const HomogeneousNeighborFinder finder(t, params_2d(10, 6));
  EXPECT_EQ(finder.candidate_row(1), (Row{1, 0, 2, 3, -1, -1, -1, -1, -1, -1}));
  const NeighborResult r = finder.find(std::vector<std::int64_t>{1});
  EXPECT_EQ(slots(r, 0), (Row{1, 0, 2, 3, -1, -1}));
  const f16_bits one = f32_to_f16(1.0f);
  EXPECT_EQ(r.cell_sims, (std::vector<f16_bits>{one, one, one, one, 0, 0}));
  EXPECT_EQ(r.niche_sims, (std::vector<f16_bits>{one, one, one, one, 0, 0}));
  EXPECT_EQ(r.neighbor_count[0], 4);
}

TEST(SpatialCandidates, SliceWithoutPoolCellsGivesOnlyPadding) {
  // Cell type 0 on slice 1 has only non-High_quality cells: with the filter on, its cells get -1
  // everywhere (and cs = ns = 0), even though slice 0 has pool cells.
  Cells c;
  c.add({0, 0}, 0);
  c.add({1, 0}, 0);
  c.add({0, 0}, 1, 0, {1.0f, 0.0f}, false);
  c.add({1, 0}, 1, 0, {1.0f, 0.0f}, false);
  const CellTable t = c.table();
  NeighborParams p = params_2d(2, 2);
  p.high_quality_filter = true;
  const NeighborResult r = find_homogeneous_neighbors(t, p, iota_cells(4), true);
  EXPECT_EQ(slots(r, 0), (Row{0, 1}));
  EXPECT_EQ(slots(r, 2), (Row{-1, -1}));
  EXPECT_EQ(slots(r, 3), (Row{-1, -1}));
  EXPECT_EQ(r.cell_sims[4], 0);
  EXPECT_EQ(r.neighbor_count[3], 0);
  EXPECT_TRUE(std::isnan(r.cell_sim_median[3]));
}

TEST(SpatialCandidates, NeighboursNeverCrossCellTypes) {
  // Alternating labels 7 and 3 on a line; spatial2D never mixes slices either.
  Cells c;
  for (int i = 0; i < 12; ++i) c.add({static_cast<double>(i), 0.0}, i < 6 ? 0 : 1, i % 2 ? 3 : 7);
  const CellTable t = c.table();
  const NeighborResult r = find_homogeneous_neighbors(t, params_2d(4, 3), iota_cells(12), true);
  // Cell 2 (label 7, slice 0): same-label cells on slice 0 are 0, 2, 4.
  EXPECT_EQ(Row(r.candidates.begin() + 8, r.candidates.begin() + 12), (Row{2, 0, 4, -1}));
  // Cell 7 (label 3, slice 1): 7, then 9 (d 2; 5 is on slice 0), then 11.
  EXPECT_EQ(Row(r.candidates.begin() + 28, r.candidates.begin() + 32), (Row{7, 9, 11, -1}));
  for (std::size_t i = 0; i < 12; ++i) {
    for (const std::int32_t j : slots(r, i)) {
      if (j < 0) continue;
      EXPECT_EQ(c.group[static_cast<std::size_t>(j)], c.group[i]);
      EXPECT_EQ(c.slice[static_cast<std::size_t>(j)], c.slice[i]);
    }
  }
}

TEST(SpatialCandidates, NoAnnotationIsOneGroup) {
  // An empty group span (no --annotation) behaves as one label for every cell.
  Cells c;
  for (int i = 0; i < 6; ++i) c.add({static_cast<double>(i), 0.0}, 0, i % 3);
  CellTable t = c.table();
  const NeighborResult labelled =
      find_homogeneous_neighbors(t, params_2d(3, 2), iota_cells(6), true);
  t.group = {};
  const NeighborResult one = find_homogeneous_neighbors(t, params_2d(3, 2), iota_cells(6), true);
  EXPECT_EQ(Row(one.candidates.begin() + 6, one.candidates.begin() + 9), (Row{2, 1, 3}));
  EXPECT_EQ(Row(labelled.candidates.begin() + 6, labelled.candidates.begin() + 9), (Row{2, 5, -1}));
}

TEST(SpatialCandidates, HighQualityFilterShrinksThePoolNotTheQueries) {
  Cells c;
  c.add({0, 0}, 0, 0, {1.0f, 0.0f}, false);  // not High_quality: never a candidate
  c.add({1, 0});
  c.add({2, 0});
  c.add({3, 0});
  const CellTable t = c.table();
  NeighborParams p = params_2d(3, 2);
  const NeighborResult without = find_homogeneous_neighbors(t, p, iota_cells(4), true);
  p.high_quality_filter = true;
  const NeighborResult with = find_homogeneous_neighbors(t, p, iota_cells(4), true);
  EXPECT_EQ(Row(without.candidates.begin(), without.candidates.begin() + 3), (Row{0, 1, 2}));
  EXPECT_EQ(Row(with.candidates.begin(), with.candidates.begin() + 3), (Row{1, 2, 3}));
  EXPECT_EQ(slots(with, 0), (Row{1, 2}));  // the filtered cell still gets neighbours
  EXPECT_EQ(Row(with.candidates.begin() + 3, with.candidates.begin() + 6), (Row{1, 2, 3}));
}

// ------------------------------------------------------------------------------------------------
// SELECT on crafted f16 embeddings (1-dimensional, so similarity = product of the two values)

NormalizedEmbedding one_dim(const std::vector<float>& values) {
  NormalizedEmbedding e;
  e.rows = static_cast<std::int64_t>(values.size());
  e.dim = 1;
  for (const float v : values) e.values.push_back(f32_to_f16(v));
  return e;
}

struct Picked {
  Row index;
  std::vector<float> cs, ns;
};

Picked select(const std::vector<float>& cell, const std::vector<float>* niche,
              const Row& candidates, int k, double tau_c = 0.0, double tau_n = 0.6) {
  const NormalizedEmbedding ce = one_dim(cell);
  NormalizedEmbedding ne;
  if (niche) ne = one_dim(*niche);
  NeighborParams p;
  p.cell_similarity_threshold = tau_c;
  p.niche_similarity_threshold = tau_n;
  SelectScratch scratch;
  Picked out;
  out.index.resize(static_cast<std::size_t>(k));
  std::vector<f16_bits> cs(static_cast<std::size_t>(k)), ns(static_cast<std::size_t>(k));
  select_block(0, candidates, k, ce, niche ? &ne : nullptr, SelectThresholds::from(p), scratch,
               out.index.data(), cs.data(), ns.data());
  for (int j = 0; j < k; ++j) {
    out.cs.push_back(f16_to_f32(cs[static_cast<std::size_t>(j)]));
    out.ns.push_back(f16_to_f32(ns[static_cast<std::size_t>(j)]));
  }
  return out;
}

TEST(Select, NicheBonusOutranksCellSimilarity) {
  // Cell 0 is the query (value 1). Cell 1: cs 0.875, niche 0.5 (< 0.6: score 0.875). Cell 2:
  // cs 0.125, niche 0.75 (score 2.125). Cell 3: cs 0.25, niche 0.75 (score 2.25).
  const std::vector<float> cell{1.0f, 0.875f, 0.125f, 0.25f};
  const std::vector<float> niche{1.0f, 0.5f, 0.75f, 0.75f};
  const Picked p = select(cell, &niche, {1, 2, 3}, 3);
  EXPECT_EQ(p.index, (Row{3, 2, 1}));
  EXPECT_EQ(p.cs, (std::vector<float>{0.25f, 0.125f, 0.875f}));
  EXPECT_EQ(p.ns, (std::vector<float>{0.75f, 0.75f, 0.5f}));
}

TEST(Select, F16ScoreQuantisationMakesTheNearerCandidateWin) {
  // cs 0.5 vs 0.50048828125 (the next f16): with the +2 bonus both scores round to 2.5 in f16
  // (spacing 2^-9 above 2), so the nearer (earlier) candidate wins despite the lower cs.
  const std::vector<float> cell{1.0f, 0.5f, 0.50048828125f};
  const std::vector<float> bonus{1.0f, 1.0f, 1.0f};
  EXPECT_EQ(select(cell, &bonus, {1, 2}, 1).index, (Row{1}));
  // Without the bonus the scores stay apart and the higher cs wins.
  const std::vector<float> no_bonus{1.0f, 0.5f, 0.5f};
  EXPECT_EQ(select(cell, &no_bonus, {1, 2}, 1).index, (Row{2}));
}

TEST(Select, ThresholdsAreRoundedToF16) {
  // round_f16(0.6) = 0.60009765625 = f16(0.6): a niche similarity of f16(0.6) passes, the f16
  // below it (0.599609375) does not.
  const std::vector<float> cell{1.0f, 0.25f, 0.5f};
  const std::vector<float> niche{1.0f, 0.6f, 0.599609375f};
  const Picked p = select(cell, &niche, {1, 2}, 2);
  EXPECT_EQ(p.index, (Row{1, 2}));  // 2.25 before 0.5
  // tau_c = 0.3: cs 0.25 becomes 0 (score 2), still above 0.5 without bonus.
  const Picked q = select(cell, &niche, {1, 2}, 2, 0.3);
  EXPECT_EQ(q.index, (Row{1, 2}));
  EXPECT_EQ(q.cs, (std::vector<float>{0.0f, 0.5f}));
}

TEST(Select, InvalidCandidatesGoLastAndNegativeSimilarityIsZeroWeight) {
  const std::vector<float> cell{1.0f, -0.5f, 0.25f};
  const Picked p = select(cell, nullptr, {-1, 1, -1, 2}, 4);
  // No niche: every valid candidate gets the bonus; cs(1) = 0 (below tau_c = 0) -> score 2,
  // cs(2) = 0.25 -> 2.25; the -1 slots score -100 and come last with cs = ns = 0.
  EXPECT_EQ(p.index, (Row{2, 1, -1, -1}));
  EXPECT_EQ(p.cs, (std::vector<float>{0.25f, 0.0f, 0.0f, 0.0f}));
  EXPECT_EQ(p.ns, (std::vector<float>{1.0f, 1.0f, 0.0f, 0.0f}));
}

TEST(Select, AllZeroSimilaritiesKeepTheDistanceOrder) {
  // The query (1, 0) is not High_quality, so it is not its own candidate; every other cell is
  // (0, 1): all similarities are 0, all scores 2, so the K nearest are taken in distance order.
  Cells c;
  c.add({0, 0}, 0, 0, {1.0f, 0.0f}, false);
  for (int i = 1; i <= 5; ++i) c.add({static_cast<double>(6 - i), 0.0}, 0, 0, {0.0f, 1.0f});
  const CellTable t = c.table();
  NeighborParams p = params_2d(5, 3);
  p.high_quality_filter = true;
  const NeighborResult r = find_homogeneous_neighbors(t, p, std::vector<std::int64_t>{0}, true);
  EXPECT_EQ(Row(r.candidates.begin(), r.candidates.end()), (Row{5, 4, 3, 2, 1}));
  EXPECT_EQ(slots(r, 0), (Row{5, 4, 3}));
  EXPECT_EQ(r.cell_sims, (std::vector<f16_bits>{0, 0, 0}));
  EXPECT_EQ(r.neighbor_count[0], 0);
  EXPECT_TRUE(std::isnan(r.cell_sim_median[0]));
  EXPECT_TRUE(std::isnan(r.niche_sim_median[0]));
}

TEST(Select, QcMedianIsTheF16MeanOfTheMiddlePair) {
  std::int32_t count = 0;
  float cm = 0, nm = 0;
  const std::vector<f16_bits> cs{f32_to_f16(0.5f), 0, f32_to_f16(0.75f), f32_to_f16(0.25f),
                                 f32_to_f16(1.0f)};
  const std::vector<f16_bits> ns{f32_to_f16(0.1f), f32_to_f16(0.9f), f32_to_f16(0.2f),
                                 f32_to_f16(0.3f), f32_to_f16(0.4f)};
  neighbor_qc(cs, ns, count, cm, nm);
  EXPECT_EQ(count, 4);
  EXPECT_EQ(cm, 0.625f);  // (0.5 + 0.75) / 2
  // ns over the same slots {0.1, 0.2, 0.3, 0.4}: f16 mean of f16(0.2) and f16(0.3).
  EXPECT_EQ(nm,
            math::round_f16((f16_to_f32(f32_to_f16(0.2f)) + f16_to_f32(f32_to_f16(0.3f))) / 2.0f));
}

// ------------------------------------------------------------------------------------------------
// spatial3D: slice adjacency and the strategies

// Three slices of three cells at x = 0, 1, 2 (cell id = 3 * slice + x); embedding angle per cell
// (degrees) relative to the x axis.
Cells three_slices(const std::vector<double>& angle_degrees) {
  Cells c;
  for (int s = 0; s < 3; ++s) {
    for (int x = 0; x < 3; ++x) {
      const double a =
          angle_degrees[static_cast<std::size_t>(3 * s + x)] * std::numbers::pi / 180.0;
      c.add({static_cast<double>(x), 0.0}, s, 0,
            {static_cast<float>(std::cos(a)), static_cast<float>(std::sin(a))});
    }
  }
  return c;
}

NeighborParams params_3d(CrossSliceStrategy strategy) {
  NeighborParams p;
  p.dataset_type = DatasetType::kSpatial3D;
  p.k_central = 3;
  p.k_adjacent = 2;
  p.k_homogeneous = 2;
  p.n_adjacent = 1;
  p.strategy = strategy;
  return p;
}

// Angles chosen so that, for query cell 4, the global ranking is 4 (0), 7 (5), 5 (10), 6 (15),
// 3 (20), 1 (70), 0 (80).
const std::vector<double> kAngles{80, 70, 60, 20, 0, 10, 15, 5, 30};

TEST(Spatial3D, AdjacentBlocksPutPlusOneBeforeMinusOneAndSearchFurtherAtTheEdge) {
  Cells c = three_slices(kAngles);
  const CellTable t = c.table();
  const HomogeneousNeighborFinder finder(t, params_3d(CrossSliceStrategy::kHierarchicalPool));
  // Cell 4 (slice 1, x = 1): central [4, 3, 5] (3 and 5 tie: lower index first); blocks: slice 2
  // (offset 1, +1) then slice 0 (offset 1, -1); in each, x = 1 first, then the tie 0 < 2.
  EXPECT_EQ(finder.candidate_row(4), (Row{4, 3, 5, 7, 6, 1, 0}));
  // Cell 1 (slice 0): offset 1 gives only slice 1; the extended search adds slice 2 (offset 2).
  EXPECT_EQ(finder.candidate_row(1), (Row{1, 0, 2, 4, 3, 7, 6}));
  // Cell 8 (slice 2, x = 2): slice 1 (offset 1, -1), then slice 0 (offset 2, -1).
  EXPECT_EQ(finder.candidate_row(8), (Row{8, 7, 6, 5, 4, 2, 1}));
}

TEST(Spatial3D, GapsInSliceIdsUseTheExtendedSearch) {
  // Slices 0, 1 and 5: for slice 5 nothing within offset 1; offsets 4 and 5 find slices 1 and 0.
  Cells c;
  for (const std::int32_t s : {0, 1, 5}) c.add({0.0, 0.0}, s);
  const CellTable t = c.table();
  NeighborParams p = params_3d(CrossSliceStrategy::kHierarchicalPool);
  p.k_central = 1;
  p.k_adjacent = 1;
  p.k_homogeneous = 1;
  const HomogeneousNeighborFinder finder(t, p);
  EXPECT_EQ(finder.candidate_row(2), (Row{2, 1, 0}));
  EXPECT_EQ(finder.candidate_row(0), (Row{0, 1, 2}));  // +1 (slice 1), then offset 5 (slice 5)
  EXPECT_EQ(finder.candidate_row(1), (Row{1, 0, 2}));  // offset 1: +1 absent, -1 = slice 0; then 5
}

TEST(Spatial3D, PerSliceAndHierarchicalPoolSelectTheSameNeighbours) {
  Cells c = three_slices(kAngles);
  const CellTable t = c.table();
  const auto cells = iota_cells(9);
  const NeighborResult h =
      find_homogeneous_neighbors(t, params_3d(CrossSliceStrategy::kHierarchicalPool), cells);
  const NeighborResult s =
      find_homogeneous_neighbors(t, params_3d(CrossSliceStrategy::kPerSlicePool), cells);
  EXPECT_EQ(h.k_total, 6);
  EXPECT_EQ(h.indices, s.indices);
  EXPECT_EQ(h.cell_sims, s.cell_sims);
  EXPECT_EQ(h.niche_sims, s.niche_sims);
  // Cell 4, K = 2 per block: central {4 (0), 5 (10)} beats 3 (20); slice 2 {7 (5), 6 (15)};
  // slice 0 {1 (70), 0 (80)}.
  EXPECT_EQ(slots(h, 4), (Row{4, 5, 7, 6, 1, 0}));
}

TEST(Spatial3D, GlobalPoolSelectsOverTheWholeRow) {
  Cells c = three_slices(kAngles);
  const CellTable t = c.table();
  const NeighborResult g = find_homogeneous_neighbors(t, params_3d(CrossSliceStrategy::kGlobalPool),
                                                      std::vector<std::int64_t>{4});
  EXPECT_EQ(g.k_total, 6);
  // One SELECT over [4, 3, 5 | 7, 6 | 1, 0] taking K * S = 6 by score: 0 (at 80 degrees) drops out.
  EXPECT_EQ(slots(g, 0), (Row{4, 7, 5, 6, 3, 1}));
  // Weights are the cell similarities, in f16: cos of the angle differences.
  EXPECT_EQ(f16_to_f32(g.cell_sims[0]), 1.0f);
  for (int j = 1; j < 6; ++j)
    EXPECT_LT(g.cell_sims[static_cast<std::size_t>(j)],
              g.cell_sims[static_cast<std::size_t>(j - 1)]);
  EXPECT_NEAR(f16_to_f32(g.cell_sims[5]), std::cos(70.0 * std::numbers::pi / 180.0), 2e-3);
}

// ------------------------------------------------------------------------------------------------
// Validation

TEST(NeighborValidation, OptionRules) {
  EXPECT_THROW(params_2d(10, 11).validate(), UsageError);  // K > k_c
  NeighborParams p = params_3d(CrossSliceStrategy::kHierarchicalPool);
  p.n_adjacent = 0;
  EXPECT_THROW(p.validate(), UsageError);
  p = params_3d(CrossSliceStrategy::kHierarchicalPool);
  p.k_adjacent = 4;  // > k_c
  EXPECT_THROW(p.validate(), UsageError);
  p = params_3d(CrossSliceStrategy::kHierarchicalPool);
  p.k_homogeneous = 3;  // > k_a
  EXPECT_THROW(p.validate(), UsageError);
  EXPECT_NO_THROW(params_3d(CrossSliceStrategy::kGlobalPool).validate());
}

TEST(NeighborValidation, DataRules) {
  Cells c;
  c.add({0, 0});
  c.add({1, 0});
  {
    NeighborParams p = params_3d(CrossSliceStrategy::kHierarchicalPool);
    p.k_central = p.k_adjacent = p.k_homogeneous = 1;
    const CellTable t = c.table();  // one slice, spatial3D needs 2
    EXPECT_THROW(HomogeneousNeighborFinder(t, p), UsageError);
  }
  {
    CellTable t = c.table();
    t.high_quality = {};
    NeighborParams p = params_2d(2, 1);
    p.high_quality_filter = true;
    EXPECT_THROW(HomogeneousNeighborFinder(t, p), UsageError);
  }
  {
    Cells bad = c;
    bad.coords[3] = std::nan("");
    const CellTable t = bad.table();
    try {
      HomogeneousNeighborFinder finder(t, params_2d(2, 1));
      FAIL() << "expected InputError";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("obsm/spatial"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
    }
  }
  {
    std::vector<float> emb{1.0f, 0.0f, 0.0f, std::nanf(""), 1.0f, 1.0f};
    try {
      normalize_cell_embedding(emb, 3, 2, "a.h5ad: obsm/emb_cell");
      FAIL() << "expected InputError";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("emb_cell"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
    }
    EXPECT_THROW(normalize_niche_embedding(emb, 3, 2, "a.h5ad: obsm/emb_niche"), InputError);
  }
  {
    const CellTable t = c.table();
    const HomogeneousNeighborFinder finder(t, params_2d(2, 1));
    EXPECT_THROW(finder.find(std::vector<std::int64_t>{2}), ComputeError);  // no such cell
  }
}

// Progress (docs/usage.md "Progress"): every queried cell counts once, in any thread.
TEST(SpatialCandidates, EveryQueriedCellCountsOnceForProgress) {
  Cells c = grid5();
  const CellTable t = c.table();
  std::atomic<std::int64_t> counted{0};
  {
    const core::ActiveProgress active(counted, [] {});
    find_homogeneous_neighbors(t, params_2d(10, 4), iota_cells(25));
    find_homogeneous_neighbors(t, params_2d(10, 4), std::vector<std::int64_t>{3, 7, 11});
  }
  EXPECT_EQ(counted.load(), 25 + 3);
}

}  // namespace
}  // namespace gsmap::gss
