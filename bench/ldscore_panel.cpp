// Writes a synthetic PLINK reference panel for the ldscore-weight-matrix benchmarks
// (docs/performance.md): 22 chromosomes with variants in proportion to the human chromosome
// lengths, cM = 1.2 x Mb, LD from a copying model (each haplotype copies its allele at the previous
// variant with probability 0.9), regression-SNP lists of ~92 % of the variants, and a BED of
// protein-coding-like genes (10-100 kb, random strand).
//
//   ldscore_panel OUT_DIR [N_INDIVIDUALS=1000] [N_VARIANTS=1200000] [SEED=1]
// Writes OUT_DIR/panel.<chr>.{bed,bim,fam}, OUT_DIR/hm3/hm.<chr>.snp, OUT_DIR/genes.bed.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ldscore_panel OUT_DIR [N_INDIVIDUALS] [N_VARIANTS] [SEED]\n");
    return 2;
  }
  const std::string out = argv[1];
  const int n = argc > 2 ? std::atoi(argv[2]) : 1000;
  const long variants = argc > 3 ? std::atol(argv[3]) : 1200000;
  const unsigned seed = argc > 4 ? static_cast<unsigned>(std::atoi(argv[4])) : 1u;
  const double mb[22] = {249, 243, 198, 191, 181, 171, 159, 146, 141, 135, 135,
                         133, 115, 107, 102, 90,  81,  78,  59,  63,  48,  51};
  double total_mb = 0;
  for (double x : mb) total_mb += x;
  std::filesystem::create_directories(out + "/hm3");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::ofstream genes(out + "/genes.bed");
  long gene_id = 0;
  for (int c = 1; c <= 22; ++c) {
    const long m = static_cast<long>(variants * mb[c - 1] / total_mb);
    const double length = mb[c - 1] * 1e6;
    const std::string prefix = out + "/panel." + std::to_string(c);
    std::ofstream fam(prefix + ".fam");
    for (int i = 0; i < n; ++i) fam << "f" << i << " i" << i << " 0 0 0 -9\n";
    std::vector<long> bp(static_cast<std::size_t>(m));
    for (auto& b : bp) b = 10000 + static_cast<long>(unit(rng) * length);
    std::sort(bp.begin(), bp.end());
    std::ofstream bim(prefix + ".bim");
    std::ofstream hm3(out + "/hm3/hm." + std::to_string(c) + ".snp");
    std::ofstream bed(prefix + ".bed", std::ios::binary);
    bed.put(0x6C).put(0x1B).put(0x01);
    std::vector<std::uint8_t> hap(static_cast<std::size_t>(2 * n), 0);
    std::vector<std::uint8_t> block(static_cast<std::size_t>((n + 3) / 4));
    for (long j = 0; j < m; ++j) {
      const double p = 0.02 + 0.48 * unit(rng);
      for (auto& h : hap) {
        if (j == 0 || unit(rng) > 0.9) h = unit(rng) < p ? 1 : 0;
      }
      std::fill(block.begin(), block.end(), 0);
      for (int i = 0; i < n; ++i) {
        const int g = hap[2 * i] + hap[2 * i + 1];
        const int code = g == 0 ? 0 : g == 1 ? 2 : 3;
        block[static_cast<std::size_t>(i / 4)] |= static_cast<std::uint8_t>(code << (2 * (i % 4)));
      }
      bed.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(block.size()));
      const std::string id = "rs" + std::to_string(c) + "_" + std::to_string(j);
      char cm[32];
      std::snprintf(cm, sizeof cm, "%.6f", static_cast<double>(bp[static_cast<std::size_t>(j)]) * 1.2e-6);
      bim << c << '\t' << id << '\t' << cm << '\t' << bp[static_cast<std::size_t>(j)] << "\tA\tG\n";
      if (rng() % 12 != 0) hm3 << id << '\n';
    }
    const long n_genes = static_cast<long>(20000 * mb[c - 1] / total_mb);
    for (long g = 0; g < n_genes; ++g) {
      const long start = static_cast<long>(unit(rng) * (length - 100000));
      const long len = 10000 + static_cast<long>(unit(rng) * 90000);
      genes << "chr" << c << '\t' << start << '\t' << start + len << "\tGENE" << gene_id++ << "\t1\t"
            << (rng() % 2 ? '+' : '-') << '\n';
    }
    std::printf("chromosome %d: %ld variants\n", c, m);
  }
  return 0;
}
