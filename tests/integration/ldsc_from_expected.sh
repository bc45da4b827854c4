#!/usr/bin/env bash
# spatial-ldsc starting from the fixture's expected GSS (fixtures README): the expected.h5 gss is
# written into an h5ad (spot names from cells.csv, genes from the input) and passed with
# --marker-score-format h5ad; or (mode gsmap3d) gsMap3D's own workdir is read as it is.
# Usage: ldsc_from_expected.sh EXE FIXTURE_DIR NP WORKDIR MODE(h5ad|gsmap3d)
set -euo pipefail
exe=$1 fx=$2 np=$3 work=$4 mode=$5
in="$fx/input"
rm -rf "$work" && mkdir -p "$work"
common=(--sumstats-config-file "$in/gwas/sumstats.yaml"
        --snp-gene-weight-adata-path "$in/weights/snp_gene_weights.h5ad" --w-ld-dir "$in/w_ld"
        --ldsc-read-workers 1 --ldsc-compute-workers 2 --no-gpu)
if [[ $mode == h5ad ]]; then
  /usr/bin/python3 - "$fx" "$work/expected_gss.h5ad" <<'PY'
import sys, h5py, anndata, pandas as pd, numpy as np
fx, out = sys.argv[1], sys.argv[2]
cells = pd.read_csv(f"{fx}/expected/cells.csv")
genes = list(h5py.File(f"{fx}/expected/expected.h5", "r")["gss"].shape and
             [g.decode() for g in h5py.File(next(__import__('glob').iglob(f"{fx}/input/st/*.h5ad")), "r")["var/_index"][:]])
gss = h5py.File(f"{fx}/expected/expected.h5", "r")["gss"][:]
a = anndata.AnnData(X=gss, obs=pd.DataFrame(index=list(cells.spot)), var=pd.DataFrame(index=genes))
a.write_h5ad(out)
PY
  mpirun -np "$np" --oversubscribe "$exe" spatial-ldsc --workdir "$work" --project-name expected \
    --marker-score-format h5ad --marker-score-h5ad-path "$work/expected_gss.h5ad" "${common[@]}"
else
  mkdir -p "$work/proj"
  cp -r "$fx/gsmap3d_workdir/proj/latent_to_gene" "$work/proj/"
  mpirun -np "$np" --oversubscribe "$exe" spatial-ldsc --workdir "$work" --project-name proj "${common[@]}"
fi
