// One slice of tissue: cell positions, domains, types, raw counts and the two embeddings.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include "gsmap/sim/model.hpp"
#include "gsmap/sim/random.hpp"

namespace gsmap::sim {
namespace {

constexpr double kHomeTypeProbability = 0.85;  // fixtures: ~88% of a domain are its home types
constexpr double kLowQualityRate = 0.03;       // High_quality = false, otherwise ordinary cells
constexpr double kLibraryLogSd = 0.35;
constexpr double kCellEmbeddingNoise = 0.65;
constexpr double kNicheEmbeddingNoise = 0.4;
constexpr double kNicheRadiusSpacings = 3.0;  // niche = domain mix within 3 cell spacings
constexpr std::int64_t kExpressionBlock = 4096;

// Normalised expression proportions for every (type, domain) pair, so that the expected library
// size does not depend on how many markers a cell expresses.
std::vector<std::vector<double>> expression_profiles(const GeneDesign& d) {
  const std::size_t n_genes = d.st_genes.size();
  const std::size_t n_domains = d.domain_names.size();
  std::vector<std::vector<double>> profiles;
  for (std::size_t t = 0; t < d.type_names.size(); ++t) {
    for (std::size_t k = 0; k < n_domains; ++k) {
      std::vector<double> p(n_genes);
      double sum = 0.0;
      for (std::size_t g = 0; g < n_genes; ++g) {
        p[g] = det_exp(d.base_log_proportion[g] + d.type_log_fold[t][g] + d.domain_log_fold[k][g]);
        sum += p[g];
      }
      for (auto& x : p) x /= sum;
      profiles.push_back(std::move(p));
    }
  }
  return profiles;
}

// Domain composition of each cell's neighbourhood (radius r, the cell itself included), via a
// uniform grid of r-sized bins.
std::vector<double> neighbourhood_domain_fractions(const std::vector<double>& xy,
                                                   const std::vector<std::int32_t>& domain,
                                                   int n_domains, double side, double radius) {
  const std::size_t n = domain.size();
  const auto bins = static_cast<std::int64_t>(std::max(1.0, std::ceil(side / radius)));
  auto bin_of = [&](double v) {
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(v / radius), 0, bins - 1);
  };
  std::vector<std::int64_t> cell_bin(n);
  std::vector<std::int64_t> start(static_cast<std::size_t>(bins * bins + 1), 0);
  for (std::size_t i = 0; i < n; ++i) {
    cell_bin[i] = bin_of(xy[2 * i + 1]) * bins + bin_of(xy[2 * i]);
    ++start[static_cast<std::size_t>(cell_bin[i] + 1)];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<std::int64_t> members(n);
  {
    std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      members[static_cast<std::size_t>(fill[static_cast<std::size_t>(cell_bin[i])]++)] =
          static_cast<std::int64_t>(i);
    }
  }
  const double r2 = radius * radius;
  std::vector<double> frac(n * static_cast<std::size_t>(n_domains), 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t bx = cell_bin[i] % bins, by = cell_bin[i] / bins;
    double* f = &frac[i * static_cast<std::size_t>(n_domains)];
    double total = 0.0;
    for (std::int64_t yy = std::max<std::int64_t>(0, by - 1); yy <= std::min(bins - 1, by + 1);
         ++yy) {
      for (std::int64_t xx = std::max<std::int64_t>(0, bx - 1); xx <= std::min(bins - 1, bx + 1);
           ++xx) {
        const auto b = static_cast<std::size_t>(yy * bins + xx);
        for (auto m = start[b]; m < start[b + 1]; ++m) {
          const auto j = static_cast<std::size_t>(members[static_cast<std::size_t>(m)]);
          const double dx = xy[2 * i] - xy[2 * j], dy = xy[2 * i + 1] - xy[2 * j + 1];
          if (dx * dx + dy * dy <= r2) {
            f[domain[j]] += 1.0;
            total += 1.0;
          }
        }
      }
    }
    for (int k = 0; k < n_domains; ++k) f[k] /= total;
  }
  return frac;
}

}  // namespace

SliceData simulate_slice(const SimulateOptions& o, const GeneDesign& design,
                         const TissueLayout& layout, int slice) {
  Rng rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kCells),
                   static_cast<std::uint64_t>(slice)));
  const auto n = static_cast<std::size_t>(o.n_cells);
  const int n_domains = o.n_domains;
  const std::size_t n_genes = design.st_genes.size();

  SliceData s;
  s.name = sample_name(o, slice);
  s.xy.resize(2 * n);
  s.domain.resize(n);
  s.true_type.resize(n);
  s.high_quality.resize(n);
  std::vector<double> library(n);

  std::vector<std::vector<std::int32_t>> home_types(static_cast<std::size_t>(n_domains));
  for (int t = 0; t < o.n_types; ++t)
    home_types[static_cast<std::size_t>(t % n_domains)].push_back(t);

  for (std::size_t i = 0; i < n; ++i) {
    const double x = rng.uniform() * layout.side;
    const double y = rng.uniform() * layout.side;
    s.xy[2 * i] = x;
    s.xy[2 * i + 1] = y;
    const int dom = layout.domain_at(x, y, slice);
    s.domain[i] = dom;
    const auto& home = home_types[static_cast<std::size_t>(dom)];
    const bool at_home = rng.uniform() < kHomeTypeProbability;
    std::int32_t type = 0;
    if (at_home && !home.empty()) {
      type = home[static_cast<std::size_t>(rng.below(home.size()))];
    } else {
      type = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(o.n_types)));
    }
    s.true_type[i] = type;
    library[i] =
        det_exp(design.log_library_mean + design.type_log_library[static_cast<std::size_t>(type)] +
                rng.normal(0.0, kLibraryLogSd));
    s.high_quality[i] = rng.uniform() < kLowQualityRate ? 0 : 1;
  }
  s.label = s.true_type;
  s.obs_names.reserve(n);
  for (std::size_t i = 0; i < n; ++i) s.obs_names.push_back(fmt::format("cell{}", i));

  if (o.edge_cases) {
    // The fixtures' edge cases: a rare type below the 21-cell minimum, NaN labels, cells with
    // fewer than 20 detected genes (flagged low quality), and one duplicated obs name.
    const auto rare = static_cast<std::int32_t>(design.type_names.size() - 1);
    for (auto i : rng.sample_without_replacement(o.n_cells, 12))
      s.true_type[static_cast<std::size_t>(i)] = rare;
    s.label = s.true_type;
    const auto n_nan = std::max<std::int64_t>(1, o.n_cells / 200);
    for (auto i : rng.sample_without_replacement(o.n_cells, n_nan))
      s.label[static_cast<std::size_t>(i)] = -1;
    const auto n_low = std::max<std::int64_t>(1, o.n_cells / 100);
    for (auto i : rng.sample_without_replacement(o.n_cells, n_low)) {
      library[static_cast<std::size_t>(i)] = rng.uniform(6.0, 14.0);
      s.high_quality[static_cast<std::size_t>(i)] = 0;
    }
    if (n > 5) s.obs_names[5] = s.obs_names[4];
  }

  // Raw counts. Each cell has its own random stream, so the rows do not depend on the number of
  // threads or on the order in which they are drawn.
  const auto profiles = expression_profiles(design);
  s.counts.row0 = 0;
  s.counts.n_cols = static_cast<std::int64_t>(n_genes);
  s.counts.indptr.assign(1, 0);
  for (std::int64_t b0 = 0; b0 < o.n_cells; b0 += kExpressionBlock) {
    const std::int64_t b1 = std::min(o.n_cells, b0 + kExpressionBlock);
    std::vector<std::vector<std::pair<std::int32_t, float>>> rows(
        static_cast<std::size_t>(b1 - b0));
    tbb::parallel_for(b0, b1, [&](std::int64_t c) {
      const auto i = static_cast<std::size_t>(c);
      Rng cell_rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kExpression),
                            static_cast<std::uint64_t>(slice), static_cast<std::uint64_t>(c)));
      const auto& p =
          profiles[static_cast<std::size_t>(s.true_type[i]) * static_cast<std::size_t>(n_domains) +
                   static_cast<std::size_t>(s.domain[i])];
      auto& row = rows[static_cast<std::size_t>(c - b0)];
      for (std::size_t g = 0; g < n_genes; ++g) {
        const auto k = cell_rng.negative_binomial(library[i] * p[g], design.dispersion[g]);
        if (k > 0) row.emplace_back(static_cast<std::int32_t>(g), static_cast<float>(k));
      }
    });
    for (const auto& row : rows) {
      for (const auto& [g, v] : row) {
        s.counts.indices.push_back(g);
        s.counts.data.push_back(v);
      }
      s.counts.indptr.push_back(static_cast<std::int64_t>(s.counts.indices.size()));
    }
  }

  // Embeddings (their own stream: changing the gene panel leaves them unchanged).
  Rng emb_rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kCells),
                       static_cast<std::uint64_t>(slice), 1));
  const auto emb_dim = static_cast<std::size_t>(o.emb_dim);
  s.emb_cell.resize(n * emb_dim);
  for (std::size_t i = 0; i < n; ++i) {
    const double* centre =
        &layout.type_centroids[static_cast<std::size_t>(s.true_type[i]) * emb_dim];
    for (std::size_t j = 0; j < emb_dim; ++j) {
      s.emb_cell[i * emb_dim + j] =
          static_cast<float>(centre[j] + emb_rng.normal(0.0, kCellEmbeddingNoise));
    }
  }
  const auto niche_dim = static_cast<std::size_t>(o.niche_dim);
  const auto frac = neighbourhood_domain_fractions(s.xy, s.domain, n_domains, layout.side,
                                                   kNicheRadiusSpacings * 10.0);
  s.emb_niche.resize(n * niche_dim);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < niche_dim; ++j) {
      double v = 0.0;
      for (std::size_t k = 0; k < static_cast<std::size_t>(n_domains); ++k) {
        v += frac[i * static_cast<std::size_t>(n_domains) + k] *
             layout.domain_centroids[k * niche_dim + j];
      }
      s.emb_niche[i * niche_dim + j] =
          static_cast<float>(v + emb_rng.normal(0.0, kNicheEmbeddingNoise));
    }
  }
  return s;
}

}  // namespace gsmap::sim

namespace gsmap::sim {

std::vector<std::int64_t> shuffle_cells(const SimulateOptions& o, int slice, SliceData& s) {
  const auto n = s.obs_names.size();
  std::vector<std::int64_t> order(n);
  std::iota(order.begin(), order.end(), std::int64_t{0});
  Rng rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kShuffle),
                   static_cast<std::uint64_t>(slice)));
  rng.shuffle(order);

  auto permute = [&](auto& v, std::size_t width) {
    auto old = std::move(v);
    v.resize(old.size());
    for (std::size_t i = 0; i < n; ++i) {
      const auto from = static_cast<std::size_t>(order[i]) * width;
      std::copy_n(old.begin() + static_cast<std::ptrdiff_t>(from), width,
                  v.begin() + static_cast<std::ptrdiff_t>(i * width));
    }
  };
  permute(s.obs_names, 1);
  permute(s.xy, 2);
  permute(s.domain, 1);
  permute(s.true_type, 1);
  permute(s.label, 1);
  permute(s.high_quality, 1);
  permute(s.emb_cell, static_cast<std::size_t>(o.emb_dim));
  permute(s.emb_niche, static_cast<std::size_t>(o.niche_dim));

  io::CsrRows counts;
  counts.row0 = s.counts.row0;
  counts.n_cols = s.counts.n_cols;
  counts.indptr.reserve(n + 1);
  counts.indptr.push_back(0);
  counts.indices.reserve(s.counts.indices.size());
  counts.data.reserve(s.counts.data.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = static_cast<std::size_t>(order[i]);
    const auto b = static_cast<std::ptrdiff_t>(s.counts.indptr[r]);
    const auto e = static_cast<std::ptrdiff_t>(s.counts.indptr[r + 1]);
    counts.indices.insert(counts.indices.end(), s.counts.indices.begin() + b,
                          s.counts.indices.begin() + e);
    counts.data.insert(counts.data.end(), s.counts.data.begin() + b, s.counts.data.begin() + e);
    counts.indptr.push_back(static_cast<std::int64_t>(counts.indices.size()));
  }
  s.counts = std::move(counts);
  return order;
}

}  // namespace gsmap::sim
