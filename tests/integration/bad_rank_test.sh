#!/usr/bin/env bash
# One rank meets bad input that only it reads: fxgrid's counts layer is corrupted (a column index
# out of range) in a row owned by rank 1 of 2. Expect: a clear message naming the file and the
# key, a non-zero exit through MPI_Abort, and no output marked complete.
# Usage: bad_rank_test.sh EXE FIXTURE_DIR(fxgrid) SCRATCH
set -uo pipefail
exe=$1 fx=$2 scratch=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch/fxgrid"
cp -r "$fx/input" "$scratch/fxgrid/input"
/usr/bin/python3 - "$scratch/fxgrid/input/st/sample0.h5ad" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    g = f["layers/counts"]
    n = g["indptr"].shape[0] - 1
    idx = g["indices"]
    for row in range(n - 200, n):       # the last rows: owned by the last rank
        k = g["indptr"][row]
        if g["indptr"][row + 1] > k:
            idx[k] = 10**6              # column index far outside [0, n_genes)
PY
out=$("$here/run_fixture.sh" "$exe" "$scratch/fxgrid" 2 "$scratch/work" 2>&1)
rc=$?
fail=0
[[ $rc -ne 0 ]] || { echo "FAIL: exit code 0"; fail=1; }
echo "$out" | grep -q "sample0.h5ad" || { echo "FAIL: message does not name the file"; fail=1; }
echo "$out" | grep -q "layers/counts" || { echo "FAIL: message does not name the key"; fail=1; }
echo "$out" | grep -q "rank 1" || { echo "FAIL: message not from rank 1"; fail=1; }
# Printed once, by the failing rank, and logged with a time stamp although rank 0 owns the log.
n=$(echo "$out" | grep -c "^error:")
[[ $n -eq 1 ]] || { echo "FAIL: the error was printed $n times"; fail=1; }
grep -Eq "^\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\] \[error\] .*sample0.h5ad.*\(rank 1 of 2\)$" \
  "$scratch/work/fxgrid/gsmap-mpi.log" || { echo "FAIL: the log lacks rank 1's time-stamped error"; fail=1; }
for f in $(find "$scratch/work" -name "*.h5ad"); do
  if /usr/bin/python3 -c "import h5py,sys; sys.exit(0 if h5py.File('$f','r').attrs.get('gsmap_complete',0)==1 else 1)"; then
    echo "FAIL: $f marked complete"; fail=1
  fi
done
echo "$out" | grep -i "error" | head -3
[[ $fail -eq 0 ]] && echo "ok   rank 1's bad input: exit $rc, message names file and key, nothing complete"
exit $fail
