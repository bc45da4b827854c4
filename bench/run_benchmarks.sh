#!/usr/bin/env bash
# Benchmarks (not tests): simulated data sets at stated sizes through the real pipeline; figures
# are read from the logs (GSS pipeline summary, spatial LDSC throughput). Usage:
#   bench/run_benchmarks.sh BUILD_DIR SCRATCH [gss|ldsc|scaling|all]
set -euo pipefail
build=$(cd "$1" && pwd) scratch=$2 what=${3:-all}
exe=$build/bin/gsmap-mpi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$scratch"
threads=$(nproc)

simulate() {  # name cells genes snps
  [[ -f $scratch/$1/manifest.json ]] || "$exe" simulate --out "$scratch/$1" --seed 7 \
    --n-cells "$2" --n-genes "$3" --n-snps "$4" >/dev/null
}
l2g() {  # data np workdir [extra...]
  local data=$1 np=$2 work=$3; shift 3
  rm -rf "$work" && mkdir -p "$work"
  /usr/bin/time -f "%e s wall, %M KB max RSS" mpirun -np "$np" --oversubscribe --bind-to none "$exe" latent-to-gene \
    --workdir "$work" --project-name b --h5ad-yaml "$data/st/samples.yaml" --annotation annotation \
    --latent-representation-cell emb_cell --latent-representation-niche emb_niche --no-gpu \
    --rank-read-workers "$threads" --mkscore-compute-workers "$threads" --mkscore-write-workers 1 "$@"
}
ldsc() {  # data np workdir traits-yaml
  mpirun -np "$2" --oversubscribe --bind-to none "$exe" spatial-ldsc --workdir "$3" --project-name b --no-gpu \
    --sumstats-config-file "$4" --snp-gene-weight-adata-path "$1/weights/snp_gene_weights.h5ad" \
    --w-ld-dir "$1/w_ld" --ldsc-read-workers 1 --ldsc-compute-workers "$threads"
}

if [[ $what == gss || $what == all ]]; then
  for size in "20000 2000" "100000 5000"; do
    set -- $size
    simulate "gss_$1_$2" "$1" "$2" 20000
    echo "== latent-to-gene, $1 cells x $2 genes, 1 rank, $threads threads"
    l2g "$scratch/gss_$1_$2" 1 "$scratch/w_gss_$1_$2" 2>&1 | grep -E "Stage A: ranked|Stage B|Stage C: GSS|GSS stages|Pipeline Throughput|latent_to_gene done|wall"
  done
fi
if [[ $what == ldsc || $what == all ]]; then
  d=$scratch/ldsc_20000_2000
  simulate ldsc_20000_2000 20000 2000 200000
  l2g "$d" 1 "$scratch/w_ldsc" >/dev/null 2>&1
  one=$scratch/one_trait.yaml four=$scratch/four_traits.yaml
  echo "planted_T1: $d/gwas/planted_T1.sumstats.gz" > "$one"
  { for t in 1 2 3 4; do echo "t$t: $d/gwas/planted_T1.sumstats.gz"; done; } > "$four"
  for y in "$one" "$four"; do
    rm -rf "$scratch/w_ldsc/b/spatial_ldsc"
    echo "== spatial-ldsc, 20000 spots x 200000 SNPs x 2000 genes, $(wc -l < "$y") trait(s)"
    /usr/bin/time -f "%e s wall" ldsc "$d" 1 "$scratch/w_ldsc" "$y" 2>&1 | grep -E "Pipeline Throughput|Spot LD|GSS reader|spatial LDSC on rank|spatial_ldsc done|wall"
  done
fi
if [[ $what == scaling || $what == all ]]; then
  d=$scratch/gss_20000_2000
  simulate gss_20000_2000 20000 2000 20000
  for np in 1 2; do
    echo "== strong scaling: latent-to-gene 20000 x 2000 with $np rank(s), $(( threads / np )) threads each"
    t=$(( threads / np ))
    rm -rf "$scratch/w_scale$np" && mkdir -p "$scratch/w_scale$np"
    /usr/bin/time -f "%e s wall" mpirun -np "$np" --oversubscribe --bind-to none "$exe" latent-to-gene --workdir "$scratch/w_scale$np" \
      --project-name b --h5ad-yaml "$d/st/samples.yaml" --annotation annotation --no-gpu \
      --latent-representation-cell emb_cell --latent-representation-niche emb_niche \
      --rank-read-workers "$t" --mkscore-compute-workers "$t" --mkscore-write-workers 1 2>&1 \
      | grep -E "Halo exchange|latent_to_gene done|wall"
  done
fi
