#!/usr/bin/env bash
# ldscore-weight-matrix gives identical outputs (tests/integration/outputs_same.py) on 1, 2 and 3
# ranks and with 1 or 2 threads per rank: the real chromosome-22 panel, the canonical command of
# docs/ldscore.md §10. Usage: ldscore_ranks_test.sh EXE PLINK_DIR SCRATCH (exit 77: data absent).
set -uo pipefail
exe=$1 data=$2 scratch=$3
here=$(cd "$(dirname "$0")" && pwd)
[[ -f "$data/22_filt.bed" ]] || { echo "SKIP: $data absent"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
rm -rf "$scratch" && mkdir -p "$scratch"
args=(ldscore-weight-matrix --bfile-root "$data/{chr}_filt" --hm3-snp-dir "$data/hm3"
      --mapping-file "$data/genes.protein_coding.v39.chr22.bed" --strategy tss
      --feature-window-size 50000 --chromosomes 22 --calculate-w-ld)
fail=0
run() {  # run NAME NP THREADS
  if ! mpirun -np "$2" --bind-to none "$exe" "${args[@]}" --ldscore-compute-workers "$3" \
       --output-dir "$scratch/$1" >"$scratch/$1.log" 2>&1; then
    echo "FAIL: $1 exited non-zero"; tail -5 "$scratch/$1.log"; fail=1
  fi
}
run np1_t1 1 1
run np1_t2 1 2
run np2_t1 2 1
run np3_t2 3 2
grep -h "stored entries" "$scratch"/np1_t1.log
for other in np1_t2 np2_t1 np3_t2; do
  if /usr/bin/python3 "$here/outputs_same.py" "$scratch/np1_t1" "$scratch/$other" >"$scratch/cmp_$other.txt"; then
    echo "ok   np1_t1 == $other ($(ls "$scratch/$other" | tr '\n' ' '))"
  else
    echo "FAIL: np1_t1 and $other differ"; cat "$scratch/cmp_$other.txt"; fail=1
  fi
done
exit $fail
