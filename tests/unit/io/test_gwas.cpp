#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "gsmap/core/error.hpp"
#include "gsmap/io/gwas.hpp"
#include "gsmap/io/text.hpp"
#include "test_support.hpp"

namespace {
namespace fs = std::filesystem;
using gsmap::InputError;

void write_bytes(const fs::path& p, std::string_view data) {
  std::ofstream f(p, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string read_bytes(const fs::path& p) { return gsmap::io::read_text_file(p.string()); }

template <typename Fn>
std::string input_error_message(Fn&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError thrown";
  return {};
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// read_sumstats

// Every kept row equals what pandas gives for the reference's reading rules (+ our missing-N drop).
void expect_sumstats_match_pandas(const std::string& path, const gsmap::io::SumStats& s) {
  gsmap::test::TempDir dir("gwas_pandas");
  const std::string out = (dir.path() / "py.tsv").string();
  std::string py = gsmap::test::run_python(
      "import pandas as pd, numpy as np\n"
      "df = pd.read_csv('" +
      path +
      "', sep=r'\\s+', na_values='.')\n"
      "n_rows = len(df)\n"
      "df = df[['SNP', 'Z', 'N']]\n"
      "dups = int(df.SNP.duplicated().sum())\n"
      "df = df.drop_duplicates(subset='SNP', keep='first')\n"
      "miss_n = int(df.N.isna().sum())\n"
      "df = df[df.N.notna()]\n"
      "z = df.Z.values.astype(np.float32); n = df.N.values.astype(np.float32)\n"
      "with open('" +
      out +
      "', 'w') as f:\n"
      "    for a, b, c in zip(df.SNP.values, z, n): f.write(f'{a}\\t{b!r}\\t{c!r}\\n')\n"
      "print(n_rows, dups, miss_n, int(np.isnan(z).sum()))\n");
  std::istringstream counts(py);
  std::int64_t rows = 0, dups = 0, miss_n = 0, miss_z = 0;
  counts >> rows >> dups >> miss_n >> miss_z;
  EXPECT_EQ(s.n_rows_read, rows);
  EXPECT_EQ(s.n_duplicates_dropped, dups);
  EXPECT_EQ(s.n_missing_n_dropped, miss_n);
  EXPECT_EQ(s.n_missing_z, miss_z);

  gsmap::io::LineReader r(out);
  std::string line;
  std::size_t i = 0;
  std::vector<std::string_view> f;
  while (r.next(line)) {
    gsmap::io::split_char(line, '\t', f);
    ASSERT_LT(i, s.snp.size());
    ASSERT_EQ(s.snp[i], f[0]) << "row " << i;
    double z = 0, n = 0;
    ASSERT_TRUE(gsmap::io::parse_number(f[1], z));
    ASSERT_TRUE(gsmap::io::parse_number(f[2], n));
    if (std::isnan(z)) {
      ASSERT_TRUE(std::isnan(s.z[i])) << s.snp[i];
    } else {
      ASSERT_EQ(s.z[i], static_cast<float>(z)) << s.snp[i];
    }
    ASSERT_EQ(s.n[i], static_cast<float>(n)) << s.snp[i];
    ++i;
  }
  EXPECT_EQ(i, s.snp.size());
}

TEST(GwasSumstats, FixtureMatchesPandas) {
  GSMAP_REQUIRE_SHARED();
  const std::string path =
      (gsmap::test::fixture("fx2d") / "input/gwas/planted_T1.sumstats.gz").string();
  auto s = gsmap::io::read_sumstats(path);
  EXPECT_EQ(s.path, path);
  EXPECT_EQ(s.n_rows_read, 29758);
  EXPECT_EQ(s.n_duplicates_dropped, 5);  // planted duplicates: the first occurrence is kept
  EXPECT_EQ(s.n_missing_n_dropped, 0);
  EXPECT_EQ(s.n_missing_z, 5);  // '.' Z values are kept as NaN
  EXPECT_EQ(s.snp.size(), 29753u);
  EXPECT_EQ(s.snp[0], "rs1473797");
  EXPECT_EQ(s.z[0], -1.5034f);
  EXPECT_EQ(s.n[0], 99533.0f);
  expect_sumstats_match_pandas(path, s);
  // Fixture meta: chisq_max = max(0.001 * 100000, 80) = 100.
  EXPECT_EQ(gsmap::io::default_chisq_max(s), 100.0);
}

TEST(GwasSumstats, DuplicatesMissingValuesAndLayout) {
  gsmap::test::TempDir dir("gwas_synth");
  const auto p = dir.path() / "t.sumstats";
  write_bytes(p,
              "SNP\tA1\tA2\tZ\tN\tP\r\n"
              "rs1\tA\tG\t1.5\t1000\t0.1\r\n"
              "\r\n"
              "rs2  C  T  NA  2000  0.2\n"   // missing Z kept
              "rs3\tA\tC\t-0.25\t.\t0.3\n"   // missing N dropped
              "rs1\tA\tG\t9.0\t5000\t0.4\n"  // duplicate: first kept
              "rs4\tG\tT\t+2e-3\t20000.5\tNA\n"
              "rs3\tA\tC\t3.0\t4000\t0.5\n");  // duplicate of a missing-N row: still dropped
  auto s = gsmap::io::read_sumstats(p.string());
  EXPECT_EQ(s.n_rows_read, 6);
  EXPECT_EQ(s.n_duplicates_dropped, 2);
  EXPECT_EQ(s.n_missing_n_dropped, 1);
  EXPECT_EQ(s.n_missing_z, 1);
  ASSERT_EQ(s.snp, (std::vector<std::string>{"rs1", "rs2", "rs4"}));
  EXPECT_EQ(s.z[0], 1.5f);
  EXPECT_TRUE(std::isnan(s.z[1]));
  EXPECT_EQ(s.z[2], 0.002f);
  EXPECT_EQ(s.n[2], 20000.5f);
  EXPECT_EQ(gsmap::io::default_chisq_max(s), 80.0);  // 0.001 * 20000.5 < 80
  expect_sumstats_match_pandas(p.string(), s);

  // The same content gzip-compressed (by content, whatever the name) reads identically.
  const auto gz = dir.path() / "t.sumstats.gz";
  write_bytes(gz, gsmap::io::gzip_compress(read_bytes(p)));
  auto g = gsmap::io::read_sumstats(gz.string());
  EXPECT_EQ(g.snp, s.snp);
  EXPECT_EQ(g.n, s.n);
}

TEST(GwasSumstats, ChisqMaxScalesWithLargeN) {
  gsmap::io::SumStats s;
  s.n = {100000.0f, 250000.0f, std::nanf("")};
  EXPECT_DOUBLE_EQ(gsmap::io::default_chisq_max(s), 250.0);
}

TEST(GwasSumstats, BadInputs) {
  gsmap::test::TempDir dir("gwas_bad");
  auto write = [&](const std::string& name, const std::string& text) {
    write_bytes(dir.path() / name, text);
    return (dir.path() / name).string();
  };
  // Missing file.
  const std::string missing = (dir.path() / "nope.sumstats.gz").string();
  std::string msg = input_error_message([&] { gsmap::io::read_sumstats(missing); });
  EXPECT_TRUE(contains(msg, missing) && contains(msg, "not found")) << msg;
  // Empty file, blank-only file, header without rows.
  for (const char* text : {"", "\n  \n"}) {
    msg = input_error_message([&] { gsmap::io::read_sumstats(write("empty.txt", text)); });
    EXPECT_TRUE(contains(msg, "empty file")) << msg;
  }
  msg = input_error_message([&] { gsmap::io::read_sumstats(write("hdr.txt", "SNP Z N\n")); });
  EXPECT_TRUE(contains(msg, "no data rows")) << msg;
  // Missing required columns: names them and lists the header found.
  const std::string nocol = write("nocol.txt", "SNP\tA1\tA2\tBETA\tn\nrs1\tA\tG\t0.1\t100\n");
  msg = input_error_message([&] { gsmap::io::read_sumstats(nocol); });
  EXPECT_TRUE(contains(msg, nocol)) << msg;
  EXPECT_TRUE(contains(msg, "missing required column(s) Z, N")) << msg;
  EXPECT_TRUE(contains(msg, "header found is: SNP A1 A2 BETA n")) << msg;
  // Non-numeric Z / N name the file, line and column.
  const std::string badz = write("badz.txt", "SNP Z N\nrs1 1.0 100\nrs2 abc 100\n");
  msg = input_error_message([&] { gsmap::io::read_sumstats(badz); });
  EXPECT_TRUE(contains(msg, badz + ": line 3, column Z: 'abc' is not a number")) << msg;
  const std::string badn = write("badn.txt", "SNP Z N\nrs1 1.0 100\nrs2 2.0 1e5x\n");
  msg = input_error_message([&] { gsmap::io::read_sumstats(badn); });
  EXPECT_TRUE(contains(msg, "line 3, column N: '1e5x'")) << msg;
  // N <= 0 or infinite, and an infinite Z, would silently change every p value: refused, naming
  // the line (docs/troubleshooting.md). A missing N or Z ('NA') keeps its documented rule.
  for (const char* n : {"0", "-3", "inf"}) {
    const std::string f = write("badn2.txt", std::string("SNP Z N\nrs1 1.0 100\nrs2 2.0 ") + n + "\n");
    msg = input_error_message([&] { gsmap::io::read_sumstats(f); });
    EXPECT_TRUE(contains(msg, f + ": line 3, column N: N = '" + n +
                                  "' is not a positive sample size")) << msg;
  }
  const std::string infz = write("infz.txt", "SNP Z N\nrs1 -inf 100\n");
  msg = input_error_message([&] { gsmap::io::read_sumstats(infz); });
  EXPECT_TRUE(contains(msg, infz + ": line 2, column Z: Z = '-inf' is infinite")) << msg;
  EXPECT_NO_THROW(gsmap::io::read_sumstats(write("na.txt", "SNP Z N\nrs1 NA 100\nrs2 1.0 NA\n")));
  // Ragged rows.
  msg = input_error_message(
      [&] { gsmap::io::read_sumstats(write("ragged.txt", "SNP Z N\nrs1 1.0\n")); });
  EXPECT_TRUE(contains(msg, "line 2: 2 fields, but the header has 3 columns")) << msg;
  // bzip2 by name.
  msg =
      input_error_message([&] { gsmap::io::read_sumstats(write("x.sumstats.bz2", "SNP Z N\n")); });
  EXPECT_TRUE(contains(msg, "bzip2")) << msg;
}

TEST(GwasSumstats, TruncatedGzipFails) {
  GSMAP_REQUIRE_SHARED();
  gsmap::test::TempDir dir("gwas_trunc");
  std::string gz = read_bytes(gsmap::test::fixture("fx2d") / "input/gwas/planted_T1.sumstats.gz");
  // read_bytes decompresses; recompress and cut in the middle.
  std::string packed = gsmap::io::gzip_compress(gz);
  const auto p = dir.path() / "cut.sumstats.gz";
  write_bytes(p, packed.substr(0, packed.size() / 2));
  std::string msg = input_error_message([&] { gsmap::io::read_sumstats(p.string()); });
  EXPECT_TRUE(contains(msg, p.string()) && contains(msg, "truncated gzip")) << msg;
  // The real truncated GWAS Catalog file is not in sumstats format (test_text.cpp checks its
  // truncation): the header check names what is missing.
  const std::string real =
      (gsmap::test::shared_dir() / "data/real/truncated_gwas/GCST90018575_buildGRCh37.tsv.gz")
          .string();
  msg = input_error_message([&] { gsmap::io::read_sumstats(real); });
  EXPECT_TRUE(contains(msg, "missing required column(s) SNP, Z, N")) << msg;
}

// ---------------------------------------------------------------------------------------------
// traits_from_yaml

TEST(GwasTraits, FixtureYamlInOrderWithResolvedPaths) {
  GSMAP_REQUIRE_SHARED();
  const fs::path gwas = gsmap::test::fixture("fx2d") / "input/gwas";
  auto traits = gsmap::io::traits_from_yaml((gwas / "sumstats.yaml").string());
  ASSERT_EQ(traits.size(), 2u);
  EXPECT_EQ(traits[0].name, "planted_T1");
  EXPECT_EQ(traits[0].sumstats_path, (gwas / "planted_T1.sumstats.gz").lexically_normal().string());
  EXPECT_EQ(traits[1].name, "null_trait");
  EXPECT_TRUE(fs::exists(traits[1].sumstats_path));
}

TEST(GwasTraits, BadYaml) {
  gsmap::test::TempDir dir("gwas_yaml");
  fs::create_directories(dir.path() / "sub");
  write_bytes(dir.path() / "sub/a.sumstats.gz", "x");
  const auto y = dir.path() / "t.yaml";
  // Relative to the YAML folder; duplicate name: later path, first position.
  write_bytes(y, "A: sub/a.sumstats.gz\nB: " + (dir.path() / "sub/a.sumstats.gz").string() +
                     "\nA: ./sub/../sub/a.sumstats.gz\n");
  auto traits = gsmap::io::traits_from_yaml(y.string());
  ASSERT_EQ(traits.size(), 2u);
  EXPECT_EQ(traits[0].name, "A");
  EXPECT_EQ(traits[1].name, "B");
  EXPECT_EQ(traits[0].sumstats_path, (dir.path() / "sub/a.sumstats.gz").string());

  write_bytes(y, "A: sub/a.sumstats.gz\nT2: missing.sumstats.gz\n");
  std::string msg = input_error_message([&] { gsmap::io::traits_from_yaml(y.string()); });
  EXPECT_TRUE(contains(msg, "trait 'T2'") &&
              contains(msg, (dir.path() / "missing.sumstats.gz").string()))
      << msg;
  write_bytes(y, "- a\n- b\n");
  msg = input_error_message([&] { gsmap::io::traits_from_yaml(y.string()); });
  EXPECT_TRUE(contains(msg, "mapping")) << msg;
  write_bytes(y, "A: [unclosed\n");
  msg = input_error_message([&] { gsmap::io::traits_from_yaml(y.string()); });
  EXPECT_TRUE(contains(msg, "invalid YAML")) << msg;
  write_bytes(y, "");
  EXPECT_THROW(gsmap::io::traits_from_yaml(y.string()), InputError);
  EXPECT_THROW(gsmap::io::traits_from_yaml((dir.path() / "none.yaml").string()), InputError);
}

// ---------------------------------------------------------------------------------------------
// read_ld_weights

// Writes our result to a file and lets pandas (the reference's reading rules) compare it.
void expect_ld_weights_match_pandas(const std::string& dir, const gsmap::io::LdWeights& w) {
  gsmap::test::TempDir tmp("gwas_ld_pandas");
  const std::string ours = (tmp.path() / "ours.tsv").string();
  std::string text;
  for (std::size_t i = 0; i < w.snp.size(); ++i) {
    text += w.snp[i] + "\t" + gsmap::io::format_float(w.weight[i]) + "\n";
  }
  gsmap::io::write_file_atomic(ours, text);
  std::string py = gsmap::test::run_python(
      "import os, re, numpy as np, pandas as pd\n"
      "d = '" +
      dir +
      "'\n"
      "files = {}\n"
      "for f in sorted(os.listdir(d)):\n"
      "    m = re.match(r'weights\\.(\\d+)\\.l2\\.ldscore', f)\n"
      "    if m and 1 <= int(m.group(1)) <= 22 and int(m.group(1)) not in files:\n"
      "        files[int(m.group(1))] = os.path.join(d, f)\n"
      "df = pd.concat([pd.read_csv(files[c], sep='\\t') for c in sorted(files)], "
      "ignore_index=True)\n"
      "if 'CHR' in df.columns and 'BP' in df.columns:\n"
      "    df = df.sort_values(['CHR', 'BP'], kind='stable')\n"
      "df = df.drop(columns=[c for c in ['MAF', 'CM', 'Gene', 'TSS', 'CHR', 'BP'] if c in "
      "df.columns])\n"
      "df = df.iloc[:, :2]\n"
      "df.columns = ['SNP', 'L2']\n"
      "df = df[~df.SNP.duplicated()]\n"
      "o = pd.read_csv('" +
      ours +
      "', sep='\\t', header=None, names=['SNP', 'w'], dtype={'SNP': str})\n"
      "ref = df.L2.values.astype(np.float32)\n"
      "print(len(df), len(o), int((o.SNP.values != df.SNP.values).sum()) if len(o) == len(df) else "
      "-1,\n"
      "      int((o.w.values.astype(np.float32) != ref).sum()) if len(o) == len(df) else -1,\n"
      "      repr(float(ref.astype(np.float64).sum())))\n");
  std::istringstream in(py);
  std::int64_t n_ref = 0, n_ours = 0, snp_diff = 0, w_diff = 0;
  double ref_sum = 0;
  in >> n_ref >> n_ours >> snp_diff >> w_diff >> ref_sum;
  EXPECT_EQ(n_ours, static_cast<std::int64_t>(w.snp.size()));
  EXPECT_EQ(n_ref, n_ours) << py;
  EXPECT_EQ(snp_diff, 0) << py;
  EXPECT_EQ(w_diff, 0) << py;
  double sum = 0;
  for (float v : w.weight) sum += v;
  EXPECT_NEAR(sum, ref_sum, 1e-9 * std::fabs(ref_sum));
}

TEST(GwasLdWeights, FixtureMatchesPandas) {
  GSMAP_REQUIRE_SHARED();
  const std::string dir = (gsmap::test::fixture("fx2d") / "input/w_ld").string();
  auto w = gsmap::io::read_ld_weights(dir);
  EXPECT_EQ(w.chromosomes_found.size(), 22u);
  EXPECT_EQ(w.chromosomes_found.front(), 1);
  EXPECT_EQ(w.chromosomes_found.back(), 22);
  ASSERT_FALSE(w.snp.empty());
  EXPECT_EQ(w.snp[0], "rs1473797");
  EXPECT_EQ(w.weight[0], 3.0745f);
  EXPECT_EQ(w.snp[1], "rs131210");
  EXPECT_EQ(w.weight[1], 4.944f);
  expect_ld_weights_match_pandas(dir, w);
}

TEST(GwasLdWeights, RealHapMap3Weights) {
  GSMAP_REQUIRE_SHARED();
  const fs::path real = gsmap::test::shared_dir() / "data/real/weights_hm3_no_hla";
  // All 22 files (1.2 M rows). Expected numbers from pandas (concat in chromosome order; the
  // files are already in CHR, BP order and hold no duplicate SNP).
  auto w = gsmap::io::read_ld_weights(real.string());
  EXPECT_EQ(w.chromosomes_found.size(), 22u);
  ASSERT_EQ(w.snp.size(), 1242190u);
  EXPECT_EQ(w.snp[0], "rs12564807");
  EXPECT_EQ(w.weight[0], 1.55580546239f);  // the file's text, rounded to f32
  EXPECT_EQ(w.snp[2], "rs3131969");
  EXPECT_EQ(w.weight[2], 5.13472935643f);
  EXPECT_EQ(w.snp[600000], "rs2617042");
  EXPECT_EQ(w.weight[600000], 33.25231f);
  EXPECT_EQ(w.snp.back(), "rs28729663");
  EXPECT_EQ(w.weight.back(), 4.0473065f);
  double sum = 0;
  for (float v : w.weight) sum += v;
  EXPECT_NEAR(sum, 28354158.46116352, 1e-6);
  // Row-by-row comparison with pandas on three of the real files (kept small for test time).
  gsmap::test::TempDir dir("gwas_ld_real3");
  for (int chr : {1, 21, 22}) {
    const std::string name = "weights." + std::to_string(chr) + ".l2.ldscore.gz";
    fs::copy_file(real / name, dir.path() / name);
  }
  auto three = gsmap::io::read_ld_weights(dir.path().string());
  EXPECT_EQ(three.chromosomes_found, (std::vector<int>{1, 21, 22}));
  expect_ld_weights_match_pandas(dir.path().string(), three);
}

TEST(GwasLdWeights, SortsDropsColumnsAndKeepsFirstDuplicate) {
  gsmap::test::TempDir dir("gwas_ld_synth");
  // chr 2 plain text with rows out of BP order, a Gene/TSS-style layout, a duplicate SNP; chr 1
  // gzip. Names that do not parse or are out of range are ignored. Only 2 of 22 chromosomes.
  write_bytes(dir.path() / "weights.2.l2.ldscore",
              "CHR\tSNP\tBP\tMAF\tL2\n"
              "2\trs20\t500\t0.1\t2.5\n"
              "2\trs21\t100\t0.2\t1.25\n"
              "2\trs10\t300\t0.3\t9.0\n");  // rs10 again: chr 1's row comes first after sorting
  write_bytes(dir.path() / "weights.1.l2.ldscore.gz",
              gsmap::io::gzip_compress("CHR\tSNP\tBP\tCM\tL2\n1\trs10\t10\t0.0\t0.5\n"
                                       "1\trs11\t5\t0.0\t0.75\n"));
  write_bytes(dir.path() / "weights.23.l2.ldscore", "CHR\tSNP\tBP\tL2\n23\trsX\t1\t1\n");
  write_bytes(dir.path() / "weights.x.l2.ldscore", "junk");
  write_bytes(dir.path() / "README", "junk");
  auto w = gsmap::io::read_ld_weights(dir.path().string());
  EXPECT_EQ(w.chromosomes_found, (std::vector<int>{1, 2}));
  ASSERT_EQ(w.snp, (std::vector<std::string>{"rs11", "rs10", "rs21", "rs20"}));
  EXPECT_EQ(w.weight[0], 0.75f);
  EXPECT_EQ(w.weight[1], 0.5f);
  EXPECT_EQ(w.weight[2], 1.25f);
  EXPECT_EQ(w.weight[3], 2.5f);
}

TEST(GwasLdWeights, BadInputs) {
  gsmap::test::TempDir dir("gwas_ld_bad");
  std::string msg = input_error_message(
      [&] { gsmap::io::read_ld_weights((dir.path() / "missing_dir").string()); });
  EXPECT_TRUE(contains(msg, "LD-weight directory not found")) << msg;
  msg = input_error_message([&] { gsmap::io::read_ld_weights(dir.path().string()); });
  EXPECT_TRUE(contains(msg, "no LD-weight files")) << msg;

  const auto f = dir.path() / "weights.3.l2.ldscore";
  write_bytes(f, "CHR\tSNP\tBP\n3\trs1\t1\n");  // no weight column
  msg = input_error_message([&] { gsmap::io::read_ld_weights(dir.path().string()); });
  EXPECT_TRUE(contains(msg, f.string()) && contains(msg, "header found is: CHR SNP BP")) << msg;
  write_bytes(f, "CHR\tSNP\tBP\tL2\n3\trs1\t1\t0.5\n3\trs2\t2\tx1\n");
  msg = input_error_message([&] { gsmap::io::read_ld_weights(dir.path().string()); });
  EXPECT_TRUE(contains(msg, "line 3, column L2: 'x1' is not a number")) << msg;
  // A missing or infinite weight would make every spot's regression NaN (docs/troubleshooting.md).
  write_bytes(f, "CHR\tSNP\tBP\tL2\n3\trs1\t1\t0.5\n3\trs2\t2\t.\n");
  msg = input_error_message([&] { gsmap::io::read_ld_weights(dir.path().string()); });
  EXPECT_TRUE(contains(msg, "line 3, column L2: LD weight '.' is missing or infinite")) << msg;
  write_bytes(f, "CHR\tSNP\tBP\tL2\n3\trs1\t1\tinf\n");
  msg = input_error_message([&] { gsmap::io::read_ld_weights(dir.path().string()); });
  EXPECT_TRUE(contains(msg, "line 2, column L2: LD weight 'inf' is missing or infinite")) << msg;
  write_bytes(f, "");
  msg = input_error_message([&] { gsmap::io::read_ld_weights(dir.path().string()); });
  EXPECT_TRUE(contains(msg, "empty file")) << msg;
  std::string gz =
      gsmap::io::gzip_compress(std::string("CHR\tSNP\tBP\tL2\n") + std::string(100000, '\n'));
  fs::remove(f);
  write_bytes(dir.path() / "weights.3.l2.ldscore.gz", gz.substr(0, gz.size() - 20));
  msg = input_error_message([&] { gsmap::io::read_ld_weights(dir.path().string()); });
  EXPECT_TRUE(contains(msg, "truncated gzip")) << msg;
}

}  // namespace
