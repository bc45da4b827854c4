#!/usr/bin/env bash
# Bad-input corpus: the SNP-gene weight matrix (spatial-ldsc under mpirun -np 2, a new trait "bad"
# in the complete baseline project). Usage: weights.sh EXE SCRATCH
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
corpus_init "$1" "$2"
corpus_baseline
good=$data/weights/snp_gene_weights.h5ad
# edit NAME PYTHON: bad/NAME.h5ad = the good matrix changed by PYTHON (h5py file f, numpy np).
edit() {
  cp "$good" "$bad/$1.h5ad"
  /usr/bin/python3 - "$bad/$1.h5ad" <<PY || { echo "FAIL: cannot build $1"; corpus_fail=1; }
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
$(sed 's/^/    /' <<<"$2")
PY
}
run() {  # run NAME RC PHRASE FILE WEIGHTS [extra args]
  local name=$1 rc=$2 phrase=$3 file=$4 w=$5
  shift 5
  expect "weights.$name" "$rc" "$phrase" "$file" -- mpirun -np 2 "$exe" spatial-ldsc \
    --workdir "$work" --project-name p --snp-gene-weight-adata-path "$w" --w-ld-dir "$data/w_ld" \
    --n-blocks 20 --ldsc-read-workers 1 --ldsc-compute-workers 1 --no-gpu \
    --trait-name bad --sumstats-file "$data/gwas/null_trait.sumstats.gz" "$@"
}
edit nan 'd = f["X/data"]; v = d[...]; v[v.size // 2] = np.nan; d[...] = v'
run nan 3 "is not finite (1 non-finite values in X)" "nan.h5ad: X row" "$bad/nan.h5ad"
edit inf 'd = f["X/data"]; v = d[...]; v[-1] = np.inf; v[0] = -np.inf; d[...] = v'
run inf 3 "is not finite (2 non-finite values in X)" "inf.h5ad: X row 0 (SNP" "$bad/inf.h5ad"
edit no_data 'del f["X/data"]'
run no_data 3 "X/data" no_data.h5ad "$bad/no_data.h5ad"
edit indptr 'p = f["X/indptr"]; v = p[...]; v[5] = v[6] + 10; p[...] = v'
run indptr 3 "decreases at position" "indptr.h5ad: X/indptr" "$bad/indptr.h5ad"
edit indices 'i = f["X/indices"]; v = i[...]; v[3] = 100000; i[...] = v'
run indices 3 "outside [0, 313)" "indices.h5ad: X/indices" "$bad/indices.h5ad"
edit shape 'f["X"].attrs["shape"] = np.array([3999, 313])'
run shape 3 "X/indptr" shape.h5ad "$bad/shape.h5ad"
edit no_index 'del f["var"].attrs["_index"]'
run no_index 3 "no \`_index\` attribute" "no_index.h5ad: var" "$bad/no_index.h5ad"
edit no_genes 'v = f["var/_index"]; v[...] = np.array([b"zz%d" % i for i in range(v.shape[0])], dtype=v.dtype)'
run no_gene_in_common 3 "marker-score gene" no_genes.h5ad "$bad/no_genes.h5ad"
edit encoding 'f["X"].attrs["encoding-type"] = "coo_matrix"'
run encoding 3 "unsupported X encoding-type 'coo_matrix'" encoding.h5ad "$bad/encoding.h5ad"
printf 'not an HDF5 file\n' >"$bad/text.h5ad"
run not_hdf5 3 "HDF5" text.h5ad "$bad/text.h5ad"
head -c 20000 "$good" >"$bad/truncated.h5ad"
run truncated 3 "truncated.h5ad" truncated.h5ad "$bad/truncated.h5ad"
run missing 3 "nosuch.h5ad" nosuch.h5ad "$bad/nosuch.h5ad"
run dry_nan 3 "is not finite" "nan.h5ad: X row" "$bad/nan.h5ad" --dry-run
corpus_finish
