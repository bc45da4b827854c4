#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gsmap/core/error.hpp"
#include "gsmap/io/text.hpp"
#include "test_support.hpp"

namespace {
namespace fs = std::filesystem;
using gsmap::InputError;
using gsmap::IoError;
using gsmap::io::LineReader;

void write_bytes(const fs::path& p, std::string_view data) {
  std::ofstream f(p, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> all_lines(const std::string& path) {
  LineReader r(path);
  std::vector<std::string> out;
  std::string line;
  while (r.next(line)) out.push_back(line);
  return out;
}

// double -> float without the undefined behaviour of an out-of-range conversion.
float to_f32(double v) {
  if (std::fabs(v) > 3.5e38)
    return std::copysign(std::numeric_limits<float>::infinity(),
                         static_cast<float>(std::copysign(1.0, v)));
  return static_cast<float>(v);
}

// Runs `fn`, expects an InputError, returns its message.
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

TEST(TextLineReader, PlainLinesStripNewlinesAndCarriageReturns) {
  gsmap::test::TempDir dir("text_plain");
  const auto p = dir.path() / "a.txt";
  write_bytes(p, "alpha\nbeta\r\n\ngamma");  // CRLF, an empty line, no final newline
  LineReader r(p.string());
  std::string line;
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "alpha");
  EXPECT_EQ(r.line_number(), 1);
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "beta");
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "gamma");
  EXPECT_EQ(r.line_number(), 4);
  EXPECT_FALSE(r.next(line));
  EXPECT_FALSE(r.next(line));
  EXPECT_EQ(r.path(), p.string());
}

TEST(TextLineReader, EmptyFileHasNoLines) {
  gsmap::test::TempDir dir("text_empty");
  const auto p = dir.path() / "empty.txt";
  write_bytes(p, "");
  EXPECT_TRUE(all_lines(p.string()).empty());
  // An empty gzip member is also a clean, empty file.
  const auto gz = dir.path() / "empty.gz";
  write_bytes(gz, gsmap::io::gzip_compress(""));
  EXPECT_TRUE(all_lines(gz.string()).empty());
}

TEST(TextLineReader, MissingFileNamesThePath) {
  const std::string path = "/nonexistent/dir/file.tsv.gz";
  std::string msg = input_error_message([&] { LineReader r(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;
}

TEST(TextLineReader, GzipDetectedByContentAndLongLinesCrossChunks) {
  gsmap::test::TempDir dir("text_gz");
  // 200k short lines plus one 3 MiB line: lines straddle the 1 MiB decode chunks.
  std::string text;
  for (int i = 0; i < 200000; ++i)
    text += "row" + std::to_string(i) + "\t" + std::to_string(i * 7) + "\n";
  std::string longline(3 << 20, 'x');
  text += longline + "\nlast\n";
  const auto p = dir.path() / "no_gz_suffix.txt";  // content decides, not the name
  write_bytes(p, gsmap::io::gzip_compress(text, 1));
  auto lines = all_lines(p.string());
  ASSERT_EQ(lines.size(), 200002u);
  EXPECT_EQ(lines[0], "row0\t0");
  EXPECT_EQ(lines[123456], "row123456\t864192");
  EXPECT_EQ(lines[200000], longline);
  EXPECT_EQ(lines[200001], "last");
  EXPECT_EQ(gsmap::io::read_text_file(p.string()), text);
}

TEST(TextLineReader, ConcatenatedMembersAndZeroPadding) {
  gsmap::test::TempDir dir("text_members");
  const std::string a = "h1\th2\n1\t2\n", b = "3\t4\n", c = "5\t6\n";
  const auto p = dir.path() / "multi.csv.gz";
  std::string bytes = gsmap::io::gzip_compress(a) + gsmap::io::gzip_compress(b, 9) +
                      gsmap::io::gzip_compress("") + gsmap::io::gzip_compress(c, 1);
  write_bytes(p, bytes);
  EXPECT_EQ(all_lines(p.string()), (std::vector<std::string>{"h1\th2", "1\t2", "3\t4", "5\t6"}));
  // Python's gzip (what pandas uses) reads the concatenation the same way.
  std::string py = gsmap::test::run_python("import gzip,sys\nsys.stdout.write(repr(gzip.open('" +
                                           p.string() + "','rb').read().decode()))\n");
  EXPECT_EQ(py, "'h1\\th2\\n1\\t2\\n3\\t4\\n5\\t6\\n'");
  // Zero padding after the last member is ignored (gzip(1) and Python do the same).
  write_bytes(p, bytes + std::string(100, '\0'));
  EXPECT_EQ(all_lines(p.string()).size(), 4u);
  // Other trailing bytes are an error, not silently ignored.
  write_bytes(p, bytes + "garbage");
  std::string msg = input_error_message([&] { all_lines(p.string()); });
  EXPECT_NE(msg.find("trailing data"), std::string::npos) << msg;
}

TEST(TextLineReader, SyntheticTruncationIsAnErrorAfterTheCompleteLines) {
  gsmap::test::TempDir dir("text_trunc");
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "line " + std::to_string(i) + "\n";
  std::string gz = gsmap::io::gzip_compress(text);
  const auto p = dir.path() / "t.gz";
  for (std::size_t cut : {gz.size() - 1, gz.size() - 8, gz.size() / 2, std::size_t{12}}) {
    write_bytes(p, gz.substr(0, cut));
    LineReader r(p.string());
    std::string line;
    std::int64_t n = 0;
    bool threw = false;
    try {
      while (r.next(line)) {
        // Every line handed out is complete: never a cut-off fragment.
        ASSERT_EQ(line, "line " + std::to_string(n)) << "cut " << cut;
        ++n;
      }
    } catch (const InputError& e) {
      threw = true;
      std::string msg = e.what();
      EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find("truncated gzip"), std::string::npos) << msg;
      EXPECT_NE(msg.find("after line " + std::to_string(n)), std::string::npos) << msg;
    }
    EXPECT_TRUE(threw) << "cut at " << cut << " of " << gz.size() << " ended quietly";
    // A cut inside the 8-byte trailer loses no text, but the missing CRC is still an error.
    if (cut < gz.size() - 8) {
      EXPECT_LT(n, 50000);
    }
  }
}

TEST(TextLineReader, CorruptDataIsAnError) {
  gsmap::test::TempDir dir("text_corrupt");
  std::string text;
  for (int i = 0; i < 20000; ++i) text += std::to_string(i * 31) + "\n";
  std::string gz = gsmap::io::gzip_compress(text);
  gz[gz.size() - 6] ^= 0x55;  // inside the CRC32/ISIZE trailer
  const auto p = dir.path() / "crc.gz";
  write_bytes(p, gz);
  std::string msg = input_error_message([&] { all_lines(p.string()); });
  EXPECT_NE(msg.find("corrupt gzip"), std::string::npos) << msg;
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
}

TEST(TextLineReader, RealTruncatedGwasFileFails) {
  GSMAP_REQUIRE_SHARED();
  const std::string path =
      (gsmap::test::shared_dir() / "data/real/truncated_gwas/GCST90018575_buildGRCh37.tsv.gz")
          .string();
  // Python reads the same number of complete lines before its EOFError.
  const std::string py =
      gsmap::test::run_python("import gzip\nn=0\ntry:\n  with gzip.open('" + path +
                              "','rt') as f:\n    for l in f: n+=1\n  print('clean',n)\nexcept "
                              "EOFError:\n  print('eof',n)\n");
  ASSERT_EQ(py.substr(0, 4), "eof ") << py;
  const std::int64_t python_lines = std::stoll(py.substr(4));
  EXPECT_EQ(python_lines, 28455);

  LineReader r(path);
  std::string line;
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line.substr(0, 26), "chromosome\tbase_pair_locat");
  std::string msg;
  try {
    while (r.next(line)) {
    }
    FAIL() << "the truncated file ended quietly after " << r.line_number() << " lines";
  } catch (const InputError& e) {
    msg = e.what();
  }
  EXPECT_EQ(r.line_number(), python_lines);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated gzip stream"), std::string::npos) << msg;
  EXPECT_NE(msg.find("28455 complete lines"), std::string::npos) << msg;
  // Whole-file reading fails too.
  EXPECT_THROW(gsmap::io::read_text_file(path), InputError);
}

TEST(TextLineReader, Bzip2IsRejectedClearly) {
  gsmap::test::TempDir dir("text_bz2");
  const auto p = dir.path() / "x.sumstats.bz2";
  write_bytes(p, "BZh91AY&SY...");
  std::string msg = input_error_message([&] { LineReader r(p.string()); });
  EXPECT_NE(msg.find("bzip2"), std::string::npos) << msg;
}

TEST(TextSplit, WhitespaceRunsAndSingleDelimiters) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(gsmap::io::split_whitespace("  SNP\tA1  A2 \t Z N  "),
            (V{"SNP", "A1", "A2", "Z", "N"}));
  EXPECT_EQ(gsmap::io::split_whitespace(""), V{});
  EXPECT_EQ(gsmap::io::split_whitespace(" \t "), V{});
  EXPECT_EQ(gsmap::io::split_char("a,,b,", ','), (V{"a", "", "b", ""}));
  EXPECT_EQ(gsmap::io::split_char("", '\t'), (V{""}));
  V reuse{"stale"};
  gsmap::io::split_char("x\ty", '\t', reuse);
  EXPECT_EQ(reuse, (V{"x", "y"}));
}

TEST(TextParseNumber, PandasMissingMarkersAndStrictTokens) {
  double v = 0;
  for (const char* t : {".", "NA", "nan", "NaN", "", "N/A", "NULL", "<NA>"}) {
    ASSERT_TRUE(gsmap::io::parse_number(t, v)) << t;
    EXPECT_TRUE(std::isnan(v)) << t;
  }
  ASSERT_TRUE(gsmap::io::parse_number("-1.5034", v));
  EXPECT_EQ(v, -1.5034);
  ASSERT_TRUE(gsmap::io::parse_number("+2.5e-3", v));
  EXPECT_EQ(v, 2.5e-3);
  ASSERT_TRUE(gsmap::io::parse_number("99533", v));
  EXPECT_EQ(v, 99533.0);
  ASSERT_TRUE(gsmap::io::parse_number("inf", v));
  EXPECT_TRUE(std::isinf(v));
  ASSERT_TRUE(gsmap::io::parse_number("1e-400", v));
  EXPECT_EQ(v, 0.0);
  for (const char* t : {"abc", "1.5x", "--1", "+-1", "1,5", "0x10", "+"}) {
    EXPECT_FALSE(gsmap::io::parse_number(t, v)) << t;
  }
}

TEST(TextFormat, PythonReprKnownValues) {
  using gsmap::io::format_double;
  using gsmap::io::format_float;
  EXPECT_EQ(format_double(1e-05), "1e-05");
  EXPECT_EQ(format_double(1.5e-08), "1.5e-08");
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(100.0), "100.0");
  EXPECT_EQ(format_double(0.0001), "0.0001");
  EXPECT_EQ(format_double(1e16), "1e+16");
  EXPECT_EQ(format_double(1e15), "1000000000000000.0");
  EXPECT_EQ(format_double(123456789.0), "123456789.0");
  EXPECT_EQ(format_double(5e-324), "5e-324");
  EXPECT_EQ(format_double(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(format_double(0.986678574286497), "0.986678574286497");
  EXPECT_EQ(format_double(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_double(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(format_double(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(format_double(-0.0), "-0.0");
  EXPECT_EQ(format_double(0.0), "0.0");
  // numpy float32 str (what pandas writes for f32 columns).
  EXPECT_EQ(format_float(123456789.0f), "123456790.0");
  EXPECT_EQ(format_float(0.0001f), "1e-04");  // 0.0001f is just below 1e-4
  EXPECT_EQ(format_float(0.00012f), "0.00012");
  EXPECT_EQ(format_float(-1.4090995e-08f), "-1.4090995e-08");
  EXPECT_EQ(format_float(-2.216711f), "-2.216711");
  EXPECT_EQ(format_float(1e16f), "1e+16");
  EXPECT_EQ(format_float(100.0f), "100.0");
  EXPECT_EQ(format_float(-0.0f), "-0.0");
  EXPECT_EQ(gsmap::io::format_csv_double(std::nan("")), "");
  EXPECT_EQ(gsmap::io::format_csv_float(2.5f), "2.5");
  std::string buf = "x=";
  gsmap::io::append_double(buf, 0.5);
  gsmap::io::append_float(buf, 3.0f);
  EXPECT_EQ(buf, "x=0.53.0");
}

// The exact text pandas' to_csv writes for f64 and f32 columns of many values.
TEST(TextFormat, MatchesPandasToCsvForDoubleAndFloatColumns) {
  gsmap::test::TempDir dir("text_fmt");
  std::vector<double> values = {1e-5,
                                1.5e-8,
                                0.1,
                                100.0,
                                -0.0,
                                0.0,
                                1e16,
                                1e15,
                                0.0001,
                                std::nextafter(1e-4, 0.0),
                                std::nextafter(1e16, 0.0),
                                9999999999999998.0,
                                123456789.0,
                                5e-324,
                                1e-45,
                                3.4e38,
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::quiet_NaN(),
                                1.0 / 3,
                                2.0 / 3};
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> mant(-10.0, 10.0);
  std::uniform_int_distribution<int> ex(-40, 40);
  for (int i = 0; i < 3000; ++i) values.push_back(mant(rng) * std::pow(10.0, ex(rng)));
  for (int i = 0; i < 500; ++i) values.push_back(std::round(mant(rng) * 1000) / 1000);  // %.3f data
  std::string bits;
  for (double v : values) bits += std::to_string(std::bit_cast<std::uint64_t>(v)) + "\n";
  write_bytes(dir.path() / "bits.txt", bits);
  const std::string csv = (dir.path() / "out.csv").string();
  gsmap::test::run_python(
      "import numpy as np, pandas as pd\n"
      "u = np.array([int(l) for l in open('" +
      (dir.path() / "bits.txt").string() +
      "')], dtype=np.uint64)\n"
      "d = u.view(np.float64)\n"
      "with np.errstate(over='ignore'):\n"
      "    f = d.astype(np.float32)\n"
      "pd.DataFrame({'d': d, 'f': f}).to_csv('" +
      csv + "', index=False)\n");
  auto lines = all_lines(csv);
  ASSERT_EQ(lines.size(), values.size() + 1);
  EXPECT_EQ(lines[0], "d,f");
  int mismatches = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string ours = gsmap::io::format_csv_double(values[i]) + "," +
                             gsmap::io::format_csv_float(to_f32(values[i]));
    if (ours != lines[i + 1] && ++mismatches <= 10) {
      ADD_FAILURE() << "value " << i << ": pandas '" << lines[i + 1] << "' ours '" << ours << "'";
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// gsMap3D's own spatial LDSC CSV: beta/se/z are f32 (numpy float32 str), p and neg_log10_p f64
// (Python repr). Re-formatting every parsed field reproduces the file's text exactly.
TEST(TextFormat, ReproducesGsMap3dLdscCsvFields) {
  GSMAP_REQUIRE_SHARED();
  const std::string path =
      (gsmap::test::fixture("fx2d") / "gsmap3d_workdir/proj/spatial_ldsc/proj_planted_T1.csv.gz")
          .string();
  LineReader r(path);
  std::string line;
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "spot,beta,se,z,p,neg_log10_p");
  std::int64_t rows = 0, f32_fields = 0, f64_fields = 0;
  std::vector<std::string_view> fields;
  while (r.next(line)) {
    gsmap::io::split_char(line, ',', fields);
    ASSERT_EQ(fields.size(), 6u);
    for (int c = 1; c <= 5; ++c) {
      double v = 0;
      ASSERT_TRUE(gsmap::io::parse_number(fields[c], v)) << line;
      if (fields[c].empty()) continue;  // NaN
      if (c <= 3) {
        ASSERT_EQ(gsmap::io::format_float(static_cast<float>(v)), fields[c]) << line;
        ++f32_fields;
      } else {
        ASSERT_EQ(gsmap::io::format_double(v), fields[c]) << line;
        ++f64_fields;
      }
    }
    ++rows;
  }
  EXPECT_EQ(rows, 1958);  // fx2d keeps 1958 cells
  EXPECT_EQ(f32_fields, 3 * rows);
  EXPECT_EQ(f64_fields, 2 * rows);
}

TEST(TextGzip, CompressRoundTripsThroughPythonAndIsReproducible) {
  gsmap::test::TempDir dir("text_gzc");
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "cell" + std::to_string(i) + "|s0,0.5,1e-05\n";
  const std::string gz = gsmap::io::gzip_compress(text);
  EXPECT_EQ(gz, gsmap::io::gzip_compress(text));  // no time stamp: same bytes every time
  EXPECT_LT(gz.size(), text.size() / 3);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  const auto p = dir.path() / "x.csv.gz";
  write_bytes(p, gz);
  std::string py = gsmap::test::run_python("import gzip,hashlib\nprint(len(gzip.open('" +
                                           p.string() + "').read()))\n");
  EXPECT_EQ(std::stoll(py), static_cast<long long>(text.size()));
  EXPECT_EQ(gsmap::io::read_text_file(p.string()), text);
}

TEST(TextWriteAtomic, WritesReplacesAndLeavesNoTemporary) {
  gsmap::test::TempDir dir("text_atomic");
  const auto p = dir.path() / "out.csv";
  gsmap::io::write_file_atomic(p.string(), "first\n");
  EXPECT_EQ(read_bytes(p), "first\n");
  gsmap::io::write_file_atomic(p.string(), "second\n");
  EXPECT_EQ(read_bytes(p), "second\n");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_THROW(gsmap::io::write_file_atomic((dir.path() / "no/such/dir/x").string(), "x"), IoError);
}

TEST(TextReadFile, PlainAndMissing) {
  gsmap::test::TempDir dir("text_readfile");
  const auto p = dir.path() / "plain.txt";
  write_bytes(p, "a b\nc\n");
  EXPECT_EQ(gsmap::io::read_text_file(p.string()), "a b\nc\n");
  EXPECT_THROW(gsmap::io::read_text_file((dir.path() / "missing").string()), InputError);
}


// ---- CSV (RFC 4180) ------------------------------------------------------------------------

std::vector<std::vector<std::string>> csv_records(const std::string& path) {
  gsmap::io::CsvReader r(path);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string_view> f;
  while (r.next(f)) out.emplace_back(f.begin(), f.end());
  return out;
}

TEST(TextCsv, FieldsAreQuotedOnlyWhenNeeded) {
  using gsmap::io::append_csv_field;
  auto q = [](std::string_view s) {
    std::string out;
    append_csv_field(out, s);
    return out;
  };
  EXPECT_EQ(q("cell0|s0"), "cell0|s0");
  EXPECT_EQ(q(""), "");
  EXPECT_EQ(q("a,b"), "\"a,b\"");
  EXPECT_EQ(q("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(q("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(q("cr\r"), "\"cr\r\"");
  EXPECT_EQ(q(" spaced "), " spaced ");  // as Python's csv module: spaces need no quotes
}

TEST(TextCsv, SplitRecordUnquotesAndReportsOpenOrBadQuotes) {
  using gsmap::io::CsvSplit;
  std::vector<std::string_view> f;
  std::string storage;
  EXPECT_EQ(gsmap::io::split_csv_record(R"("a,""b""",,c,"")", f, storage), CsvSplit::kOk);
  EXPECT_EQ(std::vector<std::string>(f.begin(), f.end()),
            (std::vector<std::string>{"a,\"b\"", "", "c", ""}));
  EXPECT_EQ(gsmap::io::split_csv_record("x\"y,1", f, storage), CsvSplit::kOk);  // as pandas
  EXPECT_EQ(std::string(f[0]), "x\"y");
  EXPECT_EQ(gsmap::io::split_csv_record("\"open,1", f, storage), CsvSplit::kOpenQuote);
  EXPECT_EQ(gsmap::io::split_csv_record("\"a\"b,1", f, storage), CsvSplit::kTextAfterQuote);
}

// Every awkward name written by our writer is read back identically by pandas (plain and gzip)
// and by our reader; pandas' own to_csv output reads back identically with ours.
TEST(TextCsv, RoundTripsThroughPandasBothWays) {
  gsmap::test::TempDir dir("text_csv");
  const std::vector<std::string> names = {"plain|s0", "comma,cell|s0", "quote\"cell|s0",
                                          "both,\"x\"|s0", "new\nline|s0", "\"\"|s0",
                                          ",|s0", "NA|s0", "tail \"|s0", "ü,é|s0"};
  std::string text = "spot,value\n";
  for (std::size_t i = 0; i < names.size(); ++i) {
    gsmap::io::append_csv_field(text, names[i]);
    text += ',';
    text += std::to_string(i);
    text += '\n';
  }
  write_bytes(dir.path() / "ours.csv", text);
  write_bytes(dir.path() / "ours.csv.gz", gsmap::io::gzip_compress(text));
  const std::string py = gsmap::test::run_python(
      "import pandas as pd, json\nd = '" + dir.path().string() + "'\n"
      "a = pd.read_csv(d + '/ours.csv', keep_default_na=False)\n"
      "b = pd.read_csv(d + '/ours.csv.gz', keep_default_na=False)\n"
      "assert list(a.spot) == list(b.spot)\n"
      "a.to_csv(d + '/pandas.csv.gz', index=False)\n"
      "print(json.dumps({'spots': list(a.spot), 'values': [int(v) for v in a.value]}))\n");
  const auto parsed = nlohmann::json::parse(py.substr(py.rfind('{')));
  EXPECT_EQ(parsed.at("spots").get<std::vector<std::string>>(), names);
  for (const auto* file : {"ours.csv", "ours.csv.gz", "pandas.csv.gz"}) {
    SCOPED_TRACE(file);
    const auto records = csv_records((dir.path() / file).string());
    ASSERT_EQ(records.size(), names.size() + 1);
    for (std::size_t i = 0; i < names.size(); ++i) {
      EXPECT_EQ(records[i + 1], (std::vector<std::string>{names[i], std::to_string(i)}));
    }
  }
}

TEST(TextCsv, LineNumbersAndErrorsNameTheFirstLineOfTheRecord) {
  gsmap::test::TempDir dir("text_csv_err");
  write_bytes(dir.path() / "ok.csv", "h\n\"a\nb\"\nc\n");
  gsmap::io::CsvReader r((dir.path() / "ok.csv").string());
  std::vector<std::string_view> f;
  ASSERT_TRUE(r.next(f));
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(std::string(f.at(0)), "a\nb");
  EXPECT_EQ(r.line_number(), 2);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(r.line_number(), 4);
  EXPECT_FALSE(r.next(f));

  write_bytes(dir.path() / "open.csv", "h\nx\n\"never closed,1\nmore\n");
  const auto open = input_error_message([&] { csv_records((dir.path() / "open.csv").string()); });
  EXPECT_NE(open.find("open.csv"), std::string::npos) << open;
  EXPECT_NE(open.find("line 3"), std::string::npos) << open;
  EXPECT_NE(open.find("not closed"), std::string::npos) << open;
  write_bytes(dir.path() / "bad.csv", "h\n\"a\"b,1\n");
  const auto bad = input_error_message([&] { csv_records((dir.path() / "bad.csv").string()); });
  EXPECT_NE(bad.find("line 2"), std::string::npos) << bad;
  EXPECT_NE(bad.find("closing quote"), std::string::npos) << bad;
}

}  // namespace
