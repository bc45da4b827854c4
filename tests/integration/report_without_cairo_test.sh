#!/usr/bin/env bash
# The report opens cairo at run time (src/report/raster.cpp). With a libcairo.so.2 that lacks
# cairo's functions first on the library path, `report --force` must fail with exit code 4 and a
# message naming the library and the missing function, and leave the previous report byte for
# byte as it was, with no temporary file beside it.
# Usage: report_without_cairo_test.sh EXE DEMO_SCRATCH FAKE_CAIRO_DIR
set -euo pipefail
exe=$1 demo=$2 fake=$3
[[ -f $fake/libcairo.so.2 ]] || { echo "FAIL: $fake/libcairo.so.2 not built"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gsmap-no-cairo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/work"
cp -r "$demo/work/demo" "$tmp/work/demo"
rm -rf "$tmp/work/demo/.locks"
report=$tmp/work/demo/report
before=$(cd "$report" && ls -A && md5sum index.html)
set +e
out=$(LD_LIBRARY_PATH="$fake" "$exe" report --workdir "$tmp/work" --project-name demo --force 2>&1)
rc=$?
set -e
[[ $rc -eq 4 ]] || { echo "FAIL: exit code $rc, expected 4:"; echo "$out"; exit 1; }
grep -q "report: libcairo.so.2 has no function cairo_" <<<"$out" ||
  { echo "FAIL: no message naming libcairo.so.2 and the missing function:"; echo "$out"; exit 1; }
after=$(cd "$report" && ls -A && md5sum index.html)
[[ $before == "$after" ]] || { echo "FAIL: the report folder changed:"; echo "$before"; echo "$after"; exit 1; }
echo "ok: exit 4, '$(grep -o 'report: libcairo.so.2 has no function [a-z_]*' <<<"$out")', previous report unchanged"
