// simulate() end to end: files, determinism, and what Python's anndata/pandas see in them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gsmap/core/error.hpp"
#include "gsmap/sim/simulate.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using gsmap::sim::SimulateOptions;

namespace {

SimulateOptions tiny(const fs::path& out, std::uint64_t seed) {
  SimulateOptions o;
  o.out_dir = out.string();
  o.seed = seed;
  o.n_cells = 600;
  o.n_genes = 200;
  o.n_snps = 3000;
  o.n_slices = 2;
  return o;
}

// relative path -> file contents, for every regular file under `root`.
std::map<std::string, std::string> read_tree(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    files[fs::relative(e.path(), root).string()] = ss.str();
  }
  return files;
}

}  // namespace

TEST(SimSimulate, SameSeedGivesIdenticalBytesOtherSeedDiffers) {
  gsmap::test::TempDir tmp("sim_determinism");
  gsmap::sim::simulate(tiny(tmp.path() / "a", 3));
  gsmap::sim::simulate(tiny(tmp.path() / "b", 3));
  gsmap::sim::simulate(tiny(tmp.path() / "c", 4));
  const auto a = read_tree(tmp.path() / "a");
  const auto b = read_tree(tmp.path() / "b");
  const auto c = read_tree(tmp.path() / "c");
  // 2 slices + samples.yaml, weights, 22 w_ld, 2 sumstats + yaml, manifest.
  ASSERT_EQ(a.size(), 30u);
  for (const auto& name : {"manifest.json", "st/samples.yaml", "st/slice00.h5ad", "st/slice01.h5ad",
                           "weights/snp_gene_weights.h5ad", "w_ld/weights.1.l2.ldscore.gz",
                           "w_ld/weights.22.l2.ldscore.gz", "gwas/sumstats.yaml",
                           "gwas/planted_T1.sumstats.gz", "gwas/null_trait.sumstats.gz"}) {
    EXPECT_TRUE(a.count(name)) << name;
  }
  ASSERT_EQ(b.size(), a.size());
  for (const auto& [name, bytes] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(b.at(name) == bytes) << name << " differs between two runs with the same seed";
  }
  ASSERT_EQ(c.size(), a.size());
  for (const auto& [name, bytes] : a) {
    if (name.ends_with(".yaml")) continue;  // lists of names only
    EXPECT_FALSE(c.at(name) == bytes) << name << " is the same for seeds 3 and 4";
  }
}

TEST(SimSimulate, PythonReadsEveryFileWithTheFixtureLayout) {
  gsmap::test::TempDir tmp("sim_python");
  const fs::path out = tmp.path() / "data";
  gsmap::sim::simulate(tiny(out, 7));
  const std::string script = R"PY(
import json, os, sys, gzip
import numpy as np, pandas as pd, yaml, anndata as ad, h5py
root = sys.argv[1] if len(sys.argv) > 1 else ROOT
m = json.load(open(os.path.join(root, 'manifest.json')))
assert m['dataset_type'] == 'spatial3D'
samples = yaml.safe_load(open(os.path.join(root, 'st/samples.yaml')))
assert list(samples) == ['slice00', 'slice01'] == list(m['samples']), samples
genes = None
for name, rel in samples.items():
    path = os.path.join(root, 'st', rel)
    a = ad.read_h5ad(path)
    assert a.shape == (600, 200), a.shape
    assert a.obs_names.is_unique
    assert str(a.obs['annotation'].dtype) == 'category'
    assert str(a.obs['domain'].dtype) == 'category'
    assert a.obs['High_quality'].dtype == bool
    assert list(a.obs['section'].cat.categories) == [name]
    assert list(a.obs['annotation'].cat.categories) == ['T0','T1','T2','T3','T4','T5'], a.obs['annotation'].cat.categories
    assert a.obs['annotation'].isna().sum() == 0
    counts = a.obs['annotation'].value_counts()
    assert counts.min() >= 42, counts
    assert 0.9 < a.obs['High_quality'].mean() < 1.0
    assert a.obsm['spatial'].dtype == np.float64 and a.obsm['spatial'].shape == (600, 2)
    assert a.obsm['emb_cell'].dtype == np.float32 and a.obsm['emb_cell'].shape == (600, 32)
    assert a.obsm['emb_niche'].dtype == np.float32 and a.obsm['emb_niche'].shape == (600, 16)
    import scipy.sparse as sp
    assert sp.isspmatrix_csr(a.X) and a.X.dtype == np.float32
    assert np.all(a.X.data == np.round(a.X.data)) and a.X.data.min() >= 1
    assert a.X.has_sorted_indices
    assert np.diff(a.X.indptr).min() >= 20
    if genes is None: genes = list(a.var_names)
    assert list(a.var_names) == genes
    with h5py.File(path, 'r') as f:
        assert f['X'].attrs['encoding-type'] == 'csr_matrix'
        assert f['obs/annotation'].attrs['encoding-type'] == 'categorical'
assert genes[:2] == ['GENE00000', 'GENE00001']
w = ad.read_h5ad(os.path.join(root, m['snp_gene_weight_adata_path']))
assert w.var_names[-1] == 'Unmapped'
assert w.obs['CHR'].dtype == np.int64 and w.obs['BP'].dtype == np.int64
assert w.X.dtype == np.float32
o = w.obs
assert (np.diff(o['CHR'].values) >= 0).all()
same = o['CHR'].values[1:] == o['CHR'].values[:-1]
assert (np.diff(o['BP'].values)[same] > 0).all()
assert sorted(o['CHR'].unique()) == list(range(1, 23))
nnz = np.diff(w.X.indptr)
print('NNZ_PER_SNP', nnz.mean())
assert nnz.mean() >= 3
assert set(m['truth']['planted_genes']) <= set(w.var_names)
assert m['truth']['planted_genes'] == m['truth']['type_markers']['T1']
assert m['weight_matrix']['nnz'] == w.X.nnz and m['weight_matrix']['n_snps'] == 3000
ss = yaml.safe_load(open(os.path.join(root, 'gwas/sumstats.yaml')))
assert list(ss) == ['planted_T1', 'null_trait'] == list(m['sumstats'])
for trait, rel in ss.items():
    df = pd.read_csv(os.path.join(root, 'gwas', rel), sep='\t')
    assert list(df.columns) == ['SNP', 'A1', 'A2', 'Z', 'N'], df.columns
    assert len(df) == 3000 and df['Z'].dtype == np.float64 and df['N'].dtype == np.int64
    assert set(df['SNP']) == set(w.obs_names)
    assert df['N'].between(90000, 100000).all()
    print('MEAN_CHI2', trait, (df['Z'] ** 2).mean())
wld = pd.concat([pd.read_csv(os.path.join(root, 'w_ld', f'weights.{c}.l2.ldscore.gz'), sep='\t') for c in range(1, 23)])
assert list(wld.columns) == ['CHR', 'SNP', 'BP', 'CM', 'L2']
assert list(wld['SNP']) == list(w.obs_names)
assert np.allclose(wld['CM'].values, wld['BP'].values / 1e6)
assert (wld['L2'] > 0).all()
print('ALL_OK')
)PY";
  const std::string out_py =
      gsmap::test::run_python("ROOT = " + std::string("'") + out.string() + "'\n" + script);
  EXPECT_NE(out_py.find("ALL_OK"), std::string::npos) << out_py;
  const auto pos = out_py.find("NNZ_PER_SNP ");
  ASSERT_NE(pos, std::string::npos);
  const double nnz = std::stod(out_py.substr(pos + 12));
  EXPECT_GE(nnz, 4.0);  // ~5.6 gene columns + Unmapped
  EXPECT_LE(nnz, 10.0);
}

TEST(SimSimulate, AnndataCanSubsetTheCounts) {
  // What every scanpy user does first. anndata 0.8 keeps the stored index dtypes; scipy's row
  // indexing then needs indptr and indices of one dtype (anndata/scipy write both int32 below
  // 2^31 entries), else "Output dtype not compatible with inputs".
  gsmap::test::TempDir tmp("sim_subset");
  auto o = tiny(tmp.path() / "data", 2);
  o.n_slices = 1;
  gsmap::sim::simulate(o);
  const std::string out_py = gsmap::test::run_python("ROOT = '" + o.out_dir + R"PY('
import os, h5py, anndata as ad
for rel in ['st/sample0.h5ad', 'weights/snp_gene_weights.h5ad']:
    with h5py.File(os.path.join(ROOT, rel), 'r') as f:
        print(rel, 'indptr', f['X/indptr'].dtype, 'indices', f['X/indices'].dtype)
a = ad.read_h5ad(os.path.join(ROOT, 'st/sample0.h5ad'))
t1 = a[a.obs['annotation'] == 'T1'].copy()
print('T1_CELLS', t1.n_obs, 'T1_NNZ', t1.X.nnz)
)PY");
  EXPECT_NE(out_py.find("T1_CELLS "), std::string::npos) << out_py;
}

TEST(SimSimulate, EdgeCasesArePlantedWhenAsked) {
  gsmap::test::TempDir tmp("sim_edge");
  auto o = tiny(tmp.path() / "data", 9);
  o.n_slices = 1;
  o.edge_cases = true;
  gsmap::sim::simulate(o);
  const std::string out_py = gsmap::test::run_python("ROOT = '" + o.out_dir + R"PY('
import os, anndata as ad, pandas as pd, numpy as np, warnings
warnings.simplefilter('ignore')
a = ad.read_h5ad(os.path.join(ROOT, 'st/sample0.h5ad'))
print('CATS', ','.join(a.obs['annotation'].cat.categories))
print('NAN', int(a.obs['annotation'].isna().sum()))
print('RARE', int((a.obs['annotation'] == 'Rare').sum()))
print('DUPNAMES', int(a.obs_names.duplicated().sum()))
print('LOWGENES', int((np.diff(a.X.indptr) < 20).sum()))
df = pd.read_csv(os.path.join(ROOT, 'gwas/planted_T1.sumstats.gz'), sep='\t', na_values=['.'])
print('NA_Z', int(df['Z'].isna().sum()), 'DUP', int(df['SNP'].duplicated().sum()), 'OUTLIERS', int((df['Z'] ** 2 > 100).sum()))
w = pd.read_csv(os.path.join(ROOT, 'w_ld/weights.22.l2.ldscore.gz'), sep='\t')
print('WLDONLY', int(w['SNP'].str.startswith('rsWLDONLY').sum()))
)PY");
  EXPECT_NE(out_py.find("CATS Rare,T0,T1,T2,T3,T4,T5"), std::string::npos) << out_py;
  EXPECT_NE(out_py.find("NAN 3"), std::string::npos) << out_py;  // 600 / 200
  EXPECT_NE(out_py.find("RARE "), std::string::npos) << out_py;
  EXPECT_NE(out_py.find("DUPNAMES 1"), std::string::npos) << out_py;
  EXPECT_NE(out_py.find("LOWGENES 6"), std::string::npos) << out_py;  // 600 / 100
  EXPECT_NE(out_py.find("WLDONLY 20"), std::string::npos) << out_py;
  // 5 missing Z, 5 duplicated SNPs, >= 3 chi-square values above chisq_max (3 planted).
  EXPECT_NE(out_py.find("NA_Z 5 DUP 5 OUTLIERS "), std::string::npos) << out_py;
  const auto pos = out_py.find("OUTLIERS ");
  ASSERT_NE(pos, std::string::npos);
  EXPECT_GE(std::stoi(out_py.substr(pos + 9)), 3);
}

TEST(SimSimulate, RefusesANonEmptyOutputDirectoryUnlessOverwriting) {
  gsmap::test::TempDir tmp("sim_nonempty");
  { std::ofstream(tmp.path() / "keep.txt") << "user data"; }
  auto o = tiny(tmp.path(), 1);
  o.n_slices = 1;
  try {
    gsmap::sim::simulate(o);
    FAIL() << "expected UsageError";
  } catch (const gsmap::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("not empty"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "manifest.json"));
  o.overwrite = true;
  gsmap::sim::simulate(o);
  EXPECT_TRUE(fs::exists(tmp.path() / "manifest.json"));
  EXPECT_TRUE(fs::exists(tmp.path() / "keep.txt"));
}
