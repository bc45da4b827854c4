# Shared part of the bad-input corpus drivers (tests/integration/corpus/*.sh, docs/troubleshooting.md).
# A driver sources this file, calls corpus_init EXE SCRATCH (one small simulated data set and a
# complete baseline project "p" in $work), then one `expect` per bad input, and ends with
# corpus_finish. Each case runs the real command under mpirun -np 2 and must give:
#   * the documented exit code (3 = input error, 2 = usage error);
#   * an error line naming the file (or folder) and containing the expected key phrase;
#   * no new output marked complete (a new *.csv / *.csv.gz, or a new *.h5ad with gsmap_complete);
#   * every file that existed before (the baseline outputs) byte-identical afterwards.
set -uo pipefail
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
corpus_fail=0
corpus_cases=0

corpus_init() {
  exe=$1 scratch=$2
  rm -rf "$scratch" && mkdir -p "$scratch/work" "$scratch/bad"
  data=$scratch/data work=$scratch/work bad=$scratch/bad
  "$exe" simulate --out "$data" --seed 1 --n-cells 600 --n-genes 300 --n-snps 4000 >/dev/null 2>&1 ||
    { echo "FAIL: simulate"; exit 1; }
  # Small neighbourhoods and 20 jackknife blocks fit the 600-cell, 4000-SNP data set. Ranking
  # chunks of 500 rows put cells 500-599 on rank 1 only.
  L2G=(--h5ad-yaml "$data/st/samples.yaml" --annotation annotation
       --latent-representation-cell emb_cell --latent-representation-niche emb_niche
       --spatial-neighbors 51 --homogeneous-neighbors 11 --rank-read-workers 1
       --mkscore-compute-workers 1 --mkscore-write-workers 1 --no-gpu)
  LDSC=(--snp-gene-weight-adata-path "$data/weights/snp_gene_weights.h5ad" --w-ld-dir "$data/w_ld"
        --n-blocks 20 --ldsc-read-workers 1 --ldsc-compute-workers 1 --no-gpu)
  TRAITS=(--sumstats-config-file "$data/gwas/sumstats.yaml")
  CAUCHY=(--cauchy-annotations domain)
}

# The complete baseline project p (all three steps).
corpus_baseline() {
  mpirun -np 2 "$exe" quick-mode --workdir "$work" --project-name p "${L2G[@]}" "${LDSC[@]}" \
    "${TRAITS[@]}" "${CAUCHY[@]}" >"$scratch/baseline.log" 2>&1 ||
    { echo "FAIL: baseline run"; tail -5 "$scratch/baseline.log"; exit 1; }
  rm -rf "$scratch/pristine" && cp -a "$work" "$scratch/pristine"
}

# After a failed case: the workdir as the baseline left it, so that later cases stay independent.
corpus_restore() {
  [[ -d "$scratch/pristine" ]] || return 0
  rm -rf "$work" && cp -a "$scratch/pristine" "$work"
}

# sha256 of every file under $work except the (appended) logs.
# Every file of the workdir but the log and the lock files (docs/usage.md "Concurrent runs":
# they record the last run's host and PID, not results).
# Outputs only: not the log, the locks, nor the temp files (.NAME.tmp-HOST-PID-N) that a rank killed by
# another rank's MPI_Abort leaves behind (the next run on that directory removes them).
corpus_snapshot() {
  (cd "$work" && find . -type f ! -name 'gsmap-mpi.log' ! -path './*/.locks/*' ! -name '.*.tmp-*' -print0 | sort -z | xargs -0 -r sha256sum) >"$1"
}

is_complete_h5ad() {
  /usr/bin/python3 -c "import h5py,sys; sys.exit(0 if h5py.File(sys.argv[1],'r').attrs.get('gsmap_complete',0)==1 else 1)" "$1" 2>/dev/null
}

# expect NAME RC PHRASE FILE -- COMMAND...
expect() {
  local name=$1 want=$2 phrase=$3 file=$4
  shift 5
  corpus_cases=$((corpus_cases + 1))
  corpus_snapshot "$scratch/before"
  local out rc ok=1 errors
  out=$("$@" 2>&1)
  rc=$?
  corpus_snapshot "$scratch/after"
  errors=$(printf '%s\n' "$out" | grep -i "error" | grep -v "ORTE_ERROR_LOG\|^\[.*\] \[info\]")
  if [[ $rc -ne $want ]]; then echo "FAIL $name: exit code $rc, expected $want"; ok=0; fi
  if ! grep -qF -- "$file" <<<"$errors"; then echo "FAIL $name: error does not name $file"; ok=0; fi
  if ! grep -qF -- "$phrase" <<<"$errors"; then echo "FAIL $name: error lacks '$phrase'"; ok=0; fi
  # Earlier outputs byte-identical: every (hash, path) line of before is still there.
  local changed
  changed=$(comm -23 <(sort "$scratch/before") <(sort "$scratch/after"))
  if [[ -n $changed ]]; then echo "FAIL $name: earlier outputs changed: $changed"; ok=0; fi
  # No new output marked complete.
  local f
  while read -r f; do
    [[ -z $f ]] && continue
    case "$f" in
      *.csv|*.csv.gz) echo "FAIL $name: new output $f"; ok=0 ;;
      *.h5ad) if is_complete_h5ad "$work/$f"; then echo "FAIL $name: $f marked complete"; ok=0; fi ;;
    esac
  done < <(comm -13 <(awk '{print $2}' "$scratch/before" | sort) <(awk '{print $2}' "$scratch/after" | sort))
  if [[ $ok -eq 1 ]]; then
    local shown
    shown=$(grep -m1 "error: " <<<"$errors" || head -1 <<<"$errors")
    echo "ok   $name: exit $rc: ${shown:0:240}"
  else
    corpus_fail=1
    printf '%s\n' "$out" | tail -5 | sed 's/^/     | /'
    corpus_restore
  fi
}

# expect_dry_ok NAME -- COMMAND... : exit 0, "nothing was written", the workdir unchanged (no new
# file at all, not even a log).
expect_dry_ok() {
  local name=$1
  shift 2
  corpus_cases=$((corpus_cases + 1))
  local before after out rc
  before=$(cd "$work" && find . | sort; corpus_snapshot /dev/stdout)
  out=$("$@" 2>&1)
  rc=$?
  after=$(cd "$work" && find . | sort; corpus_snapshot /dev/stdout)
  if [[ $rc -eq 0 && "$before" == "$after" ]] && grep -q "nothing was written" <<<"$out"; then
    echo "ok   $name: dry run exit 0, workdir unchanged"
  else
    echo "FAIL $name: dry run exit $rc, workdir changed: $([[ "$before" == "$after" ]] && echo no || echo yes)"
    printf '%s\n' "$out" | tail -5 | sed 's/^/     | /'
    corpus_fail=1
  fi
}

corpus_finish() {
  echo "$corpus_cases cases, $([[ $corpus_fail -eq 0 ]] && echo all passed || echo FAILURES)"
  exit $corpus_fail
}
