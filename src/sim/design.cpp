// Gene design and tissue layout: everything shared by all slices, drawn before any cell.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "gsmap/sim/model.hpp"
#include "gsmap/sim/random.hpp"

namespace gsmap::sim {
namespace {

constexpr double kTwoPi = 6.28318530717958647693;

int decimal_digits(std::int64_t n) {
  int d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

std::vector<std::int32_t> sorted_slice(const std::vector<std::int64_t>& perm, std::size_t begin,
                                       std::size_t count) {
  std::vector<std::int32_t> out;
  out.reserve(count);
  for (std::size_t i = begin; i < begin + count; ++i)
    out.push_back(static_cast<std::int32_t>(perm[i]));
  std::sort(out.begin(), out.end());
  return out;
}

// `count` directions of length `norm` in `dim` dimensions, mutually orthogonal while count <= dim
// (Gram-Schmidt on Gaussian vectors), plus a shared `offset` vector so that different clusters
// are not exactly orthogonal (real embeddings share a common component).
std::vector<double> cluster_centroids(Rng& rng, int count, int dim, double norm,
                                      double offset_norm) {
  std::vector<double> c(static_cast<std::size_t>(count) * dim);
  for (int k = 0; k < count; ++k) {
    double* v = &c[static_cast<std::size_t>(k) * dim];
    for (int attempt = 0; attempt < 8; ++attempt) {
      for (int j = 0; j < dim; ++j) v[j] = rng.normal();
      if (k < dim) {
        for (int p = 0; p < k; ++p) {
          const double* u = &c[static_cast<std::size_t>(p) * dim];
          double dot = 0.0;
          for (int j = 0; j < dim; ++j) dot += v[j] * u[j];
          for (int j = 0; j < dim; ++j) v[j] -= dot * u[j];
        }
      }
      double n2 = 0.0;
      for (int j = 0; j < dim; ++j) n2 += v[j] * v[j];
      if (n2 > 1e-6) {
        const double inv = 1.0 / std::sqrt(n2);
        for (int j = 0; j < dim; ++j) v[j] *= inv;
        break;
      }
    }
  }
  std::vector<double> offset(static_cast<std::size_t>(dim));
  double n2 = 0.0;
  for (auto& x : offset) {
    x = rng.normal();
    n2 += x * x;
  }
  const double scale = offset_norm / std::sqrt(n2);
  for (int k = 0; k < count; ++k) {
    for (int j = 0; j < dim; ++j) {
      auto& x = c[static_cast<std::size_t>(k) * dim + j];
      x = x * norm + offset[static_cast<std::size_t>(j)] * scale;
    }
  }
  return c;
}

}  // namespace

int resolved_markers_per_type(const SimulateOptions& o) {
  if (o.markers_per_type > 0) return o.markers_per_type;
  return static_cast<int>(std::clamp<std::int64_t>(o.n_genes / 25, 5, 100));
}

int domain_genes_per_domain(const SimulateOptions& o) {
  return std::max(2, resolved_markers_per_type(o) / 2);
}

std::string sample_name(const SimulateOptions& o, int slice) {
  if (o.n_slices == 1) return "sample0";
  const int width = std::max(2, decimal_digits(o.n_slices - 1));
  return fmt::format("slice{:0{}d}", slice, width);
}

GeneDesign make_gene_design(const SimulateOptions& o) {
  Rng rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kGenes)));
  GeneDesign d;
  const auto n_genes = static_cast<std::size_t>(o.n_genes);
  const int name_width = std::max(5, decimal_digits(o.n_genes - 1));
  d.st_genes.reserve(n_genes);
  for (std::size_t g = 0; g < n_genes; ++g)
    d.st_genes.push_back(fmt::format("GENE{:0{}d}", g, name_width));

  for (int t = 0; t < o.n_types; ++t) d.type_names.push_back(fmt::format("T{}", t));
  if (o.edge_cases) d.type_names.push_back("Rare");
  for (int k = 0; k < o.n_domains; ++k) d.domain_names.push_back(fmt::format("D{}", k));
  const auto n_types_total = d.type_names.size();

  // Disjoint marker sets: one random permutation of the genes, cut into consecutive pieces.
  const auto markers = static_cast<std::size_t>(resolved_markers_per_type(o));
  const auto per_domain = static_cast<std::size_t>(domain_genes_per_domain(o));
  std::vector<std::int64_t> order(n_genes);
  std::iota(order.begin(), order.end(), std::int64_t{0});
  rng.shuffle(order);
  std::size_t pos = 0;
  for (std::size_t t = 0; t < n_types_total; ++t, pos += markers) {
    d.type_markers.push_back(sorted_slice(order, pos, markers));
  }
  for (int k = 0; k < o.n_domains; ++k, pos += per_domain) {
    d.domain_genes.push_back(sorted_slice(order, pos, per_domain));
  }
  std::vector<std::uint8_t> is_special(n_genes, 0);
  for (std::size_t i = 0; i < pos; ++i) is_special[static_cast<std::size_t>(order[i])] = 1;

  // Expression: log-normal baseline proportions (a ~80-fold range between the 5th and 95th
  // percentile genes, as in the fixtures); markers sit in the upper middle of that range so that
  // they are detected in their own type and rare elsewhere.
  d.base_log_proportion.resize(n_genes);
  d.dispersion.resize(n_genes);
  for (std::size_t g = 0; g < n_genes; ++g) {
    d.base_log_proportion[g] = is_special[g] ? rng.normal(0.3, 0.6) : rng.normal(0.0, 1.3);
    d.dispersion[g] = 0.45 * det_exp(rng.normal(0.0, 0.4));
  }
  d.type_log_fold.assign(n_types_total, std::vector<double>(n_genes, 0.0));
  for (std::size_t t = 0; t < n_types_total; ++t) {
    for (auto g : d.type_markers[t])
      d.type_log_fold[t][static_cast<std::size_t>(g)] = rng.normal(det_log(10.0), 0.3);
  }
  d.domain_log_fold.assign(static_cast<std::size_t>(o.n_domains),
                           std::vector<double>(n_genes, 0.0));
  for (std::size_t k = 0; k < d.domain_genes.size(); ++k) {
    for (auto g : d.domain_genes[k])
      d.domain_log_fold[k][static_cast<std::size_t>(g)] = rng.normal(det_log(2.7), 0.2);
  }
  d.type_log_library.resize(n_types_total);
  for (auto& x : d.type_log_library) x = rng.normal(0.0, 0.15);
  // ~450 counts per cell at 500 genes (the fixtures), growing slowly with the panel size.
  d.log_library_mean = det_log(450.0 * std::sqrt(static_cast<double>(o.n_genes) / 500.0));

  // Weight-matrix genes: ~9% of the ordinary genes are missing (not protein-coding / no symbol
  // match in real data), every marker and domain gene is present, and 10% extra genes exist only
  // in the weight matrix. Column order is shuffled, unlike the ST var order.
  std::vector<std::int64_t> plain;
  for (std::size_t g = 0; g < n_genes; ++g) {
    if (!is_special[g]) plain.push_back(static_cast<std::int64_t>(g));
  }
  const auto n_missing =
      static_cast<std::int64_t>(std::llround(0.09 * static_cast<double>(plain.size())));
  std::vector<std::uint8_t> missing(n_genes, 0);
  for (auto i :
       rng.sample_without_replacement(static_cast<std::int64_t>(plain.size()), n_missing)) {
    missing[static_cast<std::size_t>(plain[static_cast<std::size_t>(i)])] = 1;
  }
  std::vector<std::int32_t> columns;  // >= 0: ST gene index; < 0: -(extra index) - 1
  for (std::size_t g = 0; g < n_genes; ++g) {
    if (!missing[g]) columns.push_back(static_cast<std::int32_t>(g));
  }
  d.n_st_genes_in_weights = static_cast<std::int64_t>(columns.size());
  const auto n_extra =
      std::max<std::int64_t>(1, std::llround(0.1 * static_cast<double>(o.n_genes)));
  for (std::int64_t e = 0; e < n_extra; ++e) columns.push_back(static_cast<std::int32_t>(-e - 1));
  rng.shuffle(columns);
  const int extra_width = std::max(5, decimal_digits(n_extra - 1));
  for (auto c : columns) {
    if (c >= 0) {
      d.weight_genes.push_back(d.st_genes[static_cast<std::size_t>(c)]);
      d.weight_gene_st_index.push_back(c);
    } else {
      d.weight_genes.push_back(fmt::format("WGENE{:0{}d}", -c - 1, extra_width));
      d.weight_gene_st_index.push_back(-1);
    }
  }
  return d;
}

int TissueLayout::domain_at(double x, double y, int slice) const {
  const double u = x / side;
  const double v = y / side;
  int domain = 0;
  for (const auto& b : boundaries) {
    const double height =
        b.offset + b.drift_per_slice * slice +
        b.amplitude * det_sin(kTwoPi * b.frequency * u + b.phase + b.phase_per_slice * slice);
    if (v > height) ++domain;
  }
  return domain;
}

TissueLayout make_tissue_layout(const SimulateOptions& o, const GeneDesign& design) {
  Rng rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kLayout)));
  TissueLayout layout;
  // ~10 length units (micrometre-like) between neighbouring cells.
  layout.side = 10.0 * std::sqrt(static_cast<double>(o.n_cells));
  const double band = 1.0 / o.n_domains;
  // Over the whole stack a boundary moves by at most 0.1 band and turns by at most pi, and by
  // at most 0.3 rad between adjacent slices: consecutive sections look alike.
  const double span = std::max(1, o.n_slices - 1);
  const double max_turn = std::min(0.3, 3.14159265358979323846 / span);
  for (int b = 1; b < o.n_domains; ++b) {
    TissueLayout::Boundary bd{};
    bd.offset = b * band;
    bd.amplitude = rng.uniform(0.1, 0.2) * band;
    bd.frequency = rng.uniform(0.5, 1.5);
    bd.phase = rng.uniform(0.0, kTwoPi);
    bd.phase_per_slice = rng.uniform(-1.0, 1.0) * max_turn;
    bd.drift_per_slice = rng.uniform(-1.0, 1.0) * 0.1 * band / span;
    layout.boundaries.push_back(bd);
  }
  // Embedding centroids: same-type cosine ~0.8, different types ~0.1 after the cell noise.
  layout.type_centroids =
      cluster_centroids(rng, static_cast<int>(design.type_names.size()), o.emb_dim, 8.0, 2.7);
  layout.domain_centroids = cluster_centroids(rng, o.n_domains, o.niche_dim, 6.0, 1.5);
  return layout;
}

}  // namespace gsmap::sim
