// Resources, trait preparation, spot LD and the CPU driver on synthetic inputs: hand-derived
// values, errors, an independent numpy implementation of docs/algorithms.md §6–§7, and the
// invariances the distributed step relies on (shared product across traits, chunking).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/ldsc/regression.hpp"
#include "gsmap/ldsc/resources.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "gsmap/math/f16.hpp"
#include "test_support.hpp"

namespace gsmap::ldsc {
namespace {

using Index = std::int64_t;

SparseRowsF32 sparse_from_dense(const std::vector<float>& dense, Index rows, Index cols) {
  SparseRowsF32 m(rows, cols);
  std::vector<Eigen::Triplet<float, Index>> t;
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c)
      if (dense[r * cols + c] != 0.0f) t.emplace_back(r, c, dense[r * cols + c]);
  m.setFromTriplets(t.begin(), t.end());
  m.makeCompressed();
  return m;
}

// ---------------------------------------------------------------------------------------------
// Small hand-made inputs.

struct Tiny {
  io::SnpGeneWeights w;
  io::LdWeights ld;
  std::vector<float> dense;
};

// W: 6 SNPs x (G1, G2, G3, Unmapped).
Tiny tiny() {
  Tiny t;
  t.w.snp = {"rs1", "rs2", "rs3", "rs4", "rs5", "rs6"};
  t.w.features = {"G1", "G2", "G3", "Unmapped"};
  t.dense = {1, 0, 2, 0.5f,   //
             0, 3, 0, 0,      //
             1, 1, 1, 1,      //
             0, 0, 4, 0.25f,  //
             2, 0, 0, 0,      //
             0, 5, 0, 2};
  t.w.matrix = sparse_from_dense(t.dense, 6, 4);
  // rs2 has no LD weight; order and an extra SNP do not matter; rs4 duplicated (first kept).
  t.ld.snp = {"rs6", "rs4", "rs9", "rs1", "rs3", "rs5", "rs4"};
  t.ld.weight = {6.0f, 4.0f, 9.0f, 0.5f, 3.0f, 5.0f, 44.0f};
  return t;
}

CommonResources tiny_common(const std::vector<io::ExtraBaseline>& extras = {}) {
  const Tiny t = tiny();
  return build_common_resources(t.w, t.ld, extras, {"X1", "G3", "G1"},
                                {"w.h5ad", "w_ld", std::vector<std::string>(extras.size(), "x.h5ad"),
                                 "marker.h5ad"});
}

TEST(LdscResources, CommonSnpsBaselineAndGeneAlignment) {
  const CommonResources c = tiny_common();
  EXPECT_EQ(c.snp, (std::vector<std::string>{"rs1", "rs3", "rs4", "rs5", "rs6"}));  // W order
  EXPECT_EQ(c.weight_row, (std::vector<Index>{0, 2, 3, 4, 5}));
  EXPECT_EQ(c.ld_weight, (std::vector<float>{0.5f, 3.0f, 4.0f, 5.0f, 6.0f}));
  EXPECT_EQ(c.index_of_snp("rs5"), 3);
  EXPECT_EQ(c.index_of_snp("rs2"), -1);  // no LD weight
  EXPECT_EQ(c.baseline_names, (std::vector<std::string>{"base", "all_gene"}));
  // base = all genes + unmapped, all_gene = genes only.
  const std::vector<float> expected_baseline = {3.5, 3, 4, 3, 4.25, 4, 2, 2, 7, 5};
  EXPECT_EQ(c.baseline, expected_baseline);
  EXPECT_EQ(c.n_features(), 4);
  // Marker genes X1, G3, G1 -> aligned G3 (marker column 1), G1 (marker column 2).
  EXPECT_EQ(c.genes, (std::vector<std::string>{"G3", "G1"}));
  EXPECT_EQ(c.marker_column, (std::vector<std::int32_t>{1, 2}));
  EXPECT_EQ(c.n_marker_genes, 3);
  const Eigen::MatrixXf wg = Eigen::MatrixXf(c.gene_weights);
  Eigen::MatrixXf expected(5, 2);
  expected << 2, 1,  //
      1, 1,          //
      4, 0,          //
      0, 2,          //
      0, 0;
  EXPECT_EQ(wg, expected);
}

TEST(LdscResources, ExtraBaselinesIntersectAndAppend) {
  io::ExtraBaseline e1{{"rs6", "rs1", "rs4", "rs3"}, {"A"}, {60, 10, 40, 30}};
  io::ExtraBaseline e2{{"rs3", "rs6", "rs4", "rs8"}, {"B", "C"}, {3, 33, 6, 66, 4, 44, 8, 88}};
  const CommonResources c = tiny_common({e1, e2});
  EXPECT_EQ(c.snp, (std::vector<std::string>{"rs3", "rs4", "rs6"}));
  EXPECT_EQ(c.baseline_names, (std::vector<std::string>{"base", "all_gene", "A", "B", "C"}));
  EXPECT_EQ(c.n_features(), 7);
  const std::vector<float> expected = {4, 3, 30, 3, 33,       //
                                        4.25, 4, 40, 4, 44,   //
                                        7, 5, 60, 6, 66};
  EXPECT_EQ(c.baseline, expected);
  EXPECT_EQ(c.ld_weight, (std::vector<float>{3.0f, 4.0f, 6.0f}));
  EXPECT_EQ(c.gene_weights.rows(), 3);
}

TEST(LdscResources, Errors) {
  const Tiny t = tiny();
  try {
    build_common_resources(t.w, t.ld, {}, {"A", "B", "C", "D", "E", "F"},
                           {"weights.h5ad", "w_ld", {}, "marker_scores.h5ad"});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("weights.h5ad"), std::string::npos) << m;
    EXPECT_NE(m.find("A, B, C"), std::string::npos) << m;
    EXPECT_NE(m.find("G1, G2, G3"), std::string::npos) << m;
  }
  io::LdWeights other{{"rsX"}, {1.0f}, {}};
  try {
    build_common_resources(t.w, other, {}, {"G1"}, {"weights.h5ad", "my_w_ld", {}, "m"});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("my_w_ld"), std::string::npos) << m;
  }
}

io::SumStats tiny_sumstats() {
  io::SumStats s;
  s.path = "trait.sumstats.gz";
  const float nan = std::nanf("");
  // rs2 not in C0, rs7 not in W, rs5 chi2 = 100 >= chisq_max 100 (strict), rs3 missing Z.
  s.snp = {"rs6", "rs2", "rs4", "rs5", "rs1", "rs7", "rs3"};
  s.z = {1.0f, 2.0f, -2.0f, 10.0f, 0.5f, 1.0f, nan};
  s.n = {1000, 2000, 3000, 4000, 5000, 6000, 7000};
  return s;
}

TEST(LdscTrait, FilterCommonSnpsNbarTruncationDesign) {
  const CommonResources c = tiny_common();
  TraitOptions o;
  o.n_blocks = 2;
  o.chisq_max = 100.0;
  const TraitData t = prepare_trait(c, tiny_sumstats(), "T", o);
  EXPECT_EQ(t.n_sumstats_snps, 7);
  EXPECT_EQ(t.n_chisq_removed, 2);  // rs5 (chi2 = 100 not < 100) and rs3 (NaN)
  EXPECT_EQ(t.n_common_snps, 3);    // rs1, rs4, rs6 in W order
  EXPECT_EQ(t.nbar, 3000.0f);       // mean of 5000, 3000, 1000 before truncation
  EXPECT_EQ(t.block_size, 1);
  EXPECT_EQ(t.n_snps_used, 2);
  EXPECT_EQ(t.n_dropped_by_truncation, 1);
  EXPECT_EQ(t.common_index, (std::vector<Index>{0, 2}));  // rs1, rs4
  EXPECT_EQ(t.chisq, (std::vector<double>{0.25, 4.0}));
  EXPECT_EQ(t.n, (std::vector<double>{5000, 3000}));
  EXPECT_EQ(t.baseline_sum, (std::vector<double>{6.5, 8.25}));
  EXPECT_EQ(t.ld_term, (std::vector<double>{0.5, 0.125}));  // 1 / (2 max(w, 1))
  // design: (base * N) / Nbar, (all_gene * N) / Nbar in f32, then 1
  const std::vector<double> design = {3.5f * 5000.0f / 3000.0f, 3.0f * 5000.0f / 3000.0f, 1.0,
                                      4.25, 4.0, 1.0};
  EXPECT_NE(design[0], 3.5 * 5000 / 3000.0);  // the f32 rounding is visible
  EXPECT_EQ(t.design, design);
  EXPECT_DOUBLE_EQ(t.mean_chisq, 2.125);
  EXPECT_DOUBLE_EQ(t.sum_baseline_times_n, 6.5 * 5000 + 8.25 * 3000);
  EXPECT_DOUBLE_EQ(t.lambda_gc, 2.5 / 0.4559364);  // median of {1,4,4,100,0.25,1} = (1+4)/2
  EXPECT_EQ(t.log_lines().size(), 3u);

  const SparseRowsF32 wt = trait_gene_weights(c, t);
  Eigen::MatrixXf expected(2, 2);
  expected << 2, 1, 4, 0;
  EXPECT_EQ(Eigen::MatrixXf(wt), expected);
}

TEST(LdscTrait, Errors) {
  const CommonResources c = tiny_common();
  TraitOptions o;
  o.chisq_max = 100.0;
  o.n_blocks = 1;
  EXPECT_THROW(prepare_trait(c, tiny_sumstats(), "T", o), UsageError);
  o.n_blocks = 4;  // 3 SNPs in common
  EXPECT_THROW(prepare_trait(c, tiny_sumstats(), "T", o), InputError);
  o.n_blocks = 2;
  io::SumStats all_nan = tiny_sumstats();
  for (auto& z : all_nan.z) z = std::nanf("");
  EXPECT_THROW(prepare_trait(c, all_nan, "T", o), InputError);
  io::SumStats disjoint = tiny_sumstats();
  for (auto& s : disjoint.snp) s += "_x";
  try {
    prepare_trait(c, disjoint, "T", o);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("trait.sumstats.gz"), std::string::npos) << m;
    EXPECT_NE(m.find("w.h5ad"), std::string::npos) << m;
    EXPECT_NE(m.find("w_ld"), std::string::npos) << m;
  }
}

TEST(LdscReferenceSums, MatchNumpyAndScipy) {
  // pandas' f32 mean (N-bar) and scipy's CSR row sum (all_gene), bit for bit.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(50000.0f, 150000.0f);
  const std::vector<Index> sizes = {1, 7, 100, 129, 8192, 8193, 29568, 50001};
  const test::TempDir dir("ldsc_sums");
  std::vector<float> means;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    std::vector<float> v(sizes[k]);
    for (auto& x : v) x = std::round(u(rng));
    std::ofstream(dir.path() / fmt::format("v{}.f32", k), std::ios::binary)
        .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
    means.push_back(reference_f32_mean(v));
  }
  // CSR rows of 0..299 entries with values spanning several magnitudes.
  std::vector<float> data;
  std::vector<Index> indptr = {0};
  std::uniform_real_distribution<float> e(-6.0f, 3.0f);
  for (Index n = 0; n < 300; ++n) {
    for (Index i = 0; i < n; ++i) data.push_back(std::pow(10.0f, e(rng)));
    indptr.push_back(static_cast<Index>(data.size()));
  }
  std::ofstream(dir.path() / "data.f32", std::ios::binary)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * 4));
  std::ofstream(dir.path() / "indptr.i64", std::ios::binary)
      .write(reinterpret_cast<const char*>(indptr.data()),
             static_cast<std::streamsize>(indptr.size() * 8));
  std::istringstream out(test::run_python(fmt::format(
      "import numpy as np, pandas as pd, scipy.sparse as sp\n"
      "d='{}'\n"
      "for k in range({}):\n"
      "    v=np.fromfile(d+'/v%d.f32' % k,dtype=np.float32)\n"
      "    print(np.float32(pd.Series(v).mean()).view(np.uint32))\n"
      "data=np.fromfile(d+'/data.f32',np.float32); ip=np.fromfile(d+'/indptr.i64',np.int64)\n"
      "m=sp.csr_matrix((data,np.zeros(len(data),np.int64),ip),shape=(len(ip)-1,1))\n"
      "m.indices=np.concatenate([np.arange(ip[r+1]-ip[r]) for r in range(len(ip)-1)]).astype(np.int32)\n"
      "m._shape=(len(ip)-1,300)\n"
      "print(' '.join(str(x) for x in np.asarray(m.sum(axis=1)).ravel().astype(np.float32).view(np.uint32)))\n",
      dir.path().string(), sizes.size())));
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    std::uint32_t expected = 0, bits = 0;
    out >> expected;
    std::memcpy(&bits, &means[k], 4);
    EXPECT_EQ(bits, expected) << "mean, n=" << sizes[k];
  }
  Index mismatches = 0;
  for (Index n = 0; n < 300; ++n) {
    std::uint32_t expected = 0, bits = 0;
    out >> expected;
    const float sum = scipy_row_sum(data.data() + indptr[n], n);
    std::memcpy(&bits, &sum, 4);
    mismatches += bits != expected;
  }
  EXPECT_EQ(mismatches, 0);
  // The orders really differ: a plain sequential sum disagrees somewhere.
  Index sequential_differs = 0;
  for (Index n = 0; n < 300; ++n) {
    float seq = 0.0f;
    for (Index i = indptr[n]; i < indptr[n + 1]; ++i) seq += data[i];
    sequential_differs += seq != scipy_row_sum(data.data() + indptr[n], n);
  }
  EXPECT_GT(sequential_differs, 0);
}

// ---------------------------------------------------------------------------------------------
// Synthetic run of moderate size, checked against numpy.

struct Synthetic {
  Index n_w = 900;
  Index n_genes = 30;
  io::SnpGeneWeights w;
  std::vector<float> dense;  // n_w x (n_genes + 1)
  io::LdWeights ld;
  std::vector<io::ExtraBaseline> extras;
  std::vector<std::string> marker_genes;
  std::vector<io::SumStats> sumstats;
  Index n_spots = 13;
  std::vector<math::f16_bits> gss;  // n_spots x marker_genes
};

Synthetic synthetic(bool with_extras) {
  Synthetic s;
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const Index F = s.n_genes + 1;
  for (Index i = 0; i < s.n_w; ++i) s.w.snp.push_back(fmt::format("rs{}", i));
  s.w.snp[800] = "rs5";  // duplicate id: the first row is used
  for (Index g = 0; g < s.n_genes; ++g) s.w.features.push_back(fmt::format("G{}", g));
  s.w.features.push_back("Unmapped");
  s.dense.assign(s.n_w * F, 0.0f);
  for (Index i = 0; i < s.n_w; ++i) {
    for (int k = 0; k < 6; ++k)
      s.dense[i * F + static_cast<Index>(u(rng) * s.n_genes)] += 0.05f + 2.0f * u(rng);
    s.dense[i * F + s.n_genes] = 3.0f * u(rng);
  }
  s.w.matrix = sparse_from_dense(s.dense, s.n_w, F);

  for (Index i = 0; i < s.n_w + 50; ++i) {
    if (i % 10 == 3) continue;  // SNPs without LD weight
    s.ld.snp.push_back(fmt::format("rs{}", (i * 7919) % (s.n_w + 50)));
    s.ld.weight.push_back(0.3f + 12.0f * u(rng));  // some below 1
  }
  if (with_extras) {
    io::ExtraBaseline a{{}, {"A"}, {}}, b{{}, {"B", "C"}, {}};
    for (Index i = s.n_w - 1; i >= 0; --i) {
      if (i % 17 == 0) continue;
      a.snp.push_back(fmt::format("rs{}", i));
      a.values.push_back(5.0f * u(rng));
      b.snp.push_back(fmt::format("rs{}", i));
      b.values.push_back(2.0f * u(rng));
      b.values.push_back(u(rng));
    }
    s.extras = {a, b};
  }
  // Marker genes: aligned genes shuffled, plus names the weight matrix lacks.
  s.marker_genes = s.w.features;
  s.marker_genes.pop_back();
  std::shuffle(s.marker_genes.begin(), s.marker_genes.end(), rng);
  s.marker_genes.insert(s.marker_genes.begin() + 4, "NOPE1");
  s.marker_genes.push_back("NOPE2");

  for (int t = 0; t < 3; ++t) {
    io::SumStats ss;
    ss.path = fmt::format("trait{}.sumstats", t);
    for (Index i = 0; i < s.n_w + 40; ++i) {
      if ((i + t) % (5 + t) == 0) continue;  // different SNP subsets per trait
      ss.snp.push_back(fmt::format("rs{}", (i * 31) % (s.n_w + 40)));
      float z = 4.0f * (u(rng) - 0.5f) * (1.0f + t);
      if (i % 97 == 1) z = 12.0f;           // chi2 outlier
      if (i % 89 == 2) z = std::nanf("");   // missing Z
      ss.z.push_back(z);
      ss.n.push_back(std::round(60000.0f + 40000.0f * u(rng)));
    }
    s.sumstats.push_back(ss);
  }
  const Index M = static_cast<Index>(s.marker_genes.size());
  s.gss.resize(s.n_spots * M);
  for (Index j = 0; j < s.n_spots; ++j)
    for (Index g = 0; g < M; ++g)
      s.gss[j * M + g] = math::f32_to_f16(u(rng) < 0.3f ? 0.0f : 3.0f * u(rng) * u(rng));
  for (Index g = 0; g < M; ++g) s.gss[7 * M + g] = 0;  // spot 7: no GSS -> singular
  return s;
}

struct SyntheticRun {
  CommonResources common;
  std::vector<TraitData> traits;
};

SyntheticRun prepare(const Synthetic& s, int n_blocks) {
  SyntheticRun r;
  r.common = build_common_resources(
      s.w, s.ld, s.extras, s.marker_genes,
      {"w.h5ad", "w_ld", std::vector<std::string>(s.extras.size(), "x.h5ad"), "m"});
  TraitOptions o;
  o.n_blocks = n_blocks;
  for (std::size_t t = 0; t < s.sumstats.size(); ++t)
    r.traits.push_back(prepare_trait(r.common, s.sumstats[t], fmt::format("T{}", t), o));
  return r;
}

std::vector<const TraitData*> pointers(const std::vector<TraitData>& traits) {
  std::vector<const TraitData*> p;
  for (const auto& t : traits) p.push_back(&t);
  return p;
}

void write_file(const std::filesystem::path& p, const void* data, std::size_t bytes) {
  std::ofstream(p, std::ios::binary).write(static_cast<const char*>(data),
                                           static_cast<std::streamsize>(bytes));
}

// numpy implementation of docs/algorithms.md §6–§7 from the raw inputs; prints, per trait, the meta
// counts and then beta se z p per spot.
constexpr const char* kNumpyReference = R"PY(
import numpy as np, pandas as pd, sys, json
d = sys.argv[1]
cfg = json.load(open(d + '/cfg.json'))
nw, F1, B = cfg['n_w'], cfg['F1'], cfg['n_blocks']
W = np.fromfile(d + '/W.f32', np.float32).reshape(nw, F1)
wsnp = cfg['w_snp']; feats = cfg['features']
first = {}
for i, s in enumerate(wsnp): first.setdefault(s, i)
ldw = {}
for s, v in zip(cfg['ld_snp'], cfg['ld_weight']): ldw.setdefault(s, v)
rows = [i for i, s in enumerate(wsnp) if first[s] == i and s in ldw]
extras = []
for e in cfg['extras']:
    vals = np.array(e['values'], np.float32).reshape(len(e['snp']), -1)
    m = {}
    for i, s in enumerate(e['snp']): m.setdefault(s, i)
    extras.append((m, vals))
    rows = [i for i in rows if wsnp[i] in m]
# f32 row sums as scipy computes them (the fixtures' reference).
import scipy.sparse as sp
allg = np.asarray(sp.csr_matrix(W[:, :-1]).sum(axis=1)).ravel().astype(np.float32)
base = (allg + W[:, -1]).astype(np.float32)
genes = [g for g in cfg['marker_genes'] if g in feats]
mcol = [cfg['marker_genes'].index(g) for g in genes]
wcol = [feats.index(g) for g in genes]
M = len(cfg['marker_genes'])
G = np.fromfile(d + '/gss.f16', np.float16).reshape(-1, M).astype(np.float32)[:, mcol]
for t, ss in enumerate(cfg['sumstats']):
    Z = np.array(ss['z'], np.float32); N = np.array(ss['n'], np.float32); chi = Z * Z
    cmax = max(0.001 * float(N.max()), 80)
    keep = {}
    for s, c, n in zip(ss['snp'], chi, N):
        if c < cmax: keep.setdefault(s, (c, n))
    C = [i for i in rows if wsnp[i] in keep]
    chisq = np.array([keep[wsnp[i]][0] for i in C], np.float64)
    Nn = np.array([keep[wsnp[i]][1] for i in C], np.float32)
    Nbar = np.float32(pd.Series(Nn).mean())
    nC = len(C); s_ = nC // B; m = s_ * B
    C = C[:m]; chisq = chisq[:m]; Nn = Nn[:m].astype(np.float64)
    A = [base[C], allg[C]]
    for (mp, vals) in extras:
        for k in range(vals.shape[1]): A.append(vals[[mp[wsnp[i]] for i in C], k])
    A = np.stack(A, 1).astype(np.float32)
    a = np.zeros(m, np.float32)
    for k in range(A.shape[1]): a = (a + A[:, k]).astype(np.float32)  # numpy's sum for < 8 columns
    a = a.astype(np.float64)
    w = np.array([ldw[wsnp[i]] for i in C], np.float32).astype(np.float64)
    # Spot LD in f32, accumulated in W's column order like scipy's product of W[:, genes].
    gene_of_col = {c: k for k, c in enumerate(wcol)}
    L = np.zeros((m, G.shape[0]), np.float32)
    for i in range(m):
        for c in np.nonzero(W[C[i]])[0]:
            if c in gene_of_col: L[i] += W[C[i], c] * G[:, gene_of_col[c]]
    L = L.astype(np.float64)
    ann = (A * Nn.astype(np.float32)[:, None] / Nbar).astype(np.float32).astype(np.float64)
    Xb = np.concatenate([ann, np.ones((m, 1))], 1)
    print(len(keep), nC, m, repr(float(Nbar)))
    for j in range(G.shape[0]):
        x = L[:, j] + a
        h = 10000 * (chisq.mean() - 1) / np.mean(x * Nn); h = min(max(h, 0), 1)
        c = h * Nn / 10000
        om = np.sqrt(1 / (2 * (1 + c * np.maximum(x, 1))**2 * np.maximum(w, 1))); om /= om.sum()
        X = np.concatenate([L[:, j][:, None], Xb], 1) * om[:, None]; y = chisq * om
        xb = X.reshape(B, s_, -1); yb = y.reshape(B, s_)
        xtx = np.einsum('bsp,bsq->bpq', xb, xb); xty = np.einsum('bsp,bs->bp', xb, yb)
        T = xtx.sum(0); tt = xty.sum(0)
        try:
            if np.linalg.cond(T) > 1e12: raise np.linalg.LinAlgError()
            est = np.linalg.solve(T, tt)
            de = np.linalg.solve(T - xtx, (tt - xty)[..., None])[..., 0]
        except np.linalg.LinAlgError:
            print('nan nan'); continue
        pv = B * est - (B - 1) * de
        print(repr(float(pv.mean(0)[0] / Nbar)), repr(float(np.sqrt(np.cov(pv.T, ddof=1)[0, 0] / B) / Nbar)))
)PY";

void check_against_numpy(bool with_extras, int n_blocks) {
  const Synthetic s = synthetic(with_extras);
  const SyntheticRun run = prepare(s, n_blocks);
  const SpotLdPlan plan(run.common, pointers(run.traits));
  SpotLd ld;
  compute_spot_ld(run.common, plan, s.gss.data(), s.n_spots, ld);

  const test::TempDir dir("ldsc_numpy");
  write_file(dir.path() / "W.f32", s.dense.data(), s.dense.size() * 4);
  write_file(dir.path() / "gss.f16", s.gss.data(), s.gss.size() * 2);
  std::ostringstream cfg;
  auto list = [](const auto& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ",";
      if constexpr (std::is_same_v<std::decay_t<decltype(v[0])>, std::string>)
        out += "\"" + v[i] + "\"";
      else if (std::isnan(static_cast<double>(v[i])))
        out += "NaN";
      else
        out += fmt::format("{}", v[i]);
    }
    return out + "]";
  };
  cfg << "{\"n_w\":" << s.n_w << ",\"F1\":" << s.n_genes + 1 << ",\"n_blocks\":" << n_blocks
      << ",\"w_snp\":" << list(s.w.snp) << ",\"features\":" << list(s.w.features)
      << ",\"ld_snp\":" << list(s.ld.snp) << ",\"ld_weight\":" << list(s.ld.weight)
      << ",\"marker_genes\":" << list(s.marker_genes) << ",\"extras\":[";
  for (std::size_t e = 0; e < s.extras.size(); ++e)
    cfg << (e ? "," : "") << "{\"snp\":" << list(s.extras[e].snp)
        << ",\"values\":" << list(s.extras[e].values) << "}";
  cfg << "],\"sumstats\":[";
  for (std::size_t t = 0; t < s.sumstats.size(); ++t)
    cfg << (t ? "," : "") << "{\"snp\":" << list(s.sumstats[t].snp)
        << ",\"z\":" << list(s.sumstats[t].z) << ",\"n\":" << list(s.sumstats[t].n) << "}";
  cfg << "]}";
  std::ofstream(dir.path() / "cfg.json") << cfg.str();
  std::ofstream(dir.path() / "ref.py") << kNumpyReference;
  const auto py = test::run_command("/usr/bin/python3 " + (dir.path() / "ref.py").string() + " " +
                                    dir.path().string());
  ASSERT_EQ(py.exit_code, 0) << py.output;
  std::istringstream in(py.output);

  for (std::size_t t = 0; t < run.traits.size(); ++t) {
    const TraitData& trait = run.traits[t];
    Index n_passing = 0, n_common = 0, m = 0;
    double nbar = 0;
    in >> n_passing >> n_common >> m >> nbar;
    EXPECT_EQ(trait.n_common_snps, n_common) << "trait " << t;
    EXPECT_EQ(trait.n_snps_used, m) << "trait " << t;
    EXPECT_EQ(static_cast<double>(trait.nbar), nbar) << "trait " << t;
    const TraitChunkResult r = regress_spots(trait, ld, plan.trait_rows(t));
    EXPECT_EQ(r.n_singular, 1) << "trait " << t;  // spot 7
    for (Index j = 0; j < s.n_spots; ++j) {
      std::string beta_s, se_s;
      in >> beta_s >> se_s;
      const double beta = std::stod(beta_s), se = std::stod(se_s);
      if (std::isnan(beta)) {
        EXPECT_TRUE(std::isnan(r.beta[j])) << "trait " << t << " spot " << j;
        EXPECT_TRUE(std::isnan(r.p[j]));
        continue;
      }
      // Same f32 spot LD; the f64 regression differs only in rounding (sqrt and normalisation
      // of the weights, lstsq-free solves), amplified at most by the pseudovalue cancellation.
      const double scale = std::abs(beta) + se;
      EXPECT_NEAR(r.beta[j], beta, 1e-9 * scale) << "trait " << t << " spot " << j;
      EXPECT_NEAR(r.se[j], se, 1e-9 * se) << "trait " << t << " spot " << j;
      EXPECT_NEAR(r.z[j], beta / se, 1e-8) << "trait " << t << " spot " << j;
    }
  }
}

TEST(LdscRegression, MatchesNumpyFourFeatures) { check_against_numpy(false, 7); }
TEST(LdscRegression, MatchesNumpySevenFeaturesRuntimePath) { check_against_numpy(true, 3); }

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

void expect_identical(const TraitChunkResult& a, const TraitChunkResult& b, const std::string& what) {
  EXPECT_TRUE(same_bits(a.beta, b.beta)) << what;
  EXPECT_TRUE(same_bits(a.se, b.se)) << what;
  EXPECT_TRUE(same_bits(a.z, b.z)) << what;
  EXPECT_TRUE(same_bits(a.p, b.p)) << what;
  EXPECT_TRUE(same_bits(a.neg_log10_p, b.neg_log10_p)) << what;
  EXPECT_TRUE(same_bits(a.beta_full, b.beta_full)) << what;
  EXPECT_EQ(a.n_singular, b.n_singular) << what;
}

TEST(LdscRegression, SharedProductEqualsSingleTraitRuns) {
  const Synthetic s = synthetic(false);
  const SyntheticRun run = prepare(s, 5);
  const SpotLdPlan shared(run.common, pointers(run.traits));
  // The union is larger than each trait's rows, so the index lists are really exercised.
  for (std::size_t t = 0; t < run.traits.size(); ++t)
    EXPECT_LT(run.traits[t].m(), shared.n_rows());
  SpotLd ld_shared;
  compute_spot_ld(run.common, shared, s.gss.data(), s.n_spots, ld_shared);
  for (std::size_t t = 0; t < run.traits.size(); ++t) {
    const SpotLdPlan single(run.common, {&run.traits[t]});
    EXPECT_EQ(single.n_rows(), run.traits[t].m());
    SpotLd ld_single;
    compute_spot_ld(run.common, single, s.gss.data(), s.n_spots, ld_single);
    const auto a = regress_spots(run.traits[t], ld_shared, shared.trait_rows(t));
    const auto b = regress_spots(run.traits[t], ld_single, single.trait_rows(0));
    expect_identical(a, b, fmt::format("trait {}", t));
    // W_T · GSS^T with Eigen's own sparse x dense product agrees to f32 rounding.
    const SparseRowsF32 wt = trait_gene_weights(run.common, run.traits[t]);
    const Index M = static_cast<Index>(s.marker_genes.size());
    Eigen::MatrixXf g(run.common.genes.size(), s.n_spots);
    for (Index j = 0; j < s.n_spots; ++j)
      for (Index k = 0; k < g.rows(); ++k)
        g(k, j) = math::f16_to_f32(s.gss[j * M + run.common.marker_column[k]]);
    const Eigen::MatrixXf eigen_ld = wt * g;
    for (Index i = 0; i < wt.rows(); ++i)
      for (Index j = 0; j < s.n_spots; ++j)
        ASSERT_NEAR(ld_single.row(i)[j], eigen_ld(i, j), 1e-5f * (1 + std::abs(eigen_ld(i, j))));
  }
}

TEST(LdscRegression, Avx2AndBaselineLoopsAgreeBitwise) {
  const Synthetic s = synthetic(true);  // P = 7: the runtime-count path
  const SyntheticRun run = prepare(s, 3);
  const SpotLdPlan plan(run.common, pointers(run.traits));
  SpotLd fast, plain;
  compute_spot_ld(run.common, plan, s.gss.data(), s.n_spots, fast, CpuSimd::kAuto);
  compute_spot_ld(run.common, plan, s.gss.data(), s.n_spots, plain, CpuSimd::kBaseline);
  ASSERT_EQ(fast.values.size(), plain.values.size());
  EXPECT_EQ(std::memcmp(fast.values.data(), plain.values.data(), fast.values.size() * 4), 0);
  const Synthetic s4 = synthetic(false);  // P = 4: the compile-time path
  const SyntheticRun run4 = prepare(s4, 5);
  const SpotLdPlan plan4(run4.common, pointers(run4.traits));
  SpotLd ld4;
  compute_spot_ld(run4.common, plan4, s4.gss.data(), s4.n_spots, ld4);
  for (std::size_t t = 0; t < run.traits.size(); ++t) {
    expect_identical(regress_spots(run.traits[t], fast, plan.trait_rows(t), CpuSimd::kAuto),
                     regress_spots(run.traits[t], fast, plan.trait_rows(t), CpuSimd::kBaseline),
                     fmt::format("P=7 trait {}", t));
    expect_identical(regress_spots(run4.traits[t], ld4, plan4.trait_rows(t), CpuSimd::kAuto),
                     regress_spots(run4.traits[t], ld4, plan4.trait_rows(t), CpuSimd::kBaseline),
                     fmt::format("P=4 trait {}", t));
  }
  std::printf("AVX2 loops %s on this CPU\n", use_avx2(CpuSimd::kAuto) ? "used" : "not available");
}

TEST(LdscRegression, ChunkingDoesNotChangeResults) {
  const Synthetic s = synthetic(false);
  const SyntheticRun run = prepare(s, 4);
  const SpotLdPlan plan(run.common, pointers(run.traits));
  SpotLd all;
  compute_spot_ld(run.common, plan, s.gss.data(), s.n_spots, all);
  const auto whole = regress_spots(run.traits[1], all, plan.trait_rows(1));
  const Index M = static_cast<Index>(s.marker_genes.size());
  TraitChunkResult joined;
  for (const auto& [a, b] : std::vector<std::pair<Index, Index>>{{0, 5}, {5, 6}, {6, 13}}) {
    SpotLd part;
    compute_spot_ld(run.common, plan, s.gss.data() + a * M, b - a, part);
    const auto r = regress_spots(run.traits[1], part, plan.trait_rows(1));
    for (auto [dst, src] : {std::pair{&joined.beta, &r.beta}, {&joined.se, &r.se},
                            {&joined.z, &r.z}, {&joined.p, &r.p},
                            {&joined.neg_log10_p, &r.neg_log10_p},
                            {&joined.beta_full, &r.beta_full}})
      dst->insert(dst->end(), src->begin(), src->end());
    joined.n_singular += r.n_singular;
  }
  expect_identical(whole, joined, "chunks 0-5, 5-6, 6-13");
}

}  // namespace
}  // namespace gsmap::ldsc
