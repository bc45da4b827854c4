#!/usr/bin/env bash
# The device check (docs/gpu.md "The device check"), run from a bundle (scripts/bundle.sh copies
# this script to its bin/) on a GPU machine that has none of Debian's libraries:
#
#   gsmap-bundle/bin/gpu-check.sh [WORKDIR]        # default /tmp/gsmap-gpu-check
#
#  1. a small simulated set, quick-mode on the CPU (1 and 2 ranks) and on the GPU with 1 rank and
#     with 2 ranks sharing the GPU, compared with bin/compare_runs.py (GSS bit-identical; LDSC and
#     Cauchy within the fixtures' tolerances, docs/algorithms.md §10.11);
#  2. the GPU alone at 100,000 cells x 20,000 genes and 1M SNPs at 13 weight non-zeros per SNP:
#     cells/s of the GSS step, spots/s per trait of the LDSC step, peak device memory (nvidia-smi),
#     and the kernels alone at the same sizes (bin/gpu_selftest --kernels);
#  3. a block to paste into docs/performance.md.
#
# Without a GPU it runs the CPU half, says so, and exits 77 once that half passed. Exit 1 when a
# comparison fails or a run breaks. Environment: GPU_CHECK_CELLS / _GENES / _SNPS / _NNZ size the
# large run (GPU_CHECK_BIG=0 skips it); GPU_CHECK_SMALL_CELLS / _GENES / _SNPS the small set;
# GPU_CHECK_LIMIT_S (default 570) bounds the whole check: the large quick-mode run is stopped when
# it would overrun it (less 60 s kept for the kernels alone) and skipped when under 60 s are left;
# GPU_CHECK_PYTHON the Python with numpy and h5py (default python3); GPU_CHECK_BIG_ON_CPU=1 runs
# the large part on the CPU (to test this script on a machine without a GPU, at small sizes).
set -uo pipefail
t0=$SECONDS
B=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
exe=$B/bin/gsmap-mpi
mpirun=$B/bin/mpirun
compare=$B/bin/compare_runs.py
if [[ ! -x $exe || ! -x $mpirun ]]; then
  echo "gpu-check: $exe or $mpirun missing: run the copy in a bundle's bin/ (scripts/bundle.sh)" >&2
  exit 2
fi
W=${1:-/tmp/gsmap-gpu-check}
python=${GPU_CHECK_PYTHON:-python3}
limit=${GPU_CHECK_LIMIT_S:-570}
small=(--n-cells "${GPU_CHECK_SMALL_CELLS:-3000}" --n-genes "${GPU_CHECK_SMALL_GENES:-1000}"
       --n-snps "${GPU_CHECK_SMALL_SNPS:-20000}")
big_cells=${GPU_CHECK_CELLS:-100000} big_genes=${GPU_CHECK_GENES:-20000}
big_snps=${GPU_CHECK_SNPS:-1000000} big_nnz=${GPU_CHECK_NNZ:-13}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf "$W" && mkdir -p "$W"
ncpu=$(nproc 2>/dev/null || echo 2)
workers=$(( ncpu / 2 > 1 ? ncpu / 2 : 1 ))

failures=0
rows=()      # the block for docs/performance.md, one table row each
row() { rows+=("| $1 | $2 |"); }
say() { echo "gpu-check: $*"; }
elapsed() { echo $(( SECONDS - t0 )); }

gpus=0 gpu_name="no GPU visible"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  gpus=$(nvidia-smi -L | grep -c '^GPU ' || true)
  gpu_name=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)
fi
say "bundle $B; $ncpu CPUs; GPUs: $gpus ($gpu_name)"
"$exe" --version | sed 's/^/    /'
[[ -n ${GSMAP_NCCL_LIBRARY:-} ]] && say "NCCL for the device transport: $GSMAP_NCCL_LIBRARY"

# quick-mode NAME NP DATA GPU_FLAG [extra...]: one run into $W/NAME; its log in $W/NAME.log.
quick() {
  local name=$1 np=$2 data=$3 flag=$4
  shift 4
  local start=$SECONDS
  mkdir -p "$W/$name"
  timeout "${GPU_CHECK_TIMEOUT:-600}" "$mpirun" -np "$np" --oversubscribe "$exe" quick-mode --workdir "$W/$name" --project-name p \
    --h5ad-yaml "$data/st/samples.yaml" --annotation annotation --cauchy-annotations domain \
    --latent-representation-cell emb_cell --latent-representation-niche emb_niche \
    --sumstats-config-file "$data/gwas/sumstats.yaml" \
    --snp-gene-weight-adata-path "$data/weights/snp_gene_weights.h5ad" --w-ld-dir "$data/w_ld" \
    --rank-read-workers "$workers" --mkscore-compute-workers "$workers" \
    --mkscore-write-workers 1 --ldsc-read-workers 1 --ldsc-compute-workers "$workers" \
    "$flag" "$@" >"$W/$name.log" 2>&1
  local rc=$?
  [[ $rc -eq 124 ]] && say "$name: stopped after ${GPU_CHECK_TIMEOUT:-600} s"
  say "$name: $np rank(s), $flag: exit $rc in $(( SECONDS - start )) s ($(grep -o 'Backend [A-Z]*' "$W/$name.log" | head -1))"
  [[ $rc -eq 0 ]] || tail -n 25 "$W/$name.log" | sed 's/^/    /'
  return $rc
}

# 2 ranks need a working intra-node transport; the bundle's default is shared memory without
# single-copy (etc/openmpi-mca-params.conf). If that fails here, retry once over TCP and say so.
quick2() {
  if quick "$@"; then return 0; fi
  say "retrying $1 over TCP (OMPI_MCA_btl=self,tcp)"
  rm -rf "$W/$1"
  if OMPI_MCA_btl=self,tcp quick "$@"; then
    row "2-rank transport" "shared memory (vader) failed; TCP worked: use OMPI_MCA_btl=self,tcp"
    return 0
  fi
  return 1
}

compare_pair() {  # LABEL REF GOT
  local out
  if ! "$python" -c 'import numpy, h5py' 2>/dev/null; then
    say "$1: not compared: $python lacks numpy or h5py (set GPU_CHECK_PYTHON)"
    row "$1" "not compared (no numpy/h5py)"
    failures=$((failures + 1))
    return
  fi
  out=$("$python" "$compare" "$W/$2/p" "$W/$3/p" 2>&1)
  local rc=$?
  echo "$out" | sed 's/^/    /'
  local gss ldsc cauchy
  gss=$(echo "$out" | grep 'marker_scores.h5ad' | sed 's/^[a-zA-Z]* *//')
  ldsc=$(echo "$out" | grep -o 'max rel err beta [^;]*' | sort -k5 -g | tail -1)
  cauchy=$(echo "$out" | grep 'cauchy' | grep -o 'max rel err [0-9.e+-]*' | sort -k4 -g | tail -1)
  if [[ $rc -eq 0 ]]; then
    row "$1" "within tolerance: GSS ${gss:-?}; LDSC worst ${ldsc:-?}; Cauchy worst ${cauchy:-?}"
  else
    row "$1" "**FAILED**: $(echo "$out" | grep '^FAIL' | head -3 | tr '\n' ' ')"
    failures=$((failures + 1))
  fi
}

# ---- 1. small set: CPU against GPU, 1 and 2 ranks -------------------------------------------
say "simulating the small set (${small[*]})"
"$exe" simulate --out "$W/small" --seed 3 "${small[@]}" >"$W/simulate-small.log" 2>&1 ||
  { say "simulate failed"; cat "$W/simulate-small.log"; exit 1; }
# The large set is simulated (one thread, the longest single task) while the small runs go on.
big_wanted=0 big_flag=--use-gpu
[[ ${GPU_CHECK_BIG_ON_CPU:-0} == 1 ]] && big_flag=--no-gpu   # tests this script without a GPU
if (( gpus > 0 )) || [[ $big_flag == --no-gpu ]] && [[ ${GPU_CHECK_BIG:-1} != 0 ]]; then
  big_wanted=1
  say "simulating $big_cells cells x $big_genes genes, $big_snps SNPs at $big_nnz nnz/SNP (background)"
  sim_start=$SECONDS
  "$exe" simulate --out "$W/big" --seed 7 --n-cells "$big_cells" --n-genes "$big_genes" \
    --n-snps "$big_snps" --weight-nnz-per-snp "$big_nnz" >"$W/simulate-big.log" 2>&1 &
  sim_pid=$!
fi
quick cpu1 1 "$W/small" --no-gpu || failures=$((failures + 1))
if (( gpus > 0 )); then
  quick gpu1 1 "$W/small" --use-gpu || failures=$((failures + 1))
  quick2 gpu2 2 "$W/small" --use-gpu || failures=$((failures + 1))
  grep -q 'Backend CUDA' "$W/gpu1.log" ||
    { say "gpu1 did not run on the GPU"; failures=$((failures + 1)); }
  compare_pair "small set: GPU 1 rank vs CPU 1 rank" cpu1 gpu1
  compare_pair "small set: GPU 2 ranks sharing the GPU vs CPU 1 rank" cpu1 gpu2
  # The device transport: NCCL with one rank (a send to itself), MPI staging with two ranks on
  # the one GPU (tests/gpu/test_transport.cpp).
  if [[ -x $B/bin/test_transport ]]; then
    for np in 1 2; do
      timeout 120 "$mpirun" -np "$np" --oversubscribe "$B/bin/test_transport" >"$W/transport$np.log" 2>&1
      rc=$?
      paths=$(grep -a -o 'device transport: [^(]*([^)]*)' "$W/transport$np.log" | sort -u | tr '\n' ';')
      moved=$(grep -a -o 'transport test (device[^:]*: .* moved [0-9.]* MiB' "$W/transport$np.log" | tr '\n' ';')
      skipped=$(grep -a -c 'SKIPPED \]' "$W/transport$np.log")
      say "test_transport, $np rank(s): exit $rc; $paths $moved"
      if [[ $rc -eq 0 ]]; then
        row "device transport, $np rank(s) on the GPU" "tests passed ($skipped skip lines): ${paths%;}; ${moved%;}"
      else
        row "device transport, $np rank(s) on the GPU" "**FAILED** (exit $rc; $W/transport$np.log)"
        tail -n 30 "$W/transport$np.log" | sed 's/^/    /'
        failures=$((failures + 1))
      fi
    done
  fi
else
  say "no GPU visible (nvidia-smi lists none): the GPU half is skipped; CPU 2 ranks vs CPU 1 rank"
  quick2 cpu2 2 "$W/small" --no-gpu || failures=$((failures + 1))
  compare_pair "small set: CPU 2 ranks vs CPU 1 rank" cpu1 cpu2
fi
row "small set" "$(echo "${small[*]}" | sed 's/--n-//g'), $(elapsed) s for simulate + runs + comparisons"

# ---- 2. GPU alone at size -------------------------------------------------------------------
# "<cells/s> <seconds>" of the pipeline summary that follows "Pipeline summary: <what>" in a log.
summary_rate() {
  awk -v what="$2" '
    index($0, "Pipeline summary: " what) { on = 1 }
    on && /Time Elapsed/ { secs = $(NF - 1) }
    on && /Pipeline Throughput/ { gsub(/[()]/, ""); print $(NF - 1), secs; exit }' "$1"
}
if (( big_wanted )); then
  wait "$sim_pid"
  sim_rc=$?
  if (( sim_rc != 0 )); then
    say "simulate of the large set failed (exit $sim_rc)"
    tail "$W/simulate-big.log"
    exit 1
  fi
  row "large set" "$big_cells cells × $big_genes genes, $big_snps SNPs at $big_nnz nnz/SNP; simulated in $(( SECONDS - sim_start )) s (one thread, beside the small runs)"
  left=$(( limit - $(elapsed) - 60 ))
  if (( left < 60 )); then
    say "$(elapsed) s spent before the large run (GPU_CHECK_LIMIT_S=$limit): skipped"
    row "large run" "skipped: $(elapsed) s spent before it (GPU_CHECK_LIMIT_S=$limit)"
  else
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$W/memory.log" 2>/dev/null &
    smi=$!
    s0=$SECONDS
    GPU_CHECK_TIMEOUT=$left quick big 1 "$W/big" "$big_flag" ||
      failures=$((failures + 1))
    wall=$(( SECONDS - s0 ))
    kill "$smi" 2>/dev/null; wait "$smi" 2>/dev/null
    read -r rate secs <<<"$(summary_rate "$W/big.log" GSS)"
    stage_c=$(grep -o 'Stage C: GSS of .*' "$W/big.log" | head -1)
    row "GSS step (Stage C)" "${rate:-?} cells/s over ${secs:-?} s (pipeline summary); ${stage_c:-no Stage C line}"
    ldsc=$(grep -o 'spatial LDSC on rank 0: [^;]*' "$W/big.log" | head -1)
    [[ -n $ldsc ]] && row "LDSC step (transfers included)" "${ldsc#spatial LDSC on rank 0: }"
    steps=$(grep -o 'Step [a-z_]* finished in [0-9]*m [0-9]*s' "$W/big.log" |
      sed 's/Step //; s/ finished in /: /' | tr '\n' ';')
    row "quick-mode wall, 1 rank, incl. I/O" "$wall s (${steps%;})"
    peak=$(sort -n "$W/memory.log" 2>/dev/null | tail -1)
    row "peak device memory (nvidia-smi, 100 ms samples)" "${peak:-?} MiB"
    if [[ -x $B/bin/gpu_selftest ]]; then
      timeout 60 "$B/bin/gpu_selftest" --kernels "$big_genes" "$big_snps" >"$W/kernels.log" 2>&1
      echo "gpu_selftest --kernels: exit $?"
      grep -E '^(GSS|LDSC) ' "$W/kernels.log" | sed 's/^/    /'
      while IFS= read -r line; do row "kernel alone" "$line"; done < <(grep -E '^(GSS|LDSC) ' "$W/kernels.log")
    fi
  fi
fi

# ---- 3. the block for docs/performance.md ---------------------------------------------------
echo
echo "### Device check, $(date -u +%Y-%m-%d) (scripts/gpu-check.sh from the bundle)"
echo
echo "Machine: $gpu_name; $ncpu CPUs; $("$exe" --version | head -2 | tr '\n' ' ')"
echo
echo "| check | result |"
echo "| --- | --- |"
printf '%s\n' "${rows[@]}"
echo "| whole check | $(elapsed) s wall, $failures failure(s) |"
echo
if (( failures > 0 )); then exit 1; fi
if (( gpus == 0 )); then say "no GPU: only the CPU half ran (exit 77)"; exit 77; fi
exit 0
