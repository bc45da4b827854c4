// ldscore-weight-matrix end to end (docs/ldscore.md): the real chromosome-22 panel against the
// counts and values of its conformance table and against an independent float64 oracle written
// here from the formulas (standardised genotypes, r = Z_s.Z_j / n, the unbiased r^2, the batch
// rule, brute-force interval mapping); a small synthetic panel for the branches real data does not
// reach; loading the matrix as spatial-LDSC resources.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <fstream>
#include <random>
#include <set>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "gsmap/io/gwas.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/io/weight_matrix.hpp"
#include "gsmap/ldsc/resources.hpp"
#include "gsmap/ldscore/ldscore.hpp"
#include "gsmap/ldscore/mapping.hpp"
#include "gsmap/ldscore/plink.hpp"
#include "mpi_environment.hpp"
#include "test_support.hpp"

namespace gsmap::ldscore {
namespace {

namespace fs = std::filesystem;

// ---- the oracle -----------------------------------------------------------------------------

struct OracleChrom {
  Bim bim;
  Eigen::MatrixXd x;  // n x m0 dosages, NaN = missing
  std::set<std::string> listed;
};

struct BedRow {
  std::string chrom;
  long start, end;
  std::string name;
  bool plus;
};

struct OracleResult {
  std::vector<std::string> snp;
  std::vector<std::string> features;
  Eigen::MatrixXd w;       // rows x features
  std::vector<double> l2;  // per row
};

// Batch blocks by a linear scan (CM/KB units), independent of the implementation's binary search.
std::pair<long, long> scan_block(const std::vector<double>& c, long i1, long i2, double w) {
  long lo = 0, hi = static_cast<long>(c.size());
  while (lo < hi && c[lo] < c[i1] - w) ++lo;
  while (hi > lo && c[hi - 1] > c[i2] + w) --hi;
  return {lo, hi};
}

OracleResult oracle(const std::vector<OracleChrom>& chroms, const std::vector<BedRow>& bed,
                    double maf_min, double ld_wind, long batch, long window_bp) {
  OracleResult out;
  std::set<std::string> names;
  for (const auto& r : bed) names.insert(r.name);
  out.features.assign(names.begin(), names.end());
  out.features.push_back("Unmapped");
  const long f = static_cast<long>(out.features.size());
  std::vector<Eigen::RowVectorXd> rows;
  for (const auto& c : chroms) {
    const long n = c.x.rows(), m0 = c.x.cols();
    std::vector<long> q;
    std::vector<Eigen::VectorXd> z;
    for (long j = 0; j < m0; ++j) {
      double sum = 0, obs = 0;
      for (long i = 0; i < n; ++i)
        if (!std::isnan(c.x(i, j))) sum += c.x(i, j), obs += 1;
      if (obs == 0) continue;
      const double mean = sum / obs, freq = sum / (2 * obs);
      if (maf_min > 0 && std::min(freq, 1 - freq) < maf_min - 1e-12) continue;
      double var = 0;
      for (long i = 0; i < n; ++i)
        if (!std::isnan(c.x(i, j))) var += (c.x(i, j) - mean) * (c.x(i, j) - mean);
      if (var == 0) continue;
      const double sd = std::sqrt(var / obs);
      Eigen::VectorXd col(n);
      for (long i = 0; i < n; ++i) col(i) = std::isnan(c.x(i, j)) ? 0.0 : (c.x(i, j) - mean) / sd;
      q.push_back(j);
      z.push_back(col);
    }
    const long m = static_cast<long>(q.size());
    Eigen::MatrixXd zq(n, m);
    for (long k = 0; k < m; ++k) zq.col(k) = z[k];
    // Mapping: nearest TSS among the windowed intervals, earliest row on ties (one column each).
    std::vector<long> mcol(m);
    for (long k = 0; k < m; ++k) {
      const long p = c.bim.bp[q[k]];
      long best = -1, best_d = 0;
      for (long r = 0; r < static_cast<long>(bed.size()); ++r) {
        if (clean_chromosome(bed[r].chrom) != clean_chromosome(c.bim.chrom[q[k]])) continue;
        if (!(std::max(0L, bed[r].start - window_bp) <= p && p < bed[r].end + window_bp)) continue;
        const long d = std::labs(p - (bed[r].plus ? bed[r].start : bed[r].end));
        if (best < 0 || d < best_d) best = r, best_d = d;
      }
      mcol[k] = best < 0 ? f - 1
                         : static_cast<long>(std::lower_bound(out.features.begin(),
                                                              out.features.end() - 1,
                                                              bed[best].name) -
                                             out.features.begin());
    }
    std::vector<long> r;
    for (long k = 0; k < m; ++k)
      if (c.listed.count(c.bim.id[q[k]])) r.push_back(k);
    std::vector<double> cq(m);
    bool all_zero = true;
    for (long k = 0; k < m; ++k) all_zero &= c.bim.cm[q[k]] == 0.0;
    for (long k = 0; k < m; ++k) cq[k] = all_zero ? c.bim.bp[q[k]] : c.bim.cm[q[k]];
    const double w = all_zero ? 1e6 : ld_wind;
    std::vector<double> cr(r.size());
    bool r_zero = true;
    for (std::size_t k = 0; k < r.size(); ++k) r_zero &= c.bim.cm[q[r[k]]] == 0.0;
    for (std::size_t k = 0; k < r.size(); ++k) cr[k] = r_zero ? c.bim.bp[q[r[k]]] : c.bim.cm[q[r[k]]];
    const double wr = r_zero ? 1e6 : ld_wind;
    for (long b0 = 0; b0 < static_cast<long>(r.size()); b0 += batch) {
      const long b1 = std::min<long>(b0 + batch, static_cast<long>(r.size())) - 1;
      const auto [lo, hi] = scan_block(cq, r[b0], r[b1], w);
      const auto [rlo, rhi] = scan_block(cr, b0, b1, wr);
      // r against every Q SNP between the two blocks' ends, one product per batch.
      const long ulo = std::min(lo, r[rlo]), uhi = std::max(hi, r[rhi - 1] + 1);
      Eigen::MatrixXd zb(n, b1 - b0 + 1);
      for (long t = b0; t <= b1; ++t) zb.col(t - b0) = zq.col(r[t]);
      const Eigen::MatrixXd rr = zq.middleCols(ulo, uhi - ulo).transpose() * zb / double(n);
      const Eigen::MatrixXd ell = rr.array().square() - (1 - rr.array().square()) / double(n - 2);
      for (long t = b0; t <= b1; ++t) {
        Eigen::RowVectorXd row = Eigen::RowVectorXd::Zero(f);
        for (long k = lo; k < hi; ++k) row(mcol[k]) += ell(k - ulo, t - b0);
        rows.push_back(row);
        double l2 = 0;
        for (long k = rlo; k < rhi; ++k) l2 += ell(r[k] - ulo, t - b0);
        out.l2.push_back(l2);
        out.snp.push_back(c.bim.id[q[r[t]]]);
      }
    }
  }
  out.w.resize(static_cast<long>(rows.size()), f);
  for (std::size_t i = 0; i < rows.size(); ++i) out.w.row(static_cast<long>(i)) = rows[i];
  return out;
}

OracleChrom load_oracle_chrom(const std::string& prefix) {
  OracleChrom c;
  c.bim = read_bim(prefix + ".bim");
  const std::int64_t n = count_fam(prefix + ".fam");
  BedFile bed(prefix + ".bed", n, c.bim.size());
  std::vector<std::uint8_t> bytes;
  bed.read(0, c.bim.size(), bytes);
  const std::int64_t n_pad = padded(n);
  std::vector<float> dosage(n_pad), observed(n_pad);
  c.x.resize(n, c.bim.size());
  for (std::int64_t j = 0; j < c.bim.size(); ++j) {
    decode_variant(bytes.data() + j * bed.bytes_per_variant(), n, n_pad, dosage.data(),
                   observed.data());
    for (std::int64_t i = 0; i < n; ++i)
      c.x(i, j) = observed[i] ? dosage[i] : std::numeric_limits<double>::quiet_NaN();
  }
  return c;
}

std::vector<BedRow> load_bed(const std::string& path) {
  std::vector<BedRow> rows;
  io::LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    const auto f = io::split_char(line, '\t');
    rows.push_back({std::string(f[0]), std::stol(std::string(f[1])), std::stol(std::string(f[2])),
                    std::string(f[3]), f[5] == "+"});
  }
  return rows;
}

// Compares the written matrix and w_ld with the oracle: every entry within `tol` * (1 + |W|), and
// every oracle entry above 1e-6 stored. Returns the largest deviation relative to 1 + |W|.
double compare(const std::string& out_dir, const OracleResult& want, double tol) {
  const io::SnpGeneWeights got = io::read_snp_gene_weights(out_dir + "/ld_score_weights.h5ad");
  EXPECT_EQ(got.snp, want.snp);
  EXPECT_EQ(got.features, want.features);
  if (got.snp != want.snp || got.features != want.features) return 1e9;
  double worst = 0;
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(want.w.rows(), want.w.cols());
  using Sparse = Eigen::SparseMatrix<float, Eigen::RowMajor, std::int64_t>;
  for (long r = 0; r < got.matrix.outerSize(); ++r) {
    for (Sparse::InnerIterator it(got.matrix, r); it; ++it) {
      dense(r, it.col()) = it.value();
      EXPECT_NE(it.value(), 0.0f) << "explicit zero stored at row " << r;
    }
  }
  for (long r = 0; r < want.w.rows(); ++r) {
    for (long g = 0; g < want.w.cols(); ++g) {
      const double e = std::abs(dense(r, g) - want.w(r, g)) / (1 + std::abs(want.w(r, g)));
      worst = std::max(worst, e);
      if (std::abs(want.w(r, g)) > 1e-6) {
        EXPECT_NE(dense(r, g), 0.0) << "missing entry " << want.snp[r] << " " << want.features[g];
      }
    }
  }
  EXPECT_LE(worst, tol);
  const io::LdWeights l2 = io::read_ld_weights(out_dir + "/w_ld");
  std::unordered_map<std::string, double> expected;
  for (std::size_t i = 0; i < want.snp.size(); ++i) expected[want.snp[i]] = want.l2[i];
  EXPECT_EQ(l2.snp.size(), want.snp.size());
  double worst_l2 = 0;
  for (std::size_t i = 0; i < l2.snp.size(); ++i) {
    const double e = expected.at(l2.snp[i]);
    worst_l2 = std::max(worst_l2, std::abs(l2.weight[i] - e) / (1 + std::abs(e)));
  }
  EXPECT_LE(worst_l2, tol);
  return std::max(worst, worst_l2);
}

std::string read_file(const std::string& path) { return io::read_text_file(path); }

// ---- real chromosome 22 (docs/ldscore.md §10) ------------------------------------------------

const fs::path kPlink = test::shared_dir() / "data" / "real" / "plink";

Options canonical(const std::string& out_dir) {
  Options o;
  o.bfile_root = (kPlink / "{chr}_filt").string();
  o.hm3_snp_dir = (kPlink / "hm3").string();
  o.mapping_file = (kPlink / "genes.protein_coding.v39.chr22.bed").string();
  o.mapping_type = "bed";
  o.strategy = "tss";
  o.feature_window_size = 50000;
  o.chromosomes = "22";
  o.calculate_w_ld = true;
  o.output_dir = out_dir;
  check_options(o);
  return o;
}

class LdscoreReal : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(kPlink / "22_filt.bed")) return;
    dir_ = new test::TempDir("ldscore_chr22");
    summary_ = run(canonical(dir_->path().string()), MPI_COMM_WORLD);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "real PLINK data absent";
  }
  static std::string out() { return dir_->path().string(); }
  static test::TempDir* dir_;
  static RunSummary summary_;
};
test::TempDir* LdscoreReal::dir_ = nullptr;
RunSummary LdscoreReal::summary_;

TEST_F(LdscoreReal, CountsAndValuesOfTheConformanceTable) {
  EXPECT_EQ(summary_.rows, 15639);
  EXPECT_EQ(summary_.columns, 426);
  EXPECT_EQ(summary_.stored, 300948);
  EXPECT_EQ(summary_.batches, 313);
  const io::SnpGeneWeights w = io::read_snp_gene_weights(out() + "/ld_score_weights.h5ad");
  EXPECT_EQ(w.snp.front(), "22:16886873:G:A");
  EXPECT_EQ(w.snp.back(), "22:51219006:G:A");
  EXPECT_EQ(w.features.back(), "Unmapped");
  EXPECT_TRUE(std::is_sorted(w.features.begin(), w.features.end() - 1));
  long negative = 0;
  double total = 0, unmapped = 0, max_v = -1e9, min_v = 1e9;
  long max_row = 0, min_row = 0;
  for (long k = 0; k < w.matrix.nonZeros(); ++k) negative += w.matrix.valuePtr()[k] < 0;
  using Sparse = Eigen::SparseMatrix<float, Eigen::RowMajor, std::int64_t>;
  std::map<std::string, double> row0;
  for (long r = 0; r < w.matrix.outerSize(); ++r) {
    for (Sparse::InnerIterator it(w.matrix, r); it; ++it) {
      total += it.value();
      if (it.col() == 425) unmapped += it.value();
      if (it.value() > max_v) max_v = it.value(), max_row = r;
      if (it.value() < min_v) min_v = it.value(), min_row = r;
      if (r == 0) row0[w.features[it.col()]] = it.value();
    }
  }
  EXPECT_EQ(negative, 79347);
  EXPECT_NEAR(max_v, 47.6188, 1e-3);
  EXPECT_EQ(w.snp[max_row], "22:34777003:G:A");
  EXPECT_NEAR(min_v, -0.43977, 1e-4);
  EXPECT_EQ(w.snp[min_row], "22:34274556:A:G");
  EXPECT_NEAR(total, 277186.86, 0.5);
  EXPECT_NEAR(unmapped, 42630.62, 0.1);
  EXPECT_NEAR(total / 15639, 17.724, 1e-3);
  const std::map<std::string, double> want = {{"CCT8L2", 0.610733}, {"GAB4", 0.109358},
                                              {"IL17RA", 0.060992}, {"XKR3", 0.232686},
                                              {"Unmapped", 3.751047}};
  ASSERT_EQ(row0.size(), want.size());
  for (const auto& [name, value] : want) EXPECT_NEAR(row0.at(name), value, 1e-4 * (1 + value)) << name;

  // The pair table: 13,312 mapped SNPs, tss distances; obs CHR categorical, BP int64.
  const std::string csv = read_file(out() + "/ld_score_weights.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 13312 + 1);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "SNP,Chromosome,SNP_BP,Feature,Score,distance_to_tss");
  io::H5adReader reader(out() + "/ld_score_weights.h5ad");
  const io::Column chr = reader.obs_column("CHR");
  ASSERT_TRUE(std::holds_alternative<io::Categorical>(chr));
  EXPECT_EQ(std::get<io::Categorical>(chr).categories, std::vector<std::string>{"22"});
  const io::Column bp = reader.obs_column("BP");
  ASSERT_TRUE(std::holds_alternative<io::NumericColumn>(bp));
  EXPECT_TRUE(std::get<io::NumericColumn>(bp).is_integer);
  EXPECT_EQ(std::get<io::NumericColumn>(bp).values.front(), 16886873);
}

TEST_F(LdscoreReal, EveryEntryWithinToleranceOfTheFloat64Oracle) {
  OracleChrom c = load_oracle_chrom((kPlink / "22_filt").string());
  io::LineReader hm3((kPlink / "hm3" / "hm.22.snp").string());
  std::string line;
  while (hm3.next(line)) c.listed.insert(line);
  const OracleResult want =
      oracle({c}, load_bed((kPlink / "genes.protein_coding.v39.chr22.bed").string()), 0.01, 1.0,
             50, 50000);
  const double worst = compare(out(), want, 1e-4);  // D13
  RecordProperty("max_relative_deviation", std::to_string(worst));
  std::printf("largest |W - oracle| / (1 + |oracle|) = %.3g\n", worst);
  EXPECT_LE(worst, 1e-6);  // exact products, double sums: float32 storage rounding only
}

TEST_F(LdscoreReal, LoadsAsSpatialLdscResources) {
  const io::SnpGeneWeights w = io::read_snp_gene_weights(out() + "/ld_score_weights.h5ad");
  // LD weights built here with the matrix's SNP ids, in reverse order, one SNP left out; marker
  // genes = every third gene symbol of the matrix plus one it does not have, in reverse order.
  io::LdWeights ld;
  for (std::size_t i = w.snp.size(); i-- > 1;) {
    ld.snp.push_back(w.snp[i]);
    ld.weight.push_back(static_cast<float>(i));
  }
  std::vector<std::string> genes = {"NOT_A_GENE"};
  for (std::size_t g = 0; g + 1 < w.features.size(); g += 3) genes.push_back(w.features[g]);
  std::reverse(genes.begin(), genes.end());
  const ldsc::CommonResources common =
      ldsc::build_common_resources(w, ld, {}, genes, {"w.h5ad", "w_ld", {}, "markers"});
  ASSERT_EQ(common.n_snps(), static_cast<std::int64_t>(w.snp.size()) - 1);
  for (std::int64_t i = 0; i < common.n_snps(); ++i) {
    ASSERT_EQ(common.snp[i], w.snp[static_cast<std::size_t>(i) + 1]);
    ASSERT_EQ(common.ld_weight[i], static_cast<float>(i + 1));
  }
  ASSERT_EQ(common.genes.size(), genes.size() - 1);
  using Sparse = Eigen::SparseMatrix<float, Eigen::RowMajor, std::int64_t>;
  std::map<std::string, std::int64_t> column;
  for (std::size_t g = 0; g < w.features.size(); ++g) column[w.features[g]] = static_cast<std::int64_t>(g);
  std::int64_t checked = 0;
  for (std::int64_t i = 0; i < common.n_snps(); ++i) {
    for (Sparse::InnerIterator it(common.gene_weights, i); it; ++it) {
      const std::string& gene = common.genes[static_cast<std::size_t>(it.col())];
      EXPECT_EQ(it.value(), w.matrix.coeff(i + 1, column.at(gene)));
      ++checked;
    }
    // base = all gene columns + Unmapped (docs: spatial LDSC's baseline).
    float sum = 0;
    for (Sparse::InnerIterator it(w.matrix, i + 1); it; ++it) sum += it.value();
    EXPECT_NEAR(common.baseline[static_cast<std::size_t>(i) * 2], sum, 1e-3 * (1 + std::abs(sum)));
  }
  EXPECT_GT(checked, 10000);
  // And the w_ld files written alongside read as spatial LDSC's LD weights.
  const io::LdWeights written = io::read_ld_weights(out() + "/w_ld");
  EXPECT_EQ(written.snp.size(), w.snp.size());
  EXPECT_NEAR(written.weight.front(), 2.636647, 1e-4 * 3.7);
}

// ---- a synthetic panel for the branches the real data does not reach --------------------------

// Writes PREFIX.{bed,bim,fam} from dosages (-1 = missing).
void write_fileset(const std::string& prefix, const std::string& chrom,
                   const std::vector<std::vector<int>>& genotypes, const std::vector<double>& cm,
                   const std::vector<int>& bp) {
  const std::size_t n = genotypes.front().size();
  std::ofstream fam(prefix + ".fam");
  for (std::size_t i = 0; i < n; ++i) fam << "f" << i << " i" << i << " 0 0 1 -9\n";
  std::ofstream bim(prefix + ".bim");
  std::ofstream bed(prefix + ".bed", std::ios::binary);
  bed.put(0x6C).put(0x1B).put(0x01);
  for (std::size_t j = 0; j < genotypes.size(); ++j) {
    bim << chrom << "\tc" << chrom << "_" << j << "\t" << cm[j] << "\t" << bp[j] << "\tA\tG\n";
    std::vector<std::uint8_t> bytes((n + 3) / 4, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const int g = genotypes[j][i];
      const int code = g < 0 ? 1 : g == 0 ? 0 : g == 1 ? 2 : 3;
      bytes[i / 4] |= static_cast<std::uint8_t>(code << (2 * (i % 4)));
    }
    bed.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
}

TEST(LdscoreSynthetic, MissingCallsCmFallbackMafBoundaryAndChromosomeOrder) {
  test::TempDir dir("ldscore_synthetic");
  const std::string data = (dir.path() / "data").string();
  fs::create_directories(data + "/hm3");
  std::mt19937 rng(11);
  const int n = 30;  // not a multiple of 4
  std::vector<OracleChrom> oracle_chroms;
  std::string bed_text;
  for (const int chrom : {1, 2}) {
    std::vector<std::vector<int>> g;
    std::vector<double> cm;
    std::vector<int> bp;
    const int m0 = 90;
    for (int j = 0; j < m0; ++j) {
      std::vector<int> row(n);
      const double p = 0.08 + 0.4 * (rng() % 1000) / 1000.0;
      for (int i = 0; i < n; ++i) {
        row[i] = (rng() % 1000 < p * 1000) + (rng() % 1000 < p * 1000);
        if (j > 0) row[i] = (rng() % 4 == 0) ? g.back()[i] : row[i];  // some LD with the previous
        if (chrom == 2 && rng() % 12 == 0) row[i] = -1;  // missing calls on chromosome 2
      }
      if (j == 5) row.assign(n, 0);                       // monomorphic: fails the MAF filter
      if (j == 6) row.assign(n, 1);                       // all heterozygous: MAF 0.5, sd 0
      if (j == 7) row.assign(n, -1);                      // no call
      if (j == 8 || j == 9) {                             // MAF exactly 0.05 = 3 / 60
        row.assign(n, j == 8 ? 0 : 2);
        row[0] = row[1] = row[2] = 1;
      }
      g.push_back(row);
      cm.push_back(chrom == 1 ? 0.0 : 0.02 * j);  // chromosome 1: cM all 0 -> +-1 Mb of bp
      bp.push_back(100000 + 40000 * j);
    }
    const std::string prefix = data + "/panel." + std::to_string(chrom);
    write_fileset(prefix, std::to_string(chrom), g, cm, bp);
    std::ofstream hm3(data + "/hm3/hm." + std::to_string(chrom) + ".snp");
    OracleChrom oc = load_oracle_chrom(prefix);
    for (int j = 0; j < m0; ++j) {
      if (j % 3 != 1 || j == 5 || j == 6 || j == 7 || j == 8 || j == 9) {
        hm3 << "c" << chrom << "_" << j << (j % 2 ? " A G" : "") << "\n";  // LDSC's 3-column lines
        oc.listed.insert(fmt::format("c{}_{}", chrom, j));
      }
    }
    oracle_chroms.push_back(std::move(oc));
    // Genes: equal-distance TSS ties and overlapping intervals.
    for (int k = 0; k < 6; ++k) {
      const int start = 200000 + 500000 * k;
      bed_text += fmt::format("chr{}\t{}\t{}\tG{}_{}\t1\t{}\n", chrom, start, start + 300000, chrom,
                              k, k % 2 ? "-" : "+");
      bed_text += fmt::format("chr{}\t{}\t{}\tT{}_{}\t1\t+\n", chrom, start, start + 100000, chrom, k);
    }
  }
  std::ofstream(data + "/genes.bed") << bed_text;

  Options o;
  o.bfile_root = data + "/panel.{chr}";
  o.hm3_snp_dir = data + "/hm3";
  o.mapping_file = data + "/genes.bed";
  o.strategy = "tss";
  o.feature_window_size = 20000;
  o.maf_min = 0.05;
  o.ld_wind = 0.3;
  o.batch_size_hm3 = 7;
  o.chromosomes = "2,1";
  o.calculate_w_ld = true;
  o.output_dir = (dir.path() / "out").string();
  check_options(o);
  const RunSummary s = run(o, MPI_COMM_WORLD);

  const OracleResult want = oracle(oracle_chroms, load_bed(data + "/genes.bed"), 0.05, 0.3, 7, 20000);
  EXPECT_EQ(s.rows, static_cast<std::int64_t>(want.snp.size()));
  // Both exact-boundary SNPs are kept (D3), the constant and uncalled ones are not.
  for (const char* id : {"c1_8", "c1_9", "c2_8", "c2_9"})
    EXPECT_NE(std::find(want.snp.begin(), want.snp.end(), id), want.snp.end()) << id;
  for (const char* id : {"c1_5", "c1_6", "c1_7"})
    EXPECT_EQ(std::find(want.snp.begin(), want.snp.end(), id), want.snp.end()) << id;
  EXPECT_EQ(want.snp.front().substr(0, 3), "c1_");  // matrix rows: chromosome 1 first
  compare(o.output_dir, want, 1e-6);
  // The pair table follows the --chromosomes order: chromosome 2 first.
  const std::string csv = read_file(o.output_dir + "/ld_score_weights.csv");
  const std::string second_line = csv.substr(csv.find('\n') + 1, 3);
  EXPECT_EQ(second_line, "c2_");

  // snp window mode: each SNP its own window, here narrower than the batch's.
  o.ld_window_mode = "snp";
  o.output_dir = (dir.path() / "out_snp").string();
  check_options(o);
  const RunSummary own = run(o, MPI_COMM_WORLD);
  EXPECT_EQ(own.rows, s.rows);
  EXPECT_LT(own.stored, s.stored);
}

}  // namespace
}  // namespace gsmap::ldscore
