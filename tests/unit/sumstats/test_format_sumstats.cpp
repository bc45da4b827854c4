// format-sumstats (docs/sumstats.md): the conformance cases of docs/sumstats.md §9 (outputs of
// gsMap3D's format_sumstats.py on the same inputs, byte for byte after gunzip), every error case,
// the real truncated GWAS-Catalog file, and the CLI's output read back by spatial LDSC's reader.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/gwas.hpp"
#include "gsmap/io/text.hpp"
#include "gsmap/sumstats/format.hpp"
#include "test_support.hpp"

namespace gsmap::sumstats {
namespace {

namespace fs = std::filesystem;

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) \
    << "in: " << (text)

class FormatSumstats : public ::testing::Test {
 protected:
  test::TempDir dir_{"format_sumstats"};

  std::string write(const std::string& name, const std::string& text, bool gzip = false) {
    const std::string path = (dir_.path() / name).string();
    std::ofstream out(path, std::ios::binary);
    out << (gzip ? io::gzip_compress(text) : text);
    return path;
  }
  Options options(const std::string& input, const std::string& out = "out") {
    Options o;
    o.sumstats = input;
    o.out = (dir_.path() / out).string();
    return o;
  }
  static std::string output(const Summary& s) { return io::read_text_file(s.output_path); }
  // The error message of a run that must fail, and that no output was written.
  std::string error_of(const Options& o) {
    try {
      format_sumstats(o);
    } catch (const Error& e) {
      EXPECT_FALSE(fs::exists(o.out + ".sumstats.gz")) << o.out;
      EXPECT_FALSE(fs::exists(o.out + ".cojo.gz")) << o.out;
      return e.what();
    }
    ADD_FAILURE() << "no error for " << o.sumstats;
    return {};
  }
};

// Spaces in these tables are turned into TABs (the reference case is TAB-separated).
std::string tabs(std::string text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ') {
      if (!space) out += '\t';
      space = true;
    } else {
      out += c;
      space = false;
    }
  }
  return out;
}

const char* kCase1 = R"(SNP  A1 A2 BETA  SE   P     N     FRQ   INFO EXTRA
rs1  a  g  0.10  0.02 1e-6  1000  0.30  0.95 x
rs2  A  G  -0.05 0.02 0.01  1000  0.30  0.95 x
rs3  A  T  0.05  0.02 0.01  1000  0.30  0.95 x
rs4  A  G  0.05  0.02 0.01  1000  0.30  0.85 x
rs5  A  G  0.05  0.02 0.01  1000  0.005 0.95 x
rs6  A  G  0.05  0.02 0.01  1000  0.995 0.95 x
rs7  A  G  0.05  0.02 0.01  1000  1.2   0.95 x
rs8  A  G  0.05  0.02 0     1000  0.30  0.95 x
rs9  A  G  0.05  0.02 1.5   1000  0.30  0.95 x
rs10 AT G  0.05  0.02 0.01  1000  0.30  0.95 x
rs11 C  T  0.05  0.02 .     1000  0.30  0.95 x
rs12 C  T  0.05  0.02 0.5   1000  0.30  NA   x
rs13 C  T  0.05  0.02 0.5   1000  0.30  0.95 NA
rs1  C  T  0.05  0.02 0.5   1000  0.30  0.95 x
rs14 C  T  -0.05 0.02 1     1000  0.30  0.95 x
rs15 C  T  0.05  0.02 0.5   500   0.30  0.95 x
rs16 C  T  0.0   0.02 0.5   666.7 0.30  0.95 x
rs17 g  c  0.05  0.02 0.5   1000  0.30  0.95 x
rs18 C  T  0.05  0.02 0.5   1000  0.01  0.95 x
rs19 C  T  0.05  0.02 0.5   1000  0.30  0.90 x
)";

const char* kCase1Out =
    "SNP\tA1\tA2\tZ\tN\n"
    "rs1\tA\tG\t4.892\t1000.000\n"
    "rs2\tA\tG\t-2.576\t1000.000\n"
    "rs14\tC\tT\t-0.000\t1000.000\n"
    "rs16\tC\tT\t0.674\t666.700\n"
    "rs19\tC\tT\t0.674\t1000.000\n";

TEST_F(FormatSumstats, Case1FiltersInOrderByteIdentical) {
  const Summary s = format_sumstats(options(write("c1.txt", tabs(kCase1)), "c1"));
  EXPECT_EQ(s.output_path, (dir_.path() / "c1.sumstats.gz").string());
  EXPECT_EQ(output(s), kCase1Out);
  EXPECT_EQ(s.rows_read, 20);
  EXPECT_EQ(s.removed_missing, 3);  // rs9 (Z NaN), rs11, rs13
  EXPECT_EQ(s.removed_info, 2);     // rs4, rs12
  EXPECT_EQ(s.removed_frq, 4);      // rs5, rs6, rs7, rs18
  EXPECT_EQ(s.frq_out_of_range, 1);
  EXPECT_EQ(s.removed_p, 1);        // rs8
  EXPECT_EQ(s.removed_alleles, 3);  // rs3, rs10, rs17 (the reference logs a stale 4)
  EXPECT_EQ(s.removed_duplicates, 1);
  EXPECT_EQ(s.removed_n, 1);  // rs15
  EXPECT_EQ(fmt::format("{:.3f}", s.n_min), "666.667");
  EXPECT_EQ(s.rows_written, 5);
  EXPECT_EQ(s.z_source, "P");
  // F9: the missing filter's rows per column (rs9 and rs11 have no Z).
  EXPECT_EQ(s.missing_by_column,
            (std::vector<std::pair<std::string, std::int64_t>>{{"P", 1}, {"EXTRA", 1}, {"Z", 2}}));
  // gzip header: mtime 0 (F12), so the same input gives the same bytes.
  std::ifstream raw(s.output_path, std::ios::binary);
  std::string head(8, '\0');
  raw.read(head.data(), 8);
  EXPECT_EQ(static_cast<unsigned char>(head[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(head[1]), 0x8b);
  EXPECT_EQ(head.substr(4, 4), std::string(4, '\0'));
}

TEST_F(FormatSumstats, Case2AliasesZAsGivenIntegerN) {
  const Summary s = format_sumstats(options(write("c2.txt",
                                                  "RSID EFFECT_ALLELE NEA ZSCORE PVAL WEIGHT\n"
                                                  "rs1 a g -3.1 0.002 5000\n"
                                                  "rs2 c t 2.25 0.02 5000\n")));
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\nrs1\tA\tG\t-3.100\t5000\nrs2\tC\tT\t2.250\t5000\n");
  EXPECT_EQ(s.z_source, "Z");
}

TEST_F(FormatSumstats, Case3UserSnpNameZFromBetaAndSe) {
  Options o = options(write("c3.txt",
                            "MarkerName A1 A2 b se N\n"
                            "rs1 A G 0.04 0.02 100\n"
                            "rs2 A C -0.06 0.02 100\n"));
  o.snp = "MarkerName";
  const Summary s = format_sumstats(o);
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\nrs1\tA\tG\t2.000\t100\nrs2\tA\tC\t-3.000\t100\n");
  EXPECT_EQ(s.z_source, "BETA/SE");
}

TEST_F(FormatSumstats, Case4OddsRatiosAndConstantN) {
  Options o = options(write("c4.txt",
                            "SNP A1 A2 OddsRatio SEOR P\n"
                            "rs1 A G 1.5 1.1 0.01\n"
                            "rs2 A G 0.5 1.1 0.02\n"
                            "rs3 A G -1 1.1 0.02\n"));
  o.odds_ratio = "OddsRatio";
  o.se_or = "SEOR";
  o.n = "20000";
  const Summary s = format_sumstats(o);
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\nrs1\tA\tG\t2.576\t20000\nrs2\tA\tG\t-2.326\t20000\n");
  EXPECT_EQ(s.removed_missing, 1);  // OR -1: BETA = ln(OR) missing
  EXPECT_EQ(s.n_source, "--n");
}

TEST_F(FormatSumstats, Case5PWithoutBetaCannotBeSigned) {
  const std::string m = error_of(options(write("c5.txt", "SNP A1 A2 OR P N\nrs1 A G 1.2 0.1 10\n")));
  EXPECT_CONTAINS(m, "cannot sign Z: give BETA, an OR/SE_OR pair, or Z");
  EXPECT_CONTAINS(m, "c5.txt: header (line 1)");
  EXPECT_CONTAINS(m, "--beta");
}

TEST_F(FormatSumstats, Case6DuplicateRoles) {
  std::string m = error_of(
      options(write("c6.txt", "SNP A1 A2 BETA P PVAL N\nrs1 A G 0.1 0.1 0.1 10\n")));
  EXPECT_CONTAINS(m, "Found 2 different P columns (P, PVAL)");
  // --n NUMBER together with a WEIGHT column: two N columns.
  Options o = options(write("c6b.txt", "SNP A1 A2 Z WEIGHT\nrs1 A G 1 10\n"));
  o.n = "1000";
  m = error_of(o);
  EXPECT_CONTAINS(m, "Found 2 different N columns (WEIGHT, --n)");
  // A user name mapped onto an existing canonical column.
  o = options(write("c6c.txt", "SNP A1 A2 Z N pval P\nrs1 A G 1 10 0.1 0.1\n"));
  o.p = "pval";
  EXPECT_CONTAINS(error_of(o), "Found 2 different P columns (pval, P)");
}

TEST_F(FormatSumstats, Case7CojoKeepsSixSignificantDigits) {
  Options o = options(write("c7.txt",
                            "SNP A1 A2 FRQ BETA SE P N\n"
                            "rs1 A G 0.3 0.123456789 0.02 2.5e-8 1000\n"
                            "rs2 A G 0.4 -0.05 0.02 0.5 1000\n"));
  o.format = Format::kCojo;
  const Summary s = format_sumstats(o);
  EXPECT_EQ(s.output_path, (dir_.path() / "out.cojo.gz").string());
  EXPECT_EQ(output(s),
            "SNP\tA1\tA2\tFRQ\tBETA\tSE\tP\tN\n"
            "rs1\tA\tG\t0.3\t0.123457\t0.02\t2.5e-08\t1000\n"
            "rs2\tA\tG\t0.4\t-0.05\t0.02\t0.5\t1000\n");
  o.sumstats = write("c7b.txt", "SNP A1 A2 BETA SE P N\nrs1 A G 0.1 0.02 0.1 10\n");
  o.out = (dir_.path() / "out_b").string();
  const std::string m = error_of(o);
  EXPECT_CONTAINS(m, "COJO format needs the columns A1, A2, FRQ, BETA, SE, P and N; missing: FRQ");
}

const char* kDbsnp =
    "chr\tpos\tref\talt\trsid\n"
    "2\t300\tC\tT\trs300\n"
    "1\t200\tC\tT\trs200\n"
    "1\t100\tA\tG\trs100\n"
    "1\t100\tA\tC\trs100b\n"
    "2\t400\tC\tT\trs200\n";

TEST_F(FormatSumstats, Case8RsidsFromChromosomeAndPosition) {
  Options o = options(write("c8.txt",
                            "Chr Pos A1 A2 Z N\n"
                            "chr1 100 A G 1.5 100\n"
                            "chr1 200 A G 2.5 100\n"
                            "chr2 300 A G 3.5 100\n"
                            "chr2 400 A G 4.5 100\n"
                            "chr1 100 A G 5.5 100\n"));
  o.dbsnp = write("dbsnp.tsv", kDbsnp);
  o.keep_chr_pos = true;
  const Summary s = format_sumstats(o);
  EXPECT_EQ(output(s),
            "SNP\tA1\tA2\tZ\tN\tChr\tPos\n"
            "rs300\tA\tG\t3.500\t100\tchr2\t300\n"
            "rs200\tA\tG\t2.500\t100\tchr1\t200\n"
            "rs100\tA\tG\t1.500\t100\tchr1\t100\n");
  EXPECT_EQ(s.rsid_unmatched, 2);  // chr2:400 (rs200 again) and the repeated chr1:100
  // Without --keep-chr-pos the columns are not written; a gzip dbSNP table reads the same.
  o.keep_chr_pos = false;
  o.dbsnp = write("dbsnp.tsv.gz", kDbsnp, true);
  EXPECT_EQ(output(format_sumstats(o)),
            "SNP\tA1\tA2\tZ\tN\nrs300\tA\tG\t3.500\t100\nrs200\tA\tG\t2.500\t100\n"
            "rs100\tA\tG\t1.500\t100\n");
  // Named chromosome/position columns; a float position (a missing value elsewhere) still matches
  // (F6/F7) and prints as a float column.
  o = options(write("c8b.txt",
                    "chromosome base_pair_location A1 A2 Z N\n"
                    "1 100 A G 1.5 100\n"
                    "2 300 A G 3.5 100\n"
                    "2 NA A G 3.5 100\n"));
  o.chr = "chromosome";
  o.pos = "base_pair_location";
  o.dbsnp = write("dbsnp.tsv", kDbsnp);
  o.keep_chr_pos = true;
  const Summary s2 = format_sumstats(o);
  EXPECT_EQ(output(s2),
            "SNP\tA1\tA2\tZ\tN\tChr\tPos\n"
            "rs300\tA\tG\t3.500\t100\t2\t300.000\n"
            "rs100\tA\tG\t1.500\t100\t1\t100.000\n");
  EXPECT_EQ(s2.rsid_unmatched, 1);
}

TEST_F(FormatSumstats, Case9IntegerZAndConstantNOverwritingN) {
  Options o = options(write("c9.txt", "SNP A1 A2 Z N\nrs1 A G 1 5\nrs2 A C -2 7\n"));
  o.n = "1000";
  EXPECT_EQ(output(format_sumstats(o)),
            "SNP\tA1\tA2\tZ\tN\nrs1\tA\tG\t1\t1000\nrs2\tA\tC\t-2\t1000\n");
  o.n = "1000.5";  // a float constant
  EXPECT_EQ(output(format_sumstats(o)),
            "SNP\tA1\tA2\tZ\tN\nrs1\tA\tG\t1\t1000.500\nrs2\tA\tC\t-2\t1000.500\n");
  o.n = "1e5";  // F4: any numeric literal
  EXPECT_EQ(output(format_sumstats(o)),
            "SNP\tA1\tA2\tZ\tN\nrs1\tA\tG\t1\t100000.000\nrs2\tA\tC\t-2\t100000.000\n");
}

TEST_F(FormatSumstats, Case10OneChromosome) {
  Options o = options(write("c10.txt", "Chr Pos A1 A2 Z N\n1 100 A G 1.5 100\n1 200 A G 2 100\n"));
  o.dbsnp = write("dbsnp.tsv", kDbsnp);
  EXPECT_EQ(output(format_sumstats(o)),
            "SNP\tA1\tA2\tZ\tN\nrs200\tA\tG\t2.000\t100\nrs100\tA\tG\t1.500\t100\n");
}

TEST_F(FormatSumstats, Case11NoSampleSizeIsAnErrorBeforeFiltering) {
  const std::string m = error_of(options(write("c11.txt", "SNP A1 A2 Z\nrs1 A G 1\n")));
  EXPECT_CONTAINS(m, "no sample size");
  EXPECT_CONTAINS(m, "--n 50000");
  // F4 extension: cases + controls.
  const Summary s = format_sumstats(options(
      write("c11b.txt", "SNP A1 A2 Z NCASE N_CONTROLS\nrs1 A G 1 100 250\nrs2 A C 2 100 300\n")));
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\nrs1\tA\tG\t1\t350\nrs2\tA\tC\t2\t400\n");
  EXPECT_EQ(s.n_source, "N_CAS+N_CON");
}

TEST_F(FormatSumstats, Case12NoneIsMissing) {
  const Summary s = format_sumstats(
      options(write("c12.txt", "SNP A1 A2 Z N\nrs1 A G 1 None\nrs2 A C 2 100\n")));
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\nrs2\tA\tC\t2\t100.000\n");
  EXPECT_EQ(s.removed_missing, 1);
}

TEST_F(FormatSumstats, Case13SpaceSeparatedGzipReadsLikeTabs) {
  std::string spaced = kCase1;
  const Summary s = format_sumstats(options(write("c13.txt.gz", "  " + spaced, true), "c13"));
  EXPECT_EQ(output(s), kCase1Out);
}

TEST_F(FormatSumstats, Case14ZeroStandardError) {
  const Summary s = format_sumstats(options(write("c14.txt",
                                                  "SNP A1 A2 BETA SE N\n"
                                                  "rs1 A G 0.1 0 100\n"
                                                  "rs2 A G 0 0 100\n"
                                                  "rs3 A C 0.1 0.05 100\n")));
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\nrs3\tA\tC\t2.000\t100\n");
  EXPECT_EQ(s.removed_missing, 1);      // 0/0
  EXPECT_EQ(s.removed_nonfinite_z, 1);  // 0.1/0 = inf (F8)
}

TEST_F(FormatSumstats, HeaderErrors) {
  std::string m =
      error_of(options(write("e1.txt", "SNP A1 A2 BETA N FRQ\nrs1 A G 0.1 10 0.3\n")));
  EXPECT_CONTAINS(m, "no statistic to derive Z from");
  EXPECT_CONTAINS(m, "the header found is: SNP A1 A2 BETA N FRQ");
  m = error_of(options(write("e2.txt", "MarkerName A1 A2 Z N\nrs1 A G 1 10\n")));
  EXPECT_CONTAINS(m, "no SNP id column, and not both a chromosome column ('Chr') and a position "
                     "column ('Pos')");
  m = error_of(options(write("e3.txt", "Chr Pos A1 A2 Z N\n1 100 A G 1 10\n")));
  EXPECT_CONTAINS(m, "needs a dbSNP table");
  EXPECT_CONTAINS(m, "--dbsnp");
  m = error_of(options(write("e4.txt", "SNP A2 Z N\nrs1 G 1 10\n")));
  EXPECT_CONTAINS(m, "no A1 column (effect allele)");
  EXPECT_CONTAINS(m, "--a1");
  m = error_of(options(write("e5.txt", "SNP A1 Z N\nrs1 G 1 10\n")));
  EXPECT_CONTAINS(m, "no A2 column (other allele)");
  m = error_of(options(write("e6.txt", "")));
  EXPECT_CONTAINS(m, "the file is empty");
  m = error_of(options(write("e7.txt", "SNP A1 A2 Z N\nrs1 A G 1 10 extra\n")));
  EXPECT_CONTAINS(m, "e7.txt: line 2: 6 fields, but the header has 5 columns");
  m = error_of(options((dir_.path() / "absent.txt").string()));
  EXPECT_CONTAINS(m, "absent.txt");
  Options o = options(write("e8.txt", "SNP A1 A2 Z N\nrs1 A G 1 10\n"), "no/such/dir/out");
  EXPECT_CONTAINS(error_of(o), "does not exist");
  o = options(write("e9.txt", "SNP A1 A2 Z N\nrs1 A G 1 10\n"));
  o.sumstats += ".bz2";
  fs::copy_file(o.sumstats.substr(0, o.sumstats.size() - 4), o.sumstats);
  EXPECT_CONTAINS(error_of(o), "bzip2-compressed summary statistics are not supported");
  o = options(write("e10.txt", "Chr Pos A1 A2 Z N\n1 100 A G 1 10\n"));
  o.dbsnp = write("db_short.tsv", "chr\tpos\tref\talt\trsid\n1\t100\tA\n");
  EXPECT_CONTAINS(error_of(o), "db_short.tsv: line 2: 3 TAB-separated fields");
}

// F2: a token that is no number in a numeric column is missing there (and counted).
TEST_F(FormatSumstats, TextInNumericColumnIsMissing) {
  const Summary s = format_sumstats(
      options(write("f2.txt", "SNP A1 A2 Z N\nrs1 A G 1.5 abc\nrs2 A C 2 100\nrs3 A C x 100\n")));
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\nrs2\tA\tC\t2.000\t100.000\n");
  EXPECT_EQ(s.unparsable,
            (std::vector<std::pair<std::string, std::int64_t>>{{"Z", 1}, {"N", 1}}));
  EXPECT_EQ(s.removed_missing, 2);
}

TEST_F(FormatSumstats, EverythingFilteredWritesTheHeader) {
  const Summary s = format_sumstats(
      options(write("all.txt", "SNP A1 A2 Z N EMPTY\nrs1 A G 1 10 NA\nrs2 A C 2 10 NA\n")));
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\n");
  EXPECT_EQ(s.missing_by_column, (std::vector<std::pair<std::string, std::int64_t>>{{"EMPTY", 2}}));
}

// F13: a repeated header name becomes NAME.1, an ordinary extra column.
TEST_F(FormatSumstats, RepeatedHeaderNames) {
  const Summary s = format_sumstats(
      options(write("dup.txt", "SNP A1 A2 Z N Z\nrs1 A G 1 10 NA\nrs2 A C 2 10 3\n")));
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\nrs2\tA\tC\t2\t10\n");
  EXPECT_EQ(s.missing_by_column, (std::vector<std::pair<std::string, std::int64_t>>{{"Z.1", 1}}));
}

// INFO: equality kept, missing dropped there (not by the missing filter); out-of-range warning.
TEST_F(FormatSumstats, InfoAndOptions) {
  Options o = options(write("info.txt",
                            "SNP A1 A2 Z N INFO FRQ\n"
                            "rs1 A G 1 10 0.8 0.05\n"
                            "rs2 A C 2 10 NA 0.05\n"
                            "rs3 A C 2 10 2.5 0.05\n"
                            "rs4 A C 2 10 0.95 0.5\n"));
  o.info_min = 0.8;
  o.maf_min = 0.05;
  const Summary s = format_sumstats(o);
  EXPECT_EQ(output(s), "SNP\tA1\tA2\tZ\tN\nrs4\tA\tC\t2\t10\n");
  EXPECT_EQ(s.removed_missing, 0);
  EXPECT_EQ(s.removed_info, 1);
  EXPECT_EQ(s.info_out_of_range, 1);
  EXPECT_EQ(s.removed_frq, 2);  // rs1, rs3: MAF 0.05 is not > 0.05
}

TEST_F(FormatSumstats, ConstantNParsing) {
  EXPECT_TRUE(parse_constant_n("1000").is_integer);
  EXPECT_TRUE(parse_constant_n("+1000").is_constant);
  EXPECT_FALSE(parse_constant_n("1000.0").is_integer);
  EXPECT_TRUE(parse_constant_n("1000.0").is_constant);
  EXPECT_EQ(parse_constant_n("1e5").value, 1e5);
  EXPECT_FALSE(parse_constant_n("NCASE").is_constant);
  EXPECT_FALSE(parse_constant_n("").is_constant);
  EXPECT_FALSE(parse_constant_n("inf").is_constant);
}

// Z from P against scipy's chi2.isf (what gsMap3D computes), 3 decimals, over P from 1e-300 to 1.
TEST_F(FormatSumstats, ZFromPMatchesScipy) {
  if (test::run_command("/usr/bin/python3 -c 'import scipy'").exit_code != 0) {
    GTEST_SKIP() << "no scipy";
  }
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-300, 0);
  std::string table = "SNP A1 A2 BETA P N\n";
  std::vector<std::string> ps;
  for (int i = 0; i < 3000; ++i) {
    const std::string p = fmt::format("{}", std::pow(10.0, exponent(rng)));
    ps.push_back(p);
    table += fmt::format("rs{} A G {} {} 100\n", i, i % 2 ? "-0.1" : "0.1", p);
  }
  const Summary s = format_sumstats(options(write("zp.txt", table)));
  ASSERT_EQ(s.rows_written, 3000);
  std::string script = "import numpy as np\nfrom scipy.stats import chi2\np = np.array([";
  for (const auto& p : ps) script += p + ",";
  script += "])\nz = np.sqrt(chi2.isf(p, 1)) * np.where(np.arange(len(p)) % 2 == 1, -1, 1)\n"
            "print(''.join('rs%d\\tA\\tG\\t%.3f\\t100\\n' % (i, v) for i, v in enumerate(z)), "
            "end='')\n";
  const std::string expected = "SNP\tA1\tA2\tZ\tN\n" + test::run_python(script);
  EXPECT_EQ(output(s), expected);
}

TEST_F(FormatSumstats, RealTruncatedGwasCatalogFile) {
  GSMAP_REQUIRE_SHARED();
  const fs::path file =
      test::shared_dir() / "data/real/truncated_gwas/GCST90018575_buildGRCh37.tsv.gz";
  if (!fs::exists(file)) GTEST_SKIP() << file << " absent";
  Options o = options(file.string(), "real");
  o.a1 = "effect_allele";
  o.a2 = "other_allele";
  o.frq = "effect_allele_frequency";
  o.se = "standard_error";
  o.p = "p_value";
  o.chr = "chromosome";
  o.pos = "base_pair_location";
  o.dbsnp = write("dbsnp.tsv", kDbsnp);
  o.n = "50000";
  const std::string m = error_of(o);
  EXPECT_CONTAINS(m, "GCST90018575_buildGRCh37.tsv.gz");
  EXPECT_CONTAINS(m, "truncated gzip");
  EXPECT_CONTAINS(m, "28455 complete lines");
}

// The subcommand end to end (1 and 2 ranks: only rank 0 writes), its output read by spatial
// LDSC's summary-statistics reader.
TEST_F(FormatSumstats, CliOutputReadBySpatialLdsc) {
  const std::string input = write("cli.txt", tabs(kCase1));
  const std::string out = (dir_.path() / "cli").string();
  const std::string cmd = fmt::format("{} format-sumstats --sumstats {} --out {} 2>&1",
                                      test::exe().string(), input, out);
  const auto r1 = test::run_command(cmd);
  ASSERT_EQ(r1.exit_code, 0) << r1.output;
  EXPECT_CONTAINS(r1.output, "removed 3 rows whose alleles are not a strand-unambiguous SNP");
  EXPECT_CONTAINS(r1.output, "wrote 5 SNPs to " + out + ".sumstats.gz");
  EXPECT_CONTAINS(r1.output, "removed 3 rows with a missing value (rows missing per column: P 1, "
                             "EXTRA 1, Z 2)");
  EXPECT_CONTAINS(r1.output, "removed 1 rows with N < 666.667");
  const std::string first = io::read_text_file(out + ".sumstats.gz");
  EXPECT_EQ(first, kCase1Out);
  const io::SumStats ss = io::read_sumstats(out + ".sumstats.gz");
  EXPECT_EQ(ss.snp, (std::vector<std::string>{"rs1", "rs2", "rs14", "rs16", "rs19"}));
  EXPECT_FLOAT_EQ(ss.z[0], 4.892f);
  EXPECT_FLOAT_EQ(ss.z[1], -2.576f);
  EXPECT_FLOAT_EQ(ss.n[3], 666.7f);
  EXPECT_EQ(ss.n_missing_z, 0);

  fs::remove(out + ".sumstats.gz");
  const auto r2 = test::run_command(fmt::format(
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
      "OMPI_MCA_btl_vader_single_copy_mechanism=none {} -np 2 --oversubscribe --bind-to none {} "
      "format-sumstats --sumstats {} --out {} 2>&1",
      test::mpiexec(), test::exe().string(), input, out));
  ASSERT_EQ(r2.exit_code, 0) << r2.output;
  EXPECT_CONTAINS(r2.output, "this subcommand runs on rank 0 only");
  EXPECT_EQ(io::read_text_file(out + ".sumstats.gz"), first);

  // A failing run: the error names the file and the fix; exit code 3 (input).
  const std::string bad = write("bad.txt", "SNP A1 A2 OR P N\nrs1 A G 1.2 0.1 10\n");
  const auto r3 = test::run_command(fmt::format("{} format-sumstats --sumstats {} --out {} 2>&1",
                                                test::exe().string(), bad, out + "_bad"));
  EXPECT_EQ(r3.exit_code, 3) << r3.output;
  EXPECT_CONTAINS(r3.output, "cannot sign Z");
  EXPECT_FALSE(fs::exists(out + "_bad.sumstats.gz"));

  // A column option that names no column is ignored, with a warning (gsMap3D says nothing).
  const auto r4 = test::run_command(
      fmt::format("{} format-sumstats --sumstats {} --out {} --snp MarkerName --n NCASE 2>&1",
                  test::exe().string(), input, out + "_w"));
  ASSERT_EQ(r4.exit_code, 0) << r4.output;
  EXPECT_CONTAINS(r4.output, "no column 'MarkerName' in the header");
  EXPECT_CONTAINS(r4.output, "no column 'NCASE' in the header");
  EXPECT_EQ(io::read_text_file(out + "_w.sumstats.gz"), first);
}

}  // namespace
}  // namespace gsmap::sumstats
