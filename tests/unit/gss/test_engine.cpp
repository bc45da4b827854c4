// The GSS engine (gss/engine.hpp) on a one-rank communicator with the CPU backend, against the
// module's reference functions run step by step: RowRanker + ChunkSumF32 + ReferenceGeneMean
// (Stage A), find_homogeneous_neighbors (Stage B) and compute_marker_scores on gathered neighbour
// rows (Stage C, the old reader's layout). Every GSS bit, every log rank and G_Mean must agree.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <functional>
#include <chrono>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "gsmap/core/error.hpp"
#include "gsmap/gss/backend.hpp"
#include "gsmap/gss/embedding.hpp"
#include "gsmap/gss/engine.hpp"
#include "gsmap/gss/marker_score.hpp"
#include "gsmap/gss/neighbors.hpp"
#include "gsmap/gss/rank.hpp"
#include "mpi_environment.hpp"

namespace gsmap::gss {
namespace {

// A small 2D section: two samples (slices), three cell types, sparse counts.
struct Section {
  std::int64_t n = 0, n_genes = 0;
  std::vector<std::int64_t> per_sample;
  std::vector<double> coords, emb;
  std::vector<std::int32_t> slice_id, group;
  std::vector<std::string> group_names{"a", "b", "c"};
  io::CsrRows csr;  // all cells, global order
  NormalizedEmbedding cell_emb;
  CellTable table;
};

Section make_section(std::int64_t n_per_sample, std::int64_t n_genes, unsigned seed) {
  Section s;
  s.per_sample = {n_per_sample, n_per_sample + 7};
  s.n = s.per_sample[0] + s.per_sample[1];
  s.n_genes = n_genes;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::poisson_distribution<int> counts(1.2);
  s.csr.n_cols = n_genes;
  s.csr.indptr.push_back(0);
  const int dims = 6;
  for (std::int64_t i = 0; i < s.n; ++i) {
    const std::int32_t slice = i < s.per_sample[0] ? 0 : 1;
    const std::int32_t type = static_cast<std::int32_t>((i * 7 + i / 5) % 3);
    s.slice_id.push_back(slice);
    s.group.push_back(type);
    s.coords.push_back(u(rng) * 10.0);
    s.coords.push_back(u(rng) * 10.0);
    for (int d = 0; d < dims; ++d) s.emb.push_back(u(rng) + (d == type ? 2.0 : 0.0));
    for (std::int64_t g = 0; g < n_genes; ++g) {
      const int c = counts(rng) * (g % 3 == type ? 3 : 1) - 1;
      if (c > 0) {
        s.csr.indices.push_back(static_cast<std::int32_t>(g));
        s.csr.data.push_back(static_cast<float>(c));
      }
    }
    s.csr.indptr.push_back(static_cast<std::int64_t>(s.csr.indices.size()));
  }
  s.cell_emb = normalize_cell_embedding(s.emb, s.n, dims, StoredFloat::kF64, "obsm/emb");
  s.table.n = s.n;
  s.table.coord_dim = 2;
  s.table.coords = s.coords;
  s.table.slice_id = s.slice_id;
  s.table.group = s.group;
  s.table.group_names = s.group_names;
  s.table.cell = &s.cell_emb;
  return s;
}

GssEngineOptions engine_options(std::size_t batch_size, int workers) {
  GssEngineOptions o;
  o.neighbors.dataset_type = DatasetType::kSpatial2D;
  o.neighbors.k_central = 20;
  o.neighbors.k_homogeneous = 6;
  o.neighbors.n_adjacent = 0;
  o.neighbors.niche_similarity_threshold = 0.0;
  o.batch_size = batch_size;
  o.shape.read_workers = 2;
  o.shape.compute_workers = workers;
  o.shape.write_workers = 2;
  o.halo_bytes_per_exchange = 64;  // several exchanges (empty on one rank, still collective)
  return o;
}

struct Reference {
  std::vector<f16_bits> log_ranks;  // n x G
  GeneStats stats;
  NeighborResult nb;
  std::vector<f16_bits> gss;        // n x G
};

Reference reference(const Section& s, const GssEngineOptions& o, std::int64_t chunk_rows) {
  Reference ref;
  const std::int64_t G = s.n_genes;
  ref.log_ranks.resize(static_cast<std::size_t>(s.n * G));
  RowRanker ranker(G);
  GeneStatsAccumulator acc(G);
  ReferenceGeneMean mean(G);
  std::vector<float> row(static_cast<std::size_t>(G));
  for (const auto& ch : rank_chunks(s.per_sample, chunk_rows)) {
    ChunkSumF32 sums(G);
    for (std::int64_t i = ch.begin; i < ch.end; ++i) {
      const auto b = s.csr.indptr[i], e = s.csr.indptr[i + 1];
      ranker.rank(std::span<const float>(s.csr.data.data() + b, e - b),
                  std::span<const std::int32_t>(s.csr.indices.data() + b, e - b), row);
      acc.add_cell(row, ranker.nonzero_columns());
      sums.add_row(row);
      for (std::int64_t g = 0; g < G; ++g) ref.log_ranks[i * G + g] = math::f32_to_f16(row[g]);
    }
    mean.add_chunk(ch.sample, sums.sums(), sums.rows());
  }
  ref.stats = acc.finalize();
  ref.stats.g_mean = mean.g_mean();

  std::vector<std::int64_t> all(static_cast<std::size_t>(s.n));
  for (std::int64_t i = 0; i < s.n; ++i) all[i] = i;
  ref.nb = find_homogeneous_neighbors(s.table, o.neighbors, all);

  // Stage C as the old reader did it: one cell per batch, its distinct neighbour rows gathered.
  std::vector<float> g_mean(G), frac(G);
  for (std::int64_t g = 0; g < G; ++g) {
    g_mean[g] = static_cast<float>(ref.stats.g_mean[g]);
    frac[g] = static_cast<float>(ref.stats.frac[g]);
  }
  const int k_tot = ref.nb.k_total;
  ref.gss.resize(static_cast<std::size_t>(s.n * G));
  for (std::int64_t i = 0; i < s.n; ++i) {
    std::vector<f16_bits> rows;
    std::vector<std::int32_t> slots(k_tot);
    std::vector<f16_bits> weights(k_tot);
    std::map<std::int64_t, std::int32_t> seen;
    for (int k = 0; k < k_tot; ++k) {
      const std::int64_t idx = ref.nb.indices[i * k_tot + k];
      weights[k] = ref.nb.cell_sims[i * k_tot + k];
      if (idx < 0) {
        slots[k] = -1;
        continue;
      }
      auto [it, fresh] = seen.emplace(idx, static_cast<std::int32_t>(seen.size()));
      if (fresh) rows.insert(rows.end(), ref.log_ranks.begin() + idx * G, ref.log_ranks.begin() + (idx + 1) * G);
      slots[k] = it->second;
    }
    NeighbourRankBatch batch;
    batch.n_cells = 1;
    batch.n_rows = seen.size();
    batch.n_genes = static_cast<std::size_t>(G);
    batch.log_ranks = rows;
    batch.slot_rows = slots;
    batch.weights = weights;
    compute_marker_scores(marker_score_options(o), g_mean, frac, batch,
                          std::span<f16_bits>(ref.gss.data() + i * G, static_cast<std::size_t>(G)));
  }
  return ref;
}

struct EngineRun {
  GssRunResult result;
  std::vector<f16_bits> gss;
  std::vector<f16_bits> persisted_ranks;
  int sink_calls = 0;
};

// `order`: the processing order of the cells (empty: the input order).
EngineRun run_engine(const Section& s, const GssEngineOptions& o, std::int64_t chunk_rows,
                     const std::optional<Reference>& resume_from = std::nullopt,
                     std::vector<std::int64_t> order = {},
                     const std::function<void(GssHooks&)>& more_hooks = {}) {
  const dist::Partition part(s.n, 1);
  if (order.empty()) {
    order.resize(static_cast<std::size_t>(s.n));
    std::iota(order.begin(), order.end(), std::int64_t{0});
  }
  GssInputs in;
  in.partition = &part;
  in.own_cells = order;
  in.n_genes = s.n_genes;
  in.cells = &s.table;
  in.own_chunks = rank_chunks(s.per_sample, chunk_rows);
  in.read_chunk = [&](const RankChunk& ch) {
    ChunkRows r;
    r.block = s.csr;  // the whole matrix; row_of points into it (not in order on purpose)
    for (std::int64_t i = ch.begin; i < ch.end; ++i) r.row_of.push_back(i);
    return r;
  };
  EngineRun run;
  run.gss.assign(static_cast<std::size_t>(s.n * s.n_genes), f16_bits{0xffff});
  GssHooks hooks;
  if (resume_from) {
    hooks.resume_stage_a = [&](RowBlock& block, std::int64_t own) -> std::optional<GeneStats> {
      EXPECT_EQ(own, s.n);
      std::copy(resume_from->log_ranks.begin(), resume_from->log_ranks.end(), block.data());
      return resume_from->stats;
    };
  }
  hooks.stage_a_done = [&](const GeneStats&, const RowBlock& block, std::int64_t own) {
    run.persisted_ranks.assign(block.data(), block.data() + own * block.cols());
  };
  std::mutex mu;
  hooks.sink = [&](std::span<const std::int64_t> cells, std::span<const f16_bits> rows) {
    std::lock_guard lock(mu);
    ++run.sink_calls;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::copy_n(rows.data() + i * s.n_genes, s.n_genes,
                  run.gss.data() + order[static_cast<std::size_t>(cells[i])] * s.n_genes);
    }
  };
  if (more_hooks) more_hooks(hooks);
  auto backend = make_cpu_gss_backend();
  EXPECT_EQ(backend->name(), "CPU");
  run.result = run_gss_engine(in, o, *backend, hooks, MPI_COMM_SELF);
  return run;
}

TEST(GssEngine, OneRankMatchesTheReferenceFunctionsBitForBit) {
  const Section s = make_section(150, 45, 11);
  const std::int64_t chunk_rows = 40;  // several chunks per sample, last one short
  for (const int workers : {1, 3}) {
    const auto o = engine_options(17, workers);
    const Reference ref = reference(s, o, chunk_rows);
    const EngineRun run = run_engine(s, o, chunk_rows);
    EXPECT_FALSE(run.result.stage_a_resumed);
    EXPECT_EQ(run.result.halo_rows, 0);
    EXPECT_EQ(run.persisted_ranks, ref.log_ranks);
    ASSERT_EQ(run.result.stats.g_mean.size(), ref.stats.g_mean.size());
    for (std::size_t g = 0; g < ref.stats.g_mean.size(); ++g) {
      EXPECT_EQ(run.result.stats.g_mean[g], ref.stats.g_mean[g]) << "gene " << g;
      EXPECT_EQ(run.result.stats.frac[g], ref.stats.frac[g]) << "gene " << g;
    }
    EXPECT_EQ(run.result.neighbors.indices, ref.nb.indices);
    EXPECT_EQ(run.result.neighbors.cell_sims, ref.nb.cell_sims);
    std::size_t differ = 0, nonzero = 0;
    for (std::size_t i = 0; i < ref.gss.size(); ++i) {
      differ += run.gss[i] != ref.gss[i];
      nonzero += ref.gss[i] != 0;
    }
    EXPECT_EQ(differ, 0u) << "workers " << workers;
    EXPECT_GT(nonzero, ref.gss.size() / 20);  // the data exercise the formula, not only zeros
    // Batches never mix cell types: at least ceil(cells of a type / batch) per type.
    std::size_t min_batches = 0;
    for (int t = 0; t < 3; ++t) {
      const auto n_t = std::count(s.group.begin(), s.group.end(), t);
      min_batches += static_cast<std::size_t>((n_t + 16) / 17);
    }
    EXPECT_EQ(static_cast<std::size_t>(run.sink_calls), min_batches);
  }
}

// GssHooks::stage_a_rows runs on a helper thread that the ranking never waits for: a slow first
// call (a busy disk) lets the next chunks queue up; the calls still come one at a time, in chunk
// order, with the chunk's final log ranks; a call that throws makes the engine throw it.
TEST(GssEngine, StageARowsAreHandedOverInChunkOrderAndFailuresRethrown) {
  const Section s = make_section(150, 45, 11);
  const std::int64_t chunk_rows = 40;
  const auto o = engine_options(17, 2);
  const Reference ref = reference(s, o, chunk_rows);
  std::vector<std::int64_t> starts;
  std::vector<f16_bits> handed(static_cast<std::size_t>(s.n * s.n_genes), f16_bits{0xffff});
  const EngineRun run = run_engine(s, o, chunk_rows, std::nullopt, {}, [&](GssHooks& hooks) {
    hooks.stage_a_rows = [&](std::int64_t row0, std::int64_t n, const f16_bits* rows) {
      if (starts.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      starts.push_back(row0);
      std::copy_n(rows, n * s.n_genes, handed.begin() + row0 * s.n_genes);
    };
  });
  std::vector<std::int64_t> expected;
  for (const auto& ch : rank_chunks(s.per_sample, chunk_rows)) expected.push_back(ch.begin);
  EXPECT_EQ(starts, expected);
  EXPECT_EQ(handed, ref.log_ranks);
  EXPECT_EQ(run.persisted_ranks, ref.log_ranks);

  int calls = 0;
  EXPECT_THROW(run_engine(s, o, chunk_rows, std::nullopt, {}, [&](GssHooks& hooks) {
                 hooks.stage_a_rows = [&](std::int64_t, std::int64_t, const f16_bits*) {
                   if (++calls == 2) throw IoError("log_ranks.h5ad: the disk is full");
                 };
               }),
               IoError);
  EXPECT_EQ(calls, 2);  // the chunks queued after the failure are dropped
}

TEST(GssEngine, AnyProcessingOrderGivesTheSameScoresAndNeighbours) {
  // The processed cells in a scrambled order (not the input order Stage A ranks in): the resident
  // rows are a redistribution of the ranked block, and every cell's GSS and neighbours are those
  // of the input order.
  const Section s = make_section(120, 30, 7);
  const auto o = engine_options(23, 2);
  const Reference ref = reference(s, o, 50);
  std::vector<std::int64_t> order(static_cast<std::size_t>(s.n));
  for (std::int64_t i = 0; i < s.n; ++i) order[static_cast<std::size_t>(i)] = (i * 37 + 11) % s.n;
  ASSERT_EQ(std::set<std::int64_t>(order.begin(), order.end()).size(), order.size());
  const EngineRun run = run_engine(s, o, 50, std::nullopt, order);
  EXPECT_EQ(run.result.own_rows, s.n);
  EXPECT_EQ(run.result.halo_rows, 0);
  EXPECT_EQ(run.result.redistributed_rows, 0);  // one rank: every row was ranked here
  EXPECT_EQ(run.persisted_ranks, ref.log_ranks);  // Stage A rows stay in input order
  EXPECT_EQ(run.gss, ref.gss);
  const auto k = static_cast<std::size_t>(run.result.neighbors.k_total);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto g = static_cast<std::size_t>(order[i]);
    for (std::size_t j = 0; j < k; ++j) {
      ASSERT_EQ(run.result.neighbors.indices[i * k + j], ref.nb.indices[g * k + j]) << "cell " << g;
      ASSERT_EQ(run.result.neighbors.cell_sims[i * k + j], ref.nb.cell_sims[g * k + j]);
    }
  }
}

TEST(GssEngine, ResumedStageAGivesTheSameScores) {
  const Section s = make_section(90, 30, 5);
  const auto o = engine_options(500, 2);
  const Reference ref = reference(s, o, 500);
  const EngineRun run = run_engine(s, o, 500, ref);
  EXPECT_TRUE(run.result.stage_a_resumed);
  EXPECT_TRUE(run.persisted_ranks.empty());  // nothing to persist when resumed
  EXPECT_EQ(run.gss, ref.gss);
}

TEST(GssEngine, RejectsChunksThatDoNotCoverTheOwnCells) {
  const Section s = make_section(60, 12, 3);
  const dist::Partition part(s.n, 1);
  GssInputs in;
  in.partition = &part;
  in.n_genes = s.n_genes;
  in.cells = &s.table;
  std::vector<std::int64_t> all(static_cast<std::size_t>(s.n));
  std::iota(all.begin(), all.end(), std::int64_t{0});
  in.own_cells = all;
  in.own_chunks = rank_chunks(s.per_sample, 500);
  in.own_chunks.pop_back();  // the second sample's cells are not ranked by anyone
  in.read_chunk = [](const RankChunk&) { return ChunkRows{}; };
  auto backend = make_cpu_gss_backend();
  try {
    run_gss_engine(in, engine_options(100, 1), *backend, GssHooks{}, MPI_COMM_SELF);
    FAIL() << "no error for chunks covering part of the cells";
  } catch (const ComputeError& e) {
    EXPECT_NE(std::string(e.what()).find("cover 60 of this rank's 127 cells"), std::string::npos)
        << e.what();
  }
}

TEST(GssEngine, LocalityOrderVisitsEveryCellOnceFollowingNeighbours) {
  // Cells 0..5, one type; neighbours: 0 -> 3 (0.9), 3 -> 1 (0.8), 1 -> nothing new, 2 -> 5, ...
  NeighborResult nb;
  nb.n_query = 6;
  nb.k_total = 2;
  auto h = [](float x) { return math::f32_to_f16(x); };
  nb.indices = {3, 4, 3, -1, 5, 0, 1, 0, 0, 1, 2, -1};
  nb.cell_sims = {h(0.9f), h(0.1f), h(0.5f), 0, h(0.95f), h(0.2f),
                  h(0.8f), h(0.7f), h(0.3f), h(0.2f), h(0.4f), 0};
  const std::vector<std::int64_t> positions = {0, 1, 2, 3, 4, 5};
  const auto order = locality_order(positions, nb, 2, [](std::int64_t g) { return g; });
  // Start: largest max weight is cell 2 (0.95) -> 5 -> 2 visited: jump; next largest unvisited
  // max weight: 0 (0.9) -> 3 -> 1 -> 3 visited, jump -> 4.
  const std::vector<std::int64_t> expected = {2, 5, 0, 3, 1, 4};
  EXPECT_EQ(order, expected);
  // Cells of another type (position_of = -1) are never walked to.
  const auto split = locality_order(std::vector<std::int64_t>{0, 1}, nb, 2,
                                    [](std::int64_t g) { return g < 2 ? g : -1; });
  EXPECT_EQ(split, (std::vector<std::int64_t>{0, 1}));
}

}  // namespace
}  // namespace gsmap::gss
