// GSS from the fixtures' expected log ranks, neighbours and weights must reproduce expected.h5
// `gss` (fixtures README: >= 99.9 % of entries bit-identical; we expect all of them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gsmap/gss/marker_score.hpp"
#include "gsmap/io/hdf5.hpp"
#include "test_support.hpp"

namespace gsmap::gss {
namespace {

struct FixtureGss {
  std::size_t n_cells = 0, n_genes = 0, n_slots = 0;
  std::vector<std::uint16_t> log_ranks, weights, expected_gss;
  std::vector<std::int32_t> neighbours;
  std::vector<float> g_mean, frac;
};

// mean_frac.csv: gene,G_Mean,frac (f64 text) -> f32, as docs/algorithms.md §10.3 step 2 uses them.
void read_mean_frac(const std::filesystem::path& path, std::vector<float>& g_mean,
                    std::vector<float>& frac) {
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line, "gene,G_Mean,frac");
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string gene, mean, fraction;
    std::getline(fields, gene, ',');
    std::getline(fields, mean, ',');
    std::getline(fields, fraction, ',');
    g_mean.push_back(static_cast<float>(std::stod(mean)));
    frac.push_back(static_cast<float>(std::stod(fraction)));
  }
}

FixtureGss load_fixture(const std::string& name) {
  FixtureGss fx;
  const auto expected = test::fixture(name) / "expected";
  read_mean_frac(expected / "mean_frac.csv", fx.g_mean, fx.frac);
  io::Hid file = io::open_file((expected / "expected.h5").string(), io::Access::kRead);
  io::Hid ranks = io::open_dataset(file, "log_ranks");
  io::Hid indices = io::open_dataset(file, "homo_indices");
  io::Hid sims = io::open_dataset(file, "homo_cell_sims");
  io::Hid gss = io::open_dataset(file, "gss");
  const auto rank_shape = io::dataset_shape(ranks);
  const auto slot_shape = io::dataset_shape(indices);
  fx.n_cells = rank_shape[0];
  fx.n_genes = rank_shape[1];
  fx.n_slots = slot_shape[1];
  fx.log_ranks = io::read_all<std::uint16_t>(ranks);
  fx.neighbours = io::read_all<std::int32_t>(indices);
  fx.weights = io::read_all<std::uint16_t>(sims);
  fx.expected_gss = io::read_all<std::uint16_t>(gss);
  return fx;
}

struct Agreement {
  std::size_t identical = 0, total = 0, zero_weight_cells = 0;
  int max_step_difference = 0;  // in f16 steps (GSS >= 0, so bit patterns order like values)
  double fraction() const { return total ? static_cast<double>(identical) / total : 0.0; }
};

// Batches of 500 cells over the whole log-rank matrix as the gathered block (slot -> row is the
// global neighbour index itself).
Agreement run_fixture(const FixtureGss& fx, const MarkerScoreOptions& options,
                      std::vector<std::uint16_t>& computed) {
  MarkerScoreCalculator calculator(options, fx.g_mean, fx.frac);
  computed.assign(fx.n_cells * fx.n_genes, 0);
  Agreement agreement;
  constexpr std::size_t kBatch = 500;
  for (std::size_t first = 0; first < fx.n_cells; first += kBatch) {
    const std::size_t n = std::min(kBatch, fx.n_cells - first);
    NeighbourRankBatch batch;
    batch.n_cells = n;
    batch.n_rows = fx.n_cells;
    batch.n_genes = fx.n_genes;
    batch.log_ranks = fx.log_ranks;
    batch.slot_rows = std::span(fx.neighbours).subspan(first * fx.n_slots, n * fx.n_slots);
    batch.weights = std::span(fx.weights).subspan(first * fx.n_slots, n * fx.n_slots);
    const auto stats =
        calculator.compute(batch, std::span(computed).subspan(first * fx.n_genes, n * fx.n_genes));
    agreement.zero_weight_cells += stats.zero_weight_cells;
  }
  for (std::size_t i = 0; i < computed.size(); ++i) {
    agreement.identical += computed[i] == fx.expected_gss[i] ? 1 : 0;
    const int steps = std::abs(static_cast<int>(computed[i]) - fx.expected_gss[i]);
    agreement.max_step_difference = std::max(agreement.max_step_difference, steps);
  }
  agreement.total = computed.size();
  return agreement;
}

void expect_fixture_matches(const std::string& name, const MarkerScoreOptions& options) {
  const FixtureGss fx = load_fixture(name);
  ASSERT_EQ(fx.g_mean.size(), fx.n_genes);
  ASSERT_EQ(static_cast<int>(fx.n_slots), options.slots_per_cell());
  std::vector<std::uint16_t> computed;
  const Agreement agreement = run_fixture(fx, options, computed);
  std::size_t nonzero = 0;
  for (auto v : fx.expected_gss) nonzero += v != 0 ? 1 : 0;
  std::cout << name << ": " << agreement.identical << " / " << agreement.total
            << " GSS entries bit-identical (" << 100.0 * agreement.fraction() << " %, others "
            << agreement.max_step_difference << " f16 step apart), " << nonzero
            << " non-zero expected, " << agreement.zero_weight_cells << " zero-weight cells\n";
  // The README asks for 99.9 %; we hold 99.99 %. The remaining differences come from numpy's f32
  // power (Intel SVML, low accuracy) in the reference, one f16 step each (gss_float_math.hpp).
  EXPECT_GE(agreement.fraction(), 0.9999);
  EXPECT_LE(agreement.max_step_difference, 1);
  // A real check that the data is non-trivial: most cells have some specific genes.
  EXPECT_GT(nonzero, agreement.total / 100);

  // The per-gene device path (cell_gene_gss) agrees with the batch path on every entry.
  std::vector<float> w_hat(fx.n_slots);
  std::vector<std::uint8_t> in_fraction(fx.n_slots);
  std::vector<PreparedGroup> groups(options.n_groups());
  std::vector<std::uint16_t> row_min(fx.n_cells);
  for (std::size_t r = 0; r < fx.n_cells; ++r) {
    row_min[r] = row_minimum_f16(fx.log_ranks.data() + r * fx.n_genes, fx.n_genes);
  }
  std::size_t device_path_mismatch = 0;
  const int group_slots = options.slots_per_group();
  for (std::size_t c = 0; c < fx.n_cells; c += 7) {
    for (int b = 0; b < options.n_groups(); ++b) {
      const std::size_t offset = c * fx.n_slots + static_cast<std::size_t>(b * group_slots);
      groups[b] = prepare_group(fx.weights.data() + offset, fx.neighbours.data() + offset,
                                group_slots, options.pooling, w_hat.data() + b * group_slots,
                                in_fraction.data() + b * group_slots);
    }
    for (std::size_t g = 0; g < fx.n_genes; ++g) {
      const auto value = cell_gene_gss(groups.data(), options.n_groups(), fx.log_ranks.data(),
                                       fx.n_genes, row_min.data(), g, fx.g_mean[g], fx.frac[g],
                                       !options.no_expression_fraction);
      device_path_mismatch += value != computed[c * fx.n_genes + g] ? 1 : 0;
    }
  }
  EXPECT_EQ(device_path_mismatch, 0u);
}

TEST(MarkerScoreFixture, Fx2dSpatial2D) {
  GSMAP_REQUIRE_SHARED();
  expect_fixture_matches("fx2d", MarkerScoreOptions{21, 1, MarkerScorePooling::kWholeRow, false});
}

TEST(MarkerScoreFixture, FxgridSpatial2D) {
  GSMAP_REQUIRE_SHARED();
  expect_fixture_matches("fxgrid", MarkerScoreOptions{21, 1, MarkerScorePooling::kWholeRow, false});
}

TEST(MarkerScoreFixture, Fx3dHierarchicalPool) {
  GSMAP_REQUIRE_SHARED();
  expect_fixture_matches("fx3d",
                         MarkerScoreOptions{21, 3, MarkerScorePooling::kHierarchical, false});
}

}  // namespace
}  // namespace gsmap::gss
