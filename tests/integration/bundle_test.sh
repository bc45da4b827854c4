#!/usr/bin/env bash
# The relocatable bundle (scripts/bundle.sh, docs/gpu.md): made from the CUDA build, moved to
# another path, it runs the demo with 2 ranks through its own mpirun, and the dynamic loader's log
# (LD_DEBUG=libs) of every process shows no library from outside the bundle other than glibc,
# libstdc++/libgcc_s and the CUDA driver/runtime. Then bin/gpu-check.sh's CPU half runs from it
# (GPU_CHECK_BIG=0; exit 77 without a GPU), and its comparison must catch a flipped GSS bit and an
# LDSC beta off by 1e-3. Skips (77) when the build has no CUDA backend.
# Usage: bundle_test.sh SOURCE_DIR BUILD_DIR SCRATCH
set -euo pipefail
src=$1 build=$2 scratch=$3
if ! "$build/bin/gsmap-mpi" --version | grep -q '^CUDA backend: on'; then
  echo "SKIP: $build was configured without the CUDA backend (no nvcc): nothing to bundle"
  exit 77
fi
rm -rf "$scratch" && mkdir -p "$scratch"
"$src/scripts/bundle.sh" "$build" "$scratch/made"
# Relocate: the folder where it was made disappears.
mkdir -p "$scratch/elsewhere"
mv "$scratch/made" "$scratch/elsewhere/gsmap"
B=$scratch/elsewhere/gsmap

# A clean environment: nothing from the build or the system's Open MPI settings leaks in.
run() {
  env -i HOME="${HOME:-/tmp}" PATH=/usr/bin:/bin OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    GSMAP_NCCL_LIBRARY=none "$@"
}
data=$scratch/data
run "$B/bin/gsmap-mpi" simulate --out "$data" --seed 1 --n-cells 1500 --n-genes 600 --n-snps 8000
mkdir -p "$scratch/ld" "$scratch/work"
run LD_DEBUG=libs LD_DEBUG_OUTPUT="$scratch/ld/trace" "$B/bin/mpirun" -np 2 --oversubscribe \
  gsmap-mpi quick-mode --workdir "$scratch/work" --project-name demo \
  --h5ad-yaml "$data/st/samples.yaml" --annotation annotation --cauchy-annotations domain \
  --latent-representation-cell emb_cell --latent-representation-niche emb_niche \
  --sumstats-config-file "$data/gwas/sumstats.yaml" \
  --snp-gene-weight-adata-path "$data/weights/snp_gene_weights.h5ad" --w-ld-dir "$data/w_ld"

# Every library any process initialised ("calling init: PATH"): inside the bundle, or glibc, the
# C++ runtime, the CUDA driver/runtime.
system_re='/(ld-linux-x86-64\.so|libc\.so|libm\.so|libmvec\.so|libpthread\.so|libdl\.so|librt\.so|libresolv\.so|libutil\.so|libanl\.so|libnss_[a-z]*\.so|libstdc\+\+\.so|libgcc_s\.so|libcuda\.so|libcudart\.so|libnvidia-[a-z-]*\.so)[.0-9]*$'
inits=$(cat "$scratch"/ld/trace.* | sed -n 's/.*calling init: //p' | sort -u | xargs -r readlink -f | sort -u)
outside=$(grep -v "^$B/" <<<"$inits" | grep -v -E "$system_re" || true)
n_procs=$(ls "$scratch"/ld/trace.* | wc -l)
ranks=$(grep -l "calling init: $B/lib/openmpi/mca_btl_vader.so" "$scratch"/ld/trace.* |
  xargs -r grep -l "calling init: $B/.*/libmpi.so.40" | wc -l || true)
echo "LD_DEBUG: $n_procs processes, $(grep -c "^$B/" <<<"$inits") libraries from the bundle," \
     "$ranks processes with the bundle's libmpi and vader"
grep -v "^$B/" <<<"$inits" | sed 's/^/  outside the bundle (allowed): /'
if [[ -n $outside ]]; then
  echo "FAIL: libraries loaded from outside the bundle:"
  echo "$outside"
  exit 1
fi
# libcairo is opened at run time by the report that ends quick-mode (src/report/raster.cpp).
for lib in libmpi.so.40 libhdf5_openmpi.so.103 libyaml-cpp.so libtbb.so libboost_program_options.so \
           libpmix.so.2 libhwloc.so libevent_core openmpi/mca_pml_ob1.so libcairo.so.2; do
  grep -q "^$B/lib/$lib" <<<"$inits" || { echo "FAIL: $lib not loaded from the bundle"; exit 1; }
done
[[ $ranks -ge 2 ]] || { echo "FAIL: expected 2 ranks with the bundle's libmpi and vader"; exit 1; }

/usr/bin/python3 - "$scratch" <<'PY'
import sys, json, csv
s = sys.argv[1]
truth = json.load(open(f"{s}/data/manifest.json"))["truth"]["planted_type"]
rows = list(csv.DictReader(open(f"{s}/work/demo/cauchy_combination/demo_planted_T1.annotation.cauchy.csv")))
top = min(rows, key=lambda r: float(r["p_cauchy"]))
print(f"planted: top {top['annotation']} p_cauchy {float(top['p_cauchy']):.3g} (truth {truth})")
assert top["annotation"] == truth and float(top["p_cauchy"]) < 1e-3, "planted type not recovered"
PY

# The device check's CPU half, from the relocated bundle.
set +e
run GPU_CHECK_BIG=0 GPU_CHECK_PYTHON=/usr/bin/python3 GPU_CHECK_SMALL_CELLS=800 \
  GPU_CHECK_SMALL_GENES=400 GPU_CHECK_SMALL_SNPS=5000 "$B/bin/gpu-check.sh" "$scratch/check"
rc=$?
set -e
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  [[ $rc -eq 77 ]] || { echo "FAIL: gpu-check.sh without a GPU: exit $rc, expected 77"; exit 1; }
else
  [[ $rc -eq 0 ]] || { echo "FAIL: gpu-check.sh exit $rc"; exit 1; }
fi
# The comparison finds a difference: one GSS bit flipped and one LDSC beta off by 1e-3.
cp -r "$scratch/check/cpu1" "$scratch/check/bad"
/usr/bin/python3 - "$scratch/check/bad/p" <<'PY'
import sys, glob, gzip, csv, io, h5py, numpy as np
p = sys.argv[1]
with h5py.File(f"{p}/latent_to_gene/marker_scores.h5ad", "r+") as f:
    x = f["X"][()]
    x.view(np.uint16)[0, 0] ^= 1
    f["X"][...] = x
path = sorted(glob.glob(f"{p}/spatial_ldsc/*.csv.gz"))[0]
rows = list(csv.DictReader(gzip.open(path, "rt")))
rows[0]["beta"] = repr(float(rows[0]["beta"]) * (1 + 1e-3))
out = io.StringIO()
w = csv.DictWriter(out, fieldnames=list(rows[0]))
w.writeheader(); w.writerows(rows)
gzip.open(path, "wt").write(out.getvalue())
PY
set +e
report=$(/usr/bin/python3 "$B/bin/compare_runs.py" "$scratch/check/cpu1/p" "$scratch/check/bad/p")
rc=$?
set -e
grep '^FAIL' <<<"$report"
[[ $rc -eq 1 ]] && grep -q '^FAIL latent_to_gene/marker_scores.h5ad: .* 1 differ' <<<"$report" &&
  grep -q '^FAIL .*csv.gz: max rel err beta 1.0' <<<"$report" ||
  { echo "FAIL: compare_runs.py missed a planted difference (exit $rc)"; echo "$report"; exit 1; }
echo "bundle test passed: $(du -sh "$B" | cut -f1) at $B"
