#!/usr/bin/env bash
# Bad-input corpus: expression samples (latent-to-gene / quick-mode under mpirun -np 2 into a new
# project "bad" next to the complete baseline project "p"). Cells 500-599 are ranked by rank 1
# only, so the bad values planted there are read by rank 1 alone.
# Usage: expression.sh EXE SCRATCH
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
corpus_init "$1" "$2"
corpus_baseline
good=$data/st/sample0.h5ad
# edit NAME PYTHON: bad/NAME.h5ad = the good sample changed by PYTHON (h5py file f, numpy np;
# row(r) = the X/data slice of row r), and bad/NAME.yaml listing it as sample0.
edit() {
  cp "$good" "$bad/$1.h5ad"
  printf 'sample0: %s.h5ad\n' "$1" >"$bad/$1.yaml"
  /usr/bin/python3 - "$bad/$1.h5ad" <<PY || { echo "FAIL: cannot build $1"; corpus_fail=1; }
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    ptr = f["X/indptr"][...]
    def set_row(r, value):
        d = f["X/data"]; v = d[...]; v[ptr[r]] = value; d[...] = v
$(sed 's/^/    /' <<<"$2")
PY
}
L2G_BAD=(--latent-representation-niche emb_niche --spatial-neighbors 51 --homogeneous-neighbors 11
         --rank-read-workers 1 --mkscore-compute-workers 1 --mkscore-write-workers 1 --no-gpu)
run() {  # run NAME RC PHRASE FILE YAML [extra args]
  local name=$1 rc=$2 phrase=$3 file=$4 yaml=$5
  shift 5
  expect "expression.$name" "$rc" "$phrase" "$file" -- mpirun -np 2 "$exe" latent-to-gene \
    --workdir "$work" --project-name bad --h5ad-yaml "$yaml" "${L2G_BAD[@]}" \
    --annotation "${ANN:-annotation}" --latent-representation-cell "${EMB:-emb_cell}" "$@"
}
edit nan_rank1 'set_row(550, np.nan)'
run nan_on_rank1 3 "sample 'sample0', X row 550 (0-based)" nan_rank1.h5ad "$bad/nan_rank1.yaml"
grep -q "is NaN (1 NaN, infinite or negative values" <<<"$(mpirun -np 2 "$exe" latent-to-gene --workdir "$work" --project-name bad --h5ad-yaml "$bad/nan_rank1.yaml" "${L2G_BAD[@]}" --annotation annotation --latent-representation-cell emb_cell 2>&1 | grep 'rank 1 of 2')" ||
  { echo "FAIL expression.nan_on_rank1: not reported by rank 1 as NaN"; corpus_fail=1; }
edit negative_rank1 'set_row(599, -3.0)'
run negative_on_rank1 3 "expression value -3 is negative" negative_rank1.h5ad "$bad/negative_rank1.yaml"
edit inf_rank0 'set_row(10, np.inf)'
run inf_on_rank0 3 "X row 10 (0-based)" inf_rank0.h5ad "$bad/inf_rank0.yaml"
edit dup_genes 'v = f["var/_index"]; a = v[...]; a[7] = a[2]; v[...] = a'
run duplicate_genes 3 "gene name 'GENE00002' appears at positions 2 and 7" "dup_genes.h5ad: var index" "$bad/dup_genes.yaml"
edit nan_embedding 'e = f["obsm/emb_cell"]; a = e[...]; a[570, 3] = np.nan; e[...] = a'
run nan_embedding 3 "value is NaN or infinite" "nan_embedding.h5ad: obsm/emb_cell row 570 column 3" "$bad/nan_embedding.yaml"
edit nan_coords 'e = f["obsm/spatial"]; a = e[...]; a[12, 1] = np.inf; e[...] = a'
run inf_coordinate 3 "value is NaN or infinite" "nan_coords.h5ad: obsm/spatial row 12 column 1" "$bad/nan_coords.yaml"
edit indices_rank1 'i = f["X/indices"]; a = i[...]; a[ptr[560]] = 10**6; i[...] = a'
run index_out_of_range 3 "out of range [0, 300)" "indices_rank1.h5ad: X/indices" "$bad/indices_rank1.yaml"
edit shape 'f["X"].attrs["shape"] = np.array([600, 299])'
run shape_mismatch 3 "X" shape.h5ad "$bad/shape.yaml"
edit no_indptr 'del f["X/indptr"]'
run no_indptr 3 "indptr" no_indptr.h5ad "$bad/no_indptr.yaml"
edit legacy 'del f["X"].attrs["encoding-type"]'
run no_encoding 3 "X" legacy.h5ad "$bad/legacy.yaml"
EMB=nosuch run missing_embedding 3 "key not found" "obsm/nosuch" "$bad/nan_rank1.yaml"
ANN=nosuch run missing_annotation 3 "annotation column not found" "obs/nosuch" "$bad/nan_rank1.yaml"
# Two samples whose genes differ.
edit renamed 'v = f["var/_index"]; a = v[...]; a[4] = b"OTHER"; v[...] = a'
printf 'sample0: %s\nsample1: renamed.h5ad\n' "$good" >"$bad/two.yaml"
run genes_differ 3 "genes differ from the first sample" "renamed.h5ad: var index" "$bad/two.yaml"
printf 'not HDF5\n' >"$bad/text.h5ad"; printf 'sample0: text.h5ad\n' >"$bad/text.yaml"
run not_hdf5 3 "not an HDF5 file" text.h5ad "$bad/text.yaml"
head -c 30000 "$good" >"$bad/truncated.h5ad"; printf 'sample0: truncated.h5ad\n' >"$bad/truncated.yaml"
run truncated_h5ad 3 "truncated.h5ad" truncated.h5ad "$bad/truncated.yaml"
# The dry run reads the expression as the step does: the NaN on rank 1 is found there too.
run dry_nan_on_rank1 3 "X row 550 (0-based)" nan_rank1.h5ad "$bad/nan_rank1.yaml" --dry-run
expect_dry_ok expression.dry_good -- mpirun -np 2 "$exe" latent-to-gene --workdir "$work" \
  --project-name fresh --h5ad-yaml "$data/st/samples.yaml" "${L2G_BAD[@]}" --annotation annotation \
  --latent-representation-cell emb_cell --dry-run
[[ ! -e "$work/fresh" ]] || { echo "FAIL expression.dry_good: created $work/fresh"; corpus_fail=1; }
corpus_finish
