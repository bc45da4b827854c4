// Genome (SNPs, LD scores, gene positions), the SNP-gene weight matrix and the w_ld tables.
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/sim/model.hpp"
#include "gsmap/sim/random.hpp"

namespace gsmap::sim {
namespace {

// GRCh37 autosome lengths in kb: the simulated chromosomes keep these proportions.
constexpr std::array<double, 22> kChromosomeKb = {
    249251, 243199, 198022, 191155, 180915, 171115, 159139, 146364, 141213, 135535, 135007,
    133852, 115170, 107350, 102531, 90355,  81195,  78077,  59129,  63026,  48130,  51305};
constexpr double kBasesPerSnp = 2500.0;  // HapMap3-like density (1.2M SNPs over 3 Gb)
constexpr double kLdScoreMedian = 6.3;   // w_ld L2 median ~6.6 in the fixtures
constexpr double kLdScoreLogSd = 0.55;
constexpr double kLdScoreAutocorrelation = 0.9;
constexpr double kLdBudgetPerL2 = 20.0;  // fixture: sum of a weight row ~20 x L2
constexpr double kUnmappedShare = 0.6;   // kernel weight of the Unmapped bin
constexpr double kWindowSpacings = 2.5;  // genes within 2.5 mean spacings get real weight
constexpr double kNoiseWindowSpacings = 4.0;
constexpr double kNoiseEntryRate = 0.2;
constexpr std::array<std::array<char, 2>, 8> kAllelePairs = {{{'A', 'C'},
                                                              {'A', 'G'},
                                                              {'C', 'A'},
                                                              {'C', 'T'},
                                                              {'G', 'A'},
                                                              {'G', 'T'},
                                                              {'T', 'C'},
                                                              {'T', 'G'}}};

// Largest-remainder apportionment of `total` over weights, at least `floor_each` per part.
std::vector<std::int64_t> apportion(std::int64_t total, const std::array<double, 22>& weights,
                                    std::int64_t floor_each) {
  const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  const std::int64_t free_total = total - floor_each * static_cast<std::int64_t>(weights.size());
  std::vector<std::int64_t> out(weights.size());
  std::vector<std::pair<double, std::size_t>> remainder;
  std::int64_t used = 0;
  for (std::size_t c = 0; c < weights.size(); ++c) {
    const double exact = static_cast<double>(free_total) * weights[c] / sum;
    out[c] = floor_each + static_cast<std::int64_t>(std::floor(exact));
    used += out[c];
    remainder.emplace_back(exact - std::floor(exact), c);
  }
  std::sort(remainder.begin(), remainder.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  for (std::size_t i = 0; used < total; ++i, ++used) ++out[remainder[i % remainder.size()].second];
  return out;
}

// A keyed bijection on [0, 2^(2h)) (4-round Feistel network): distinct, scrambled rs numbers.
class Permutation {
 public:
  Permutation(std::uint64_t key, std::int64_t min_size) {
    while ((std::int64_t{1} << (2 * half_bits_)) < min_size) ++half_bits_;
    for (int r = 0; r < 4; ++r)
      keys_[static_cast<std::size_t>(r)] = mix_seed(key, 0xFE15, static_cast<std::uint64_t>(r));
  }
  std::uint64_t operator()(std::uint64_t x) const {
    const std::uint64_t mask = (std::uint64_t{1} << half_bits_) - 1;
    std::uint64_t left = x >> half_bits_, right = x & mask;
    for (auto k : keys_) {
      const std::uint64_t next = left ^ (mix_seed(k, right) & mask);
      left = right;
      right = next;
    }
    return (left << half_bits_) | right;
  }

 private:
  int half_bits_ = 4;
  std::array<std::uint64_t, 4> keys_{};
};

double genome_length(const Genome& g) {
  return static_cast<double>(
      std::accumulate(g.chr_length.begin(), g.chr_length.end(), std::int64_t{0}));
}

}  // namespace

Genome make_genome(const SimulateOptions& o, const GeneDesign& design) {
  Rng rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kGenome)));
  Genome g;
  const double total_kb = std::accumulate(kChromosomeKb.begin(), kChromosomeKb.end(), 0.0);
  const double genome_bp = static_cast<double>(o.n_snps) * kBasesPerSnp;
  for (double kb : kChromosomeKb) {
    g.chr_length.push_back(std::max<std::int64_t>(1000, std::llround(genome_bp * kb / total_kb)));
  }
  const auto per_chr = apportion(o.n_snps, kChromosomeKb, 10);

  const auto n = static_cast<std::size_t>(o.n_snps);
  g.chr.reserve(n);
  g.bp.reserve(n);
  g.ld_score.reserve(n);
  const double rho = kLdScoreAutocorrelation;
  const double innovation = std::sqrt(1.0 - rho * rho);
  for (std::size_t c = 0; c < per_chr.size(); ++c) {
    std::vector<std::int64_t> pos(static_cast<std::size_t>(per_chr[c]));
    for (auto& p : pos)
      p = 1 + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(g.chr_length[c])));
    std::sort(pos.begin(), pos.end());
    for (std::size_t i = 1; i < pos.size(); ++i) pos[i] = std::max(pos[i], pos[i - 1] + 1);
    double z = rng.normal();
    for (auto p : pos) {
      g.chr.push_back(static_cast<std::int32_t>(c + 1));
      g.bp.push_back(p);
      z = rho * z + innovation * rng.normal();
      const double l2 = det_exp(det_log(kLdScoreMedian) + kLdScoreLogSd * z);
      g.ld_score.push_back(std::round(l2 * 1e4) / 1e4);
    }
  }
  const Permutation perm(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kGenome), 1),
                         8 * o.n_snps);
  g.snp_id.reserve(n);
  g.a1.reserve(n);
  g.a2.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    g.snp_id.push_back(fmt::format("rs{}", 1000 + perm(i)));
    const auto& pair = kAllelePairs[static_cast<std::size_t>(rng.below(kAllelePairs.size()))];
    g.a1.push_back(pair[0]);
    g.a2.push_back(pair[1]);
  }

  // Gene positions: uniform over the genome.
  const auto n_wgenes = design.weight_genes.size();
  g.gene_chr.resize(n_wgenes);
  g.gene_pos.resize(n_wgenes);
  const double total_len = static_cast<double>(
      std::accumulate(g.chr_length.begin(), g.chr_length.end(), std::int64_t{0}));
  for (std::size_t j = 0; j < n_wgenes; ++j) {
    auto offset = static_cast<std::int64_t>(rng.uniform() * total_len);
    std::size_t c = 0;
    while (c + 1 < g.chr_length.size() && offset >= g.chr_length[c]) offset -= g.chr_length[c++];
    g.gene_chr[j] = static_cast<std::int32_t>(c + 1);
    g.gene_pos[j] = 1 + std::min(offset, g.chr_length[c] - 1);
  }
  return g;
}

double expected_weight_nnz_per_snp(const Genome& genome, double scale) {
  const auto n_wgenes = genome.gene_pos.size();
  const auto n = genome.bp.size();
  if (n == 0 || n_wgenes == 0) return 1.0;
  std::vector<std::vector<std::int64_t>> pos_on(23);
  for (std::size_t j = 0; j < n_wgenes; ++j)
    pos_on[static_cast<std::size_t>(genome.gene_chr[j])].push_back(genome.gene_pos[j]);
  for (auto& v : pos_on) std::sort(v.begin(), v.end());
  const double spacing = genome_length(genome) / static_cast<double>(n_wgenes);
  const double window = kWindowSpacings * spacing * scale;
  const double noise_window = kNoiseWindowSpacings * spacing * scale;
  // SNP-gene pairs within each window: a two-pointer sweep per chromosome (SNPs sorted by bp).
  double linked = 0.0, farther = 0.0;
  std::size_t s = 0;
  while (s < n) {
    const auto chr = genome.chr[s];
    const auto& genes = pos_on[static_cast<std::size_t>(chr)];
    std::size_t lo_w = 0, hi_w = 0, lo_n = 0, hi_n = 0;
    for (; s < n && genome.chr[s] == chr; ++s) {
      const auto x = static_cast<double>(genome.bp[s]);
      while (lo_n < genes.size() && static_cast<double>(genes[lo_n]) < x - noise_window) ++lo_n;
      while (lo_w < genes.size() && static_cast<double>(genes[lo_w]) < x - window) ++lo_w;
      while (hi_w < genes.size() && static_cast<double>(genes[hi_w]) <= x + window) ++hi_w;
      while (hi_n < genes.size() && static_cast<double>(genes[hi_n]) <= x + noise_window) ++hi_n;
      linked += static_cast<double>(hi_w - lo_w);
      farther += static_cast<double>((hi_n - lo_n) - (hi_w - lo_w));
    }
  }
  return 1.0 + (linked + kNoiseEntryRate * farther) / static_cast<double>(n);
}

double weight_window_scale(const SimulateOptions& o, const Genome& genome) {
  const double target = o.weight_nnz_per_snp;
  if (target <= 0.0) return 1.0;
  // The expected density grows with the scale until every window covers its whole chromosome.
  double lo = 0.0, hi = 1.0;
  while (expected_weight_nnz_per_snp(genome, hi) < target) {
    const double longest =
        static_cast<double>(*std::max_element(genome.chr_length.begin(), genome.chr_length.end()));
    const double spacing = genome_length(genome) / static_cast<double>(genome.gene_pos.size());
    if (kWindowSpacings * spacing * hi > 2.0 * longest) {
      throw UsageError(fmt::format(
          "--weight-nnz-per-snp {}: the {} weight-matrix genes give at most {:.1f} non-zeros per "
          "SNP. Fix: use more --n-genes or a smaller --weight-nnz-per-snp",
          target, genome.gene_pos.size(), expected_weight_nnz_per_snp(genome, hi)));
    }
    lo = hi;
    hi *= 2.0;
  }
  for (int it = 0; it < 60; ++it) {
    const double mid = 0.5 * (lo + hi);
    (expected_weight_nnz_per_snp(genome, mid) < target ? lo : hi) = mid;
  }
  return hi;
}

io::CsrRows make_weight_matrix(const SimulateOptions& o, const Genome& genome,
                               const GeneDesign& design) {
  Rng rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kWeights)));
  const auto n_wgenes = static_cast<std::int32_t>(design.weight_genes.size());
  const double total_len = genome_length(genome);
  const double spacing = total_len / n_wgenes;
  // scale is exactly 1 without --weight-nnz-per-snp: the same windows, bit for bit, as before.
  const double scale = weight_window_scale(o, genome);
  const double window = kWindowSpacings * spacing * scale;
  const double noise_window = kNoiseWindowSpacings * spacing * scale;
  const double decay = spacing * scale;

  // Genes per chromosome, ordered by (position, column).
  std::vector<std::vector<std::pair<std::int64_t, std::int32_t>>> genes_on(23);
  for (std::int32_t j = 0; j < n_wgenes; ++j) {
    genes_on[static_cast<std::size_t>(genome.gene_chr[static_cast<std::size_t>(j)])].emplace_back(
        genome.gene_pos[static_cast<std::size_t>(j)], j);
  }
  for (auto& v : genes_on) std::sort(v.begin(), v.end());

  io::CsrRows w;
  w.row0 = 0;
  w.n_cols = n_wgenes + 1;
  w.indptr.assign(1, 0);
  const auto n = genome.bp.size();
  const auto per_row = static_cast<std::size_t>(std::max(8.0, o.weight_nnz_per_snp + 2.0));
  w.indices.reserve(n * per_row);
  w.data.reserve(n * per_row);
  std::size_t first = 0;  // first gene of the current chromosome that may be in a window
  std::int32_t current_chr = 0;
  std::vector<std::pair<std::int32_t, double>> linked, entries;
  for (std::size_t s = 0; s < n; ++s) {
    const auto chr = genome.chr[s];
    const auto& genes = genes_on[static_cast<std::size_t>(chr)];
    if (chr != current_chr) {
      current_chr = chr;
      first = 0;
    }
    const auto x = static_cast<double>(genome.bp[s]);
    while (first < genes.size() && static_cast<double>(genes[first].first) < x - noise_window)
      ++first;
    linked.clear();
    entries.clear();
    double kernel_sum = 0.0;
    for (std::size_t k = first; k < genes.size(); ++k) {
      const double d = std::fabs(static_cast<double>(genes[k].first) - x);
      if (static_cast<double>(genes[k].first) > x + noise_window) break;
      if (d <= window) {
        const double kernel = det_exp(-d / decay);
        linked.emplace_back(genes[k].second, kernel);
        kernel_sum += kernel;
      } else if (rng.uniform() < kNoiseEntryRate) {
        // LD-estimation noise: unbiased r^2 of unlinked SNPs scatters around zero.
        entries.emplace_back(genes[k].second, rng.normal(0.002, 0.004));
      }
    }
    const double budget = kLdBudgetPerL2 * genome.ld_score[s] * det_exp(rng.normal(0.0, 0.2));
    const double denom = kernel_sum + kUnmappedShare;
    for (const auto& [col, kernel] : linked) {
      entries.emplace_back(col, budget * kernel / denom * det_exp(rng.normal(0.0, 0.35)));
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& [col, value] : entries) {
      w.indices.push_back(col);
      w.data.push_back(static_cast<float>(value));
    }
    w.indices.push_back(n_wgenes);  // Unmapped
    w.data.push_back(static_cast<float>(budget * kUnmappedShare / denom));
    w.indptr.push_back(static_cast<std::int64_t>(w.indices.size()));
  }
  return w;
}

std::string ld_weight_table(const SimulateOptions& o, const Genome& genome, int chromosome) {
  // Edge cases: a few regression SNPs lack an LD weight, and some LD-weight SNPs are not in the
  // weight matrix (the fixtures' rsWLDONLY rows).
  Rng rng(mix_seed(o.seed, static_cast<std::uint64_t>(Stream::kGwas),
                   1000 + static_cast<std::uint64_t>(chromosome)));
  std::string out = "CHR\tSNP\tBP\tCM\tL2\n";
  std::int64_t last_bp = 0;
  for (std::size_t s = 0; s < genome.bp.size(); ++s) {
    if (genome.chr[s] != chromosome) continue;
    last_bp = genome.bp[s];
    if (o.edge_cases && rng.uniform() < 0.005) continue;
    out += fmt::format("{}\t{}\t{}\t{}\t{}\n", chromosome, genome.snp_id[s], genome.bp[s],
                       static_cast<double>(genome.bp[s]) / 1e6, genome.ld_score[s]);
  }
  if (o.edge_cases && chromosome == 22) {
    for (int k = 0; k < 20; ++k) {
      out += fmt::format("22\trsWLDONLY{}\t{}\t0.0\t1.0\n", k, last_bp + 1 + k);
    }
  }
  return out;
}

}  // namespace gsmap::sim
