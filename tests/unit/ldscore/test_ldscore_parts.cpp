// ldscore-weight-matrix building blocks: PLINK decoding and checks, mappings and strategies, LD
// windows, the product kernels (docs/ldscore.md).
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/ldscore/blocks.hpp"
#include "gsmap/ldscore/kernel.hpp"
#include "gsmap/ldscore/mapping.hpp"
#include "gsmap/ldscore/options.hpp"
#include "gsmap/ldscore/plink.hpp"
#include "test_support.hpp"

namespace gsmap::ldscore {
namespace {

namespace fs = std::filesystem;

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(LdscorePlink, DecodesTheDocumentedExampleAndPadding) {
  // 0xD8 = 11 01 10 00: individuals 0..3 = 0, 1, missing, 2 (docs/ldscore.md §2.1).
  const std::uint8_t block[2] = {0xD8, 0xFF};  // 5 individuals: the 5th is 11 = 2; rest padding
  float dosage[8], observed[8];
  decode_variant(block, 5, 8, dosage, observed);
  const float want[8] = {0, 1, 0, 2, 2, 0, 0, 0};
  const float seen[8] = {1, 1, 0, 1, 1, 0, 0, 0};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(dosage[i], want[i]) << i;
    EXPECT_EQ(observed[i], seen[i]) << i;
  }
  const CallCounts c = count_calls(block, 5);  // padding bits (also 11) are ignored
  EXPECT_EQ(c.n_obs, 4);
  EXPECT_EQ(c.sum, 5);
  EXPECT_EQ(c.sum_sq, 9);
  const std::uint8_t one[1] = {0x01};  // individual 0 missing, 1-3 homozygous allele 1
  EXPECT_EQ(count_calls(one, 4).n_obs, 3);
  EXPECT_EQ(count_calls(one, 4).sum, 0);
}

TEST(LdscorePlink, RejectsBadBedFiles) {
  test::TempDir dir("ldscore_bed");
  const fs::path p = dir.path() / "x.bed";
  write_bytes(p, {0x6C, 0x1B, 0x01, 0x00, 0x00});  // 2 variants x 5 individuals (2 bytes each)
  EXPECT_NE(error_of([&] { BedFile(p.string(), 5, 2); }).find("truncated?"), std::string::npos);
  EXPECT_NE(error_of([&] { BedFile(p.string(), 5, 2); }).find("5 bytes, but 2 variants ("),
            std::string::npos);
  write_bytes(p, {0x6C, 0x1B, 0x00, 0x00, 0x00, 0x00, 0x00});
  EXPECT_NE(error_of([&] { BedFile(p.string(), 5, 2); }).find("individual-major, not SNP-major"),
            std::string::npos);
  write_bytes(p, {0x00, 0x1B, 0x01, 0x00, 0x00, 0x00, 0x00});
  EXPECT_NE(error_of([&] { BedFile(p.string(), 5, 2); }).find("not a PLINK 1 .bed"),
            std::string::npos);
  write_bytes(p, {0x6C, 0x1B, 0x01, 0x1B, 0x00, 0xE4, 0x03});
  BedFile bed(p.string(), 5, 2);
  std::vector<std::uint8_t> bytes;
  bed.read(1, 1, bytes);
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0xE4);
}

TEST(LdscorePlink, BimLinesAreChecked) {
  test::TempDir dir("ldscore_bim");
  const fs::path p = dir.path() / "x.bim";
  write_text(p, "22\trs1\t0\t100\tA\tG\n22\trs2\t0.5\t200\tA\n");
  EXPECT_NE(error_of([&] { read_bim(p.string()); }).find("line 2: 5 fields"), std::string::npos);
  write_text(p, "22 rs1 0 100 A G\n22 rs2 x 200 A G\n");
  EXPECT_NE(error_of([&] { read_bim(p.string()); }).find("line 2, column 3 (cM)"),
            std::string::npos);
  write_text(p, "chr22 rs1 0.25 100 A G\n");
  const Bim bim = read_bim(p.string());
  EXPECT_EQ(bim.chrom[0], "chr22");
  EXPECT_EQ(bim.cm[0], 0.25);
  EXPECT_EQ(bim.bp[0], 100);
}

TEST(LdscoreOptions, TemplatesAndChoices) {
  EXPECT_EQ(bfile_prefix("data/EUR.{chr}", 22), "data/EUR.22");
  EXPECT_EQ(bfile_prefix("data/EUR", 3), "data/EUR.3");
  EXPECT_EQ(annot_path("a/{chromosome}.annot.gz", 7), "a/7.annot.gz");
  test::TempDir dir("ldscore_opt");
  write_text(dir.path() / "m.bed", "1\t0\t10\tG\n");
  Options o;
  o.bfile_root = "x.{chr}";
  o.hm3_snp_dir = dir.path().string();
  o.output_dir = (dir.path() / "out").string();
  o.mapping_file = (dir.path() / "m.bed").string();
  o.chromosomes = "2,1";
  o.ld_unit = "cm";
  check_options(o);
  EXPECT_EQ(o.chromosome_list, (std::vector<int>{2, 1}));
  EXPECT_EQ(o.unit, LdUnit::kCm);
  EXPECT_EQ(o.w_ld_dir, o.output_dir + "/w_ld");
  for (const auto& [field, value, phrase] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"strategy", "TSS", "--strategy: 'TSS' is not a known value"},
           {"mapping_type", "BED", "--mapping-type: 'BED'"},
           {"chromosomes", "1-3", "'1-3' is not a chromosome number"},
           {"chromosomes", "1,1", "listed twice"},
           {"ld_window_mode", "window", "--ld-window-mode"}}) {
    Options bad = o;
    if (field == "strategy") bad.strategy = value;
    if (field == "mapping_type") bad.mapping_type = value;
    if (field == "chromosomes") bad.chromosomes = value;
    if (field == "ld_window_mode") bad.ld_window_mode = value;
    EXPECT_NE(error_of([&] { check_options(bad); }).find(phrase), std::string::npos) << phrase;
  }
  Options none = o;
  none.mapping_file.clear();
  EXPECT_NE(error_of([&] { check_options(none); }).find("give --mapping-file"), std::string::npos);
}

Bim make_bim(const std::vector<std::int32_t>& bp, const std::string& chrom = "22") {
  Bim bim;
  bim.path = "test.bim";
  for (std::size_t i = 0; i < bp.size(); ++i) {
    bim.chrom.push_back(chrom);
    bim.id.push_back(fmt::format("s{}", i));
    bim.cm.push_back(0.0);
    bim.bp.push_back(bp[i]);
  }
  return bim;
}

TEST(LdscoreMapping, BedReadingRules) {
  test::TempDir dir("ldscore_bedmap");
  const fs::path p = dir.path() / "genes.bed";
  write_text(p, "chrom\tstart\tend\tname\tscore\tstrand\nchr1\t10\t20\tB\t2\t+\nCHR1\t15\t30\tA\t3.5\t-\n");
  const BedMapping bed = read_bed_mapping(p.string(), Strategy::kScore);
  EXPECT_EQ(bed.features, (std::vector<std::string>{"A", "B"}));
  ASSERT_EQ(bed.rows.count("1"), 1u);
  EXPECT_EQ(bed.rows.at("1").size(), 2u);
  EXPECT_TRUE(bed.has_score && bed.has_strand);
  write_text(p, "1\t10\t20\n");
  EXPECT_NE(error_of([&] { read_bed_mapping(p.string(), Strategy::kTss); })
                .find("must contain a Name column"),
            std::string::npos);
  write_text(p, "1\t10\t20\tA\t1\t+\n1\t10\t20\tB\t1\n");
  EXPECT_NE(error_of([&] { read_bed_mapping(p.string(), Strategy::kTss); })
                .find("line 2: 5 tab-separated fields, but line 1 has 6"),
            std::string::npos);
  write_text(p, "1\t10\t20\tA\n");
  EXPECT_NE(error_of([&] { read_bed_mapping(p.string(), Strategy::kScore); })
                .find("--strategy score needs a score column"),
            std::string::npos);
  write_text(p, "1\t10\t20\tA\t1\n");
  EXPECT_NE(error_of([&] { read_bed_mapping(p.string(), Strategy::kTss); })
                .find("--strategy tss needs a strand column"),
            std::string::npos);
  // A BED6 with '.' scores works where the score is not used, and is printed as given.
  write_text(p, "1\t10\t20\tA\t.\t+\n");
  const BedMapping dots = read_bed_mapping(p.string(), Strategy::kTss);
  std::vector<KeptPair> pairs;
  const Bim one = [] {
    Bim b;
    b.path = "b.bim";
    b.chrom = {"1"};
    b.id = {"rs1"};
    b.cm = {0.0};
    b.bp = {15};
    return b;
  }();
  map_bed(dots, Strategy::kTss, 0, one, {0}, &pairs);
  std::string csv;
  append_pair_csv(csv, pairs, dots, Strategy::kTss, one, {0});
  EXPECT_EQ(csv, "rs1,1,15,A,.,5\n");
  EXPECT_NE(error_of([&] { read_bed_mapping(p.string(), Strategy::kScore); })
                .find("line 1, column 5 (score): '.' is not a finite number"),
            std::string::npos);
  EXPECT_EQ(clean_chromosome("chr22"), "22");
  EXPECT_EQ(clean_chromosome("CHRX"), "X");
  EXPECT_EQ(clean_chromosome("cchrhr1"), "chr1");
}

TEST(LdscoreMapping, StrategiesTiesAndOffByOne) {
  test::TempDir dir("ldscore_strat");
  const fs::path p = dir.path() / "g.bed";
  // Rows: G1 [100,200) +, G2 [150,250) -, G0 [100,200) + (same TSS as G1, later row), G3 far.
  write_text(p,
             "1\t100\t200\tG1\t1\t+\n1\t150\t250\tG2\t5\t-\n1\t100\t200\tG0\t1\t+\n"
             "1\t1000\t1010\tG3\t1\t+\n");
  const Bim bim = make_bim({99, 100, 125, 199, 200, 249, 250, 600}, "chr1");
  const std::vector<std::int64_t> q = {0, 1, 2, 3, 4, 5, 6, 7};
  // Features sorted: G0 G1 G2 G3 -> columns 0..3, Unmapped 4.
  const auto column = [](const MappingRows& m, std::int64_t row) {
    std::vector<std::int32_t> cols(m.col.begin() + m.ptr[row], m.col.begin() + m.ptr[row + 1]);
    return cols;
  };
  {
    std::vector<KeptPair> pairs;
    const BedMapping bed = read_bed_mapping(p.string(), Strategy::kTss);
    const MappingRows m = map_bed(bed, Strategy::kTss, 0, bim, q, &pairs);
    // bp 99: before [100, 200) -> unmapped; bp 100: G1 and G0 tie at distance 0 -> G1 (earlier).
    EXPECT_EQ(column(m, 0), (std::vector<std::int32_t>{4}));
    EXPECT_EQ(column(m, 1), (std::vector<std::int32_t>{1}));
    // bp 199: G1 (distance 99) vs G2 (TSS 250, distance 51) -> G2.
    EXPECT_EQ(column(m, 3), (std::vector<std::int32_t>{2}));
    // bp 200 lies outside [100, 200): only G2.
    EXPECT_EQ(column(m, 4), (std::vector<std::int32_t>{2}));
    EXPECT_EQ(column(m, 6), (std::vector<std::int32_t>{4}));  // [150, 250) excludes 250
    EXPECT_EQ(m.n_mapped, 5);
    std::string csv;
    append_pair_csv(csv, pairs, bed, Strategy::kTss, bim, q);
    EXPECT_EQ(csv.substr(0, csv.find('\n')), "s1,1,100,G1,1,0");
  }
  {
    std::vector<KeptPair> pairs;
    const BedMapping bed = read_bed_mapping(p.string(), Strategy::kCenter);
    // Window 50: G1 [50, 250) centre 150, G2 [100, 300) centre 200, G0 as G1.
    const MappingRows m = map_bed(bed, Strategy::kCenter, 50, bim, q, &pairs);
    EXPECT_EQ(column(m, 2), (std::vector<std::int32_t>{1}));  // 125: |125-150| < |125-200|
    EXPECT_EQ(column(m, 5), (std::vector<std::int32_t>{2}));  // 249 -> G2
    std::string csv;
    append_pair_csv(csv, pairs, bed, Strategy::kCenter, bim, q);
    EXPECT_NE(csv.find("s2,1,125,G1,1,25.0\n"), std::string::npos) << csv;
  }
  {
    const BedMapping bed = read_bed_mapping(p.string(), Strategy::kScore);
    const MappingRows m = map_bed(bed, Strategy::kScore, 0, bim, q, nullptr);
    EXPECT_EQ(column(m, 2), (std::vector<std::int32_t>{1}));  // 125: only G1/G0 (score 1): G1
    EXPECT_EQ(column(m, 3), (std::vector<std::int32_t>{2}));  // 199: G2 score 5 wins
    EXPECT_EQ(m.value[static_cast<std::size_t>(m.ptr[3])], 5.0);  // score is the mapping value
  }
  {
    const BedMapping bed = read_bed_mapping(p.string(), Strategy::kAllowRepeat);
    const MappingRows m = map_bed(bed, Strategy::kAllowRepeat, 0, bim, q, nullptr);
    EXPECT_EQ(column(m, 3), (std::vector<std::int32_t>{0, 1, 2}));
  }
}

TEST(LdscoreMapping, DictLastRowWinsAndDelimiters) {
  test::TempDir dir("ldscore_dict");
  const fs::path p = dir.path() / "d.tsv";
  write_text(p, "Feature,SNP\nB,s1\nA,s2\nC,s1\nZ,unknown\n");
  const DictMapping d = read_dict_mapping(p.string());
  EXPECT_EQ(d.features, (std::vector<std::string>{"A", "B", "C", "Z"}));
  const Bim bim = make_bim({1, 2, 3});
  const MappingRows m = map_dict(d, bim, {0, 1, 2});
  EXPECT_EQ(m.col, (std::vector<std::int32_t>{4, 2, 0}));
}

TEST(LdscoreBlocks, BatchRuleSnpUnitAndOwnWindows) {
  Bim bim = make_bim({10, 20, 30, 40, 50, 60});
  bim.cm = {0.0, 0.5, 1.0, 1.0, 2.5, 3.0};
  const std::vector<std::int64_t> rows = {0, 1, 2, 3, 4, 5};
  const Coordinates cm = make_coordinates(LdUnit::kCm, 1.0, bim, rows);
  EXPECT_FALSE(cm.fallback);
  Window w = batch_block(cm, 1, 2);  // [0.5 - 1, 1.0 + 1] = [-0.5, 2.0]
  EXPECT_EQ(w.lo, 0);
  EXPECT_EQ(w.hi, 4);
  w = own_window(cm, 4);  // |c - 2.5| <= 1: 3.0 and itself
  EXPECT_EQ(w.lo, 4);
  EXPECT_EQ(w.hi, 6);
  const Coordinates snp = make_coordinates(LdUnit::kSnp, 2.9, bim, rows);
  w = batch_block(snp, 3, 3);  // w = 2: 2 before, 1 after (D2)
  EXPECT_EQ(w.lo, 1);
  EXPECT_EQ(w.hi, 5);
  w = own_window(snp, 3);
  EXPECT_EQ(w.hi, 6);
  bim.cm.assign(6, 0.0);
  const Coordinates fallback = make_coordinates(LdUnit::kCm, 1.0, bim, rows);
  EXPECT_TRUE(fallback.fallback);
  EXPECT_EQ(fallback.w, 1e6);
  bim.bp[3] = 5;
  EXPECT_NE(error_of([&] { make_coordinates(LdUnit::kKb, 1.0, bim, rows); })
                .find("test.bim: line 4: bp position 5 of s3 is smaller than 30"),
            std::string::npos);
}

TEST(LdscoreKernel, EigenAndBlockedAgreeExactly) {
  std::mt19937 rng(7);
  const std::int64_t n = 203, n_pad = padded(n);
  const int na = 7, nb = 11;
  std::vector<float> store(static_cast<std::size_t>((na + nb) * n_pad), 0.0f);
  for (int c = 0; c < na + nb; ++c)
    for (std::int64_t i = 0; i < n; ++i) store[static_cast<std::size_t>(c * n_pad + i)] = static_cast<float>(rng() % 3);
  // 32-byte aligned copies for the blocked kernel.
  float* aligned = static_cast<float*>(std::aligned_alloc(32, store.size() * sizeof(float)));
  std::copy(store.begin(), store.end(), aligned);
  std::vector<const float*> a, b;
  for (int c = 0; c < na; ++c) a.push_back(aligned + c * n_pad);
  for (int c = 0; c < nb; ++c) b.push_back(aligned + (na + c) * n_pad);
  std::vector<float> eigen(na * nb), blocked(na * nb);
  cross_products(a.data(), na, b.data(), nb, n_pad, eigen.data(), Kernel::kEigen);
  cross_products(a.data(), na, b.data(), nb, n_pad, blocked.data(), Kernel::kBlocked);
  for (int x = 0; x < na; ++x) {
    for (int y = 0; y < nb; ++y) {
      long exact = 0;
      for (std::int64_t i = 0; i < n; ++i) exact += static_cast<long>(a[x][i] * b[y][i]);
      EXPECT_EQ(eigen[x * nb + y], static_cast<float>(exact));
      EXPECT_EQ(blocked[x * nb + y], static_cast<float>(exact));
    }
  }
  std::free(aligned);
}

}  // namespace
}  // namespace gsmap::ldscore
