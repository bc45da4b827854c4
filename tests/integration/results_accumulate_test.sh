#!/usr/bin/env bash
# <project>_results.h5ad gains or replaces the traits of a run and keeps the others whose inputs are
# still current (docs/formats.md "<project>_results.h5ad"); the trait-array template writes
# per-trait files and one results job builds the file (docs/usage.md "One job per trait").
# MODE setup: latent-to-gene of the fx2d fixture into SCRATCH/l2g (a CTest fixture shared by):
# MODE accumulate:
#   1. traits A, B in one run, then C alone: the file holds A, B, C;
#   2. A's sumstats changed, A re-run alone: A replaced (new values), B and C kept unchanged;
#   3. B's sumstats changed, C re-run alone (nothing to compute): B dropped with a warning;
# MODE trait-array: slurm/trait-array.sbatch, its tasks run as Slurm runs them
#   (SLURM_ARRAY_TASK_ID, mpirun launch): a results job while a task has not run fails naming the
#   trait; the tasks write no results h5ad; the results job builds it from their csv.gz and
#   computes nothing.
# Usage: results_accumulate_test.sh MODE EXE FIXTURES_DIR SCRATCH
set -uo pipefail
mode=$1 exe=$2 fixtures=$3 scratch=$4
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [[ $mode == setup ]]; then
  rm -rf "$scratch/l2g" && mkdir -p "$scratch/l2g/work"
  cp -r "$fixtures/fx2d/input" "$scratch/l2g/in"
  exec mpirun -np 2 --oversubscribe "$exe" latent-to-gene --workdir "$scratch/l2g/work" \
    --project-name p --h5ad-yaml "$scratch/l2g/in/st/samples.yaml" --annotation annotation \
    --latent-representation-cell emb_cell --rank-read-workers 2 --mkscore-compute-workers 2 \
    --mkscore-write-workers 1 --no-gpu
fi
[[ -e $scratch/l2g/work/p/latent_to_gene/marker_scores.h5ad ]] || { echo "run MODE setup first"; exit 1; }
rm -rf "${scratch:?}/$mode" && cp -a "$scratch/l2g" "$scratch/$mode"
scratch=$scratch/$mode
in=$scratch/in
g=$in/gwas
cp "$g/null_trait.sumstats.gz" "$g/C.sumstats.gz"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
common=(--workdir "$scratch/work" --project-name p
        --snp-gene-weight-adata-path "$in/weights/snp_gene_weights.h5ad" --w-ld-dir "$in/w_ld"
        --ldsc-read-workers 1 --ldsc-compute-workers 2 --no-gpu)
ldsc() {  # LOG ARGS...: spatial-ldsc on 2 ranks
  local log=$1
  shift
  mpirun -np 2 --oversubscribe "$exe" spatial-ldsc "${common[@]}" "$@" >"$log" 2>&1
}
# results.h5ad as JSON: traits, sumstats files, X column per trait (h5py: quicker than anndata;
# anndata reads the file in case 4 and in integration.types_csv).
dump() {
  /usr/bin/python3 - "$1" <<'PY'
import sys, json, h5py
with h5py.File(sys.argv[1], "r") as f:
    traits = [t.decode() for t in f["var/_index"][:]]
    x = f["X"][:]
    print(json.dumps({"traits": traits,
                      "sumstats": [s.decode() for s in f["var/sumstats_file"][:]],
                      "x": {t: [None if v != v else float(v) for v in x[:, i]]
                            for i, t in enumerate(traits)}}))
PY
}
# Keeps every STEP-th data line of a gzip sumstats file from line FIRST on (a changed input).
thin() {
  /usr/bin/python3 - "$@" <<'PY'
import sys, gzip
path, step, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = gzip.open(path, "rt").read().splitlines()
keep = [lines[0]] + [l for i, l in enumerate(lines[1:]) if i >= first and i % step == 0]
gzip.open(path, "wt").write("\n".join(keep) + "\n")
PY
}
field() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
results=$scratch/work/p/spatial_ldsc/p_results.h5ad

if [[ $mode == accumulate ]]; then
# 1. A, B together, then C alone.
printf 'A: planted_T1.sumstats.gz\nB: null_trait.sumstats.gz\n' >"$g/ab.yaml"
ldsc "$scratch/1a.log" --sumstats-config-file "$g/ab.yaml" || { tail "$scratch/1a.log"; exit 1; }
ldsc "$scratch/1b.log" --trait-name C --sumstats-file "$g/C.sumstats.gz" || { tail "$scratch/1b.log"; exit 1; }
dump "$results" >"$scratch/1.json"
if [[ $(field "$scratch/1.json" "d['traits']") == "['A', 'B', 'C']" ]]; then ok "case 1: A, B then C gives A, B, C"
else bad "case 1: traits $(field "$scratch/1.json" "d['traits']")"; fi
[[ $(field "$scratch/1.json" "d['sumstats'][2]") == "$g/C.sumstats.gz" ]] && ok "case 1: sumstats_file recorded" \
  || bad "case 1: sumstats_file $(field "$scratch/1.json" "d['sumstats']")"

# 2. A's sumstats changed (every other SNP dropped), A alone.
thin "$g/planted_T1.sumstats.gz" 2 0
ldsc "$scratch/2.log" --trait-name A --sumstats-file "$g/planted_T1.sumstats.gz" || { tail "$scratch/2.log"; exit 1; }
dump "$results" >"$scratch/2.json"
/usr/bin/python3 - "$scratch/1.json" "$scratch/2.json" <<'PY' && ok "case 2: A replaced, B and C kept" || bad "case 2"
import sys, json
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert b["traits"] == ["A", "B", "C"], b["traits"]
assert b["x"]["A"] != a["x"]["A"], "A not recomputed"
assert b["x"]["B"] == a["x"]["B"] and b["x"]["C"] == a["x"]["C"], "B or C changed"
PY

# 3. B's sumstats changed, C alone: B's inputs are no longer current.
thin "$g/null_trait.sumstats.gz" 1 1
ldsc "$scratch/3.log" --trait-name C --sumstats-file "$g/C.sumstats.gz" || { tail "$scratch/3.log"; exit 1; }
dump "$results" >"$scratch/3.json"
[[ $(field "$scratch/3.json" "d['traits']") == "['A', 'C']" ]] && ok "case 3: B dropped" \
  || bad "case 3: traits $(field "$scratch/3.json" "d['traits']")"
grep -q "trait B dropped (sumstats changed" "$scratch/3.log" && ok "case 3: the drop is logged with its reason" \
  || { bad "case 3: no warning"; grep -i "dropped\|warn" "$scratch/3.log"; }

fi

if [[ $mode == trait-array ]]; then
cp "$g/planted_T1.sumstats.gz" "$g/A.sumstats.gz"
cp "$g/null_trait.sumstats.gz" "$g/B.sumstats.gz"
printf 'A %s\nB %s\n\nC %s\n' "$g/A.sumstats.gz" "gwas/B.sumstats.gz" "$g/C.sumstats.gz" >"$in/traits.txt"
export GSMAP_EXE=$exe GSMAP_DATA=$in GSMAP_WORKDIR=$scratch/work GSMAP_PROJECT=p
export GSMAP_TRAIT_LIST=$in/traits.txt GSMAP_LAUNCH=mpirun SLURM_CPUS_PER_TASK=2
for i in 1 2; do
  (cd "$in" && SLURM_ARRAY_TASK_ID=$i bash "$repo/slurm/trait-array.sbatch") >"$scratch/4task$i.log" 2>&1 \
    || { bad "case 4: task $i failed"; tail "$scratch/4task$i.log"; }
done
(cd "$in" && GSMAP_TRAIT_STEP=results bash "$repo/slurm/trait-array.sbatch") >"$scratch/4early.log" 2>&1 \
  && bad "case 4: a results job with trait C missing succeeded" \
  || { grep -q "1 of 3 traits have no current csv.gz (C" "$scratch/4early.log" \
       && ok "case 4: results job before C's task fails naming C" \
       || { bad "case 4: unexpected failure"; tail "$scratch/4early.log"; }; }
(cd "$in" && SLURM_ARRAY_TASK_ID=3 bash "$repo/slurm/trait-array.sbatch") >"$scratch/4task3.log" 2>&1 \
  || { bad "case 4: task 3 failed"; tail "$scratch/4task3.log"; }
r4=$scratch/work/p/spatial_ldsc/p_results.h5ad
[[ -e $r4 ]] && bad "case 4: an array task wrote the results h5ad" || ok "case 4: the array tasks write no results h5ad"
(cd "$in" && GSMAP_TRAIT_STEP=results bash "$repo/slurm/trait-array.sbatch") >"$scratch/4results.log" 2>&1 \
  || { bad "case 4: results job failed"; tail "$scratch/4results.log"; }
grep -q "Resources ready" "$scratch/4results.log" && bad "case 4: the results job computed" || true
if [[ -e $r4 ]]; then
  /usr/bin/python3 - "$r4" "$scratch/work/p/spatial_ldsc" <<'PY' && ok "case 4: the results job gives A, B, C, equal to their csv.gz" || bad "case 4: results differ"
import sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, anndata as ad
a = ad.read_h5ad(sys.argv[1])
assert a.var_names.tolist() == ["A", "B", "C"], a.var_names.tolist()
for t in "ABC":
    d = pd.read_csv(f"{sys.argv[2]}/p_{t}.csv.gz", float_precision="round_trip")
    assert np.array_equal(d.neg_log10_p.to_numpy(), np.asarray(a[:, t].X).ravel(), equal_nan=True), t
PY
fi
fi
exit $fail
