#!/usr/bin/env bash
# Outputs only inside the project, replaced atomically (docs/troubleshooting.md):
#  1. names that would leave --workdir ('..', '/') are refused before any work (exit 2);
#  2. a re-run that fails while writing results.h5ad leaves the earlier file byte-identical;
#  3. a symlink planted at an output is refused and its target untouched (exit 4);
#  4. that error is printed once, by the rank that met it, and logged with a time stamp.
# Usage: trust_outputs_test.sh EXE FIXTURE_DIR(fx2d) SCRATCH
set -uo pipefail
exe=$1 fx=$2 scratch=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# 1. Traversal names: a trait named ../../escaped in the sumstats YAML, --trait-name, --project-name.
mkdir -p "$scratch/t/deep/work"
gwas=$(cd "$fx/input/gwas" && pwd)
printf '../../escaped: %s/planted_T1.sumstats.gz\n' "$gwas" >"$scratch/t/evil.yaml"
out=$(mpirun -np 2 --oversubscribe "$exe" quick-mode --workdir "$scratch/t/deep/work" \
      --project-name fx2d --h5ad-yaml "$fx/input/st/samples.yaml" --annotation annotation \
      --latent-representation-cell emb_cell --latent-representation-niche emb_niche \
      --data-layer X --dataset-type spatial2D --sumstats-config-file "$scratch/t/evil.yaml" \
      --snp-gene-weight-adata-path "$fx/input/weights/snp_gene_weights.h5ad" \
      --w-ld-dir "$fx/input/w_ld" --no-gpu 2>&1)
rc=$?
[[ $rc -eq 2 ]] || bad "YAML trait '../../escaped': exit $rc, expected 2 (usage error)"
echo "$out" | grep -q "'../../escaped'" || bad "the message does not name the trait: $out"
[[ -z $(find "$scratch/t" -name "*escaped*") ]] || bad "files written for the traversal trait: $(find "$scratch/t" -name "*escaped*")"
[[ ! -e "$scratch/t/deep/work/fx2d/latent_to_gene" ]] || bad "work started before the name check"
out=$(mpirun -np 1 "$exe" spatial-ldsc --workdir "$scratch/t/deep/work" --project-name fx2d \
      --trait-name "../../x" --sumstats-file "$gwas/planted_T1.sumstats.gz" \
      --snp-gene-weight-adata-path "$fx/input/weights/snp_gene_weights.h5ad" 2>&1)
rc=$?
[[ $rc -eq 2 ]] && echo "$out" | grep -q "\-\-trait-name '../../x'" || bad "--trait-name ../../x: exit $rc: $out"
out=$(mpirun -np 1 "$exe" latent-to-gene --workdir "$scratch/t/deep/work" --project-name .. \
      --h5ad-yaml "$fx/input/st/samples.yaml" 2>&1)
rc=$?
[[ $rc -eq 2 ]] && echo "$out" | grep -q "\-\-project-name '..'" || bad "--project-name ..: exit $rc: $out"
[[ $fail -eq 0 ]] && echo "ok   names with '..' or '/' are refused before any work (exit 2)"

# 2. A complete run, then a re-run that fails after it began writing results.h5ad.
work="$scratch/w"
"$here/run_fixture.sh" "$exe" "$fx" 2 "$work" >"$scratch/first.log" 2>&1 || { echo "FAIL: first run"; tail "$scratch/first.log"; exit 1; }
proj="$work/fx2d"
results="$proj/spatial_ldsc/fx2d_results.h5ad"
cp "$results" "$scratch/results.before"
cp "$proj/latent_to_gene/marker_scores.h5ad" "$scratch/marker_scores.good"
rm "$proj/spatial_ldsc/fx2d_null_trait.csv.gz"
# obsm/spatial of the marker scores becomes unreadable as numbers: met only while the results
# file is being written (after the trait was recomputed).
/usr/bin/python3 - "$proj/latent_to_gene/marker_scores.h5ad" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    n = f["obsm/spatial"].shape[0]
    del f["obsm/spatial"]
    d = f["obsm"].create_dataset("spatial", data=np.array([b"x,y"] * n))
    d.attrs["encoding-type"] = "array"; d.attrs["encoding-version"] = "0.2.0"
PY
out=$("$here/run_fixture.sh" "$exe" "$fx" 2 "$work" 2>&1)
rc=$?
[[ $rc -ne 0 ]] || bad "the re-run with an unreadable obsm/spatial exited 0"
echo "$out" | grep -q "obsm/spatial" || bad "the re-run's message does not name obsm/spatial: $(echo "$out" | grep error)"
cmp -s "$results" "$scratch/results.before" || bad "a failed re-run changed the earlier results.h5ad"
left=$(find "$proj" -name ".*.tmp-*")
[[ -z $left ]] || bad "temp files left behind: $left"
[[ $fail -eq 0 ]] && echo "ok   a re-run that failed while writing left results.h5ad byte-identical (exit $rc)"
cp "$scratch/marker_scores.good" "$proj/latent_to_gene/marker_scores.h5ad"

# 3. + 4. A symlink planted at results.h5ad: refused, never followed; the error is printed once.
printf 'precious\n' >"$scratch/victim"
rm -f "$results"
ln -s "$scratch/victim" "$results"
out=$("$here/run_fixture.sh" "$exe" "$fx" 2 "$work" 2>&1)
rc=$?
[[ $rc -eq 4 ]] || bad "symlinked results.h5ad: exit $rc, expected 4"
[[ "$(cat "$scratch/victim")" == "precious" ]] || bad "the symlink's target was written"
[[ -L "$results" ]] || bad "the symlink was replaced"
n=$(echo "$out" | grep -c "^error:")
[[ $n -eq 1 ]] || bad "the error was printed $n times: $(echo "$out" | grep "^error:")"
echo "$out" | grep -q "^error: $results: is a symbolic link.*(rank 0 of 2)$" || bad "stderr: $(echo "$out" | grep error)"
grep -Eq "^\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\] \[error\] $results: is a symbolic link" "$proj/gsmap-mpi.log" \
  || bad "the log lacks the time-stamped error: $(tail -3 "$proj/gsmap-mpi.log")"
[[ $fail -eq 0 ]] && echo "ok   a symlink at results.h5ad is refused (exit 4), its target untouched, error printed once and logged"
exit $fail
