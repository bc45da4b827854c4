#!/usr/bin/env bash
# The README demo: simulate, then mpirun -np 2 quick-mode; the planted cell type must be found
# (p_cauchy < 1e-6) and the null trait must have no type below 0.05 / number of types.
# The run's stderr is a pipe (as under any launcher or batch system): every long stage must have
# logged plain progress lines aggregated over both ranks (tests/integration/progress_check.py).
# Usage: demo_test.sh EXE SCRATCH
set -euo pipefail
exe=$1 scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch/work"
"$exe" simulate --out "$scratch/data" --seed 1
# Progress reductions every 50 ms, so that a run of seconds shows several readings per stage.
GSMAP_PROGRESS_INTERVAL=0.05 mpirun -np 2 --oversubscribe "$exe" quick-mode --workdir "$scratch/work" --project-name demo \
  --h5ad-yaml "$scratch/data/st/samples.yaml" --annotation annotation --cauchy-annotations domain \
  --latent-representation-cell emb_cell --latent-representation-niche emb_niche \
  --sumstats-config-file "$scratch/data/gwas/sumstats.yaml" \
  --snp-gene-weight-adata-path "$scratch/data/weights/snp_gene_weights.h5ad" \
  --w-ld-dir "$scratch/data/w_ld" --rank-read-workers 2 --mkscore-compute-workers 2 \
  --mkscore-write-workers 1 --ldsc-read-workers 1 --ldsc-compute-workers 2 \
  2>"$scratch/stderr.txt" || { cat "$scratch/stderr.txt" >&2; exit 1; }
cat "$scratch/stderr.txt" >&2
/usr/bin/python3 "$here/progress_check.py" "$scratch/stderr.txt" ranking=3000 neighbours=3000 \
  GSS=3000 "spatial LDSC (2 traits)=3000" "Cauchy: reading LDSC results=2"
types_done=$(grep -c "\] GSS: cell type 'T[0-5]' done (" "$scratch/stderr.txt" || true)
[[ $types_done == 6 ]] || { echo "FAIL: $types_done of 6 'GSS: cell type ... done' lines"; exit 1; }
/usr/bin/python3 "$here/progress_check.py" "$scratch/work/demo/gsmap-mpi.log" ranking=3000 \
  neighbours=3000 GSS=3000 "spatial LDSC (2 traits)=3000" "Cauchy: reading LDSC results=2"
/usr/bin/python3 - "$scratch" <<'PY'
import sys, json, pandas as pd
s = sys.argv[1]
truth = json.load(open(f"{s}/data/manifest.json"))["truth"]["planted_type"]
cdir = f"{s}/work/demo/cauchy_combination"
p = pd.read_csv(f"{cdir}/demo_planted_T1.annotation.cauchy.csv")
n = pd.read_csv(f"{cdir}/demo_null_trait.annotation.cauchy.csv")
top = p.sort_values("p_cauchy").iloc[0]
print(f"planted: top {top.annotation} p_cauchy {top.p_cauchy:.3g} (truth {truth}); null min {n.p_cauchy.min():.3g}")
assert top.annotation == truth and top.p_cauchy < 1e-6, "planted type not recovered"
assert n.p_cauchy.min() >= 0.05 / len(n), "null trait has a significant type"
PY
