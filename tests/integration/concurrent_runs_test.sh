#!/usr/bin/env bash
# Concurrent runs into one project (issue 10 item 2; docs/usage.md "Concurrent runs"):
#   * two spatial-ldsc runs / two quick-modes on the same trait: the second fails at once (exit
#     code 4) naming the first run's host and PID, and the first finishes with correct outputs;
#   * the same on different traits: both succeed, with outputs identical to a sequential run.
# With GSMAP_LOCK_MODE=files the lock-file fallback (NFS/Lustre) is tested instead of fcntl.
# Usage: concurrent_runs_test.sh EXE FIXTURES_DIR SCRATCH [SUBCOMMANDS (default: spatial-ldsc quick-mode)]
set -uo pipefail
exe=$1 fixtures=$2 scratch=$3
subs=${4:-spatial-ldsc quick-mode}
# Where a writer records itself: the fcntl lock file, or the fallback's owner file.
suffix=lock
[[ ${GSMAP_LOCK_MODE:-auto} == files ]] && suffix=owner
in="$fixtures/fx2d/input"
rm -rf "$scratch" && mkdir -p "$scratch"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

ldsc_args=(--project-name p --snp-gene-weight-adata-path "$in/weights/snp_gene_weights.h5ad"
           --w-ld-dir "$in/w_ld" --ldsc-read-workers 1 --ldsc-compute-workers 1 --no-gpu)
quick_args=("${ldsc_args[@]}" --annotation annotation --cauchy-annotations domain
            --h5ad-yaml "$in/st/samples.yaml" --latent-representation-cell emb_cell
            --latent-representation-niche emb_niche --dataset-type spatial2D --data-layer X
            --rank-read-workers 1 --mkscore-compute-workers 1 --mkscore-write-workers 1)
args() { if [[ $1 == quick-mode ]]; then echo "${quick_args[@]}"; else echo "${ldsc_args[@]}"; fi; }
# The first run of a same-trait pair pauses for 6 s after its first chunk of spots (the
# GSMAP_PAUSE_AT test hook; results unchanged) so that the second starts while it writes.
"$exe" --version | grep -q "test hooks: on" || { echo "SKIP: needs a build with -DGSMAP_TEST_HOOKS=ON"; exit 77; }
slow=(-x GSMAP_PAUSE_AT=ldsc_mid_trait -x GSMAP_PAUSE_SECONDS=6)
trait() { echo --trait-name "$1" --sumstats-file "$in/gwas/$1.sumstats.gz"; }

mkdir -p "$scratch/ref"
mpirun -np 2 --oversubscribe "$exe" quick-mode --workdir "$scratch/ref" "${quick_args[@]}" \
  --sumstats-config-file "$in/gwas/sumstats.yaml" >"$scratch/ref.log" 2>&1 || { echo "reference run failed"; exit 1; }

fresh() {  # WORK: the reference's latent_to_gene only
  rm -rf "$1" && mkdir -p "$1/p"
  cp -a "$scratch/ref/p/latent_to_gene" "$1/p/"
}
wait_writing() {  # LOCKFILE: until a run writes under it (max 60 s)
  for _ in $(seq 600); do
    grep -q "state: writing" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
same_csv() {  # A B WHAT
  if cmp -s <(zcat "$1") <(zcat "$2"); then ok "$3"; else bad "$3"; fi
}

# sub SUBCOMMAND: same trait, then different traits.
for sub in $subs; do
  w="$scratch/$sub.same"
  fresh "$w"
  lock="$w/p/.locks/spatial_ldsc.p_planted_T1.csv.gz.$suffix"
  mpirun -np 1 "${slow[@]}" "$exe" $sub --workdir "$w" $(args $sub) $(trait planted_T1) >"$w.first.log" 2>&1 &
  first=$!
  if ! wait_writing "$lock"; then bad "$sub: the first run never took its lock"; wait $first; continue; fi
  holder=$(sed -n 's/^pid: //p' "$lock")
  # The holder is the first run's rank 0: a descendant of its mpirun.
  p=$holder; mine=0
  for _ in 1 2 3 4; do p=$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' '); [[ "$p" == "$first" ]] && mine=1; done
  start=$(date +%s.%N)
  mpirun -np 1 "$exe" $sub --workdir "$w" $(args $sub) $(trait planted_T1) >"$w.second.log" 2>&1
  rc=$?
  took=$(echo "$(date +%s.%N) - $start" | bc)
  # The holder was alive when the second run met its lock (an fcntl lock, or a fresh heartbeat,
  # belongs to a live process); the first run may finish right after, so it is not re-checked.
  wait $first; rc_first=$?
  [[ $rc -eq 4 ]] && ok "$sub same trait: the second run fails with exit code 4 (in ${took} s)" || { bad "$sub same trait: second run exit code $rc"; tail -3 "$w.second.log"; }
  if grep -q "being written by another gsmap-mpi run (host $(hostname), PID $holder" "$w.second.log" && [[ $mine -eq 1 ]]; then
    ok "$sub same trait: the message names the first run (host $(hostname), PID $holder)"
  else
    bad "$sub same trait: message does not name the first run (PID $holder, child of the first mpirun=$mine)"; grep -i error "$w.second.log"
  fi
  (( $(echo "$took < 20" | bc) )) && ok "$sub same trait: failed at once" || bad "$sub same trait: took ${took} s"
  [[ $rc_first -eq 0 ]] && ok "$sub same trait: the first run succeeds" || { bad "$sub same trait: first run failed ($rc_first)"; tail -3 "$w.first.log"; }
  same_csv "$scratch/ref/p/spatial_ldsc/p_planted_T1.csv.gz" "$w/p/spatial_ldsc/p_planted_T1.csv.gz" \
    "$sub same trait: the first run's output is intact"

  w="$scratch/$sub.diff"
  fresh "$w"
  mpirun -np 1 "$exe" $sub --workdir "$w" $(args $sub) $(trait planted_T1) >"$w.a.log" 2>&1 &
  a=$!
  mpirun -np 1 "$exe" $sub --workdir "$w" $(args $sub) $(trait null_trait) >"$w.b.log" 2>&1 &
  b=$!
  wait $a; rc_a=$?
  wait $b; rc_b=$?
  [[ $rc_a -eq 0 && $rc_b -eq 0 ]] && ok "$sub different traits: both succeed" || { bad "$sub different traits: exit codes $rc_a $rc_b"; tail -3 "$w.a.log" "$w.b.log"; }
  for t in planted_T1 null_trait; do
    same_csv "$scratch/ref/p/spatial_ldsc/p_$t.csv.gz" "$w/p/spatial_ldsc/p_$t.csv.gz" "$sub different traits: $t identical to the sequential run"
    if [[ $sub == quick-mode ]]; then
      for f in "p_$t.domain.cauchy.csv" "p_$t.annotation.sample_cauchy.csv"; do
        cmp -s "$scratch/ref/p/cauchy_combination/$f" "$w/p/cauchy_combination/$f" && ok "$sub different traits: $f identical" || bad "$sub different traits: $f differs"
      done
    fi
  done
done
exit $fail
