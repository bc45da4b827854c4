#!/usr/bin/env bash
# Memory that follows the rank's share (docs/scalability.md "Memory per rank"): latent-to-gene with
# 4 ranks on a simulated section whose cells are stored in random order must hold, on every rank,
# at most 32 bytes per cell in structures over all cells at any time, transient included (the
# accounting of pipeline::AllCellsMemory, logged as "Cells held per rank over all N cells: peak X
# bytes per cell"). The 4-rank run reads the per-cell columns in blocks of 700 rows (test hook
# GSMAP_TEST_CELL_BLOCK_ROWS) and must write the outputs of a 1-rank run with the default blocks.
# Usage: cells_memory_test.sh EXE SCRATCH [CELLS]
set -euo pipefail
exe=$1 scratch=$2 cells=${3:-12000}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch"
"$exe" simulate --out "$scratch/data" --seed 5 --n-cells "$cells" --n-genes 100 --n-snps 2000 \
  --shuffle-cells >/dev/null
run() {  # NP WORK [env]
  local np=$1 work=$2
  shift 2
  mkdir -p "$work"
  env "$@" mpirun -np "$np" --oversubscribe --bind-to none "$exe" latent-to-gene --workdir "$work" \
    --project-name mem --h5ad-yaml "$scratch/data/st/samples.yaml" --annotation annotation \
    --latent-representation-cell emb_cell --latent-representation-niche emb_niche --no-gpu \
    --spatial-neighbors 51 --rank-read-workers 1 --mkscore-compute-workers 1 \
    --mkscore-write-workers 1 >"$work.log" 2>&1 || { tail -20 "$work.log"; exit 1; }
}
run 1 "$scratch/np1"
run 4 "$scratch/np4" GSMAP_TEST_CELL_BLOCK_ROWS=700
for np in 1 4; do
  line=$(grep "Cells held per rank over all" "$scratch/np$np.log" || true)
  [[ -n $line ]] || { echo "FAIL: no 'Cells held per rank' line at $np ranks"; exit 1; }
  echo "${line#*] }"
  peak=$(echo "$line" | sed -nE 's/.*: peak ([0-9.]+) bytes per cell on the largest rank.*/\1/p')
  [[ -n $peak ]] || { echo "FAIL: peak not found"; exit 1; }
  awk -v p="$peak" 'BEGIN { exit !(p > 20 && p <= 32) }' \
    || { echo "FAIL: $np rank(s) held $peak bytes per cell over all cells (bound 32)"; exit 1; }
done
grep -h "Stage B search" "$scratch/np4.log" | sed 's/^[^]]*\] [^]]*\] //'
/usr/bin/python3 "$here/outputs_same.py" "$scratch/np1/mem" "$scratch/np4/mem"
echo "ok   at most 32 bytes per cell over all cells on every rank, transient included"
