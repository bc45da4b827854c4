// simulate's benchmark options (--weight-nnz-per-snp, --shuffle-cells) and the promise that their
// defaults leave the generated data unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>

#include "gsmap/core/error.hpp"
#include "gsmap/sim/model.hpp"
#include "gsmap/sim/simulate.hpp"
#include "test_support.hpp"

using namespace gsmap::sim;
namespace fs = std::filesystem;

namespace {

SimulateOptions small_options() {
  SimulateOptions o;
  o.out_dir = "unused";
  o.seed = 5;
  o.n_cells = 1200;
  o.n_genes = 400;
  o.n_snps = 6000;
  return o;
}

double nnz_per_snp(const gsmap::io::CsrRows& w) {
  return static_cast<double>(w.indices.size()) / static_cast<double>(w.n_rows());
}

// FNV-1a over raw bytes: a fingerprint of the generated arrays.
struct Fingerprint {
  std::uint64_t h = 1469598103934665603ull;
  void bytes(const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) {
      h ^= c[i];
      h *= 1099511628211ull;
    }
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    bytes(v.data(), v.size() * sizeof(T));
  }
  void strings(const std::vector<std::string>& v) {
    for (const auto& s : v) bytes(s.c_str(), s.size() + 1);
  }
};

// Everything the generator draws for `o`, in memory (the files are these arrays, written).
std::uint64_t fingerprint_of(const SimulateOptions& o) {
  Fingerprint f;
  const auto design = make_gene_design(o);
  const auto layout = make_tissue_layout(o, design);
  for (int slice = 0; slice < o.n_slices; ++slice) {
    auto s = simulate_slice(o, design, layout, slice);
    if (o.shuffle_cells) shuffle_cells(o, slice, s);
    f.strings(s.obs_names);
    f.vec(s.xy);
    f.vec(s.label);
    f.vec(s.domain);
    f.vec(s.high_quality);
    f.vec(s.counts.indptr);
    f.vec(s.counts.indices);
    f.vec(s.counts.data);
    f.vec(s.emb_cell);
    f.vec(s.emb_niche);
  }
  const auto genome = make_genome(o, design);
  const auto w = make_weight_matrix(o, genome, design);
  f.strings(genome.snp_id);
  f.vec(genome.bp);
  f.vec(w.indptr);
  f.vec(w.indices);
  f.vec(w.data);
  for (int chr = 1; chr <= 22; ++chr) f.strings({ld_weight_table(o, genome, chr)});
  f.strings({simulate_trait(o, genome, w, design, "planted_T1", o.h2_planted, 0).sumstats_text});
  return f.h;
}

}  // namespace

// The generator's output for default benchmark settings, pinned. The values were computed by this
// test at the commit that added the options; bench/compare.sh shows that `simulate` at these
// settings writes the same bytes as the version before them (fa8f2b7): the demo set (seed 1,
// defaults) and a 2-slice stack with edge cases (seed 3).
TEST(SimBenchOptions, DefaultsReproduceTheEarlierGenerator) {
  SimulateOptions demo;
  demo.out_dir = "unused";
  demo.seed = 1;
  SimulateOptions stack = demo;
  stack.seed = 3;
  stack.n_cells = 1500;
  stack.n_genes = 600;
  stack.n_snps = 30000;
  stack.n_slices = 2;
  stack.edge_cases = true;
  EXPECT_EQ(fingerprint_of(demo), 13703473120496109056ull) << "demo";
  EXPECT_EQ(fingerprint_of(stack), 2695786154422950423ull) << "stack";
  // weight_nnz_per_snp = 0 means a window scale of exactly 1 (the old windows, bit for bit).
  const auto d = make_gene_design(demo);
  EXPECT_EQ(weight_window_scale(demo, make_genome(demo, d)), 1.0);
}

TEST(SimBenchOptions, WeightDensityIsTheRequestedOne) {
  auto o = small_options();
  const auto d = make_gene_design(o);
  const auto g = make_genome(o, d);
  const auto w_default = make_weight_matrix(o, g, d);
  // The expectation model agrees with the default matrix.
  EXPECT_NEAR(expected_weight_nnz_per_snp(g, 1.0), nnz_per_snp(w_default), 0.05);
  for (double target : {3.0, 13.0, 20.0}) {
    o.weight_nnz_per_snp = target;
    const double scale = weight_window_scale(o, g);
    EXPECT_NEAR(expected_weight_nnz_per_snp(g, scale), target, 1e-3 * target) << target;
    const auto w = make_weight_matrix(o, g, d);
    EXPECT_NEAR(nnz_per_snp(w), target, 0.03 * target) << "scale " << scale;
    // Rows stay valid: columns ascending, Unmapped last, row sum ~ 20 x LD score.
    std::vector<double> ratio;
    for (std::int64_t s = 0; s < w.n_rows(); ++s) {
      const auto b = w.indptr[static_cast<std::size_t>(s)];
      const auto e = w.indptr[static_cast<std::size_t>(s) + 1];
      ASSERT_EQ(w.indices[static_cast<std::size_t>(e - 1)], w.n_cols - 1);
      double sum = 0;
      for (auto k = b; k < e; ++k) {
        if (k > b) {
          ASSERT_LT(w.indices[static_cast<std::size_t>(k - 1)],
                    w.indices[static_cast<std::size_t>(k)]);
        }
        sum += w.data[static_cast<std::size_t>(k)];
      }
      ratio.push_back(sum / g.ld_score[static_cast<std::size_t>(s)]);
    }
    std::sort(ratio.begin(), ratio.end());
    EXPECT_NEAR(ratio[ratio.size() / 2], 20.0, 2.0) << target;
  }
}

TEST(SimBenchOptions, WeightDensityOptionIsChecked) {
  auto o = small_options();
  o.weight_nnz_per_snp = 1.0;
  EXPECT_THROW(validate(o), gsmap::UsageError);
  o.weight_nnz_per_snp = 250;
  EXPECT_THROW(validate(o), gsmap::UsageError);
  o.weight_nnz_per_snp = 13;
  EXPECT_NO_THROW(validate(o));
  // 416 weight genes over 22 chromosomes cannot give 150 genes per SNP.
  o.weight_nnz_per_snp = 150;
  const auto d = make_gene_design(o);
  const auto g = make_genome(o, d);
  try {
    weight_window_scale(o, g);
    FAIL() << "expected UsageError";
  } catch (const gsmap::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--weight-nnz-per-snp 150"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--n-genes"), std::string::npos) << e.what();
  }
}

TEST(SimBenchOptions, ShuffledCellsAreAPermutationWithTheSameData) {
  auto o = small_options();
  o.edge_cases = true;  // duplicated names and missing labels travel with their cells too
  const auto d = make_gene_design(o);
  const auto layout = make_tissue_layout(o, d);
  const auto s = simulate_slice(o, d, layout, 0);
  auto t = s;
  const auto order = shuffle_cells(o, 0, t);
  const std::size_t n = s.obs_names.size();
  ASSERT_EQ(order.size(), n);
  auto sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(sorted[i], static_cast<std::int64_t>(i));
  std::size_t fixed = 0;
  for (std::size_t i = 0; i < n; ++i) fixed += order[i] == static_cast<std::int64_t>(i);
  EXPECT_LT(fixed, 10u);  // a random permutation has about one fixed point
  ASSERT_EQ(t.counts.n_rows(), s.counts.n_rows());
  ASSERT_EQ(t.counts.indices.size(), s.counts.indices.size());
  const auto E = static_cast<std::size_t>(o.emb_dim), N = static_cast<std::size_t>(o.niche_dim);
  for (std::size_t i = 0; i < n; ++i) {
    const auto j = static_cast<std::size_t>(order[i]);
    ASSERT_EQ(t.obs_names[i], s.obs_names[j]);
    ASSERT_EQ(t.xy[2 * i], s.xy[2 * j]);
    ASSERT_EQ(t.xy[2 * i + 1], s.xy[2 * j + 1]);
    ASSERT_EQ(t.label[i], s.label[j]);
    ASSERT_EQ(t.true_type[i], s.true_type[j]);
    ASSERT_EQ(t.domain[i], s.domain[j]);
    ASSERT_EQ(t.high_quality[i], s.high_quality[j]);
    ASSERT_TRUE(std::equal(t.emb_cell.begin() + static_cast<std::ptrdiff_t>(i * E),
                           t.emb_cell.begin() + static_cast<std::ptrdiff_t>((i + 1) * E),
                           s.emb_cell.begin() + static_cast<std::ptrdiff_t>(j * E)));
    ASSERT_TRUE(std::equal(t.emb_niche.begin() + static_cast<std::ptrdiff_t>(i * N),
                           t.emb_niche.begin() + static_cast<std::ptrdiff_t>((i + 1) * N),
                           s.emb_niche.begin() + static_cast<std::ptrdiff_t>(j * N)));
    const auto tb = t.counts.indptr[i], te = t.counts.indptr[i + 1];
    const auto sb = s.counts.indptr[j], se = s.counts.indptr[j + 1];
    ASSERT_EQ(te - tb, se - sb) << "cell " << s.obs_names[j];
    for (std::int64_t k = 0; k < te - tb; ++k) {
      ASSERT_EQ(t.counts.indices[static_cast<std::size_t>(tb + k)],
                s.counts.indices[static_cast<std::size_t>(sb + k)]);
      ASSERT_EQ(t.counts.data[static_cast<std::size_t>(tb + k)],
                s.counts.data[static_cast<std::size_t>(sb + k)]);
    }
  }
  // Deterministic by seed and slice.
  auto again = s;
  EXPECT_EQ(shuffle_cells(o, 0, again), order);
  auto other_slice = s;
  EXPECT_NE(shuffle_cells(o, 1, other_slice), order);
  auto other_seed = s;
  o.seed = 6;
  EXPECT_NE(shuffle_cells(o, 0, other_seed), order);
}

TEST(SimBenchOptions, ShuffledDataSetHasTheSameCellsAndOtherFiles) {
  gsmap::test::TempDir tmp("sim_shuffle");
  auto o = small_options();
  o.n_cells = 600;
  o.n_genes = 200;
  o.n_snps = 3000;
  o.out_dir = (tmp.path() / "plain").string();
  simulate(o);
  o.out_dir = (tmp.path() / "shuffled").string();
  o.shuffle_cells = true;
  simulate(o);
  auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  // Only the slice and the manifest change.
  EXPECT_EQ(read(tmp.path() / "plain/weights/snp_gene_weights.h5ad"),
            read(tmp.path() / "shuffled/weights/snp_gene_weights.h5ad"));
  EXPECT_EQ(read(tmp.path() / "plain/gwas/planted_T1.sumstats.gz"),
            read(tmp.path() / "shuffled/gwas/planted_T1.sumstats.gz"));
  EXPECT_NE(read(tmp.path() / "shuffled/manifest.json").find("\"shuffle_cells\": true"),
            std::string::npos);
  EXPECT_EQ(read(tmp.path() / "plain/manifest.json").find("shuffle_cells"), std::string::npos);
  const std::string out = gsmap::test::run_python("ROOT = '" + tmp.path().string() + R"PY('
import os, numpy as np, anndata as ad
a = ad.read_h5ad(os.path.join(ROOT, 'plain/st/sample0.h5ad'))
b = ad.read_h5ad(os.path.join(ROOT, 'shuffled/st/sample0.h5ad'))
assert a.shape == b.shape and a.obs_names.is_unique
assert list(a.obs_names) != list(b.obs_names)
b = b[a.obs_names]
assert (a.obs.astype(str) == b.obs.astype(str)).all().all()
for k in ['spatial', 'emb_cell', 'emb_niche']:
    assert np.array_equal(a.obsm[k], b.obsm[k]), k
assert (a.X != b.X).nnz == 0
print('SAME_CELLS', a.n_obs)
)PY");
  EXPECT_NE(out.find("SAME_CELLS 600"), std::string::npos) << out;
}
