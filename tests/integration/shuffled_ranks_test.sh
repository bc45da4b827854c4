#!/usr/bin/env bash
# Rank invariance on a shuffled input: fx2d's cells stored in a random order (as h5ad files sorted
# by barcode are), quick-mode with NP ranks must write exactly the outputs of the 1-rank run on the
# same shuffled file (tests/integration/outputs_same.py). NP = 1 prepares the shuffled input and
# the reference run. Usage: shuffled_ranks_test.sh EXE FIXTURE_DIR(fx2d) NP SCRATCH
set -euo pipefail
exe=$1 fx=$2 np=$3 scratch=$4
here=$(cd "$(dirname "$0")" && pwd)
data=$scratch/input/fx2d
if [[ $np -eq 1 ]]; then
  rm -rf "$scratch" && mkdir -p "$data/input/st"
  cp -r "$fx/input/w_ld" "$fx/input/gwas" "$fx/input/weights" "$data/input/"
  cp "$fx/input/st/samples.yaml" "$data/input/st/"
  /usr/bin/python3 - "$fx/input/st/sample0.h5ad" "$data/input/st/sample0.h5ad" <<'PY'
import sys, anndata, numpy as np, warnings
warnings.filterwarnings("ignore")
a = anndata.read_h5ad(sys.argv[1])
a[np.random.default_rng(13).permutation(a.n_obs)].copy().write_h5ad(sys.argv[2])
PY
fi
rm -rf "$scratch/np$np"
"$here/run_fixture.sh" "$exe" "$data" "$np" "$scratch/np$np" > "$scratch/np$np.log" 2>&1 \
  || { tail -20 "$scratch/np$np.log"; exit 1; }
grep -E "Halo exchange|own rows" "$scratch/np$np.log" || true
if [[ $np -gt 1 ]]; then
  /usr/bin/python3 "$here/fixture_check.py" same "$scratch/np1/fx2d" "$scratch/np$np/fx2d"
fi
