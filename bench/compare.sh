#!/usr/bin/env bash
# Benchmarks (not tests): a baseline commit and the current working tree, built and run in the
# same invocation on the same simulated data, side by side. Usage:
#
#   bench/compare.sh [BASE_REF]        BASE_REF defaults to fa8f2b7 (main before issue #11)
#
# What it does (docs/performance.md, "Method"):
#  1. builds BASE_REF in a git worktree under the scratch directory and the current tree (with
#     its uncommitted changes), both Release, -DGSMAP_CUDA=OFF, through ccache when installed;
#  2. checks that the new `simulate` with default options writes the baseline's bytes;
#  3. measures the machine's FMA peak with bench/fma_peak.cpp;
#  4. generates every data set once with the NEW binary (the baseline lacks --weight-nnz-per-snp)
#     and runs both binaries on it, alternating base and new, BENCH_REPEAT times each:
#       gss      latent-to-gene on each BENCH_GSS_SIZES section            -> cells/s
#       ldsc     spatial-ldsc, BENCH_LDSC_* section, 1 and 4 traits       -> spots x traits / s
#       ldsc-big spatial-ldsc with BENCH_BIG_SNPS SNPs, 1 trait           -> spots x traits / s
#       quick    quick-mode on the BENCH_LDSC_* section, 1 trait          -> wall, peak RSS
#     and prints, per run, wall and CPU time (CPU/wall), peak RSS (/usr/bin/time %M) and the
#     throughput, each beside the baseline's and the ratio new/base. For LDSC it adds the achieved
#     flop/s of a nominal flop model against the FMA peak.
#
# Sizes and settings (environment; the defaults are the full sizes, meant for an idle machine):
#   BENCH_QUICK=1          small sizes for a check on a busy machine (a few minutes after builds)
#   BENCH_WHAT             subset of "gss ldsc ldsc-big quick" (default: all four)
#   BENCH_GSS_SIZES        "CELLSxGENES ..." (default "20000x2000 100000x5000")
#   BENCH_LDSC_CELLS, BENCH_LDSC_GENES, BENCH_LDSC_SNPS (default 20000, 2000, 200000)
#   BENCH_BIG_SNPS         (default 1000000; same cells and genes as BENCH_LDSC_*)
#   BENCH_NNZ              SNP-gene non-zeros per SNP of the LDSC sets (default 13)
#   BENCH_TRAITS           trait counts for the ldsc runs (default "1 4"); BENCH_BIG_TRAITS ("1")
#   BENCH_THREADS          workers per stage (default: nproc); BENCH_NP ranks (default 1)
#   BENCH_REPEAT           runs per binary and benchmark (default 1; the fastest run is reported)
#   BENCH_SCRATCH          builds, data and runs (default: <repo>/build-bench; under the ccache
#                          base_dir so both builds share cache entries with ordinary builds)
#   BENCH_NEW_BUILD        build directory of the current tree (default <repo>/build-bench-new)
#   BENCH_NEW_BIN          an already built bin/ folder of the current tree (gsmap-mpi and
#                          fma_peak, e.g. build/bin of a Release build): the new build is skipped.
#                          On a busy machine this saves a full build; say so when quoting figures
#   BENCH_JOBS             parallel compile jobs (default 2)
#   BENCH_CMAKE_ARGS       extra configure arguments of both builds (default -DGSMAP_WERROR=ON,
#                          the flags of the project's usual builds, so ccache reuses their objects)
#   BENCH_L2G_ARGS, BENCH_LDSC_ARGS  extra arguments for both binaries (worker options are passed
#                          only to a binary whose --help lists them)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
base_ref=${1:-fa8f2b7}
scratch=${BENCH_SCRATCH:-$repo/build-bench}
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
jobs=${BENCH_JOBS:-2}
threads=${BENCH_THREADS:-$(nproc)}
np=${BENCH_NP:-1}
repeat=${BENCH_REPEAT:-1}
what=${BENCH_WHAT:-gss ldsc ldsc-big quick}
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
  gss_sizes=${BENCH_GSS_SIZES:-5000x1000 10000x1000}
  ldsc_cells=${BENCH_LDSC_CELLS:-5000} ldsc_genes=${BENCH_LDSC_GENES:-1000}
  ldsc_snps=${BENCH_LDSC_SNPS:-50000} big_snps=${BENCH_BIG_SNPS:-200000}
else
  gss_sizes=${BENCH_GSS_SIZES:-20000x2000 100000x5000}
  ldsc_cells=${BENCH_LDSC_CELLS:-20000} ldsc_genes=${BENCH_LDSC_GENES:-2000}
  ldsc_snps=${BENCH_LDSC_SNPS:-200000} big_snps=${BENCH_BIG_SNPS:-1000000}
fi
nnz=${BENCH_NNZ:-13}
traits_list=${BENCH_TRAITS:-1 4}
big_traits_list=${BENCH_BIG_TRAITS:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "compare.sh: /usr/bin/time not found. Fix: apt-get install time" >&2; exit 2; }

log() { printf '%s\n' "$*" >&2; }

# ---- 1. builds --------------------------------------------------------------------------------
base_sha=$(git -C "$repo" rev-parse --verify "$base_ref^{commit}") ||
  { log "compare.sh: '$base_ref' is not a commit. Fix: give a commit, tag or branch"; exit 2; }
new_desc="$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- 2>/dev/null || echo +dirty)"
base_desc=$(git -C "$repo" rev-parse --short "$base_sha")
base_src=$scratch/src-base
if [[ -d $base_src ]] && [[ $(git -C "$base_src" rev-parse HEAD 2>/dev/null) != "$base_sha" ]]; then
  git -C "$base_src" checkout --quiet --detach "$base_sha"
elif [[ ! -d $base_src ]]; then
  git -C "$repo" worktree prune
  git -C "$repo" worktree add --quiet --detach "$base_src" "$base_sha"
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
build() {  # label source-dir build-dir targets...
  local label=$1 src=$2 dir=$3; shift 3
  local logs=$scratch/build-logs
  mkdir -p "$logs"
  cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DGSMAP_CUDA=OFF -DGSMAP_BUILD_TESTS=OFF \
    "${launcher[@]}" ${BENCH_CMAKE_ARGS--DGSMAP_WERROR=ON} >"$logs/$label.configure.log" 2>&1 ||
    { log "compare.sh: configuring $src failed; see $logs/$label.configure.log"; exit 1; }
  nice cmake --build "$dir" -j "$jobs" --target "$@" >"$logs/$label.build.log" 2>&1 ||
    { log "compare.sh: building $src failed; see $logs/$label.build.log"
      tail -20 "$logs/$label.build.log" >&2; exit 1; }
}
# Both builds sit one level below their source tree, as a normal `build/` does, so that ccache
# (base_dir) sees the same relative paths as in the project's other builds and reuses objects.
new_build=${BENCH_NEW_BUILD:-$repo/build-bench-new}
new_bin=${BENCH_NEW_BIN:-$new_build/bin}
log "building base $base_desc in $base_src/build and new $new_desc in ${BENCH_NEW_BIN:-$new_build} ..."
t0=$SECONDS
build base "$base_src" "$base_src/build" gsmap-mpi
if [[ -n ${BENCH_NEW_BIN:-} ]]; then
  [[ -x $new_bin/gsmap-mpi && -x $new_bin/fma_peak ]] ||
    { log "compare.sh: BENCH_NEW_BIN=$new_bin lacks gsmap-mpi or fma_peak"; exit 2; }
  log "new: the binaries of $new_bin, built beforehand (not rebuilt here)"
else
  build new "$repo" "$new_build" gsmap-mpi fma_peak
fi
log "builds done in $((SECONDS - t0)) s"
BASE=$base_src/build/bin/gsmap-mpi
NEW=$new_bin/gsmap-mpi

# ---- 2. simulate defaults unchanged -----------------------------------------------------------
check_defaults() {  # label simulate-args...
  local label=$1; shift
  local d=$scratch/defaults/$label
  rm -rf "$d" && mkdir -p "$d"
  "$BASE" simulate --out "$d/base" "$@" >/dev/null 2>&1
  "$NEW" simulate --out "$d/new" "$@" >/dev/null 2>&1
  if diff -r -q "$d/base" "$d/new" >/dev/null; then
    echo "simulate $* : new output byte-identical to base ($(find "$d/new" -type f | wc -l) files)"
  else
    echo "simulate $* : DIFFERS from base:"; diff -r -q "$d/base" "$d/new" | head -5
    defaults_ok=0
  fi
}
defaults_ok=1
echo "== gsmap-mpi compare: base $base_desc vs new $new_desc, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg); $np rank(s), $threads worker threads per stage"
check_defaults demo --seed 1
check_defaults stack --seed 3 --n-cells 1500 --n-genes 600 --n-snps 30000 --n-slices 2 --edge-cases
[[ $defaults_ok == 1 ]] || log "compare.sh: WARNING: simulate defaults changed"

# ---- 3. FMA peak ------------------------------------------------------------------------------
peak_out=$("$new_bin/fma_peak" 1)
peak() { awk -v k="$1" '$1 == k {print $2}' <<<"$peak_out"; }
peak64=$(peak f64_per_core_gflops) peak32=$(peak f32_per_core_gflops)
peak64_all=$(peak f64_all_cores_gflops) cores=$(peak cores)
echo "FMA peak ($(peak isa)): f64 $peak64 GFLOP/s per core, f32 $peak32 per core; f64 all $cores cores together $peak64_all (per CPU-second)"

# ---- helpers ----------------------------------------------------------------------------------
# Worker options: only those the binary's --help lists (an option renamed in one version is not
# passed to it).
known_args() {  # exe subcommand "--opt value"...
  local exe=$1 sub=$2; shift 2
  local help; help=$("$exe" "$sub" --help 2>&1 || true)
  local a
  for a in "$@"; do
    set -- $a
    grep -q -- "$1\b" <<<"$help" && printf '%s\n' $a
  done
}
l2g_workers() {
  known_args "$1" latent-to-gene "--no-gpu" "--rank-read-workers $threads" \
    "--mkscore-compute-workers $threads" "--mkscore-write-workers 1"
}
ldsc_workers() {
  known_args "$1" spatial-ldsc "--no-gpu" "--ldsc-read-workers 1" "--ldsc-compute-workers $threads"
}

# Runs a command under /usr/bin/time; leaves "wall user sys maxrss_kb" in $run_dir/time.
timed() {  # run-dir command...
  local dir=$1; shift
  if ! "$TIME" -f "%e %U %S %M" -o "$dir/time" "$@" >"$dir/log" 2>&1; then
    log "compare.sh: failed: $*"; log "  (log: $dir/log)"; tail -15 "$dir/log" >&2; return 1
  fi
}

simulate_set() {  # name simulate-args...  (new binary; reused when complete)
  local d=$scratch/data/$1; shift
  if [[ ! -f $d/manifest.json ]]; then
    rm -rf "$d" && mkdir -p "$scratch/data"
    log "simulating $d ($*) ..."
    "$NEW" simulate --out "$d" --seed 7 "$@" >"$d.log" 2>&1 ||
      { log "compare.sh: simulate failed; see $d.log"; exit 1; }
  fi
}

l2g_cmd() {  # exe data workdir
  local exe=$1 data=$2 work=$3
  echo mpirun -np "$np" --bind-to none "$exe" latent-to-gene --workdir "$work" --project-name b \
    --h5ad-yaml "$data/st/samples.yaml" --annotation annotation \
    --latent-representation-cell emb_cell --latent-representation-niche emb_niche \
    $(l2g_workers "$exe") ${BENCH_L2G_ARGS:-}
}
ldsc_cmd() {  # exe data workdir traits-yaml
  local exe=$1 data=$2 work=$3 yaml=$4
  echo mpirun -np "$np" --bind-to none "$exe" spatial-ldsc --workdir "$work" --project-name b \
    --sumstats-config-file "$yaml" \
    --snp-gene-weight-adata-path "$data/weights/snp_gene_weights.h5ad" --w-ld-dir "$data/w_ld" \
    $(ldsc_workers "$exe") ${BENCH_LDSC_ARGS:-}
}
quick_cmd() {  # exe data workdir traits-yaml
  local exe=$1 data=$2 work=$3 yaml=$4
  echo mpirun -np "$np" --bind-to none "$exe" quick-mode --workdir "$work" --project-name b \
    --h5ad-yaml "$data/st/samples.yaml" --annotation annotation \
    --latent-representation-cell emb_cell --latent-representation-niche emb_niche \
    --sumstats-config-file "$yaml" \
    --snp-gene-weight-adata-path "$data/weights/snp_gene_weights.h5ad" --w-ld-dir "$data/w_ld" \
    $(known_args "$exe" quick-mode "--no-gpu" "--rank-read-workers $threads" \
      "--mkscore-compute-workers $threads" "--mkscore-write-workers 1" "--ldsc-read-workers 1" \
      "--ldsc-compute-workers $threads") ${BENCH_L2G_ARGS:-}
}

traits_yaml() {  # data n -> path of a yaml with n copies of planted_T1
  local y=$scratch/data/traits_$(basename "$1")_$2.yaml t
  : >"$y"
  for ((t = 1; t <= $2; t++)); do echo "t$t: $1/gwas/planted_T1.sumstats.gz" >>"$y"; done
  echo "$y"
}

# The spot-LD gene non-zeros per SNP (ST genes only; Unmapped and genes absent from the ST data do
# not enter the spot LD) and the SNP count, from the data set's manifest.
ldsc_model() {  # data -> "snps nnz_st"
  /usr/bin/python3 - "$1/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
w = m["weight_matrix"]
gene_nnz = (w["nnz"] - w["n_snps"]) / w["n_snps"]          # every row ends with Unmapped
st_share = m["truth"]["genes_in_weight_matrix"] / (w["n_features"] - 1)
print(w["n_snps"], gene_nnz * st_share)
PY
}
# Nominal LDSC flops per (SNP, spot): 2 x nnz for the spot LD (W_G . GSS^T) plus, per trait, the
# regression's moment update with P = 3 features: the weight (~8 flops), the mean(x N) term (2),
# P products q.x and 2 flops for each of the K = P(P+1)/2 + P = 9 moments: 8 + 2 + 3 + 18 = 31.
readonly kTraitFlops=31

# Runs base and new alternately; prints the table. Results of the fastest run of each binary.
declare -A best_wall best_user best_sys best_rss
compare() {  # name label unit-count unit-name flop-per-run(or 0) cmd-builder data workdir-prep extra...
  local name=$1 label=$2 units=$3 unit_name=$4 flops=$5 builder=$6 data=$7; shift 7
  local who rep dir
  unset best_wall best_user best_sys best_rss
  declare -gA best_wall best_user best_sys best_rss
  echo
  echo "== $label"
  for ((rep = 1; rep <= repeat; rep++)); do
    for who in base new; do
      local exe=$BASE; [[ $who == new ]] && exe=$NEW
      dir=$scratch/runs/$name/$who
      prepare_workdir "$who" "$dir" "$@"
      timed "$dir" $($builder "$exe" "$data" "$dir/work" "$@") || return 0
      read -r w u s m <"$dir/time"
      echo "   run $rep $who: wall $w s"
      if [[ -z ${best_wall[$who]:-} ]] || awk -v a="$w" -v b="${best_wall[$who]}" 'BEGIN{exit !(a < b)}'; then
        best_wall[$who]=$w best_user[$who]=$u best_sys[$who]=$s best_rss[$who]=$m
      fi
    done
  done
  awk -v bw="${best_wall[base]}" -v bu="${best_user[base]}" -v bs="${best_sys[base]}" -v bm="${best_rss[base]}" \
      -v nw="${best_wall[new]}" -v nu="${best_user[new]}" -v ns="${best_sys[new]}" -v nm="${best_rss[new]}" \
      -v units="$units" -v un="$unit_name" -v flops="$flops" -v p64="$peak64" -v p64all="$peak64_all" \
      -v p32="$peak32" -v bd="$base_desc" -v nd="$new_desc" '
    function row(name, b, n, fmt) {
      printf "   %-30s " fmt " " fmt "   %7.2fx\n", name, b, n, (b > 0 ? n / b : 0)
    }
    BEGIN {
      printf "   %-30s %14s %14s   %8s\n", "metric", "base " bd, "new " nd, "new/base"
      row(un, units / bw, units / nw, "%14.1f")
      row(un " per CPU-s", units / (bu + bs), units / (nu + ns), "%14.1f")
      row("wall s", bw, nw, "%14.2f")
      row("CPU s (user+sys)", bu + bs, nu + ns, "%14.2f")
      row("CPU / wall", (bu + bs) / bw, (nu + ns) / nw, "%14.2f")
      row("peak RSS MB", bm / 1024, nm / 1024, "%14.1f")
      if (flops > 0) {
        row("GFLOP/s (model, wall)", flops / bw / 1e9, flops / nw / 1e9, "%14.2f")
        row("% of f64 peak of all cores", 100 * flops / bw / 1e9 / p64all, 100 * flops / nw / 1e9 / p64all, "%14.2f")
        row("GFLOP per CPU-s", flops / (bu + bs) / 1e9, flops / (nu + ns) / 1e9, "%14.2f")
        row("% of f32 peak per core", 100 * flops / (bu + bs) / 1e9 / p32, 100 * flops / (nu + ns) / 1e9 / p32, "%14.2f")
      }
    }'
  log_excerpt base && log_excerpt new
  ldsc_split base && ldsc_split new
  compare_results "$name"
}

# Where an LDSC run's worker CPU went: spot LD (once per spot tile for all traits) against each
# trait's regression (moments and jackknife), as the binary logs it (binaries since issue 11; the
# baseline before it has no such line).
ldsc_split() {  # who
  local f=$scratch/runs/$name/$1/log line
  [[ -f $f ]] || return 0
  line=$(grep -h "worker CPU on rank 0" "$f" | sed -E 's/^\[[^]]*\] \[[a-z]+\] //' | head -n 1 || true)
  [[ -n $line ]] && echo "   split ($1): ${line#spatial LDSC worker CPU on rank 0: }"
  return 0
}

# The runs' own summaries (stage throughputs, spot-LD / regression split, memory lines), as each
# version logs them.
log_excerpt() {  # who
  local f=$scratch/runs/$name/$1/log re
  [[ -f $f ]] || return 0
  case $name in
    gss_*) re='Stage [ABC]|GSS stages|Writers first|latent_to_gene done|peak RSS' ;;
    ldsc_*) re='spot LD over|Pipeline Throughput|Reader|Regression|Bottleneck|spatial_ldsc done|peak RSS' ;;
    *) re='Stage [AB]|latent_to_gene done|spot LD over|Reader \(spot LD\)|Regression  |spatial_ldsc done|peak RSS' ;;
  esac
  echo "   log of $1:"
  grep -E "${BENCH_LOG_LINES:-$re}" "$f" |
    sed -E 's/^\[[^]]*\] \[[a-z]+\] //; s/^ +//; s/(done in [0-9.]+ s).*/\1/' | cut -c1-150 | head -n "${BENCH_LOG_MAX:-14}" | sed 's/^/     /'
}

# Both binaries must have done the same work: the per-spot z of every trait (spatial LDSC) must
# agree; the figure is printed, not judged (a new summation order may change the last bits).
compare_results() {  # name
  local b=$scratch/runs/$1/base/work/b/spatial_ldsc n=$scratch/runs/$1/new/work/b/spatial_ldsc
  [[ -d $b && -d $n ]] || return 0
  /usr/bin/python3 - "$b" "$n" <<'PY' || true
import glob, os, sys
import numpy as np, pandas as pd
b, n = sys.argv[1], sys.argv[2]
worst, count = 0.0, 0
for f in sorted(glob.glob(os.path.join(b, "*.csv.gz"))):
    g = os.path.join(n, os.path.basename(f))
    if not os.path.exists(g):
        print(f"   results: {os.path.basename(f)} missing in new"); continue
    x, y = pd.read_csv(f), pd.read_csv(g)
    if list(x["spot"]) != list(y["spot"]):
        print(f"   results: {os.path.basename(f)}: spots differ"); continue
    worst = max(worst, float(np.nanmax(np.abs(x["z"].values - y["z"].values))))
    count += 1
if count:
    print(f"   results: max |z new - z base| = {worst:.3g} over {count} trait file(s)")
PY
}

# Work directories: GSS runs start empty; LDSC runs get the GSS of their own binary (one
# latent-to-gene per binary and data set, untimed) and an empty spatial_ldsc directory.
prepare_workdir() {  # who dir [traits-yaml]
  local who=$1 dir=$2
  rm -rf "$dir/work" && mkdir -p "$dir/work"
  if [[ -n ${gss_of:-} ]]; then
    mkdir -p "$dir/work/b"
    cp -r "${gss_of}_$who/b/latent_to_gene" "$dir/work/b/"
  fi
}
make_gss() {  # data -> sets gss_of; runs latent-to-gene once per binary
  local data=$1 who
  gss_of=$scratch/gss/$(basename "$data")
  for who in base new; do
    local exe=$BASE; [[ $who == new ]] && exe=$NEW
    if [[ ! -f ${gss_of}_$who/done ]]; then
      rm -rf "${gss_of}_$who" && mkdir -p "${gss_of}_$who"
      log "latent-to-gene ($who) for the LDSC runs on $(basename "$data") ..."
      $(l2g_cmd "$exe" "$data" "${gss_of}_$who") >"${gss_of}_$who.log" 2>&1 ||
        { log "compare.sh: latent-to-gene failed; see ${gss_of}_$who.log"; exit 1; }
      touch "${gss_of}_$who/done"
    fi
  done
}

# ---- 4. benchmarks ----------------------------------------------------------------------------
for size in $gss_sizes; do
  [[ " $what " == *" gss "* ]] || break
  cells=${size%x*} genes=${size#*x}
  simulate_set "gss_$size" --n-cells "$cells" --n-genes "$genes" --n-snps 20000
  gss_of=
  compare "gss_$size" "latent-to-gene: $cells cells x $genes genes" "$cells" "cells/s" 0 \
    l2g_cmd "$scratch/data/gss_$size"
done

ldsc_name=ldsc_${ldsc_cells}x${ldsc_genes}x${ldsc_snps}_nnz$nnz
big_name=ldsc_${ldsc_cells}x${ldsc_genes}x${big_snps}_nnz$nnz
run_ldsc() {  # name traits-list label-suffix
  local name=$1 list=$2 data=$scratch/data/$1 t
  read -r m_snps nnz_st < <(ldsc_model "$data")
  make_gss "$data"
  for t in $list; do
    local y; y=$(traits_yaml "$data" "$t")
    local flops; flops=$(awk -v m="$m_snps" -v n="$ldsc_cells" -v z="$nnz_st" -v t="$t" -v k="$kTraitFlops" \
      'BEGIN{printf "%.6e", m * n * (2 * z + t * k)}')
    compare "${name}_t$t" "spatial-ldsc: $ldsc_cells spots x $ldsc_genes genes x $m_snps SNPs, $(printf '%.1f' "$nnz_st") spot-LD nnz/SNP ($nnz with Unmapped and non-ST genes), $t trait(s)" \
      "$((ldsc_cells * t))" "spots x traits / s" "$flops" ldsc_cmd "$data" "$y"
  done
  gss_of=
}
if [[ " $what " == *" ldsc "* || " $what " == *" quick "* ]]; then
  simulate_set "$ldsc_name" --n-cells "$ldsc_cells" --n-genes "$ldsc_genes" --n-snps "$ldsc_snps" \
    --weight-nnz-per-snp "$nnz"
fi
[[ " $what " == *" ldsc "* ]] && run_ldsc "$ldsc_name" "$traits_list"
if [[ " $what " == *" ldsc-big "* ]]; then
  simulate_set "$big_name" --n-cells "$ldsc_cells" --n-genes "$ldsc_genes" --n-snps "$big_snps" \
    --weight-nnz-per-snp "$nnz"
  run_ldsc "$big_name" "$big_traits_list"
fi
if [[ " $what " == *" quick "* ]]; then
  data=$scratch/data/$ldsc_name
  gss_of=
  compare "quick_$ldsc_name" "quick-mode: $ldsc_cells cells x $ldsc_genes genes x $ldsc_snps SNPs ($nnz nnz/SNP), 1 trait" \
    "$ldsc_cells" "cells/s (pipeline)" 0 quick_cmd "$data" "$(traits_yaml "$data" 1)"
fi
echo
echo "Logs and outputs: $scratch/runs/<benchmark>/{base,new}/. Best of $repeat run(s) per binary."
