#!/usr/bin/env python3
"""Checks rank 0's progress lines in a captured stderr (or log file) of a run whose stderr was not
a terminal (docs/usage.md "Progress").

Usage: progress_check.py LOG STAGE=TOTAL [STAGE=TOTAL ...]
       e.g. progress_check.py stderr.txt ranking=3000 neighbours=3000 GSS=3000

For every named stage: at least two lines (the first reading and the final one), plain lines with no
carriage return or terminal escape, percentages that never decrease, each reading's total equal to
TOTAL (the sum over all ranks) and its count within [0, TOTAL], and a final
"<stage>: 100 % (TOTAL <unit> in ...)" line after the last reading.
"""
import re
import sys

READING = re.compile(r"\] (?P<stage>[^\]]+?): (?P<pct>\d+) % \((?P<done>\d+)/(?P<total>\d+) (?P<unit>\w+), "
                     r"(?P<rate>\d+) \w+/s, ETA (?P<eta>[^)]*)\)$")
FINAL = re.compile(r"\] (?P<stage>[^\]]+?): 100 % \((?P<done>\d+) (?P<unit>\w+) in [^,]+, \d+ \w+/s\)$")


def main():
    path, specs = sys.argv[1], sys.argv[2:]
    text = open(path, encoding="utf-8", errors="replace").read()
    if "\r" in text or "\x1b[" in text:
        sys.exit(f"FAIL: {path} has carriage returns or terminal escapes: stderr was not a terminal")
    lines = text.splitlines()
    failures = []
    for spec in specs:
        stage, total = spec.rsplit("=", 1)
        total = int(total)
        readings, finals = [], []
        for i, line in enumerate(lines):
            m = READING.search(line)
            if m and m["stage"] == stage:
                readings.append((i, int(m["pct"]), int(m["done"]), int(m["total"])))
            m = FINAL.search(line)
            if m and m["stage"] == stage:
                finals.append((i, int(m["done"])))
        shown = [f"{p} %" for _, p, _, _ in readings]
        print(f"{stage}: readings {', '.join(shown)}; final lines {len(finals)}")
        if not readings:
            failures.append(f"{stage}: no progress reading")
            continue
        if len(finals) != 1:
            failures.append(f"{stage}: {len(finals)} final lines (want 1)")
            continue
        pcts = [p for _, p, _, _ in readings]
        if pcts != sorted(pcts):
            failures.append(f"{stage}: percentages go down: {pcts}")
        for _, p, done, t in readings:
            if t != total:
                failures.append(f"{stage}: a reading's total is {t}, want {total} (all ranks)")
            if not 0 <= done <= total or p != done * 100 // total:
                failures.append(f"{stage}: inconsistent reading {p} % of {done}/{t}")
        if finals[0][1] != total:
            failures.append(f"{stage}: final line counts {finals[0][1]}, want {total}")
        if finals[0][0] < readings[-1][0]:
            failures.append(f"{stage}: a reading after the final line")
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print(f"ok: progress of {len(specs)} stages in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
