#!/usr/bin/env bash
# ldscore-weight-matrix benchmarks (docs/performance.md "LD-score weight matrix"); not a test.
#   bench/ldscore_bench.sh BUILD_DIR SCRATCH [chr22|genome|all] [PLINK_DIR]
# chr22: the real 1000 Genomes chromosome-22 panel (PLINK_DIR, default ../shared/data/real/plink),
#   the numpy baseline (bench/ldscore_numpy.py) and gsmap-mpi at 1, 2, 4 ranks (and both kernels at
#   1 rank), interleaved, REPS times each. genome: a synthetic 1000-person, 1.2M-variant,
#   22-chromosome panel (bench/ldscore_panel; GENOME_N individuals, default 1000), whole genome at
#   GENOME_RANKS ranks (default 1 2 4).
# Figures: the "time:" and "peak memory per rank" lines of the log, and /usr/bin/time's wall time.
# BASE_BUILD=DIR: each gsmap-mpi run is preceded by the same run of DIR/bin/gsmap-mpi (label base_*),
# a baseline interleaved with the new build on the same data.
set -uo pipefail
build=$(cd "$1" && pwd) scratch=$2 what=${3:-all}
here=$(cd "$(dirname "$0")" && pwd)
plink=${4:-$here/../../shared/data/real/plink}
exe=$build/bin/gsmap-mpi
reps=${REPS:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$scratch"
cpus=$(nproc)

ours() {  # ours LABEL NP ROOT HM3 BED [extra...]
  if [[ -n ${BASE_BUILD:-} ]]; then exe=$(cd "$BASE_BUILD" && pwd)/bin/gsmap-mpi one "base_$1" "${@:2}"; fi
  exe=$build/bin/gsmap-mpi one "$@"
}
one() {
  local label=$1 np=$2 root=$3 hm3=$4 bed=$5; shift 5
  local threads=$(( cpus / np > 0 ? cpus / np : 1 ))
  rm -rf "$scratch/out_$label"
  /usr/bin/time -f "wall %e s" mpirun -np "$np" --bind-to none "$exe" ldscore-weight-matrix \
    --bfile-root "$root" --hm3-snp-dir "$hm3" --mapping-file "$bed" --strategy tss \
    --feature-window-size 50000 --calculate-w-ld --output-dir "$scratch/out_$label" \
    --ldscore-compute-workers "$threads" "$@" >"$scratch/$label.log" 2>&1
  echo "$label ($np rank(s) x $threads thread(s)): $(grep -h 'time:' "$scratch/$label.log" | sed 's/.*time: //'); $(grep -h 'peak memory' "$scratch/$label.log" | sed 's/.*info\] //'); $(grep -h 'set-up per rank' "$scratch/$label.log" | sed 's/.*info\] //'); $(grep -h 'variants held per rank' "$scratch/$label.log" | sed 's/.*info\] //'); $(tail -1 "$scratch/$label.log")"
}

if [[ $what == chr22 || $what == all ]]; then
  echo "== chromosome 22 (503 individuals, 17,290 variants); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  for ((r = 1; r <= reps; r++)); do
    [[ ${NO_NUMPY:-0} == 1 ]] || /usr/bin/time -f "wall %e s" /usr/bin/python3 "$here/ldscore_numpy.py" "$plink/22_filt" \
      "$plink/hm3/hm.22.snp" "$plink/genes.protein_coding.v39.chr22.bed" 2>&1 | tr '\n' ' ' | sed 's/^/numpy: /'; echo
    for np in 1 2 4; do
      ours "chr22_np$np" "$np" "$plink/{chr}_filt" "$plink/hm3" "$plink/genes.protein_coding.v39.chr22.bed" --chromosomes 22
    done
    ours chr22_eigen 1 "$plink/{chr}_filt" "$plink/hm3" "$plink/genes.protein_coding.v39.chr22.bed" --chromosomes 22 --ldscore-kernel eigen
  done
fi

if [[ $what == genome || $what == all ]]; then
  n=${GENOME_N:-1000}  # individuals (the LD work grows with them, the variant tables do not)
  panel=$scratch/panel_$n
  [[ -f $panel/panel.22.bed ]] || "$build/bin/ldscore_panel" "$panel" "$n" 1200000 1 >/dev/null
  echo "== synthetic genome ($n individuals, 1.2M variants, 22 chromosomes); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  for ((r = 1; r <= ${GENOME_REPS:-1}; r++)); do
    for np in ${GENOME_RANKS:-1 2 4}; do
      ours "genome_np$np" "$np" "$panel/panel.{chr}" "$panel/hm3" "$panel/genes.bed"
    done
  done
fi
