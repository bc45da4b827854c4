#!/usr/bin/env bash
# A full disk names its cause: quick-mode on fx2d with 2 ranks into a 1 MiB tmpfs fails writing
# log_ranks.h5ad with exit 4 and "No space left on device", printed once, and leaves no partial
# or temporary file (docs/troubleshooting.md, "Messages that name the cause"). Mounting needs
# CAP_SYS_ADMIN (root in most containers); without it the test is skipped (exit 77).
# Usage: disk_full_test.sh EXE FIXTURE_DIR(fx2d) SCRATCH
set -uo pipefail
exe=$1 fx=$2 scratch=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch/full"
if ! mount -t tmpfs -o size=1m tmpfs "$scratch/full" 2>/dev/null; then
  echo "SKIP: cannot mount a small tmpfs here (needs root / CAP_SYS_ADMIN)"
  exit 77
fi
trap 'umount "$scratch/full" 2>/dev/null' EXIT
fail=0
out=$("$here/run_fixture.sh" "$exe" "$fx" 2 "$scratch/full" 2>&1)
rc=$?
[[ $rc -eq 4 ]] || { echo "FAIL: exit $rc, expected 4"; fail=1; }
n=$(echo "$out" | grep -c "^error:")
[[ $n -eq 1 ]] || { echo "FAIL: the error was printed $n times"; fail=1; }
echo "$out" | grep "^error:" | grep -q "No space left on device" \
  || { echo "FAIL: the message lacks the OS reason: $(echo "$out" | grep "^error:")"; fail=1; }
echo "$out" | grep "^error:" | grep -q "log_ranks.h5ad" || { echo "FAIL: the message does not name the output"; fail=1; }
[[ ! -e "$scratch/full/fx2d/latent_to_gene/log_ranks.h5ad" ]] || { echo "FAIL: a partial log_ranks.h5ad exists"; fail=1; }
left=$(find "$scratch/full" -name ".*.tmp-*")
[[ -z $left ]] || { echo "FAIL: temp files left: $left"; fail=1; }
echo "$out" | grep "^error:"
[[ $fail -eq 0 ]] && echo "ok   full disk: exit 4, 'No space left on device' printed once, no partial file"
exit $fail
