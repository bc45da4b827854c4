#!/usr/bin/env bash
# Stale inputs (issue 10 item 1; docs/usage.md "Fingerprints, skipping and --force"): a step is
# skipped only when its recorded fingerprint equals what the current command would produce.
#   1. a finished project re-run on a different data set recomputes everything;
#   2. deleting marker_scores.h5ad and re-running with other neighbour options recomputes
#      latent_to_gene, spatial_ldsc and cauchy_combination;
#   3. a merge that rewrites a trait's csv.gz makes that trait's Cauchy results stale;
#   4. a changed sumstats file recomputes only that trait (LDSC and Cauchy);
#   5. --force recomputes everything and gives identical outputs.
# "Identical outputs" is tests/integration/outputs_same.py.
# Usage: stale_inputs_test.sh EXE FIXTURES_DIR SCRATCH
set -uo pipefail
exe=$1 fixtures=$2 scratch=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch"
cp -r "$fixtures/fx2d/input" "$scratch/in2d"
cp -r "$fixtures/fxgrid/input" "$scratch/ingrid"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# run LOG WORKDIR INPUT KIND [extra...]: quick-mode (or SUB=...) on 2 ranks, project "p".
run() {
  local log=$1 work=$2 in=$3 kind=$4
  shift 4
  local args=(--workdir "$work" --project-name p --h5ad-yaml "$in/st/samples.yaml"
              --annotation annotation --cauchy-annotations domain --latent-representation-cell emb_cell
              --sumstats-config-file "$in/gwas/sumstats.yaml"
              --snp-gene-weight-adata-path "$in/weights/snp_gene_weights.h5ad" --w-ld-dir "$in/w_ld"
              --rank-read-workers 2 --mkscore-compute-workers 2 --mkscore-write-workers 1
              --ldsc-read-workers 1 --ldsc-compute-workers 2 --no-gpu)
  case $kind in
    2d) args+=(--dataset-type spatial2D --latent-representation-niche emb_niche --data-layer X) ;;
    grid) args+=(--dataset-type spatial2D --data-layer counts) ;;
  esac
  mkdir -p "$work"
  mpirun -np 2 --oversubscribe "$exe" quick-mode "${args[@]}" "$@" >"$log" 2>&1
}
expect_log() {  # LOG PATTERN WHAT
  if grep -q -- "$2" "$1"; then ok "$3"; else bad "$3 (no '$2' in $1)"; tail -5 "$1"; fi
}
same() {  # A B WHAT
  if /usr/bin/python3 "$here/outputs_same.py" "$1" "$2" >"$scratch/same.log"; then ok "$3"; else
    bad "$3"; grep FAIL "$scratch/same.log"; fi
}

run "$scratch/ref.log" "$scratch/ref" "$scratch/in2d" 2d || { echo "reference run failed"; tail "$scratch/ref.log"; exit 1; }
cp -a "$scratch/ref" "$scratch/base"  # pristine copy (mtimes kept) for the cases below

# 1. The same project, a completely different data set.
cp -a "$scratch/base" "$scratch/c1"
run "$scratch/c1.log" "$scratch/c1" "$scratch/ingrid" grid || bad "case 1: run failed"
expect_log "$scratch/c1.log" "recomputing latent_to_gene: .*samples changed" "case 1: latent_to_gene recomputed for a new data set"
expect_log "$scratch/c1.log" "recomputing spatial_ldsc for trait planted_T1: .*marker scores changed" "case 1: spatial_ldsc recomputed"
expect_log "$scratch/c1.log" "recomputing cauchy_combination for trait null_trait" "case 1: cauchy recomputed"
run "$scratch/grid.log" "$scratch/grid" "$scratch/ingrid" grid || bad "case 1: fresh run failed"
same "$scratch/grid/p" "$scratch/c1/p" "case 1: outputs identical to a fresh run on the new data set"

# 2. marker_scores.h5ad deleted, other neighbour options.
cp -a "$scratch/base" "$scratch/c2"
rm "$scratch/c2/p/latent_to_gene/marker_scores.h5ad"
run "$scratch/c2.log" "$scratch/c2" "$scratch/in2d" 2d --homogeneous-neighbors 11 || bad "case 2: run failed"
expect_log "$scratch/c2.log" "recomputing latent_to_gene: no output yet" "case 2: latent_to_gene recomputed"
expect_log "$scratch/c2.log" "Stage A recomputed: log_ranks.h5ad: --homogeneous-neighbors changed" "case 2: old Stage A not reused"
expect_log "$scratch/c2.log" "recomputing spatial_ldsc for trait planted_T1: marker scores changed" "case 2: spatial_ldsc recomputed (marker scores changed)"
expect_log "$scratch/c2.log" "recomputing cauchy_combination for trait planted_T1: .*spatial ldsc result changed" "case 2: cauchy recomputed"
run "$scratch/k11.log" "$scratch/k11" "$scratch/in2d" 2d --homogeneous-neighbors 11 || bad "case 2: fresh run failed"
same "$scratch/k11/p" "$scratch/c2/p" "case 2: outputs identical to a fresh run with the new options"

# 3. A merge rewrites planted_T1's csv.gz (range runs with another --n-blocks).
cp -a "$scratch/base" "$scratch/c3"
ldsc=(--workdir "$scratch/c3" --project-name p --trait-name planted_T1
      --sumstats-file "$scratch/in2d/gwas/planted_T1.sumstats.gz"
      --snp-gene-weight-adata-path "$scratch/in2d/weights/snp_gene_weights.h5ad"
      --w-ld-dir "$scratch/in2d/w_ld" --n-blocks 100 --no-gpu --ldsc-compute-workers 2 --ldsc-read-workers 1)
for range in "0 1000" "1000 1958"; do
  mpirun -np 2 --oversubscribe "$exe" spatial-ldsc "${ldsc[@]}" --cell-indices-range $range >>"$scratch/c3.ranges.log" 2>&1 || bad "case 3: range $range failed"
done
mpirun -np 1 "$exe" merge --workdir "$scratch/c3" --project-name p --trait-name planted_T1 >"$scratch/c3.merge.log" 2>&1 || bad "case 3: merge failed"
run "$scratch/c3.log" "$scratch/c3" "$scratch/in2d" 2d --start-step cauchy_combination || bad "case 3: cauchy run failed"
expect_log "$scratch/c3.log" "recomputing cauchy_combination for trait planted_T1: .*spatial ldsc result changed" "case 3: Cauchy of the merged trait recomputed"
expect_log "$scratch/c3.log" "skipping cauchy_combination for trait null_trait: complete and up to date" "case 3: Cauchy of the other trait kept"
# The merged file carries the record a full run with --n-blocks 100 would have: such a run skips it.
mpirun -np 2 --oversubscribe "$exe" spatial-ldsc "${ldsc[@]}" >"$scratch/c3.full.log" 2>&1 || bad "case 3: full run failed"
expect_log "$scratch/c3.full.log" "skipping spatial_ldsc for trait planted_T1: complete and up to date" "case 3: merged ranges = a full run"

# 4. A changed sumstats file recomputes only that trait.
cp -a "$scratch/base" "$scratch/c4"
/usr/bin/python3 - "$scratch/in2d/gwas/null_trait.sumstats.gz" <<'PY'
import gzip, sys
p = sys.argv[1]
lines = gzip.open(p, "rt").read().splitlines()
f = lines[1].split("\t"); f[3] = str(float(f[3]) + 1.5); lines[1] = "\t".join(f)
gzip.open(p, "wt").write("\n".join(lines) + "\n")
PY
run "$scratch/c4.log" "$scratch/c4" "$scratch/in2d" 2d || bad "case 4: run failed"
expect_log "$scratch/c4.log" "skipping latent_to_gene: complete and up to date" "case 4: latent_to_gene kept"
expect_log "$scratch/c4.log" "skipping spatial_ldsc for trait planted_T1: complete and up to date" "case 4: other trait kept"
expect_log "$scratch/c4.log" "recomputing spatial_ldsc for trait null_trait: sumstats changed" "case 4: changed trait recomputed"
expect_log "$scratch/c4.log" "skipping cauchy_combination for trait planted_T1" "case 4: other trait's Cauchy kept"
expect_log "$scratch/c4.log" "recomputing cauchy_combination for trait null_trait" "case 4: changed trait's Cauchy recomputed"
if cmp -s <(zcat "$scratch/base/p/spatial_ldsc/p_null_trait.csv.gz") <(zcat "$scratch/c4/p/spatial_ldsc/p_null_trait.csv.gz"); then
  bad "case 4: null_trait results unchanged"; else ok "case 4: null_trait results changed"; fi

# 5. --force recomputes everything, with identical outputs.
cp -a "$scratch/base" "$scratch/c5"
cp "$fixtures/fx2d/input/gwas/null_trait.sumstats.gz" "$scratch/in2d/gwas/null_trait.sumstats.gz"
touch -r "$fixtures/fx2d/input/gwas/null_trait.sumstats.gz" "$scratch/in2d/gwas/null_trait.sumstats.gz"
run "$scratch/c5.log" "$scratch/c5" "$scratch/in2d" 2d --force || bad "case 5: run failed"
for s in "latent_to_gene" "spatial_ldsc for trait planted_T1" "cauchy_combination for trait null_trait"; do
  expect_log "$scratch/c5.log" "recomputing $s: --force" "case 5: --force recomputes $s"
done
same "$scratch/base/p" "$scratch/c5/p" "case 5: --force outputs identical"
exit $fail
