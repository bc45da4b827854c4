#!/usr/bin/env bash
# ldscore-weight-matrix gives identical outputs (tests/integration/outputs_same.py) on 1, 2 and 3
# ranks and with 1 or 2 threads per rank: the real chromosome-22 panel, the canonical command of
# docs/ldscore.md §10. With PANEL_EXE (bench/ldscore_panel), also a small synthetic 22-chromosome
# panel in the order 7,1,2,...: 1 rank against 2, 3 and 4 ranks, where each chromosome is planned
# by one rank and computed by others (docs/ldscore.md §8), the pair table streamed to rank 0, and
# chromosome 5 has no regression SNP (pair rows only); and slurm/ldscore-genome.sbatch on that panel.
# Usage: ldscore_ranks_test.sh EXE PLINK_DIR SCRATCH [PANEL_EXE] (exit 77: data absent).
set -uo pipefail
exe=$1 data=$2 scratch=$3 panel_exe=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
rm -rf "$scratch" && mkdir -p "$scratch"
args=(ldscore-weight-matrix --bfile-root "$data/{chr}_filt" --hm3-snp-dir "$data/hm3"
      --mapping-file "$data/genes.protein_coding.v39.chr22.bed" --strategy tss
      --feature-window-size 50000 --chromosomes 22 --calculate-w-ld)
fail=0
same() {  # same A B
  if /usr/bin/python3 "$here/outputs_same.py" "$scratch/$1" "$scratch/$2" >"$scratch/cmp_$2.txt"; then
    echo "ok   $1 == $2 ($(ls "$scratch/$2" | tr '\n' ' '))"
  else
    echo "FAIL: $1 and $2 differ"; cat "$scratch/cmp_$2.txt"; fail=1
  fi
}
if [[ -n $panel_exe ]]; then
  "$panel_exe" "$scratch/panel" 60 20000 3 >/dev/null || { echo "FAIL: ldscore_panel"; exit 1; }
  # Chromosome 5 without regression SNPs: no rows, but its pair-table rows come from its planner.
  echo rs_not_in_the_bim >"$scratch/panel/hm3/hm.5.snp"
  for np in 1 2 3 4; do
    if ! mpirun -np "$np" --bind-to none "$exe" ldscore-weight-matrix \
         --bfile-root "$scratch/panel/panel.{chr}" --hm3-snp-dir "$scratch/panel/hm3" \
         --mapping-file "$scratch/panel/genes.bed" --strategy tss --feature-window-size 50000 \
         --chromosomes "$(echo 7 1 {2..6} {8..22} | tr ' ' ,)" --batch-size-hm3 50 \
         --calculate-w-ld --ldscore-compute-workers 1 --output-dir "$scratch/panel_np$np" \
         >"$scratch/panel_np$np.log" 2>&1; then
      echo "FAIL: panel_np$np exited non-zero"; tail -5 "$scratch/panel_np$np.log"; fail=1
    fi
  done
  grep -h "stored entries" "$scratch"/panel_np1.log
  for np in 2 3 4; do same panel_np1 "panel_np$np"; done
  # The whole-genome Slurm template, outside Slurm (its mpirun launch), inputs from the environment.
  if SLURM_NTASKS=2 SLURM_CPUS_PER_TASK=1 GSMAP_LAUNCH=mpirun GSMAP_EXE="$exe" \
       LDSCORE_BFILE_ROOT="$scratch/panel/panel.{chr}" LDSCORE_HM3_DIR="$scratch/panel/hm3" \
       LDSCORE_GENES="$scratch/panel/genes.bed" LDSCORE_OUT="$scratch/panel_sbatch" \
       bash "$here/../../slurm/ldscore-genome.sbatch" >"$scratch/panel_sbatch.log" 2>&1 &&
     [[ -f $scratch/panel_sbatch/ld_score_weights.h5ad && -f $scratch/panel_sbatch/w_ld/weights.22.l2.ldscore.gz ]]; then
    echo "ok   slurm/ldscore-genome.sbatch ($(grep -h 'stored entries' "$scratch/panel_sbatch.log" | sed 's/.*: //'))"
  else
    echo "FAIL: slurm/ldscore-genome.sbatch"; tail -5 "$scratch/panel_sbatch.log"; fail=1
  fi
fi
[[ -f "$data/22_filt.bed" ]] || { echo "SKIP: $data absent"; exit $(( fail ? 1 : 77 )); }
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
for other in np1_t2 np2_t1 np3_t2; do same np1_t1 "$other"; done
exit $fail
