#!/usr/bin/env bash
# cmake --install into a fresh prefix, then load the installed environment-module file (evaluated
# by tclsh with the module commands it uses) and run the demo-size quick-mode with the installed
# program only: the documented install (docs/getting-started.md "Installing") works.
# Usage: install_test.sh BUILD_DIR SCRATCH
set -euo pipefail
build=$1 scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch/work"
prefix=$scratch/prefix
cmake --install "$build" --prefix "$prefix" >"$scratch/install.txt"
for f in bin/gsmap-mpi share/doc/gsmap-mpi/LICENSE share/doc/gsmap-mpi/README.md \
         share/doc/gsmap-mpi/docs/usage.md share/gsmap-mpi/slurm/cpu.sbatch \
         share/gsmap-mpi/slurm/gpu-single-node.sbatch; do
  [[ -f $prefix/$f ]] || { echo "FAIL: $f not installed"; cat "$scratch/install.txt"; exit 1; }
done
[[ -x $prefix/share/gsmap-mpi/slurm/cpu.sbatch ]] || { echo "FAIL: templates not executable"; exit 1; }
grep -q "MIT License" "$prefix/share/doc/gsmap-mpi/LICENSE"
modulefile=$(ls "$prefix"/share/modulefiles/gsmap-mpi/*)
head -1 "$modulefile" | grep -q '^#%Module' || { echo "FAIL: $modulefile is not a modulefile"; exit 1; }
# The modulefile through tclsh: prints what `module load` would set (prefix from its own location).
env_lines=$(tclsh <<TCL
proc module-whatis {args} {}
proc conflict {args} {}
proc setenv {name value} { puts "\$name=\$value" }
proc prepend-path {name value} { puts "\$name+=\$value" }
set ModulesCurrentModulefile {$modulefile}
source \$ModulesCurrentModulefile
TCL
)
echo "$env_lines"
real_prefix=$(cd "$prefix" && pwd -P)
grep -qx "PATH+=$real_prefix/bin" <<<"$env_lines" || { echo "FAIL: modulefile PATH"; exit 1; }
grep -qx "GSMAP_MPI_SLURM=$real_prefix/share/gsmap-mpi/slurm" <<<"$env_lines" \
  || { echo "FAIL: modulefile GSMAP_MPI_SLURM"; exit 1; }
docs=$(sed -n 's/^GSMAP_MPI_DOCS=//p' <<<"$env_lines")
[[ -f $docs/usage.md ]] || { echo "FAIL: GSMAP_MPI_DOCS=$docs has no usage.md"; exit 1; }

# Run from the installed tree only, as after `module load gsmap-mpi`.
export PATH=$real_prefix/bin:$PATH
cd "$scratch"
[[ $(command -v gsmap-mpi) == "$real_prefix/bin/gsmap-mpi" ]]
gsmap-mpi --version | head -1
gsmap-mpi simulate --out data --seed 1 >/dev/null 2>&1
gsmap-mpi quick-mode --workdir work --project-name demo --h5ad-yaml data/st/samples.yaml \
  --annotation annotation --latent-representation-cell emb_cell \
  --latent-representation-niche emb_niche --sumstats-config-file data/gwas/sumstats.yaml \
  --snp-gene-weight-adata-path data/weights/snp_gene_weights.h5ad --w-ld-dir data/w_ld \
  2>"$scratch/run.txt" || { cat "$scratch/run.txt"; exit 1; }
grep -E "run summary|rank 0 \(" "$scratch/run.txt"
/usr/bin/python3 - <<'PY'
import json, pandas as pd
truth = json.load(open("data/manifest.json"))["truth"]["planted_type"]
p = pd.read_csv("work/demo/cauchy_combination/demo_planted_T1.annotation.cauchy.csv")
top = p.sort_values("p_cauchy").iloc[0]
print(f"installed gsmap-mpi: planted_T1 top {top.annotation} p_cauchy {top.p_cauchy:.3g} (truth {truth})")
assert top.annotation == truth and top.p_cauchy < 1e-6
PY
