#!/usr/bin/env bash
# Runs gsmap-mpi quick-mode on a shared fixture with N ranks, with the options the fixture's
# README states, into WORKDIR/<fixture>. Usage: run_fixture.sh EXE FIXTURE_DIR NP WORKDIR [extra]
set -euo pipefail
exe=$1 fx=$2 np=$3 work=$4
shift 4
name=$(basename "$fx")
in="$fx/input"
args=(--workdir "$work" --project-name "$name"
      --h5ad-yaml "$in/st/samples.yaml" --annotation annotation --cauchy-annotations domain
      --latent-representation-cell emb_cell
      --sumstats-config-file "$in/gwas/sumstats.yaml"
      --snp-gene-weight-adata-path "$in/weights/snp_gene_weights.h5ad" --w-ld-dir "$in/w_ld"
      --rank-read-workers 2 --mkscore-compute-workers 2 --mkscore-write-workers 1
      --ldsc-read-workers 1 --ldsc-compute-workers 2 --no-gpu)
case "$name" in
  fx2d) args+=(--dataset-type spatial2D --latent-representation-niche emb_niche --data-layer X) ;;
  fx3d) args+=(--dataset-type spatial3D --latent-representation-niche emb_niche --data-layer X) ;;
  fxgrid) args+=(--dataset-type spatial2D --data-layer counts) ;;
esac
mkdir -p "$work"
exec mpirun -np "$np" --oversubscribe "$exe" quick-mode "${args[@]}" "$@"
