// scRNA homogeneous neighbours (docs/algorithms.md §3.7): smooth-kNN bisection and membership
// strengths by hand, and a small two-cell-type graph against an independent numpy/scipy
// implementation of the same recipe (gsMap's own f16 normalisation, umap-learn's f32
// smooth_knn_dist, scipy's sparse fuzzy union, gsMap's top-K and f16 normalisation).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "gsmap/core/error.hpp"
#include "gsmap/core/progress.hpp"
#include "gsmap/gss/embedding.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/gss/umap.hpp"
#include "test_support.hpp"

namespace gsmap::gss {
namespace {

TEST(SmoothKnn, TwoNeighboursNeedNoBisection) {
  // k = 2: the single non-self neighbour sits at rho, contributes exactly 1 = log2(2) at sigma 1.
  const std::vector<float> d{0.0f, 0.75f};
  const SmoothKnn s = smooth_knn_distance(d, 1.0f);
  EXPECT_EQ(s.rho, 0.75f);
  EXPECT_EQ(s.sigma, 1.0f);
  std::vector<float> mu(2);
  membership_strengths(d, std::vector<std::int64_t>{5, 9}, 5, s, mu);
  EXPECT_EQ(mu, (std::vector<float>{0.0f, 1.0f}));
}

TEST(SmoothKnn, BisectionSolvesTheTargetSum) {
  // k = 3, d = [0, 1, 2]: rho = 1 and 1 + exp(-1 / sigma) = log2(3), so
  // sigma = -1 / ln(log2(3) - 1) = 1.864925...
  const std::vector<float> d{0.0f, 1.0f, 2.0f};
  const SmoothKnn s = smooth_knn_distance(d, 1.0f);
  EXPECT_EQ(s.rho, 1.0f);
  const double sigma = -1.0 / std::log(std::log2(3.0) - 1.0);
  EXPECT_NEAR(s.sigma, sigma, 1e-4);
  std::vector<float> mu(3);
  membership_strengths(d, std::vector<std::int64_t>{0, 1, 2}, 0, s, mu);
  EXPECT_EQ(mu[0], 0.0f);
  EXPECT_EQ(mu[1], 1.0f);
  EXPECT_NEAR(mu[2], std::log2(3.0) - 1.0, 2e-5);
}

TEST(SmoothKnn, AllZeroDistancesUseTheGlobalFloor) {
  // Identical cells: rho = 0, every term is 1 > target, sigma halves 64 times, then the floor
  // 1e-3 * (mean of all distances) applies.
  const std::vector<float> d{0.0f, 0.0f, 0.0f};
  const SmoothKnn s = smooth_knn_distance(d, 0.5f);
  EXPECT_EQ(s.rho, 0.0f);
  EXPECT_EQ(s.sigma, static_cast<float>(1e-3 * 0.5));
  std::vector<float> mu(3);
  membership_strengths(d, std::vector<std::int64_t>{0, 1, 2}, 0, s, mu);
  EXPECT_EQ(mu, (std::vector<float>{0.0f, 1.0f, 1.0f}));
}

TEST(SmoothKnn, RowFloorWhenRhoIsPositive) {
  // Large gaps after rho drive sigma to ~0; the floor is 1e-3 * mean of the row.
  const std::vector<float> d{0.0f, 1.0f, 1000.0f, 1000.0f};
  const SmoothKnn s = smooth_knn_distance(d, 1.0f);
  // psum needs 1 + 2 exp(-999 / sigma) = 2: sigma = 999 / ln 2 = 1441.3 > floor 0.50025.
  EXPECT_NEAR(s.sigma, 999.0 / std::log(2.0), 0.05);
  const std::vector<float> tight{0.0f, 1.0f, 1.0f, 1.0f, 1.0f};  // psum = 4 > log2(5) always
  const SmoothKnn t = smooth_knn_distance(tight, 1.0f);
  EXPECT_EQ(t.sigma, static_cast<float>(1e-3 * (4.0 / 5.0)));
}

TEST(SelectStrongest, TopKPadsWithSelfAndNormalisesInF16) {
  std::vector<WeightedNeighbor> edges{{4, 0.25f}, {2, 0.5f}, {7, 0.25f}};
  std::vector<std::int32_t> index(4);
  std::vector<f16_bits> weight(4);
  select_strongest(9, edges, 4, index.data(), weight.data());
  // Sorted by weight (tie 4 vs 7: lower index first), padded with the cell itself; weights
  // divided by their f16 sum 1.0.
  EXPECT_EQ(index, (std::vector<std::int32_t>{2, 4, 7, 9}));
  EXPECT_EQ(weight, (std::vector<f16_bits>{math::f32_to_f16(0.5f), math::f32_to_f16(0.25f),
                                           math::f32_to_f16(0.25f), 0}));
  // Sum 0.75: 0.5 / 0.75 = 0.6667 -> f16 0.66650390625.
  std::vector<WeightedNeighbor> two{{3, 0.5f}, {1, 0.25f}};
  select_strongest(0, two, 2, index.data(), weight.data());
  EXPECT_EQ(math::f16_to_f32(weight[0]), 0.66650390625f);
  EXPECT_EQ(math::f16_to_f32(weight[1]), math::round_f16(0.25f / 0.75f));
}

TEST(SelectStrongest, FuzzyUnionIsScipyArithmetic) {
  EXPECT_EQ(fuzzy_union(0.5f, 0.0f), 0.5f);
  EXPECT_EQ(fuzzy_union(0.5f, 0.5f), 0.75f);
  EXPECT_EQ(fuzzy_union(1.0f, 0.3f), (1.0f + 0.3f) - 0.3f);  // f32 rounding kept
}

// Two interleaved cell types (labels 0 / 1 by parity) of 9 and 8 cells, 3-dim embeddings, K = 4.
std::vector<float> scrna_embedding(std::int64_t n, int dim) {
  std::vector<float> e(static_cast<std::size_t>(n * dim));
  std::uint32_t state = 99;
  for (float& v : e) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<double>(state >> 8) / 16777216.0 * 2.0 - 1.0);
  }
  return e;
}

TEST(ScrnaNeighbors, MatchNumpyReference) {
  constexpr std::int64_t kCells = 17;
  constexpr int kDim = 3;
  constexpr int K = 4;
  const std::vector<float> raw = scrna_embedding(kCells, kDim);
  std::vector<std::int32_t> group(kCells);
  for (std::int64_t i = 0; i < kCells; ++i)
    group[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % 2);
  const NormalizedEmbedding cell = normalize_cell_embedding(raw, kCells, kDim, "test: emb_cell");
  CellTable t;
  t.n = kCells;
  t.group = group;
  t.cell = &cell;
  NeighborParams p;
  p.dataset_type = DatasetType::kScRNA;
  p.k_homogeneous = K;
  std::vector<std::int64_t> cells(kCells);
  std::iota(cells.begin(), cells.end(), 0);
  const NeighborResult r = find_homogeneous_neighbors(t, p, cells);
  ASSERT_EQ(r.k_total, K);

  std::ostringstream values;
  values.precision(9);
  for (const float v : raw) values << v << ",";
  const std::string script = R"PY(
import numpy as np, scipy.sparse as sp, ctypes
libm = ctypes.CDLL("libm.so.6")  # umap-learn's numba code calls the C library's expf
libm.expf.restype = ctypes.c_float
libm.expf.argtypes = [ctypes.c_float]
expf = lambda x: np.float32(libm.expf(float(x)))
K = )PY" + std::to_string(K) +
                             R"PY(
raw = np.array([)PY" + values.str() +
                             R"PY(], dtype=np.float32).reshape(-1, )PY" + std::to_string(kDim) +
                             R"PY()
n = raw.shape[0]
# gsMap: cast to f16 first, normalise in f16.
e = raw.astype(np.float16)
e = e / (np.linalg.norm(e, axis=1, keepdims=True) + 1e-8)
E = e.astype(np.float64)
out_idx = np.zeros((n, K), dtype=np.int64)
out_w = np.zeros((n, K), dtype=np.float16)
for g in (0, 1):
    cells = np.array([i for i in range(n) if i % 2 == g])
    X = E[cells]
    m = len(cells)
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    knn = np.zeros((m, K), dtype=np.int64)
    for i in range(m):
        order = sorted(range(m), key=lambda j: (j != i, d2[i, j], j))
        knn[i] = order[:K]
    dist = np.sqrt(np.take_along_axis(d2, knn, 1)).astype(np.float32)
    # umap-learn smooth_knn_dist (f32 locals), local_connectivity = 1
    target = np.log2(K)
    mean_all = np.float32(dist.astype(np.float64).mean())
    rho = np.zeros(m, np.float32); sigma = np.zeros(m, np.float32)
    for i in range(m):
        nz = dist[i][dist[i] > 0]
        rho[i] = nz[0] if len(nz) else 0
        lo, hi, mid = np.float32(0), np.float32(np.inf), np.float32(1)
        for it in range(64):
            psum = np.float32(0)
            for j in range(1, K):
                dd = np.float32(dist[i, j] - rho[i])
                psum = np.float32(psum + (expf(-(dd / mid)) if dd > 0 else np.float32(1)))
            if abs(float(psum) - target) < 1e-5:
                break
            if float(psum) > target:
                hi = mid; mid = np.float32((lo + hi) / np.float32(2))
            else:
                lo = mid
                mid = np.float32(mid * 2) if np.isinf(hi) else np.float32((lo + hi) / np.float32(2))
        sigma[i] = mid
        mean_i = float(np.float32(dist[i].sum())) / K
        floor = 1e-3 * (mean_i if rho[i] > 0 else float(mean_all))
        if float(sigma[i]) < floor:
            sigma[i] = np.float32(floor)
    rows, cols, vals = [], [], []
    for i in range(m):
        for j in range(K):
            c = knn[i, j]
            if c == i: v = 0.0
            elif dist[i, j] - rho[i] <= 0 or sigma[i] == 0: v = 1.0
            else: v = expf(np.float32(-np.float32(dist[i, j] - rho[i]) / sigma[i]))
            rows.append(i); cols.append(c); vals.append(v)
    mu = sp.coo_matrix((np.array(vals, np.float32), (rows, cols)), shape=(m, m)).tocsr()
    mu.eliminate_zeros()
    W = (mu + mu.T - mu.multiply(mu.T)).tocsr()
    W.eliminate_zeros()
    for i in range(m):
        row = W.getrow(i)
        order = np.lexsort((row.indices, -row.data))[:K]
        w = np.zeros(K, np.float16)
        idx = np.full(K, cells[i])
        idx[:len(order)] = cells[row.indices[order]]
        w[:len(order)] = row.data[order]
        s = w.sum()
        s = s if s > 0 else np.float16(1)
        out_idx[cells[i]] = idx
        out_w[cells[i]] = w / s
for i in range(n):
    print(" ".join(str(int(v)) for v in out_idx[i]), " ".join(str(int(v)) for v in out_w[i].view(np.uint16)))
)PY";
  const std::string out = test::run_python(script);
  std::istringstream lines(out);
  std::size_t index_equal = 0, weight_equal = 0;
  for (std::int64_t i = 0; i < kCells; ++i) {
    std::string line;
    ASSERT_TRUE(std::getline(lines, line)) << out;
    std::istringstream fields(line);
    for (int j = 0; j < K; ++j) {
      std::int64_t v;
      fields >> v;
      if (v == r.indices[static_cast<std::size_t>(i * K + j)]) ++index_equal;
    }
    for (int j = 0; j < K; ++j) {
      unsigned v;
      fields >> v;
      if (v == r.cell_sims[static_cast<std::size_t>(i * K + j)]) ++weight_equal;
    }
    // Never across cell types, never the cell itself unless padded with weight 0.
    for (int j = 0; j < K; ++j) {
      const std::int32_t nb = r.indices[static_cast<std::size_t>(i * K + j)];
      EXPECT_EQ(nb % 2, i % 2);
      if (nb == i) {
        EXPECT_EQ(r.cell_sims[static_cast<std::size_t>(i * K + j)], 0);
      }
    }
  }
  std::printf("[ scRNA ] indices %zu / %lld identical, weights %zu / %lld bit-identical\n",
              index_equal, static_cast<long long>(kCells * K), weight_equal,
              static_cast<long long>(kCells * K));
  EXPECT_EQ(index_equal, static_cast<std::size_t>(kCells * K));
  EXPECT_EQ(weight_equal, static_cast<std::size_t>(kCells * K));
}

TEST(ScrnaNeighbors, DistributedBuildingBlocksGiveTheSameRows) {
  // kNN rows computed in two parts (as two MPI ranks would), concatenated, then selected for a
  // subset: identical to the one-shot result.
  constexpr std::int64_t kCells = 40;
  const std::vector<float> raw = scrna_embedding(kCells, 5);
  std::vector<std::int32_t> group(kCells);
  for (std::int64_t i = 0; i < kCells; ++i)
    group[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % 3 == 0);
  const NormalizedEmbedding cell = normalize_cell_embedding(raw, kCells, 5, "test");
  CellTable t;
  t.n = kCells;
  t.group = group;
  t.cell = &cell;
  NeighborParams p;
  p.dataset_type = DatasetType::kScRNA;
  p.k_homogeneous = 6;
  const HomogeneousNeighborFinder finder(t, p);
  std::vector<std::int64_t> all(kCells);
  std::iota(all.begin(), all.end(), 0);
  const NeighborResult whole = finder.find(all);

  const std::vector<std::int64_t> part_a(all.begin() + 25, all.end());
  const std::vector<std::int64_t> part_b(all.begin(), all.begin() + 25);
  KnnGraph graph = finder.scrna_knn(part_a);
  const KnnGraph b = finder.scrna_knn(part_b);
  graph.cells.insert(graph.cells.end(), b.cells.begin(), b.cells.end());
  graph.neighbors.insert(graph.neighbors.end(), b.neighbors.begin(), b.neighbors.end());
  graph.distances.insert(graph.distances.end(), b.distances.begin(), b.distances.end());
  const std::vector<std::int64_t> query{39, 3, 17};
  const NeighborResult some = finder.scrna_select(graph, query);
  for (std::size_t i = 0; i < query.size(); ++i) {
    for (int j = 0; j < 6; ++j) {
      const std::size_t ours = i * 6 + static_cast<std::size_t>(j);
      const std::size_t ref = static_cast<std::size_t>(query[i]) * 6 + static_cast<std::size_t>(j);
      EXPECT_EQ(some.indices[ours], whole.indices[ref]);
      EXPECT_EQ(some.cell_sims[ours], whole.cell_sims[ref]);
    }
  }
  // A graph missing cells of a queried cell type is refused.
  EXPECT_THROW(finder.scrna_select(b, query), ComputeError);
}

TEST(ScrnaNeighbors, AllZeroEmbeddingRowIsAnInputError) {
  std::vector<float> raw = scrna_embedding(5, 2);
  raw[6] = raw[7] = 0.0f;  // row 3
  const NormalizedEmbedding cell = normalize_cell_embedding(raw, 5, 2, "test");
  CellTable t;
  t.n = 5;
  t.cell = &cell;
  NeighborParams p;
  p.dataset_type = DatasetType::kScRNA;
  p.k_homogeneous = 2;
  try {
    HomogeneousNeighborFinder finder(t, p);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("row 3"), std::string::npos) << e.what();
  }
}

TEST(ScrnaNeighbors, CellTypeSmallerThanKIsAnInputError) {
  const std::vector<float> raw = scrna_embedding(6, 2);
  const std::vector<std::int32_t> group{0, 0, 0, 0, 1, 1};
  const std::vector<std::string> names{"big", "tiny"};
  const NormalizedEmbedding cell = normalize_cell_embedding(raw, 6, 2, "test");
  CellTable t;
  t.n = 6;
  t.group = group;
  t.group_names = names;
  t.cell = &cell;
  NeighborParams p;
  p.dataset_type = DatasetType::kScRNA;
  p.k_homogeneous = 3;
  try {
    HomogeneousNeighborFinder finder(t, p);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tiny"), std::string::npos) << e.what();
  }
}

// Progress (docs/usage.md "Progress"): every queried cell counts once, although the kNN graph
// covers every cell of the queried cell types.
TEST(ScrnaNeighbors, EveryQueriedCellCountsOnceForProgress) {
  constexpr std::int64_t kCells = 40;
  const std::vector<float> raw = scrna_embedding(kCells, 5);
  std::vector<std::int32_t> group(kCells);
  for (std::int64_t i = 0; i < kCells; ++i)
    group[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % 3 == 0);
  const NormalizedEmbedding cell = normalize_cell_embedding(raw, kCells, 5, "test");
  CellTable t;
  t.n = kCells;
  t.group = group;
  t.cell = &cell;
  NeighborParams p;
  p.dataset_type = DatasetType::kScRNA;
  p.k_homogeneous = 6;
  const HomogeneousNeighborFinder finder(t, p);
  std::atomic<std::int64_t> counted{0};
  {
    const core::ActiveProgress active(counted, [] {});
    finder.find(std::vector<std::int64_t>{39, 3, 17, 20});
  }
  EXPECT_EQ(counted.load(), 4);
}

}  // namespace
}  // namespace gsmap::gss
