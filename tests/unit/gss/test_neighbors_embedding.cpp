// Embedding preparation and similarities (docs/algorithms.md §10.3 steps 3-5) against numpy, which
// is what the reference computes them with: f64 -> f16 single rounding, the f16 cell normalisation,
// the niche normalisation in the stored type, and the f32 dot products (numpy einsum order).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "gsmap/gss/embedding.hpp"
#include "test_support.hpp"

namespace gsmap::gss {
namespace {

using math::f32_to_f16;

std::vector<double> random_values(std::size_t n, std::uint64_t seed, double scale) {
  std::vector<double> v(n);
  std::uint64_t state = seed;
  for (double& x : v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double u = static_cast<double>(state >> 11) / 9007199254740992.0;  // [0, 1)
    x = (u * 2.0 - 1.0) * scale;
  }
  return v;
}

std::string python_list(const std::vector<double>& v) {
  std::ostringstream out;
  out.precision(17);
  out << '[';
  for (const double x : v) out << x << ',';
  out << ']';
  return out.str();
}

std::vector<unsigned> parse_uints(const std::string& text) {
  std::istringstream in(text);
  std::vector<unsigned> v;
  unsigned x;
  while (in >> x) v.push_back(x);
  return v;
}

TEST(Embedding, F64ToF16RoundsOnce) {
  // 1 + 2^-11 + 2^-40 is just above the midpoint of 1 and 1 + 2^-10: correct rounding goes up;
  // rounding to f32 first would drop the 2^-40 and then tie to even (1.0).
  EXPECT_EQ(f64_to_f16(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)), 0x3C01);
  EXPECT_EQ(f32_to_f16(static_cast<float>(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40))),
            0x3C00);
  EXPECT_EQ(f64_to_f16(-(1.0 + std::ldexp(1.0, -11) - std::ldexp(1.0, -40))), 0xBC00);
  EXPECT_EQ(f64_to_f16(65519.99), 0x7BFF);
  EXPECT_EQ(f64_to_f16(65520.0), 0x7C00);
  EXPECT_EQ(f64_to_f16(1e300), 0x7C00);
  EXPECT_EQ(f64_to_f16(1e-300), 0x0000);
  EXPECT_EQ(f64_to_f16(std::ldexp(1.0, -25) * (1.0 + 1e-12)), 0x0001);  // just above half the
                                                                        // smallest subnormal

  // Random values over the whole f16 range (and around the f16 grid) against numpy.
  std::vector<double> v = random_values(4000, 3, 70000.0);
  const std::vector<double> small = random_values(4000, 5, 1e-3);
  v.insert(v.end(), small.begin(), small.end());
  for (int k = 0; k < 2000; ++k) {  // midpoints of the f16 grid in [1, 2), nudged both ways
    const double mid = 1.0 + (2 * k + 1) * std::ldexp(1.0, -11);
    v.push_back(mid + std::ldexp(1.0, -45));
    v.push_back(mid - std::ldexp(1.0, -45));
  }
  const std::string out = test::run_python(
      "import numpy as np\nnp.seterr(all='ignore')\nv = np.array(" + python_list(v) +
      ", dtype=np.float64)\nprint(' '.join(str(int(x)) for x in "
      "v.astype(np.float16).view(np.uint16)))\n");
  const std::vector<unsigned> expected = parse_uints(out);
  ASSERT_EQ(expected.size(), v.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < v.size(); ++i) differ += f64_to_f16(v[i]) != expected[i];
  EXPECT_EQ(differ, 0u) << "of " << v.size();
}

// numpy (gsMap's code): cell = f16 cast, then e / (norm(e) + 1e-8) in f16; niche = x / (norm(x) +
// 1e-8) in the stored type, then f16. Both for f32 and f64 inputs.
TEST(Embedding, NormalisationMatchesNumpy) {
  constexpr std::int64_t kRows = 100;
  const std::vector<int> dims{1, 3, 7, 8, 16, 32, 33, 150};
  std::vector<std::vector<double>> inputs64;
  std::ostringstream script;
  script << "import numpy as np\n";
  for (const int dim : dims) {
    const std::vector<double> v64 =
        random_values(static_cast<std::size_t>(kRows * dim), 11u + static_cast<unsigned>(dim), 3.0);
    inputs64.push_back(v64);
    script << "x64 = np.array(" << python_list(v64) << ", dtype=np.float64).reshape(-1, " << dim
           << ")\n"
           << "for x in (x64.astype(np.float32), x64):\n"
           << "    e = x.astype(np.float16)\n"
           << "    c = e / (np.linalg.norm(e, axis=1, keepdims=True) + 1e-8)\n"
           << "    n = (x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-8)).astype(np.float16)\n"
           << "    print(' '.join(str(int(b)) for b in "
              "c.astype(np.float16).view(np.uint16).ravel()))\n"
           << "    print(' '.join(str(int(b)) for b in n.view(np.uint16).ravel()))\n";
  }
  std::istringstream lines(test::run_python(script.str()));
  for (std::size_t d = 0; d < dims.size(); ++d) {
    const int dim = dims[d];
    const std::vector<double>& v64 = inputs64[d];
    const std::vector<float> v32(v64.begin(), v64.end());
    const std::vector<double> v32_as_64(v32.begin(), v32.end());
    std::string cell32, niche32, cell64, niche64;
    ASSERT_TRUE(std::getline(lines, cell32) && std::getline(lines, niche32) &&
                std::getline(lines, cell64) && std::getline(lines, niche64));
    const auto compare = [dim](const NormalizedEmbedding& ours, const std::string& theirs,
                               const char* what) {
      const std::vector<unsigned> expected = parse_uints(theirs);
      ASSERT_EQ(expected.size(), ours.values.size()) << what;
      std::size_t differ = 0;
      for (std::size_t i = 0; i < expected.size(); ++i) differ += ours.values[i] != expected[i];
      EXPECT_EQ(differ, 0u) << what << " dim " << dim;
    };
    compare(normalize_cell_embedding(v32, kRows, dim, "f32"), cell32, "cell f32");
    compare(normalize_cell_embedding(v32_as_64, kRows, dim, StoredFloat::kF32, "f32 as f64"),
            cell32, "cell f32 (f64 carrier)");
    compare(normalize_niche_embedding(v32, kRows, dim, "f32"), niche32, "niche f32");
    compare(normalize_niche_embedding(v32_as_64, kRows, dim, StoredFloat::kF32, "f32 as f64"),
            niche32, "niche f32 (f64 carrier)");
    compare(normalize_cell_embedding(v64, kRows, dim, StoredFloat::kF64, "f64"), cell64,
            "cell f64");
    compare(normalize_niche_embedding(v64, kRows, dim, StoredFloat::kF64, "f64"), niche64,
            "niche f64");
  }
}

// Rows are normalised in ranges on all workers (several ranges here): every row equals that row
// normalised alone, for both normalisations and both stored types.
TEST(Embedding, RowRangesGiveTheBytesOfEachRowAlone) {
  constexpr std::int64_t kRows = 9001;
  constexpr int kDim = 30;
  const std::vector<double> v64 = random_values(static_cast<std::size_t>(kRows * kDim), 5, 2.0);
  const std::vector<float> v32(v64.begin(), v64.end());
  const auto row64 = [&](std::int64_t r) {
    return std::span<const double>(v64.data() + r * kDim, kDim);
  };
  const auto row32 = [&](std::int64_t r) {
    return std::span<const float>(v32.data() + r * kDim, kDim);
  };
  const NormalizedEmbedding cell32 = normalize_cell_embedding(v32, kRows, kDim, "f32");
  const NormalizedEmbedding niche32 = normalize_niche_embedding(v32, kRows, kDim, "f32");
  const NormalizedEmbedding cell64 =
      normalize_cell_embedding(v64, kRows, kDim, StoredFloat::kF64, "f64");
  const NormalizedEmbedding niche64 =
      normalize_niche_embedding(v64, kRows, kDim, StoredFloat::kF64, "f64");
  std::size_t differ = 0;
  for (std::int64_t r = 0; r < kRows; ++r) {
    const auto same = [&](const NormalizedEmbedding& all, const NormalizedEmbedding& one) {
      for (int d = 0; d < kDim; ++d) {
        differ += all.values[static_cast<std::size_t>(r * kDim + d)] !=
                  one.values[static_cast<std::size_t>(d)];
      }
    };
    same(cell32, normalize_cell_embedding(row32(r), 1, kDim, "row"));
    same(niche32, normalize_niche_embedding(row32(r), 1, kDim, "row"));
    same(cell64, normalize_cell_embedding(row64(r), 1, kDim, StoredFloat::kF64, "row"));
    same(niche64, normalize_niche_embedding(row64(r), 1, kDim, StoredFloat::kF64, "row"));
  }
  EXPECT_EQ(differ, 0u);
  EXPECT_NE(cell32.values[0], cell32.values[kDim]);  // real rows, not one value repeated
}

TEST(Embedding, SimilarityMatchesNumpyEinsum) {
  std::ostringstream script;
  script << "import numpy as np\n";
  std::vector<std::vector<f16_bits>> a_rows, b_rows;
  for (int dim = 1; dim <= 40; ++dim) {
    const std::vector<double> a =
        random_values(static_cast<std::size_t>(50 * dim), 100u + static_cast<unsigned>(dim), 1.0);
    const std::vector<double> b =
        random_values(static_cast<std::size_t>(50 * dim), 200u + static_cast<unsigned>(dim), 1.0);
    std::vector<f16_bits> ah, bh;
    for (const double x : a) ah.push_back(f64_to_f16(x));
    for (const double x : b) bh.push_back(f64_to_f16(x));
    a_rows.push_back(ah);
    b_rows.push_back(bh);
    script << "a = np.array(" << python_list(a)
           << ").astype(np.float16).astype(np.float32).reshape(50, " << dim << ")\n"
           << "b = np.array(" << python_list(b)
           << ").astype(np.float16).astype(np.float32).reshape(50, 1, " << dim << ")\n"
           << "print(' '.join(str(int(x)) for x in np.einsum('nd,nkd->nk', a, "
              "b).astype(np.float16).view(np.uint16).ravel()))\n";
  }
  std::istringstream lines(test::run_python(script.str()));
  std::size_t differ = 0, total = 0;
  for (int dim = 1; dim <= 40; ++dim) {
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    const std::vector<unsigned> expected = parse_uints(line);
    ASSERT_EQ(expected.size(), 50u);
    for (std::size_t r = 0; r < 50; ++r) {
      const auto off = r * static_cast<std::size_t>(dim);
      differ += similarity_f16(a_rows[static_cast<std::size_t>(dim - 1)].data() + off,
                               b_rows[static_cast<std::size_t>(dim - 1)].data() + off,
                               dim) != expected[r];
      ++total;
    }
  }
  EXPECT_EQ(differ, 0u) << "of " << total;
}

TEST(Embedding, HandValuesAndNoNiche) {
  // (3, 4): f16 squares 9, 16, sum 25, norm 5 -> (0.6, 0.8) rounded to f16.
  const std::vector<float> v{3.0f, 4.0f, 0.0f, 2.0f};
  const NormalizedEmbedding e = normalize_cell_embedding(v, 2, 2, "hand");
  EXPECT_EQ(e.values,
            (std::vector<f16_bits>{f32_to_f16(0.6f), f32_to_f16(0.8f), 0, f32_to_f16(1.0f)}));
  // Similarity of the two rows: 0.8 in f16 times 1.
  EXPECT_EQ(row_similarity(e, 0, 1), f32_to_f16(0.8f));
  const NormalizedEmbedding none = unit_niche_embedding(3);
  EXPECT_EQ(none.dim, 1);
  EXPECT_EQ(none.values, (std::vector<f16_bits>{0x3C00, 0x3C00, 0x3C00}));
  EXPECT_EQ(row_similarity(none, 0, 2), 0x3C00);
  // An all-zero row normalises to NaN (0 / 0 in f16), as in the reference.
  const NormalizedEmbedding zero =
      normalize_cell_embedding(std::vector<float>{0.0f, 0.0f}, 1, 2, "zero");
  EXPECT_TRUE(std::isnan(math::f16_to_f32(zero.values[0])));
}

}  // namespace
}  // namespace gsmap::gss
