// The generative model in memory (no files): the properties the pipeline and the planted truth
// rely on.
#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "gsmap/core/error.hpp"
#include "gsmap/sim/model.hpp"

using namespace gsmap::sim;

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

double cosine(const float* a, const float* b, int dim) {
  double ab = 0, aa = 0, bb = 0;
  for (int j = 0; j < dim; ++j) {
    ab += double(a[j]) * b[j];
    aa += double(a[j]) * a[j];
    bb += double(b[j]) * b[j];
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace

TEST(SimModel, ValidateRejectsUnusableSettings) {
  auto o = small_options();
  EXPECT_NO_THROW(validate(o));
  o.n_cells = 400;  // < 6 types x 21 neighbours x 4
  try {
    validate(o);
    FAIL() << "expected UsageError";
  } catch (const gsmap::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--n-cells 400"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(">= 504"), std::string::npos) << e.what();
  }
  o = small_options();
  o.n_genes = 100;
  o.markers_per_type = 20;  // 6 x 20 + 4 x 10 markers > half of 100 genes
  EXPECT_THROW(validate(o), gsmap::UsageError);
  o = small_options();
  o.n_snps = 1000;
  EXPECT_THROW(validate(o), gsmap::UsageError);
  o = small_options();
  o.planted_type = 6;
  EXPECT_THROW(validate(o), gsmap::UsageError);
  o = small_options();
  o.out_dir.clear();
  EXPECT_THROW(validate(o), gsmap::UsageError);
}

TEST(SimModel, GeneDesignHasDisjointMarkersAllInTheWeightMatrix) {
  const auto o = small_options();
  const auto d = make_gene_design(o);
  ASSERT_EQ(d.st_genes.size(), 400u);
  EXPECT_EQ(d.st_genes[7], "GENE00007");
  EXPECT_EQ(resolved_markers_per_type(o), 16);  // 400 / 25
  std::set<std::int32_t> seen;
  for (const auto& m : d.type_markers) {
    EXPECT_EQ(m.size(), 16u);
    for (auto g : m) EXPECT_TRUE(seen.insert(g).second) << "marker in two sets: " << g;
  }
  for (const auto& m : d.domain_genes) {
    EXPECT_EQ(m.size(), 8u);
    for (auto g : m) EXPECT_TRUE(seen.insert(g).second) << g;
  }
  std::set<std::string> wnames(d.weight_genes.begin(), d.weight_genes.end());
  EXPECT_EQ(wnames.size(), d.weight_genes.size());
  for (auto g : seen) EXPECT_TRUE(wnames.count(d.st_genes[static_cast<std::size_t>(g)])) << g;
  // 9% of the 400 - 6*16 - 4*8 = 272 ordinary genes are missing, 40 weight-only genes added.
  EXPECT_EQ(d.n_st_genes_in_weights, 400 - 24);
  EXPECT_EQ(d.weight_genes.size(), static_cast<std::size_t>(400 - 24 + 40));
}

TEST(SimModel, GenomeIsSortedWithUniqueIds) {
  const auto o = small_options();
  const auto d = make_gene_design(o);
  const auto g = make_genome(o, d);
  ASSERT_EQ(g.bp.size(), 6000u);
  std::map<int, int> per_chr;
  for (std::size_t s = 0; s < g.bp.size(); ++s) {
    ++per_chr[g.chr[s]];
    if (s > 0) {
      ASSERT_TRUE(g.chr[s - 1] < g.chr[s] || (g.chr[s - 1] == g.chr[s] && g.bp[s - 1] < g.bp[s]))
          << s;
    }
    ASSERT_LE(g.bp[s], g.chr_length[static_cast<std::size_t>(g.chr[s] - 1)]);
  }
  ASSERT_EQ(per_chr.size(), 22u);
  // SNP counts: 10 per chromosome, the other 5780 by GRCh37 length (chr1 8.651%, chr21 1.671%).
  EXPECT_NEAR(per_chr[1], 10 + 5780 * 0.08651, 1.0);
  EXPECT_NEAR(per_chr[21], 10 + 5780 * 0.01671, 1.0);
  std::set<std::string> ids(g.snp_id.begin(), g.snp_id.end());
  EXPECT_EQ(ids.size(), g.snp_id.size());
  std::vector<double> l2 = g.ld_score;
  std::sort(l2.begin(), l2.end());
  EXPECT_NEAR(l2[l2.size() / 2], 6.3, 0.8);  // median LD score
  EXPECT_GT(l2.front(), 0.3);
}

TEST(SimModel, WeightMatrixHasRealisticRows) {
  const auto o = small_options();
  const auto d = make_gene_design(o);
  const auto g = make_genome(o, d);
  const auto w = make_weight_matrix(o, g, d);
  const auto n_genes = static_cast<std::int32_t>(d.weight_genes.size());
  ASSERT_EQ(w.n_rows(), 6000);
  ASSERT_EQ(w.n_cols, n_genes + 1);
  std::int64_t gene_nnz = 0, negative = 0;
  std::vector<double> ratio;
  for (std::int64_t s = 0; s < w.n_rows(); ++s) {
    const auto b = w.indptr[static_cast<std::size_t>(s)],
               e = w.indptr[static_cast<std::size_t>(s) + 1];
    ASSERT_GT(e, b);
    ASSERT_EQ(w.indices[static_cast<std::size_t>(e - 1)], n_genes)
        << "Unmapped must close row " << s;
    double sum = 0;
    for (auto k = b; k < e; ++k) {
      if (k > b) {
        ASSERT_LT(w.indices[static_cast<std::size_t>(k - 1)],
                  w.indices[static_cast<std::size_t>(k)]);
      }
      sum += w.data[static_cast<std::size_t>(k)];
      negative += w.data[static_cast<std::size_t>(k)] < 0;
    }
    gene_nnz += e - b - 1;
    ratio.push_back(sum / g.ld_score[static_cast<std::size_t>(s)]);
  }
  const double per_snp = static_cast<double>(gene_nnz) / 6000.0;
  EXPECT_GE(per_snp, 3.0);  // gene columns alone
  EXPECT_LE(per_snp, 9.0);
  EXPECT_LT(static_cast<double>(negative) / static_cast<double>(w.data.size()), 0.1);
  std::sort(ratio.begin(), ratio.end());
  EXPECT_NEAR(ratio[ratio.size() / 2], 20.0, 2.0);  // row sum ~ 20 x L2, as in the fixtures
}

TEST(SimModel, SliceLaysOutDomainsTypesAndEmbeddings) {
  const auto o = small_options();
  const auto d = make_gene_design(o);
  const auto layout = make_tissue_layout(o, d);
  const auto s = simulate_slice(o, d, layout, 0);
  const std::size_t n = 1200;
  ASSERT_EQ(s.obs_names.size(), n);
  ASSERT_EQ(s.counts.n_rows(), 1200);
  std::vector<int> per_type(6, 0), per_domain(4, 0), home(4, 0);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_GE(s.xy[2 * i], 0.0);
    ASSERT_LT(s.xy[2 * i], layout.side);
    ASSERT_EQ(s.label[i], s.true_type[i]);  // no NaN labels by default
    ++per_type[static_cast<std::size_t>(s.true_type[i])];
    ++per_domain[static_cast<std::size_t>(s.domain[i])];
    home[static_cast<std::size_t>(s.domain[i])] += s.true_type[i] % 4 == s.domain[i];
  }
  for (int c : per_type) EXPECT_GE(c, 100);
  for (int k = 0; k < 4; ++k) {
    EXPECT_GT(per_domain[static_cast<std::size_t>(k)], 200);  // four bands of ~300 cells
    EXPECT_GT(double(home[static_cast<std::size_t>(k)]) / per_domain[static_cast<std::size_t>(k)],
              0.8);
  }
  // Domains are spatial bands: the mean y of the domains increases.
  std::vector<double> ysum(4, 0);
  for (std::size_t i = 0; i < n; ++i)
    ysum[static_cast<std::size_t>(s.domain[i])] += s.xy[2 * i + 1];
  for (int k = 1; k < 4; ++k) {
    EXPECT_GT(ysum[static_cast<std::size_t>(k)] / per_domain[static_cast<std::size_t>(k)],
              ysum[static_cast<std::size_t>(k - 1)] / per_domain[static_cast<std::size_t>(k - 1)]);
  }
  // T1 markers: >= 5x higher counts in T1 cells than elsewhere.
  std::vector<std::uint8_t> is_marker(400, 0);
  for (auto g : d.type_markers[1]) is_marker[static_cast<std::size_t>(g)] = 1;
  double in_t1 = 0, elsewhere = 0;
  int n_t1 = 0;
  std::int64_t min_detected = 1 << 30;
  for (std::size_t i = 0; i < n; ++i) {
    double m = 0;
    for (auto k = s.counts.indptr[i]; k < s.counts.indptr[i + 1]; ++k) {
      ASSERT_EQ(s.counts.data[static_cast<std::size_t>(k)],
                std::round(s.counts.data[static_cast<std::size_t>(k)]));
      if (is_marker[static_cast<std::size_t>(s.counts.indices[static_cast<std::size_t>(k)])])
        m += s.counts.data[static_cast<std::size_t>(k)];
    }
    min_detected = std::min(min_detected, s.counts.indptr[i + 1] - s.counts.indptr[i]);
    if (s.true_type[i] == 1) {
      in_t1 += m;
      ++n_t1;
    } else {
      elsewhere += m;
    }
  }
  EXPECT_GT((in_t1 / n_t1) / (elsewhere / double(n - n_t1)), 5.0);
  EXPECT_GE(min_detected, 20);  // every cell passes gsMap's 20-gene filter
  // Embeddings cluster by type (cell) and by domain (niche).
  double same = 0, diff = 0;
  int n_same = 0, n_diff = 0;
  for (std::size_t i = 0; i < 300; ++i) {
    for (std::size_t j = i + 1; j < 300; ++j) {
      const double c = cosine(&s.emb_cell[i * 32], &s.emb_cell[j * 32], 32);
      if (s.true_type[i] == s.true_type[j]) {
        same += c;
        ++n_same;
      } else {
        diff += c;
        ++n_diff;
      }
    }
  }
  EXPECT_GT(same / n_same, 0.7);
  EXPECT_LT(diff / n_diff, 0.25);
  int niche_pass_same = 0, pairs_same = 0, niche_pass_diff = 0, pairs_diff = 0;
  for (std::size_t i = 0; i < 300; ++i) {
    for (std::size_t j = i + 1; j < 300; ++j) {
      const bool pass = cosine(&s.emb_niche[i * 16], &s.emb_niche[j * 16], 16) >= 0.6;
      if (s.domain[i] == s.domain[j]) {
        niche_pass_same += pass;
        ++pairs_same;
      } else {
        niche_pass_diff += pass;
        ++pairs_diff;
      }
    }
  }
  EXPECT_GT(double(niche_pass_same) / pairs_same, 0.9);  // gsMap's niche threshold 0.6
  EXPECT_LT(double(niche_pass_diff) / pairs_diff, 0.1);
}

TEST(SimModel, CountsDoNotDependOnTheThreadCount) {
  const auto o = small_options();
  const auto d = make_gene_design(o);
  const auto layout = make_tissue_layout(o, d);
  const auto parallel = simulate_slice(o, d, layout, 0);
  tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
  const auto serial = simulate_slice(o, d, layout, 0);
  EXPECT_EQ(parallel.counts.indptr, serial.counts.indptr);
  EXPECT_EQ(parallel.counts.indices, serial.counts.indices);
  EXPECT_EQ(parallel.counts.data, serial.counts.data);
}

TEST(SimModel, SlicesOfAStackShareTheirDomainLayout) {
  auto o = small_options();
  o.n_slices = 4;
  const auto d = make_gene_design(o);
  const auto layout = make_tissue_layout(o, d);
  // Adjacent sections agree on most of the tissue; the first and last differ more.
  auto agreement = [&](int a, int b) {
    int same = 0, total = 0;
    for (double x = 0; x < layout.side; x += layout.side / 60) {
      for (double y = 0; y < layout.side; y += layout.side / 60) {
        same += layout.domain_at(x, y, a) == layout.domain_at(x, y, b);
        ++total;
      }
    }
    return double(same) / total;
  };
  EXPECT_GT(agreement(0, 1), 0.9);
  EXPECT_GT(agreement(2, 3), 0.9);
  EXPECT_LT(agreement(0, 3), 1.0);
  EXPECT_EQ(sample_name(o, 2), "slice02");
  o.n_slices = 1;
  EXPECT_EQ(sample_name(o, 0), "sample0");
}

TEST(SimModel, PlantedTraitIsEnrichedAtMarkerSnpsAndNullIsNot) {
  auto o = small_options();
  o.n_snps = 20000;
  const auto d = make_gene_design(o);
  const auto g = make_genome(o, d);
  const auto w = make_weight_matrix(o, g, d);
  const auto planted = simulate_trait(o, g, w, d, "planted_T1", o.h2_planted, 0);
  const auto null = simulate_trait(o, g, w, d, "null_trait", 0.0, 1);
  // Mean chi2 = 1 + h2_base + h2_planted at N = gwas_n (per-SNP N is 0.9-1 x gwas_n).
  EXPECT_NEAR(planted.stats.mean_expected_chi2, 1.8, 1e-9);
  EXPECT_NEAR(null.stats.mean_expected_chi2, 1.4, 1e-9);
  EXPECT_NEAR(planted.stats.mean_observed_chi2, 1.8 * 0.95 + 0.05, 0.08);
  EXPECT_NEAR(null.stats.mean_observed_chi2, 1.4 * 0.95 + 0.05, 0.05);
  ASSERT_GT(planted.stats.n_linked, 500);
  EXPECT_GT(planted.stats.mean_observed_chi2_linked,
            2.5 * planted.stats.mean_observed_chi2_unlinked);
  EXPECT_NEAR(null.stats.mean_observed_chi2_linked / null.stats.mean_observed_chi2_unlinked, 1.0,
              0.12);
  // Header and row layout of the sumstats text.
  EXPECT_EQ(planted.sumstats_text.substr(0, 14), "SNP\tA1\tA2\tZ\tN\n");
  EXPECT_EQ(std::count(planted.sumstats_text.begin(), planted.sumstats_text.end(), '\n'), 20001);
}
