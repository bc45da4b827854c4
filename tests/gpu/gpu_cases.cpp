#include "gpu_cases.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>

#include "gsmap/ldsc/regression_math.hpp"

namespace gsmap::gpu_test {

using math::f16_bits;

// ---------------------------------------------------------------------------------------------
// GSS

gss::NeighbourRankBatch GssBatch::view(bool with_row_minimum) const {
  gss::NeighbourRankBatch b;
  b.n_cells = n_cells;
  b.n_rows = n_rows;
  b.n_genes = n_genes;
  b.log_ranks = log_ranks;
  b.slot_rows = slot_rows;
  b.weights = weights;
  if (with_row_minimum) b.row_minimum = row_minimum;
  return b;
}

GssBatch make_gss_batch(const GssSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  GssBatch b;
  b.options = spec.options;
  const auto slots = static_cast<std::size_t>(spec.options.slots_per_cell());
  b.n_cells = spec.n_cells;
  b.n_genes = spec.n_genes;
  b.n_rows = spec.n_rows > 0 ? spec.n_rows : spec.n_cells * slots;
  const std::size_t G = b.n_genes;

  // Log ranks per row.
  b.log_ranks.resize(b.n_rows * G);
  b.row_minimum.resize(b.n_rows);
  std::vector<double> gene_log_sum(G, 0.0), gene_expressed(G, 0.0);
  std::vector<std::size_t> order(G);
  for (std::size_t r = 0; r < b.n_rows; ++r) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), rng);
    const auto expressed = static_cast<std::size_t>((0.05 + 0.45 * unit(rng)) * static_cast<double>(G));
    const std::size_t zeros = G - expressed;
    const double zero_rank = (static_cast<double>(zeros) + 1.0) / 2.0;
    f16_bits* row = b.log_ranks.data() + r * G;
    for (std::size_t k = 0; k < G; ++k) {
      const std::size_t g = order[k];
      const bool is_expressed = k < expressed;
      const double rank = is_expressed ? static_cast<double>(zeros + 1 + k) : zero_rank;
      row[g] = math::f32_to_f16(static_cast<float>(std::log(rank)));
      gene_log_sum[g] += math::f16_to_f32(row[g]);
      gene_expressed[g] += is_expressed ? 1.0 : 0.0;
    }
    b.row_minimum[r] = gss::row_minimum_f16(row, G);
  }
  std::normal_distribution<double> jitter(0.0, 0.15);
  b.g_mean.resize(G);
  b.frac.resize(G);
  for (std::size_t g = 0; g < G; ++g) {
    const double rows = static_cast<double>(std::max<std::size_t>(b.n_rows, 1));
    b.g_mean[g] = static_cast<float>(gene_log_sum[g] / rows + jitter(rng));
    b.frac[g] = static_cast<float>(std::clamp(gene_expressed[g] / rows + jitter(rng), 0.0, 1.0));
  }

  // Slots and weights.
  b.slot_rows.resize(b.n_cells * slots);
  b.weights.resize(b.n_cells * slots);
  std::uniform_int_distribution<std::int32_t> any_row(0, static_cast<std::int32_t>(b.n_rows) - 1);
  const bool distinct_rows = spec.n_rows == 0;
  const std::size_t group_slots = static_cast<std::size_t>(spec.options.slots_per_group());
  for (std::size_t c = 0; c < b.n_cells; ++c) {
    const bool zero_cell = unit(rng) < spec.zero_weight_cell_fraction;
    bool zero_block = false;
    for (std::size_t s = 0; s < slots; ++s) {
      if (s % group_slots == 0) zero_block = unit(rng) < spec.zero_block_fraction;
      const std::size_t i = c * slots + s;
      b.slot_rows[i] = distinct_rows ? static_cast<std::int32_t>(i) : any_row(rng);
      if (unit(rng) < spec.padded_slot_fraction) b.slot_rows[i] = -1;
      const bool zero = zero_cell || zero_block || unit(rng) < spec.zero_slot_fraction;
      b.weights[i] = zero ? f16_bits{0} : math::f32_to_f16(static_cast<float>(0.02 + unit(rng)));
    }
  }
  return b;
}

GssComparison compare_gss(const GssBatch& batch, bool with_row_minimum, device::GssDevice& gpu) {
  const gss::NeighbourRankBatch view = batch.view(with_row_minimum);
  const std::size_t n = batch.n_cells * batch.n_genes;
  std::vector<f16_bits> cpu_gss(n, 0xfe00), gpu_gss(n, 0xfe01);  // distinct NaN poison
  std::vector<std::uint8_t> cpu_flags(batch.n_cells, 0x77), gpu_flags(batch.n_cells, 0x55);
  gss::MarkerScoreCalculator cpu(batch.options, batch.g_mean, batch.frac);
  const gss::MarkerScoreBatchStats cpu_stats = cpu.compute(view, cpu_gss, cpu_flags);
  const gss::MarkerScoreBatchStats gpu_stats = gpu.compute(view, gpu_gss, gpu_flags);

  GssComparison r;
  r.entries = n;
  r.cpu_zero_cells = cpu_stats.zero_weight_cells;
  r.gpu_zero_cells = gpu_stats.zero_weight_cells;
  for (std::size_t i = 0; i < n; ++i) {
    r.nonzero += cpu_gss[i] != 0 ? 1 : 0;
    if (cpu_gss[i] != gpu_gss[i]) {
      if (r.mismatches == 0) {
        char text[128];
        std::snprintf(text, sizeof text, "cell %zu gene %zu: cpu 0x%04x gpu 0x%04x",
                      i / batch.n_genes, i % batch.n_genes, static_cast<unsigned>(cpu_gss[i]),
                      static_cast<unsigned>(gpu_gss[i]));
        r.first_mismatch = text;
      }
      ++r.mismatches;
    }
  }
  for (std::size_t c = 0; c < batch.n_cells; ++c) r.flag_mismatches += cpu_flags[c] != gpu_flags[c];
  return r;
}

// ---------------------------------------------------------------------------------------------
// Spatial LDSC

LdscCase make_ldsc_case(const LdscSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  LdscCase c;
  ldsc::TraitData& t = c.trait;
  const int P = spec.n_features;
  const int width = P - 1;
  const std::int64_t m = spec.n_blocks * spec.block_size;
  t.name = "random_trait";
  t.n_blocks = spec.n_blocks;
  t.block_size = spec.block_size;
  t.n_snps_used = m;
  t.n_features = P;
  const auto mu = static_cast<std::size_t>(m);
  t.chisq.resize(mu);
  t.n.resize(mu);
  t.baseline_sum.resize(mu);
  t.ld_term.resize(mu);
  t.design.resize(mu * static_cast<std::size_t>(width));
  std::vector<double> baseline(mu * static_cast<std::size_t>(P - 2));
  double n_sum = 0.0;
  for (std::size_t i = 0; i < mu; ++i) {
    t.n[i] = std::round(90000.0 + 20000.0 * unit(rng));
    n_sum += t.n[i];
    const double z = 1.1 * normal(rng);
    t.chisq[i] = z * z;
    double a = 0.0;
    for (int k = 0; k < P - 2; ++k) {
      const double v = k == 0 ? 1.0 : 5.0 * unit(rng);  // "base" is all ones, like gsMap's
      baseline[i * static_cast<std::size_t>(P - 2) + static_cast<std::size_t>(k)] = v;
      a += v;
    }
    t.baseline_sum[i] = a;
    t.ld_term[i] = ldsc::ld_weight_term(0.5 + 40.0 * unit(rng));
  }
  t.nbar = static_cast<float>(n_sum / static_cast<double>(m));
  double chisq_sum = 0.0, a_n_sum = 0.0;
  for (std::size_t i = 0; i < mu; ++i) {
    for (int k = 0; k < P - 2; ++k) {
      t.design[i * static_cast<std::size_t>(width) + static_cast<std::size_t>(k)] =
          baseline[i * static_cast<std::size_t>(P - 2) + static_cast<std::size_t>(k)] * t.n[i] /
          static_cast<double>(t.nbar);
    }
    t.design[i * static_cast<std::size_t>(width) + static_cast<std::size_t>(width - 1)] = 1.0;
    chisq_sum += t.chisq[i];
    a_n_sum += t.baseline_sum[i] * t.n[i];
  }
  t.mean_chisq = chisq_sum / static_cast<double>(m);
  t.sum_baseline_times_n = a_n_sum;

  // Spot LD: non-negative, heavy-tailed like W . GSS, SNP-major.
  c.ld.n_rows = m + spec.extra_ld_rows;
  c.ld.n_spots = spec.n_spots;
  c.ld.values.resize(static_cast<std::size_t>(c.ld.n_rows * c.ld.n_spots));
  // splitmix64: the 1000-spot benchmark chunk has 2e8 values, too many for <random>'s pace.
  std::uint64_t state = spec.seed * 0x9e3779b97f4a7c15ull + 1;
  auto next_unit = [&state] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1p-53;
  };
  for (auto& v : c.ld.values) {
    const double u = next_unit();
    v = u < 0.3 ? 0.0f : static_cast<float>(-5.0 * std::log1p(-(u - 0.3) / 0.7));  // Exp(mean 5)
  }
  if (spec.zero_first_spot) {
    for (std::int64_t r = 0; r < c.ld.n_rows; ++r) c.ld.values[static_cast<std::size_t>(r * c.ld.n_spots)] = 0.0f;
  }
  // The trait's rows: an ascending random m-subset of the spot-LD rows.
  std::vector<std::int64_t> all(static_cast<std::size_t>(c.ld.n_rows));
  std::iota(all.begin(), all.end(), std::int64_t{0});
  std::shuffle(all.begin(), all.end(), rng);
  c.ld_rows.assign(all.begin(), all.begin() + m);
  std::sort(c.ld_rows.begin(), c.ld_rows.end());
  return c;
}

namespace {

double relative_difference(double a, double b) {
  if (a == b) return 0.0;  // also equal infinities
  const double scale = std::max(std::fabs(a), std::fabs(b));
  return std::fabs(a - b) / scale;
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

}  // namespace

LdscComparison compare_ldsc(const ldsc::TraitChunkResult& cpu, const ldsc::TraitChunkResult& gpu) {
  LdscComparison r;
  r.spots = cpu.n_spots();
  r.cpu_singular = cpu.n_singular;
  r.gpu_singular = gpu.n_singular;
  if (gpu.n_spots() != cpu.n_spots()) {
    r.nan_mismatches = std::max<std::int64_t>(1, r.spots);
    return r;
  }
  const std::vector<double> ldsc::TraitChunkResult::*exact[] = {
      &ldsc::TraitChunkResult::beta, &ldsc::TraitChunkResult::se, &ldsc::TraitChunkResult::z,
      &ldsc::TraitChunkResult::beta_full};
  const std::vector<double> ldsc::TraitChunkResult::*close[] = {
      &ldsc::TraitChunkResult::p, &ldsc::TraitChunkResult::neg_log10_p};
  for (std::int64_t j = 0; j < r.spots; ++j) {
    const auto s = static_cast<std::size_t>(j);
    r.finite_spots += std::isfinite(cpu.beta[s]) ? 1 : 0;
    for (auto field : exact) {
      const double a = (cpu.*field)[s], b = (gpu.*field)[s];
      if (std::isnan(a) != std::isnan(b)) {
        ++r.nan_mismatches;
        continue;
      }
      if (!same_bits(a, b)) ++r.bit_mismatches;
      if (!std::isnan(a)) r.max_rel_beta = std::max(r.max_rel_beta, relative_difference(a, b));
    }
    for (auto field : close) {
      const double a = (cpu.*field)[s], b = (gpu.*field)[s];
      if (std::isnan(a) != std::isnan(b)) {
        ++r.nan_mismatches;
        continue;
      }
      if (!std::isnan(a)) r.max_rel_p = std::max(r.max_rel_p, relative_difference(a, b));
    }
  }
  return r;
}

}  // namespace gsmap::gpu_test
