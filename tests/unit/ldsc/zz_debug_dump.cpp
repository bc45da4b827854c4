// TEMPORARY debug dump (to be removed).
#include <gtest/gtest.h>
#include <cstdio>
#include <fstream>
#include "gsmap/io/gwas.hpp"
#include "gsmap/io/weight_matrix.hpp"
#include "gsmap/ldsc/trait.hpp"
#include "gsmap/ldsc/spot_ld.hpp"
#include "test_support.hpp"
#include "gsmap/io/hdf5.hpp"
namespace gsmap::ldsc {
TEST(ZzDebug, Dump) {
  if (!std::getenv("LDSC_DUMP")) GTEST_SKIP();
  const auto dir = test::fixture("fx3d");
  std::vector<std::string> genes;
  { std::ifstream in(dir / "expected/mean_frac.csv"); std::string l; std::getline(in, l);
    while (std::getline(in, l)) genes.push_back(l.substr(0, l.find(','))); }
  const auto w = io::read_snp_gene_weights((dir / "input/weights/snp_gene_weights.h5ad").string());
  const auto ld = io::read_ld_weights((dir / "input/w_ld").string());
  auto c = build_common_resources(w, ld, {}, genes, {"w", "l", {}, "m"});
  auto ss = io::read_sumstats((dir / "input/gwas/null_trait.sumstats.gz").string());
  auto t = prepare_trait(c, ss, "null", {});
  auto dump = [](const char* f, const std::vector<double>& v) { std::ofstream(f, std::ios::binary).write((const char*)v.data(), v.size() * 8); };
  dump("/tmp/ldsc/d_chisq.f64", t.chisq); dump("/tmp/ldsc/d_n.f64", t.n); dump("/tmp/ldsc/d_a.f64", t.baseline_sum);
  dump("/tmp/ldsc/d_lt.f64", t.ld_term); dump("/tmp/ldsc/d_design.f64", t.design);
  std::vector<float> lw(ld.weight); std::ofstream("/tmp/ldsc/d_ldw.f32", std::ios::binary).write((const char*)lw.data(), lw.size()*4);
  {
    io::Hid f = io::open_file((dir / "expected/expected.h5").string(), io::Access::kRead);
    io::Hid d = io::open_dataset(f, "gss");
    std::vector<std::uint16_t> bits(2316 * 500);
    { io::H5Lock lock; io::Hid type(H5Dget_type(d)); H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bits.data()); }
    SpotLdPlan plan(c, {&t});
    SpotLd L; compute_spot_ld(c, plan, bits.data() + 2097 * 500, 1, L);
    std::ofstream("/tmp/ldsc/d_L2097.f32", std::ios::binary).write((const char*)L.values.data(), L.values.size()*4);
  }
  std::ofstream sn("/tmp/ldsc/d_ldsnp.txt"); for (auto& s : ld.snp) sn << s << "\n";
}
}
