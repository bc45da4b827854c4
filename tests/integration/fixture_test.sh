#!/usr/bin/env bash
# One ctest case: quick-mode on a fixture with NP ranks, outputs checked against expected/ and,
# for NP > 1, against the 1-rank run (identical data in every output).
# Usage: fixture_test.sh EXE FIXTURE_DIR NP SCRATCH
set -euo pipefail
exe=$1 fx=$2 np=$3 scratch=$4
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$fx")
rm -rf "$scratch/np$np/$name"
"$here/run_fixture.sh" "$exe" "$fx" "$np" "$scratch/np$np"
/usr/bin/python3 "$here/fixture_check.py" quick "$fx" "$scratch/np$np/$name"
if [[ $np -gt 1 ]]; then
  /usr/bin/python3 "$here/fixture_check.py" same "$scratch/np1/$name" "$scratch/np$np/$name"
fi
