#!/usr/bin/env bash
# Scaling harness (docs/scalability.md "Measured scaling"): latent-to-gene and quick-mode under
# mpirun -np 1, 2, 4 (--oversubscribe) on simulated sections whose cells are stored in random order
# (simulate --shuffle-cells), at several sizes. Prints per run and rank: own rows, halo rows and
# MiB, redistribution rows, peak RSS (the log's memory line), seconds per stage, bytes written.
# A benchmark, not a test.
#   bench/scaling.sh BUILD_DIR SCRATCH
# Environment: SCALING_CELLS (default "25000 50000 100000"), SCALING_NP ("1 2 4"),
# SCALING_GENES (2000), SCALING_SNPS (20000), SCALING_MODES ("l2g quick"), SCALING_THREADS
# (threads per rank; default: cores / ranks, at least 1).
set -euo pipefail
build=$(cd "$1" && pwd) scratch=$2
exe=$build/bin/gsmap-mpi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$scratch"
cells_list=${SCALING_CELLS:-25000 50000 100000}
np_list=${SCALING_NP:-1 2 4}
genes=${SCALING_GENES:-2000}
snps=${SCALING_SNPS:-20000}
modes=${SCALING_MODES:-l2g quick}
cores=$(nproc)

report() {  # log file
  local log=$1
  grep -E "Partition of|Processing order|Halo exchange|Cells held per rank|Stage B search|  rank [0-9]+: .* own rows|memory rank|Stage [ABC]:|GSS stages|Pipeline Throughput|latent_to_gene done|spatial_ldsc done|cauchy.* done|wall, " "$log" \
    | sed -E 's/^\[[^]]*\] \[[a-z]+\] //' || true
}

for cells in $cells_list; do
  data=$scratch/data_$cells
  [[ -f $data/manifest.json ]] || "$exe" simulate --out "$data" --seed 7 --n-cells "$cells" \
    --n-genes "$genes" --n-snps "$snps" --shuffle-cells --overwrite >/dev/null
  for mode in $modes; do
    for np in $np_list; do
      t=${SCALING_THREADS:-$(( cores / np > 0 ? cores / np : 1 ))}
      work=$scratch/work_${mode}_${cells}_np$np
      rm -rf "$work" && mkdir -p "$work"
      args=(--workdir "$work" --project-name s --h5ad-yaml "$data/st/samples.yaml"
            --annotation annotation --latent-representation-cell emb_cell
            --latent-representation-niche emb_niche --no-gpu
            --rank-read-workers "$t" --mkscore-compute-workers "$t" --mkscore-write-workers 1)
      if [[ $mode == quick ]]; then
        cmd=quick-mode
        args+=(--sumstats-config-file "$data/gwas/sumstats.yaml" --cauchy-annotations domain
               --snp-gene-weight-adata-path "$data/weights/snp_gene_weights.h5ad"
               --w-ld-dir "$data/w_ld" --ldsc-read-workers 1 --ldsc-compute-workers "$t")
      else
        cmd=latent-to-gene
      fi
      echo "== $mode, $cells shuffled cells x $genes genes, $np rank(s), $t thread(s) each"
      log=$work/run.log
      /usr/bin/time -f "%e s wall, %M KB max RSS (largest rank)" \
        mpirun -np "$np" --oversubscribe --bind-to none "$exe" "$cmd" "${args[@]}" >"$log" 2>&1 \
        || { echo "FAILED (see $log)"; tail -5 "$log"; continue; }
      report "$log"
      echo "bytes written: $(du -sb "$work/s" | cut -f1) ($(find "$work/s" -type f -name '*.h5ad' -printf '%f %s; ' ))"
    done
  done
done
