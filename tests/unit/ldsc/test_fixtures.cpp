// Spatial LDSC on the shared fixtures, starting from expected.h5 `gss`, compared to
// expected/ldsc_<trait>.csv and _meta.json within the tolerances of fixtures/README.md.
#include <gtest/gtest.h>

#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gsmap/io/gwas.hpp"
#include "gsmap/io/hdf5.hpp"
#include "gsmap/io/weight_matrix.hpp"
#include "gsmap/ldsc/engine.hpp"
#include "gsmap/ldsc/regression.hpp"
#include "gsmap/ldsc/resources.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "gsmap/ldsc/summary.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "test_support.hpp"

namespace gsmap::ldsc {
namespace {

namespace fs = std::filesystem;
using Index = std::int64_t;

std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}

// Raw f16 bit patterns of a 2-D dataset (no numeric conversion).
std::vector<math::f16_bits> read_f16_bits(const fs::path& file, const std::string& name,
                                          Index& rows, Index& cols) {
  io::Hid f = io::open_file(file.string(), io::Access::kRead);
  io::Hid d = io::open_dataset(f, name);
  const auto shape = io::dataset_shape(d);
  rows = static_cast<Index>(shape.at(0));
  cols = static_cast<Index>(shape.at(1));
  std::vector<math::f16_bits> bits(static_cast<std::size_t>(rows * cols));
  io::H5Lock lock;
  io::Hid type(H5Dget_type(d));
  if (H5Tget_size(type) != 2) throw std::runtime_error(name + " is not a 16-bit dataset");
  if (H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bits.data()) < 0)
    throw std::runtime_error("cannot read " + name);
  return bits;
}

struct FixtureRun {
  CommonResources common;
  std::vector<TraitData> traits;
  std::vector<TraitChunkResult> results;  // per trait, all spots
  double seconds_spot_ld = 0, seconds_regression_first = 0, seconds_regression_rest = 0;
  Index n_spots = 0;
};

// engine: the product path (ldsc/engine.hpp, CPU one-pass backend, 2 workers); otherwise the
// two-pass reference (compute_spot_ld + regress_spots).
FixtureRun run_fixture(const std::string& name, Index spots_per_chunk, bool engine) {
  // Process CPU time: the test is single-threaded and the build machine is shared.
  const auto seconds = [](std::clock_t a, std::clock_t b) {
    return static_cast<double>(b - a) / CLOCKS_PER_SEC;
  };
  const fs::path dir = test::fixture(name);
  FixtureRun run;
  std::vector<std::string> genes;
  for (const auto& row : read_csv(dir / "expected/mean_frac.csv")) genes.push_back(row.at(0));
  genes.erase(genes.begin());  // header

  const auto weights = io::read_snp_gene_weights((dir / "input/weights/snp_gene_weights.h5ad").string());
  const auto ld = io::read_ld_weights((dir / "input/w_ld").string());
  run.common = build_common_resources(weights, ld, {}, genes,
                                      {(dir / "input/weights/snp_gene_weights.h5ad").string(),
                                       (dir / "input/w_ld").string(), {}, "expected.h5 gss"});
  TraitOptions options;  // fixtures: defaults (200 blocks, automatic chisq_max)
  for (const auto& trait : io::traits_from_yaml((dir / "input/gwas/sumstats.yaml").string())) {
    const auto sumstats = io::read_sumstats(trait.sumstats_path);
    run.traits.push_back(prepare_trait(run.common, sumstats, trait.name, options));
  }
  std::vector<const TraitData*> trait_ptrs;
  for (const auto& t : run.traits) trait_ptrs.push_back(&t);
  const SpotLdPlan plan(run.common, trait_ptrs);

  Index n_genes = 0;
  const auto gss = read_f16_bits(dir / "expected/expected.h5", "gss", run.n_spots, n_genes);
  EXPECT_EQ(n_genes, static_cast<Index>(genes.size()));
  run.results.resize(run.traits.size());
  if (engine) {
    const LdscProblem problem(run.common, trait_ptrs);
    const InMemoryGssSource source(gss, n_genes);
    const auto backend = make_cpu_backend();
    std::vector<Index> spots(static_cast<std::size_t>(run.n_spots));
    for (Index j = 0; j < run.n_spots; ++j) spots[static_cast<std::size_t>(j)] = j;
    EngineOptions eo;
    eo.compute_workers = 2;
    eo.chunk_spots = spots_per_chunk;
    EngineResult er = run_ldsc_engine(problem, source, *backend, spots, eo);
    run.results = std::move(er.traits);
    run.seconds_spot_ld = er.times.spot_ld;
    run.seconds_regression_first = er.times.regression / static_cast<double>(run.traits.size());
    run.seconds_regression_rest = run.seconds_regression_first;
    return run;
  }
  SpotLd ld_chunk;
  for (Index start = 0; start < run.n_spots; start += spots_per_chunk) {
    const Index count = std::min(spots_per_chunk, run.n_spots - start);
    std::clock_t t0 = std::clock();
    compute_spot_ld(run.common, plan, gss.data() + start * n_genes, count, ld_chunk);
    std::clock_t t1 = std::clock();
    run.seconds_spot_ld += seconds(t0, t1);
    for (std::size_t t = 0; t < run.traits.size(); ++t) {
      t0 = std::clock();
      const TraitChunkResult r = regress_spots(run.traits[t], ld_chunk, plan.trait_rows(t));
      t1 = std::clock();
      (t == 0 ? run.seconds_regression_first : run.seconds_regression_rest) += seconds(t0, t1);
      TraitChunkResult& all = run.results[t];
      for (auto [dst, src] : {std::pair{&all.beta, &r.beta}, {&all.se, &r.se}, {&all.z, &r.z},
                              {&all.p, &r.p}, {&all.neg_log10_p, &r.neg_log10_p},
                              {&all.beta_full, &r.beta_full}})
        dst->insert(dst->end(), src->begin(), src->end());
      all.n_singular += r.n_singular;
    }
  }
  return run;
}

void check_fixture(const std::string& name, bool engine = false) {
  GSMAP_REQUIRE_SHARED();
  const fs::path dir = test::fixture(name);
  const FixtureRun run = run_fixture(name, 50, engine);
  ASSERT_EQ(run.traits.size(), 2u);

  for (std::size_t t = 0; t < run.traits.size(); ++t) {
    const TraitData& trait = run.traits[t];
    const TraitChunkResult& r = run.results[t];
    SCOPED_TRACE(name + " " + trait.name);

    nlohmann::json meta;
    std::ifstream(dir / fmt::format("expected/ldsc_{}_meta.json", trait.name)) >> meta;
    EXPECT_EQ(trait.n_common_snps, meta["n_common_snps"].get<Index>());
    EXPECT_EQ(trait.n_snps_used, meta["n_snps_used"].get<Index>());
    EXPECT_EQ(trait.n_blocks, meta["n_blocks"].get<int>());
    EXPECT_EQ(trait.block_size, meta["block_size"].get<Index>());
    EXPECT_EQ(static_cast<double>(trait.nbar), meta["Nbar"].get<double>());
    EXPECT_EQ(trait.chisq_max, meta["chisq_max"].get<double>());
    EXPECT_EQ(static_cast<Index>(run.common.genes.size()), meta["n_genes_used"].get<Index>());
    const auto first5 = meta["beta_full_data_first5"].get<std::vector<double>>();
    for (std::size_t j = 0; j < first5.size(); ++j)
      EXPECT_NEAR(r.beta_full[j], first5[j], 1e-4 * std::abs(first5[j])) << "spot " << j;

    // The regression SNP order.
    {
      io::Hid f = io::open_file((dir / "expected/expected.h5").string(), io::Access::kRead);
      io::Hid d = io::open_dataset(f, fmt::format("ldsc_{}_snps", trait.name));
      const auto snps = io::read_strings(d);
      ASSERT_GE(static_cast<Index>(snps.size()), trait.m());
      Index mismatches = 0;
      for (Index k = 0; k < trait.m(); ++k)
        mismatches += snps[k] != run.common.snp[trait.common_index[k]];
      EXPECT_EQ(mismatches, 0);
    }

    const auto rows = read_csv(dir / fmt::format("expected/ldsc_{}.csv", trait.name));
    ASSERT_EQ(static_cast<Index>(rows.size()) - 1, run.n_spots);
    ASSERT_EQ(rows[0], (std::vector<std::string>{"spot", "beta", "se", "z", "p", "neg_log10_p"}));
    double worst_beta = 0, worst_se = 0, worst_z = 0, worst_p = 0, worst_nl = 0;
    Index bad = 0, worst_beta_spot = 0;
    for (Index j = 0; j < run.n_spots; ++j) {
      const auto& row = rows[j + 1];
      const double beta = std::stod(row[1]), se = std::stod(row[2]), z = std::stod(row[3]),
                   p = std::stod(row[4]), nl = std::stod(row[5]);
      const double rb = std::abs(r.beta[j] - beta) / std::abs(beta);
      const double rs = std::abs(r.se[j] - se) / std::abs(se);
      const double az = std::abs(r.z[j] - z), anl = std::abs(r.neg_log10_p[j] - nl);
      const double rp = p > 1e-300 ? std::abs(r.p[j] - p) / p : 0.0;
      if (std::abs(beta) > 1e-12 && rb > worst_beta) {
        worst_beta = rb;
        worst_beta_spot = j;
      }
      worst_se = std::max(worst_se, std::abs(se) > 1e-12 ? rs : 0.0);
      worst_z = std::max(worst_z, az);
      worst_p = std::max(worst_p, rp);
      worst_nl = std::max(worst_nl, anl);
      const bool ok = (std::abs(beta) <= 1e-12 || rb <= 1e-4) && (std::abs(se) <= 1e-12 || rs <= 1e-4) &&
                      az <= 1e-4 && anl <= 1e-4 && rp <= 1e-4;
      if (!ok && bad++ < 5)
        ADD_FAILURE() << "spot " << j << " " << row[0] << ": beta " << r.beta[j] << " vs " << beta
                      << ", se " << r.se[j] << " vs " << se << ", z " << r.z[j] << " vs " << z
                      << ", p " << r.p[j] << " vs " << p;
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(r.n_singular, 0);
    std::printf("[ %s %s ] %lld spots: max rel beta %.2e (spot %lld, z %.2g), se %.2e; max abs z "
                "%.2e, -log10p %.2e; max rel p %.2e\n",
                name.c_str(), trait.name.c_str(), static_cast<long long>(run.n_spots), worst_beta,
                static_cast<long long>(worst_beta_spot), r.z[worst_beta_spot], worst_se, worst_z,
                worst_nl, worst_p);
    const TraitSummary s = summarize_trait(r.p, r.neg_log10_p);
    for (const auto& line : summary_log_lines(s, trait.name, 0, run.n_spots))
      std::printf("    %s\n", line.c_str());
  }
  std::printf("[ %s CPU time, 1 thread, %d SNPs x %lld spots ] spot LD for both traits %.3f s; "
              "regression trait 1 %.3f s (%.0f spots/s), trait 2 %.3f s (%.0f spots/s); 2nd trait "
              "costs %.2f of the 1st\n",
              name.c_str(), static_cast<int>(run.traits[0].m()),
              static_cast<long long>(run.n_spots), run.seconds_spot_ld,
              run.seconds_regression_first, run.n_spots / run.seconds_regression_first,
              run.seconds_regression_rest, run.n_spots / run.seconds_regression_rest,
              run.seconds_regression_rest / (run.seconds_spot_ld + run.seconds_regression_first));
}

TEST(LdscFixtures, Fx2d) { check_fixture("fx2d"); }
TEST(LdscFixtures, Fx3d) { check_fixture("fx3d"); }
TEST(LdscFixtures, FxGrid) { check_fixture("fxgrid"); }
TEST(LdscFixtures, Fx2dEngine) { check_fixture("fx2d", true); }
TEST(LdscFixtures, Fx3dEngine) { check_fixture("fx3d", true); }
TEST(LdscFixtures, FxGridEngine) { check_fixture("fxgrid", true); }

}  // namespace
}  // namespace gsmap::ldsc
