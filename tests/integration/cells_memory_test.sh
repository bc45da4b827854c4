#!/usr/bin/env bash
# Memory that follows the rank's share (docs/scalability.md "Memory per rank"): latent-to-gene with
# 4 ranks on a simulated section whose cells are stored in random order must hold, on every rank,
# at most 32 bytes per cell in structures over all cells at any time, transient included (the
# accounting of pipeline::AllCellsMemory, logged as "Cells held per rank over all N cells: peak X
# bytes per cell"). The 4-rank run reads the per-cell columns in blocks of 700 rows (test hook
# GSMAP_TEST_CELL_BLOCK_ROWS) and must write the outputs of a 1-rank run with the default blocks.
# The log-rank blocks (docs/algorithms.md §5.3): at 4 ranks every rank must release its ranked
# block (Stage A share) window by window while its resident block fills, so that the rows it holds
# at once ("log-rank rows held at once: at most X", counted per round) stay within the larger block
# plus two windows, well below both blocks together; at 1 rank one block (permuted in place).
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
for np in 1 4; do
  lines=$(grep "log-rank rows held at once" "$scratch/np$np.log" || true)
  [[ $(echo "$lines" | grep -c "rows held") -eq $np ]] || { echo "FAIL: no 'rows held' line per rank at $np ranks"; exit 1; }
  [[ $np -gt 1 || $lines == *"one block permuted in place"* ]] || { echo "FAIL: 1 rank not in place"; exit 1; }
  echo "$lines" | sed 's/^[^]]*\] [^]]*\] //'
  while read -r held ranked resident window; do
    if (( np == 1 )); then
      (( held == resident && held == ranked )) || { echo "FAIL: 1 rank held $held rows, block $resident"; exit 1; }
      continue
    fi
    big=$(( ranked > resident ? ranked : resident ))
    (( window > 0 && held <= big + 2 * window )) \
      || { echo "FAIL: $held rows held at once > $big + 2 x $window (ranked $ranked, resident $resident)"; exit 1; }
    (( held < ranked + resident - 4 * window )) \
      || { echo "FAIL: ranked and resident blocks coexist: $held rows held at once"; exit 1; }
  done < <(echo "$lines" | sed -nE 's/.*at most ([0-9]+) .*ranked block ([0-9]+) rows, resident block ([0-9]+) rows, .*windows of ([0-9]+) rows.*/\1 \2 \3 \4/p')
done
/usr/bin/python3 "$here/outputs_same.py" "$scratch/np1/mem" "$scratch/np4/mem"

# spatial3D with adjacent slices: a stack of 4 shuffled slices; the search covers the rank's
# region and its footprint on the adjacent slices, so the bound holds there too, and the outputs
# of 4 ranks equal those of 1 rank.
"$exe" simulate --out "$scratch/stack" --seed 6 --n-cells $((cells / 4)) --n-slices 4 --n-genes 100 \
  --n-snps 2000 --shuffle-cells >/dev/null
for np in 1 4; do
  work=$scratch/stack_np$np
  mkdir -p "$work"
  mpirun -np "$np" --oversubscribe --bind-to none "$exe" latent-to-gene --workdir "$work" \
    --project-name mem --h5ad-yaml "$scratch/stack/st/samples.yaml" --annotation annotation \
    --latent-representation-cell emb_cell --latent-representation-niche emb_niche --no-gpu \
    --dataset-type spatial3D --n-adjacent-slices 1 --spatial-neighbors 51 \
    --adjacent-slice-spatial-neighbors 31 --rank-read-workers 1 --mkscore-compute-workers 1 \
    --mkscore-write-workers 1 >"$work.log" 2>&1 || { tail -20 "$work.log"; exit 1; }
  line=$(grep "Cells held per rank over all" "$work.log" || true)
  peak=$(echo "$line" | sed -nE 's/.*: peak ([0-9.]+) bytes per cell on the largest rank.*/\1/p')
  [[ -n $peak ]] || { echo "FAIL: no 'Cells held per rank' peak in $work.log"; exit 1; }
  echo "spatial3D, $np rank(s): ${line#*] }"
  awk -v p="$peak" 'BEGIN { exit !(p > 20 && p <= 32) }' \
    || { echo "FAIL: spatial3D, $np rank(s) held $peak bytes per cell over all cells (bound 32)"; exit 1; }
done
grep -h "Stage B search" "$scratch/stack_np4.log" | sed 's/^[^]]*\] [^]]*\] //'
/usr/bin/python3 "$here/outputs_same.py" "$scratch/stack_np1/mem" "$scratch/stack_np4/mem"
echo "ok   at most 32 bytes per cell over all cells on every rank, transient included (also spatial3D)"
echo "ok   ranked blocks released window by window as the resident blocks fill (4 ranks)"
