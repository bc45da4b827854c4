#!/usr/bin/env bash
# Fresh machine -> results: installs what is missing, builds, simulates the built-in demo data set
# and runs the whole pipeline on it with 2 MPI ranks. Outputs in ./demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exe=build/bin/gsmap-mpi
rm -rf demo && mkdir -p demo/work
$exe simulate --out demo/data --seed 1
mpirun -np 2 --oversubscribe --bind-to none $exe quick-mode \
  --workdir demo/work --project-name demo \
  --h5ad-yaml demo/data/st/samples.yaml \
  --annotation annotation --cauchy-annotations domain \
  --latent-representation-cell emb_cell --latent-representation-niche emb_niche \
  --sumstats-config-file demo/data/gwas/sumstats.yaml \
  --snp-gene-weight-adata-path demo/data/weights/snp_gene_weights.h5ad \
  --w-ld-dir demo/data/w_ld \
  --rank-read-workers 2 --mkscore-compute-workers 2 --mkscore-write-workers 1 \
  --ldsc-read-workers 1 --ldsc-compute-workers 2
echo "Demo finished: results in demo/work/demo/"
