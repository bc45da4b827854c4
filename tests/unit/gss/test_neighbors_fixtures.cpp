// Homogeneous neighbours of the fixtures against expected.h5 (fixtures README tolerances):
// spatial_knn identical; homo_indices the same set in >= 99.9 % of cells; homo_cell_sims /
// homo_niche_sims >= 99.99 % bit-identical and the others one f16 step apart. Also: the result of
// a cell does not depend on which cells are queried together or on the thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <numeric>
#include <sstream>
#include <tuple>
#include <vector>

#include <tbb/global_control.h>

#include "gsmap/gss/embedding.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "test_neighbors_fixture_io.hpp"
#include "test_support.hpp"

namespace gsmap::gss {
namespace {

struct Prepared {
  fixture::FixtureCells fx;
  NormalizedEmbedding cell, niche;
  CellTable table;
  NeighborParams params;
};

std::unique_ptr<Prepared> prepare(const std::string& name) {
  auto p = std::make_unique<Prepared>();
  p->fx = fixture::load_cells(name);
  const auto& fx = p->fx;
  p->cell =
      normalize_cell_embedding(fx.emb_cell, fx.n, fx.cell_dim, name + ": obsm/" + fx.emb_cell_key);
  if (fx.niche_dim > 0) {
    p->niche = normalize_niche_embedding(fx.emb_niche, fx.n, fx.niche_dim,
                                         name + ": obsm/" + fx.emb_niche_key);
  }
  CellTable& t = p->table;
  t.n = fx.n;
  t.coord_dim = fx.coord_dim;
  t.coords = fx.coords;
  t.slice_id = fx.slice_id;
  t.group = fx.group;
  t.group_names = fx.group_names;
  t.high_quality = fx.high_quality;
  t.cell = &p->cell;
  t.niche = fx.niche_dim > 0 ? &p->niche : nullptr;
  NeighborParams& prm = p->params;
  prm.dataset_type = fx.dataset_type;
  prm.k_central = fx.k_central;
  prm.k_homogeneous = fx.k_homogeneous;
  prm.k_adjacent = fx.k_adjacent;
  prm.n_adjacent = fx.n_adjacent;
  prm.cell_similarity_threshold = fx.cell_threshold;
  prm.niche_similarity_threshold = fx.niche_threshold;
  prm.strategy = CrossSliceStrategy::kHierarchicalPool;  // fixture defaults
  return p;
}

std::vector<std::int64_t> all_cells(std::int64_t n) {
  std::vector<std::int64_t> cells(static_cast<std::size_t>(n));
  std::iota(cells.begin(), cells.end(), 0);
  return cells;
}

int f16_steps(f16_bits a, f16_bits b) {
  // Distance in representable values (both non-negative or both non-positive in practice).
  const auto key = [](f16_bits h) {
    return (h & 0x8000) ? -static_cast<int>(h & 0x7fff) : static_cast<int>(h);
  };
  return std::abs(key(a) - key(b));
}

class NeighborFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(NeighborFixture, MatchesExpected) {
  GSMAP_REQUIRE_SHARED();
  const std::string name = GetParam();
  const auto p = prepare(name);
  const std::int64_t n = p->fx.n;
  const HomogeneousNeighborFinder finder(p->table, p->params);
  const auto cells = all_cells(n);
  const NeighborResult r = finder.find(cells, /*keep_candidates=*/true);

  std::vector<std::uint64_t> shape;
  const auto knn = fixture::expected_ints(name, "spatial_knn", &shape);
  ASSERT_EQ(shape[0], static_cast<std::uint64_t>(n));
  ASSERT_EQ(static_cast<int>(shape[1]), r.k_candidates);
  std::size_t knn_rows_differing = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(r.k_candidates);
    if (!std::equal(r.candidates.begin() + static_cast<std::ptrdiff_t>(i * k),
                    r.candidates.begin() + static_cast<std::ptrdiff_t>((i + 1) * k),
                    knn.begin() + static_cast<std::ptrdiff_t>(i * k))) {
      ++knn_rows_differing;
    }
  }
  EXPECT_EQ(knn_rows_differing, 0u);

  const auto idx = fixture::expected_ints(name, "homo_indices", &shape);
  ASSERT_EQ(static_cast<int>(shape[1]), r.k_total);
  const auto cs = fixture::expected_f16(name, "homo_cell_sims");
  const auto ns = fixture::expected_f16(name, "homo_niche_sims");
  const auto K = static_cast<std::size_t>(r.k_total);
  std::size_t same_set = 0, same_order = 0, cs_equal = 0, ns_equal = 0, cs_far = 0, ns_far = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto first = static_cast<std::size_t>(i) * K;
    std::vector<std::int32_t> a(r.indices.begin() + static_cast<std::ptrdiff_t>(first),
                                r.indices.begin() + static_cast<std::ptrdiff_t>(first + K));
    std::vector<std::int32_t> b(idx.begin() + static_cast<std::ptrdiff_t>(first),
                                idx.begin() + static_cast<std::ptrdiff_t>(first + K));
    if (a == b) ++same_order;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a == b) ++same_set;
    // Similarities per neighbour (slots sorted by (index, cs, ns) on both sides, so that a row
    // whose tied neighbours come in another order compares the same neighbours).
    using Slot = std::tuple<std::int32_t, f16_bits, f16_bits>;
    std::vector<Slot> ours, theirs;
    for (std::size_t j = first; j < first + K; ++j) {
      ours.emplace_back(r.indices[j], r.cell_sims[j], r.niche_sims[j]);
      theirs.emplace_back(idx[j], cs[j], ns[j]);
    }
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    for (std::size_t j = 0; j < K; ++j) {
      const auto [ia, ca, na] = ours[j];
      const auto [ib, cb, nb] = theirs[j];
      if (ca == cb)
        ++cs_equal;
      else if (ia != ib || f16_steps(ca, cb) > 1)
        ++cs_far;
      if (na == nb)
        ++ns_equal;
      else if (ia != ib || f16_steps(na, nb) > 1)
        ++ns_far;
    }
  }
  const double total = static_cast<double>(n) * static_cast<double>(K);
  std::printf(
      "[ %s ] spatial_knn rows differing: %zu of %lld; homo_indices same set %lld/%lld, "
      "same order %lld; cell sims identical %.6f (%zu > 1 step), niche sims identical %.6f "
      "(%zu > 1 step)\n",
      name.c_str(), knn_rows_differing, static_cast<long long>(n), static_cast<long long>(same_set),
      static_cast<long long>(n), static_cast<long long>(same_order), cs_equal / total, cs_far,
      ns_equal / total, ns_far);
  // The README's tolerances ...
  EXPECT_GE(static_cast<double>(same_set), 0.999 * static_cast<double>(n));
  EXPECT_GE(cs_equal / total, 0.9999);
  EXPECT_GE(ns_equal / total, 0.9999);
  EXPECT_EQ(cs_far, 0u);
  EXPECT_EQ(ns_far, 0u);
  // ... and, since we reproduce the reference's accumulation orders (numpy's pairwise norms and
  // einsum dot), exact agreement, kept as a regression guard.
  EXPECT_EQ(same_order, static_cast<std::size_t>(n));
  EXPECT_EQ(cs_equal, static_cast<std::size_t>(total));
  EXPECT_EQ(ns_equal, static_cast<std::size_t>(total));
}

TEST_P(NeighborFixture, IndependentOfQueryPartitionAndThreads) {
  GSMAP_REQUIRE_SHARED();
  const auto p = prepare(GetParam());
  const std::int64_t n = p->fx.n;
  const HomogeneousNeighborFinder finder(p->table, p->params);
  const NeighborResult whole = finder.find(all_cells(n));

  // Three "ranks" with uneven ranges, queried in reverse order, on one thread.
  const tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
  const std::int64_t cuts[] = {0, n / 5, n / 2 + 7, n};
  for (int part = 2; part >= 0; --part) {
    std::vector<std::int64_t> cells;
    for (std::int64_t c = cuts[part]; c < cuts[part + 1]; ++c) cells.push_back(c);
    std::reverse(cells.begin(), cells.end());
    const NeighborResult r = finder.find(cells);
    const auto K = static_cast<std::size_t>(r.k_total);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const auto ours = i * K;
      const auto ref = static_cast<std::size_t>(cells[i]) * K;
      ASSERT_TRUE(std::equal(r.indices.begin() + static_cast<std::ptrdiff_t>(ours),
                             r.indices.begin() + static_cast<std::ptrdiff_t>(ours + K),
                             whole.indices.begin() + static_cast<std::ptrdiff_t>(ref)))
          << "cell " << cells[i];
      ASSERT_TRUE(std::equal(r.cell_sims.begin() + static_cast<std::ptrdiff_t>(ours),
                             r.cell_sims.begin() + static_cast<std::ptrdiff_t>(ours + K),
                             whole.cell_sims.begin() + static_cast<std::ptrdiff_t>(ref)));
      ASSERT_EQ(r.neighbor_count[i], whole.neighbor_count[static_cast<std::size_t>(cells[i])]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, NeighborFixture, ::testing::Values("fx2d", "fx3d", "fxgrid"));

// QC of fx2d against what gsMap3D itself wrote (gsmap3d_workdir: obs gsMap_homo_neighbor_count /
// gsMap_homo_cell_sims_median / gsMap_homo_niche_sims_median, whose neighbours equal expected.h5).
TEST(NeighborFixtureQc, MatchesGsmap3dWorkdir) {
  GSMAP_REQUIRE_SHARED();
  const auto p = prepare("fx2d");
  const NeighborResult r = find_homogeneous_neighbors(p->table, p->params, all_cells(p->fx.n));
  const std::string script =
      R"PY(
import h5py, numpy as np
f = h5py.File(")PY" +
      (test::fixture("fx2d") / "gsmap3d_workdir/proj/latent_to_gene/concatenated_latent_adata.h5ad")
          .string() +
      R"PY(", "r")
for key in ["gsMap_homo_neighbor_count", "gsMap_homo_cell_sims_median", "gsMap_homo_niche_sims_median"]:
    print(" ".join(repr(float(v)) for v in f["obs/" + key][:]))
)PY";
  const std::string out = test::run_python(script);
  std::istringstream lines(out);
  std::vector<std::vector<double>> columns(3);
  for (auto& column : columns) {
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    std::istringstream values(line);
    std::string v;
    while (values >> v) column.push_back(std::stod(v));
    ASSERT_EQ(static_cast<std::int64_t>(column.size()), p->fx.n);
  }
  std::size_t differ = 0;
  for (std::size_t i = 0; i < columns[0].size(); ++i) {
    const auto same = [](double expected, float ours) {
      return (std::isnan(expected) && std::isnan(ours)) || expected == static_cast<double>(ours);
    };
    if (columns[0][i] != r.neighbor_count[i] || !same(columns[1][i], r.cell_sim_median[i]) ||
        !same(columns[2][i], r.niche_sim_median[i])) {
      ++differ;
    }
  }
  std::printf("[ fx2d QC ] %zu of %zu cells differ from gsMap3D's QC columns\n", differ,
              columns[0].size());
  EXPECT_LE(static_cast<double>(differ), 1e-3 * static_cast<double>(columns[0].size()));
}

}  // namespace
}  // namespace gsmap::gss
