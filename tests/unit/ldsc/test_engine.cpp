// The spatial-LDSC engine (ldsc/engine.hpp) with the CPU one-pass backend: against an independent
// per-spot f64 implementation built from regression_math.hpp (bit for bit: the one-pass changes
// only the order in which the moments are visited, not their arithmetic, and its vectorised
// jackknife is jackknife_first_coefficient's), against the two-pass reference (compute_spot_ld +
// regress_spots: h and the unfused moments differ in the last bits only), and invariance to
// SNP tiles, spot tiles (1 to 65), SIMD copies, chunks, workers and the order of the spots.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/core/memory.hpp"
#include "gsmap/ldsc/engine.hpp"
#include "gsmap/ldsc/regression.hpp"
#include "gsmap/ldsc/regression_math.hpp"
#include "gsmap/ldsc/resources.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "gsmap/math/f16.hpp"

namespace gsmap::ldsc {
namespace {

using Index = std::int64_t;

SparseRowsF32 sparse_from_dense(const std::vector<float>& dense, Index rows, Index cols) {
  SparseRowsF32 m(rows, cols);
  std::vector<Eigen::Triplet<float, Index>> t;
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c)
      if (dense[r * cols + c] != 0.0f) t.emplace_back(r, c, dense[r * cols + c]);
  m.setFromTriplets(t.begin(), t.end());
  m.makeCompressed();
  return m;
}

// A run: 2,311 SNPs (a prime: no tile divides it), 37 genes + Unmapped, 71 spots, 3 traits with
// different kept-SNP sets, `n_extra` extra baseline columns (P = 4 + n_extra).
struct Data {
  CommonResources common;
  std::vector<TraitData> traits;
  std::vector<math::f16_bits> gss;  // n_spots x marker genes
  Index n_spots = 71;
  Index n_marker = 0;
};

Data make_data(int n_extra, int n_blocks, std::uint64_t seed) {
  const Index n_w = 2311, n_genes = 37, F = n_genes + 1;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  io::SnpGeneWeights w;
  for (Index i = 0; i < n_w; ++i) w.snp.push_back(fmt::format("rs{}", i));
  for (Index g = 0; g < n_genes; ++g) w.features.push_back(fmt::format("G{}", g));
  w.features.push_back("Unmapped");
  std::vector<float> dense(static_cast<std::size_t>(n_w * F), 0.0f);
  for (Index i = 0; i < n_w; ++i) {
    // Nearby genes, as in a real SNP-gene matrix; ~8 entries per SNP.
    const Index centre = i * n_genes / n_w;
    for (int k = 0; k < 8; ++k) {
      const Index g = std::clamp<Index>(centre + static_cast<Index>(u(rng) * 9) - 4, 0, n_genes - 1);
      dense[i * F + g] += 0.05f + 2.0f * u(rng);
    }
    dense[i * F + n_genes] = 3.0f * u(rng);
  }
  w.matrix = sparse_from_dense(dense, n_w, F);
  io::LdWeights ld;
  for (Index i = 0; i < n_w; ++i) {
    if (i % 13 == 5) continue;
    ld.snp.push_back(fmt::format("rs{}", i));
    ld.weight.push_back(0.3f + 12.0f * u(rng));
  }
  std::vector<io::ExtraBaseline> extras;
  if (n_extra > 0) {
    io::ExtraBaseline e;
    for (int c = 0; c < n_extra; ++c) e.annotations.push_back(fmt::format("E{}", c));
    for (Index i = 0; i < n_w; ++i) {
      if (i % 19 == 0) continue;
      e.snp.push_back(fmt::format("rs{}", i));
      for (int c = 0; c < n_extra; ++c) e.values.push_back(4.0f * u(rng));
    }
    extras.push_back(e);
  }
  std::vector<std::string> marker = w.features;
  marker.pop_back();
  std::shuffle(marker.begin(), marker.end(), rng);
  marker.insert(marker.begin() + 3, "NOT_IN_W");

  Data d;
  d.common = build_common_resources(w, ld, extras, marker,
                                    {"w.h5ad", "w_ld", std::vector<std::string>(extras.size(), "x"),
                                     "m"});
  TraitOptions o;
  o.n_blocks = n_blocks;
  for (int t = 0; t < 3; ++t) {
    io::SumStats ss;
    ss.path = fmt::format("trait{}.sumstats", t);
    for (Index i = 0; i < n_w; ++i) {
      if ((i * (t + 3)) % (4 + 3 * t) == 1) continue;  // a different subset per trait
      ss.snp.push_back(fmt::format("rs{}", i));
      ss.z.push_back(3.0f * (u(rng) - 0.5f) * (1.0f + 0.5f * t) + (i % 50 == 0 ? 4.0f : 0.0f));
      ss.n.push_back(std::round(50000.0f + 30000.0f * u(rng)));
    }
    d.traits.push_back(prepare_trait(d.common, ss, fmt::format("T{}", t), o));
  }
  d.n_marker = static_cast<Index>(marker.size());
  d.gss.resize(static_cast<std::size_t>(d.n_spots * d.n_marker));
  for (Index j = 0; j < d.n_spots; ++j)
    for (Index g = 0; g < d.n_marker; ++g)
      d.gss[j * d.n_marker + g] = math::f32_to_f16(u(rng) < 0.3f ? 0.0f : 3.0f * u(rng) * u(rng));
  for (Index g = 0; g < d.n_marker; ++g) d.gss[9 * d.n_marker + g] = 0;  // spot 9: singular
  return d;
}

std::vector<const TraitData*> pointers(const Data& d) {
  std::vector<const TraitData*> p;
  for (const auto& t : d.traits) p.push_back(&t);
  return p;
}

std::vector<Index> iota(Index n) {
  std::vector<Index> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), Index{0});
  return v;
}

EngineResult run(const Data& d, const CpuBackendOptions& cpu, const std::vector<Index>& spots,
                 Index chunk = 50, int workers = 1) {
  const LdscProblem problem(d.common, pointers(d));
  const InMemoryGssSource source(d.gss, d.n_marker);
  const auto backend = make_cpu_backend(cpu);
  EngineOptions eo;
  eo.compute_workers = workers;
  eo.chunk_spots = chunk;
  return run_ldsc_engine(problem, source, *backend, spots, eo);
}

bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Result `a` at position i equals `b` at position k, bit for bit.
void expect_same_spot(const TraitChunkResult& a, std::size_t i, const TraitChunkResult& b,
                      std::size_t k, const std::string& what) {
  EXPECT_TRUE(same(a.beta[i], b.beta[k]) && same(a.se[i], b.se[k]) && same(a.z[i], b.z[k]) &&
              same(a.p[i], b.p[k]) && same(a.neg_log10_p[i], b.neg_log10_p[k]) &&
              same(a.beta_full[i], b.beta_full[k]))
      << what << " spot " << i << ": beta " << a.beta[i] << " vs " << b.beta[k];
}

void expect_identical(const EngineResult& a, const EngineResult& b, const std::string& what) {
  ASSERT_EQ(a.traits.size(), b.traits.size());
  for (std::size_t t = 0; t < a.traits.size(); ++t) {
    ASSERT_EQ(a.traits[t].beta.size(), b.traits[t].beta.size());
    for (std::size_t j = 0; j < a.traits[t].beta.size(); ++j)
      expect_same_spot(a.traits[t], j, b.traits[t], j, fmt::format("{} trait {}", what, t));
    EXPECT_EQ(a.traits[t].n_singular, b.traits[t].n_singular) << what;
  }
}

// The straightforward implementation of one spot: L_i over the row's genes in W order (f32),
// h from u . g (u = sum_i N_i W_i in the trait's SNP order, f64), squared_regression_weight and
// accumulate_moments_fma per SNP into its block, jackknife_first_coefficient: the one-pass
// arithmetic of docs/algorithms.md §7.5, scalar.
JackknifeEstimate reference_spot(const Data& d, const TraitData& t, Index spot) {
  const CommonResources& c = d.common;
  const auto& w = c.gene_weights;
  const Index n_genes = static_cast<Index>(c.genes.size());
  std::vector<float> score(static_cast<std::size_t>(n_genes));
  for (Index g = 0; g < n_genes; ++g)
    score[g] = math::f16_to_f32(d.gss[spot * d.n_marker + c.marker_column[g]]);
  std::vector<double> u(static_cast<std::size_t>(n_genes), 0.0);
  for (Index k = 0; k < t.m(); ++k) {
    const Index r = t.common_index[k];
    for (Index e = w.outerIndexPtr()[r]; e < w.outerIndexPtr()[r + 1]; ++e)
      u[w.innerIndexPtr()[e]] += t.n[k] * static_cast<double>(w.valuePtr()[e]);
  }
  double ug = 0.0;
  for (Index g = 0; g < n_genes; ++g) ug += u[g] * static_cast<double>(score[g]);
  const double h_over_m =
      clipped_heritability(t.mean_chisq, (ug + t.sum_baseline_times_n) / static_cast<double>(t.m())) /
      kHeritabilityM;
  const int P = t.n_features, K = moment_count(P);
  std::vector<double> blocks(static_cast<std::size_t>(t.n_blocks * K), 0.0);
  std::vector<double> x(static_cast<std::size_t>(P));
  for (Index k = 0; k < t.m(); ++k) {
    const Index r = t.common_index[k];
    float l = 0.0f;
    for (Index e = w.outerIndexPtr()[r]; e < w.outerIndexPtr()[r + 1]; ++e)
      l += w.valuePtr()[e] * score[w.innerIndexPtr()[e]];
    x[0] = l;
    for (int a = 1; a < P; ++a) x[a] = t.design[k * (P - 1) + a - 1];
    const double q = squared_regression_weight(static_cast<double>(l) + t.baseline_sum[k],
                                               h_over_m * t.n[k], t.ld_term[k]);
    accumulate_moments_fma(P, q, x.data(), t.chisq[k], blocks.data() + (k / t.block_size) * K, 1);
  }
  std::vector<double> work(static_cast<std::size_t>(jackknife_work_size(P)));
  return jackknife_first_coefficient(P, t.n_blocks, blocks.data(), 1, work.data());
}

void check_reference(int n_extra, int n_blocks) {
  const Data d = make_data(n_extra, n_blocks, 7 + n_extra);
  ASSERT_EQ(d.traits[0].n_features, 4 + n_extra);
  const EngineResult e = run(d, {}, iota(d.n_spots));
  // The two-pass reference: h from sum_i L_i N_i with L_i rounded to f32, so h and everything
  // after it differ by about 1e-8 relative (the fixtures allow 1e-4).
  const SpotLdPlan plan(d.common, pointers(d));
  SpotLd ld;
  compute_spot_ld(d.common, plan, d.gss.data(), d.n_spots, ld);
  for (std::size_t t = 0; t < d.traits.size(); ++t) {
    const TraitData& trait = d.traits[t];
    const TraitChunkResult& r = e.traits[t];
    if (t == 0) {
      EXPECT_LT(trait.m(), plan.n_rows());  // kept-SNP sets differ between traits
    }
    Index finite = 0;
    for (Index j = 0; j < d.n_spots; ++j) {
      const JackknifeEstimate ref = reference_spot(d, trait, j);
      const double nbar = trait.nbar;
      EXPECT_TRUE(same(r.beta[j], ref.mean / nbar) && same(r.se[j], ref.se / nbar) &&
                  same(r.beta_full[j], ref.full / nbar))
          << "trait " << t << " spot " << j << ": " << r.beta[j] << " vs " << ref.mean / nbar;
      finite += std::isfinite(r.z[j]);
    }
    EXPECT_GE(finite, d.n_spots - 1);  // all but the all-zero spot
    EXPECT_TRUE(std::isnan(r.z[9]));
    EXPECT_EQ(r.n_singular, 1);
    const TraitChunkResult two = regress_spots(trait, ld, plan.trait_rows(t));
    // Measured: beta, se and z within about 2e-10 (relative to se) of the two-pass results.
    for (Index j = 0; j < d.n_spots; ++j) {
      if (j == 9) continue;
      EXPECT_NEAR(r.beta[j], two.beta[j], 1e-8 * two.se[j]) << j;
      EXPECT_NEAR(r.se[j], two.se[j], 1e-8 * two.se[j]) << j;
      EXPECT_NEAR(r.z[j], two.z[j], 1e-8 * (1 + std::abs(two.z[j]))) << j;
      EXPECT_NEAR(r.neg_log10_p[j], two.neg_log10_p[j], 1e-8 * (1 + two.neg_log10_p[j])) << j;
    }
  }
  EXPECT_EQ(e.n_singular, 3);
  EXPECT_GT(e.times.spot_ld, 0.0);
  EXPECT_GT(e.times.regression, 0.0);
}

TEST(LdscEngine, MatchesPerSpotReferenceP4) { check_reference(0, 7); }
TEST(LdscEngine, MatchesPerSpotReferenceP5) { check_reference(1, 11); }
TEST(LdscEngine, MatchesPerSpotReferenceP6) { check_reference(2, 5); }
TEST(LdscEngine, MatchesPerSpotReferenceP7RuntimePath) { check_reference(3, 4); }

TEST(LdscEngine, TilesSimdChunksAndWorkersDoNotChangeResults) {
  for (const int n_extra : {0, 3}) {
    const Data d = make_data(n_extra, 7, 99);
    const LdscProblem problem(d.common, pointers(d));
    const std::vector<Index> all = iota(d.n_spots);
    const EngineResult base = run(d, {1, 1, CpuSimd::kBaseline}, all, 71, 1);
    // SNP tiles that do not divide the plan (2,000-odd rows), blocks straddling every tile.
    for (const Index snp_tile : {Index{7}, Index{256}, Index{5000}}) {
      ASSERT_NE(problem.plan.n_rows() % snp_tile, 0);
      for (const CpuSimd simd : {CpuSimd::kBaseline, CpuSimd::kAvx2, CpuSimd::kAuto})
        expect_identical(run(d, {snp_tile, 64, simd}, all), base,
                         fmt::format("P={} snp tile {}", 4 + n_extra, snp_tile));
    }
    for (Index spot_tile = 1; spot_tile <= 65; ++spot_tile)
      expect_identical(run(d, {97, spot_tile, CpuSimd::kAuto}, all, 71), base,
                       fmt::format("P={} spot tile {}", 4 + n_extra, spot_tile));
    // Padded tiles of 96, 128, 144 and 256 spots: the spot LD's 8-, 4- and 1-vector loops.
    for (const Index spot_tile : {Index{96}, Index{128}, Index{130}, Index{256}})
      for (const CpuSimd simd : {CpuSimd::kBaseline, CpuSimd::kAvx2, CpuSimd::kAuto})
        expect_identical(run(d, {97, spot_tile, simd}, all, 71), base,
                         fmt::format("P={} spot tile {}", 4 + n_extra, spot_tile));
    // Chunks are rounded up to the spot tile (5 here): 5, 15, 70 spots.
    for (const Index chunk : {Index{1}, Index{13}, Index{70}})
      for (const int workers : {1, 3})
        expect_identical(run(d, {61, 5, CpuSimd::kAuto}, all, chunk, workers), base,
                         fmt::format("chunk {} workers {}", chunk, workers));
  }
}

// Many small jackknife blocks (6-8 SNPs, so nearly every block straddles a 13-row SNP tile): the
// vectorised jackknife and the grouped weights equal the scalar reference bit for bit, for 1, 2
// and 4 compute workers and every instruction-set copy.
TEST(LdscEngine, ManySmallBlocksMatchTheReferenceForAnyWorkerCount) {
  const Data d = make_data(0, 250, 23);
  const std::vector<Index> all = iota(d.n_spots);
  const EngineResult one = run(d, {13, 16, CpuSimd::kAuto}, all, 16, 1);
  for (std::size_t t = 0; t < d.traits.size(); ++t) {
    ASSERT_LT(d.traits[t].block_size, 13);
    for (Index j = 0; j < d.n_spots; ++j) {
      const JackknifeEstimate ref = reference_spot(d, d.traits[t], j);
      const double nbar = d.traits[t].nbar;
      EXPECT_TRUE(same(one.traits[t].beta[j], ref.mean / nbar) &&
                  same(one.traits[t].se[j], ref.se / nbar))
          << "trait " << t << " spot " << j;
    }
  }
  for (const int workers : {2, 4})
    expect_identical(run(d, {13, 16, CpuSimd::kAuto}, all, 16, workers), one,
                     fmt::format("{} workers", workers));
  for (const CpuSimd simd : {CpuSimd::kBaseline, CpuSimd::kAvx2})
    expect_identical(run(d, {13, 16, simd}, all, 32, 2), one, "instruction set");
}

TEST(LdscEngine, SpotsNeedNotBeContiguous) {
  const Data d = make_data(0, 6, 5);
  const EngineResult whole = run(d, {}, iota(d.n_spots));
  // Every third spot, in reverse, then a few repeated: results follow the given order.
  std::vector<Index> spots;
  for (Index j = d.n_spots - 1; j >= 0; j -= 3) spots.push_back(j);
  spots.push_back(9);
  spots.push_back(0);
  const EngineResult part = run(d, {}, spots, 4, 2);
  for (std::size_t t = 0; t < d.traits.size(); ++t) {
    for (std::size_t i = 0; i < spots.size(); ++i)
      expect_same_spot(part.traits[t], i, whole.traits[t], static_cast<std::size_t>(spots[i]),
                       fmt::format("trait {}", t));
    EXPECT_EQ(part.traits[t].n_singular, 1);  // spot 9 once
  }
}

TEST(LdscEngine, EmptySpotListAndErrors) {
  const Data d = make_data(0, 6, 3);
  const EngineResult none = run(d, {}, {});
  ASSERT_EQ(none.traits.size(), 3u);
  EXPECT_TRUE(none.traits[0].beta.empty());
  const LdscProblem problem(d.common, pointers(d));
  const auto backend = make_cpu_backend();
  // GSS of another width: names the source and both widths.
  const InMemoryGssSource narrow(std::vector<math::f16_bits>(4 * 5, 0), 5);
  try {
    run_ldsc_engine(problem, narrow, *backend, std::vector<Index>{0, 1}, {});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("GSS rows in memory"), std::string::npos) << m;
    EXPECT_NE(m.find("5 genes"), std::string::npos) << m;
  }
  const InMemoryGssSource source(d.gss, d.n_marker);
  EXPECT_THROW(run_ldsc_engine(problem, source, *backend, std::vector<Index>{0, d.n_spots}, {}),
               ComputeError);
  EXPECT_THROW(make_cpu_backend({0, 64, CpuSimd::kAuto}), UsageError);
}

TEST(LdscEngine, LedgerRecordsTilesAndGssChunks) {
  const Data d = make_data(0, 6, 11);
  core::MemoryLedger::instance().reset();
  run(d, {128, 32, CpuSimd::kAuto}, iota(d.n_spots), 20, 2);
  std::int64_t tiles = -1, chunks = -1, tiles_now = -1;
  for (const auto& p : core::MemoryLedger::instance().parts()) {
    if (p.name == "LDSC tiles") {
      tiles = p.peak;
      tiles_now = p.current;
    }
    if (p.name == "GSS chunks") chunks = p.peak;
  }
  // Per worker: scores (genes x 32 f32), the spot-LD tile (128 x 32 f32), the jackknife estimates
  // of a tile (32), h and blocks per trait.
  std::int64_t per_worker = (37 * 32 + 128 * 32) * 4 + 32 * sizeof(JackknifeEstimate);
  for (const auto& t : d.traits) per_worker += (32 + t.n_blocks * moment_count(4) * 32) * 8;
  EXPECT_GE(tiles, per_worker);
  EXPECT_LE(tiles, 2 * per_worker);
  EXPECT_EQ(tiles_now, 0);  // released with the workers
  EXPECT_GE(chunks, 20 * d.n_marker * 2);
}

}  // namespace
}  // namespace gsmap::ldsc
