#!/usr/bin/env bash
# Types kept and CSV by the rules (docs/formats.md "Types kept", "CSV"): the fx2d sample, given a
# cell named with a comma, a quote and a line break and obs columns of every kind (bool, ordered and
# unordered categoricals, int32, uint8, float32, nullable Int32), goes through the whole quick-mode
# on 2 ranks. Then anndata reads marker_scores.h5ad and the results h5ad with the input's dtypes,
# category order and values; pandas reads the trait csv.gz with the odd name identical to the h5ad
# obs name; the Cauchy step (which reads that csv.gz with our reader) still finds the planted type.
# Usage: types_csv_test.sh EXE FIXTURES_DIR SCRATCH
set -euo pipefail
exe=$1 fixtures=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch/work"
cp -r "$fixtures/fx2d/input" "$scratch/in"
/usr/bin/python3 - "$scratch/in/st/sample0.h5ad" <<'PY'
import sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, anndata as ad
path = sys.argv[1]
a = ad.read_h5ad(path)
n = a.n_obs
rng = np.random.default_rng(7)
names = a.obs_names.to_list()
names[5] = 'odd, "cell"\nname'          # comma, quotes, line break
names[6] = '"quoted"'
a.obs_names = names
a.obs["n_counts"] = rng.integers(-5, 2**31 - 1, n, dtype=np.int64).astype(np.int32)
a.obs["batch"] = rng.integers(0, 256, n).astype(np.uint8)
a.obs["depth"] = rng.normal(size=n).astype(np.float32)
a.obs["grade"] = pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"],
                                ordered=True)
a.obs["maybe"] = pd.array([None if i % 7 == 0 else int(i) for i in range(n)], dtype="Int32")
a.write_h5ad(path)
PY

mpirun -np 2 --oversubscribe "$exe" quick-mode --workdir "$scratch/work" --project-name p \
  --h5ad-yaml "$scratch/in/st/samples.yaml" --annotation annotation --cauchy-annotations domain \
  --latent-representation-cell emb_cell --latent-representation-niche emb_niche \
  --sumstats-config-file "$scratch/in/gwas/sumstats.yaml" \
  --snp-gene-weight-adata-path "$scratch/in/weights/snp_gene_weights.h5ad" \
  --w-ld-dir "$scratch/in/w_ld" --rank-read-workers 2 --mkscore-compute-workers 2 \
  --mkscore-write-workers 1 --ldsc-read-workers 1 --ldsc-compute-workers 2 --no-gpu \
  >"$scratch/run.log" 2>&1 || { tail -20 "$scratch/run.log"; exit 1; }

/usr/bin/python3 - "$scratch" <<'PY'
import sys, json, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, anndata as ad
s = sys.argv[1]
inp = ad.read_h5ad(f"{s}/in/st/sample0.h5ad")
inp.obs_names_make_unique()        # as gsmap-mpi names repeated cells (docs/formats.md)
inp.obs.index = [f"{c}|sample0" for c in inp.obs_names]
fail = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok: fail.append(what)

for f in ["latent_to_gene/marker_scores.h5ad", "spatial_ldsc/p_results.h5ad"]:
    out = ad.read_h5ad(f"{s}/work/p/{f}")
    kept = inp.obs.loc[out.obs_names]
    for c in inp.obs.columns:
        check(c in out.obs.columns and out.obs[c].dtype == inp.obs[c].dtype,
              f"{f}: obs/{c} dtype {inp.obs[c].dtype} (got {out.obs[c].dtype if c in out.obs else 'none'})")
        if c not in out.obs.columns:
            continue
        a, b = out.obs[c], kept[c]
        if isinstance(b.dtype, pd.CategoricalDtype):
            check(list(a.cat.categories) == list(b.cat.categories) and
                  a.cat.ordered == b.cat.ordered, f"{f}: obs/{c} categories {list(b.cat.categories)}")
        check(a.astype(object).where(a.notna(), None).tolist() ==
              b.astype(object).where(b.notna(), None).tolist(), f"{f}: obs/{c} values")
    hq = int(out.obs.High_quality.astype(bool).sum())
    check(hq == int(kept.High_quality.sum()) and hq < out.n_obs,
          f"{f}: High_quality.astype(bool).sum() = {hq} (kept cells {out.n_obs})")
    check('odd, "cell"\nname|sample0' in set(out.obs_names), f"{f}: the odd cell name")

res = ad.read_h5ad(f"{s}/work/p/spatial_ldsc/p_results.h5ad")
for t in ["planted_T1", "null_trait"]:
    df = pd.read_csv(f"{s}/work/p/spatial_ldsc/p_{t}.csv.gz", float_precision="round_trip")
    check(df.spot.tolist() == res.obs_names.tolist(), f"{t}.csv.gz: pandas reads the spot names back")
    check(np.array_equal(df.neg_log10_p.to_numpy(), np.asarray(res[:, t].X).ravel(), equal_nan=True),
          f"{t}.csv.gz: neg_log10_p equals the results h5ad's X")
cau = pd.read_csv(f"{s}/work/p/cauchy_combination/p_planted_T1.annotation.cauchy.csv")
top = cau.sort_values("p_cauchy").iloc[0]
check(top.annotation == "T1" and top.p_cauchy < 1e-6, f"Cauchy: top {top.annotation} {top.p_cauchy:.3g}")
kept_types = set(res.obs.annotation[res.obs.annotation.notna()].astype(str))
check(set(cau.annotation.astype(str)) == kept_types, f"Cauchy: one row per cell type {sorted(kept_types)}")
sys.exit(1 if fail else 0)
PY
