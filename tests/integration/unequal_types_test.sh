#!/usr/bin/env bash
# Very unequal cell types per rank: fx2d's cells are re-ordered by annotation, so each rank owns
# one or two cell types only (and some ranks none of a type; every rank still joins every halo
# exchange).
# 1 rank and 3 ranks (the latter staging intermediates with --memmap-tmp-dir) must give identical
# outputs. Usage: unequal_types_test.sh EXE FIXTURE_DIR(fx2d) SCRATCH
set -euo pipefail
exe=$1 fx=$2 scratch=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch/fx2d/input/st" "$scratch/tmp"
cp -r "$fx/input/w_ld" "$fx/input/gwas" "$fx/input/weights" "$scratch/fx2d/input/"
cp "$fx/input/st/samples.yaml" "$scratch/fx2d/input/st/"
/usr/bin/python3 - "$fx/input/st/sample0.h5ad" "$scratch/fx2d/input/st/sample0.h5ad" <<'PY'
import sys, anndata, numpy as np, warnings
warnings.filterwarnings("ignore")
a = anndata.read_h5ad(sys.argv[1])
order = np.argsort(a.obs["annotation"].astype(str).to_numpy(), kind="stable")
a[order].copy().write_h5ad(sys.argv[2])
PY
"$here/run_fixture.sh" "$exe" "$scratch/fx2d" 1 "$scratch/np1" > "$scratch/np1.log" 2>&1
"$here/run_fixture.sh" "$exe" "$scratch/fx2d" 3 "$scratch/np3" --memmap-tmp-dir "$scratch/tmp" > "$scratch/np3.log" 2>&1
grep "Cell type" "$scratch/np3.log" | head -8
/usr/bin/python3 "$here/fixture_check.py" same "$scratch/np1/fx2d" "$scratch/np3/fx2d"
test -z "$(ls -A "$scratch/tmp")"   # staging directories removed
