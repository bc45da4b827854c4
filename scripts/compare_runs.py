#!/usr/bin/env python3
"""Compares two quick-mode project directories of the same data (scripts/gpu-check.sh: GPU against
CPU, 2 ranks against 1) with the tolerances of docs/algorithms.md §10.11, and prints the measured
figures. Needs only numpy and h5py (a GPU machine's Python environment has them).

  compare_runs.py REFERENCE_PROJECT_DIR OTHER_PROJECT_DIR     # exit 0 = within tolerance

  * log ranks and GSS (latent_to_gene/*.h5ad X): bit-identical;
  * spatial LDSC (<project>_<trait>.csv.gz): beta, se and p within 1e-4 relative, z and
    -log10 p within 1e-4 absolute;
  * Cauchy combination (*.cauchy.csv, *.sample_cauchy.csv): p_cauchy, p_median and
    top_95_quantile within 1e-3 relative, sig_spots and total_spots within 1.
"""
import csv, glob, gzip, os, sys

import h5py
import numpy as np

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def read_csv(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows


def column(rows, name):
    return np.array([float(r[name]) if r[name] not in ("", "nan", "NaN") else np.nan for r in rows])


def rel_err(ref, got, floor):
    sel = np.abs(ref) > floor
    if not sel.any():
        return 0.0
    return float(np.nanmax(np.abs(got[sel] - ref[sel]) / np.abs(ref[sel]), initial=0.0))


def compare_matrix(ref_dir, got_dir, rel):
    a, b = os.path.join(ref_dir, rel), os.path.join(got_dir, rel)
    if not os.path.exists(a):
        return
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        x, y = fa["X"][()].view(np.uint16), fb["X"][()].view(np.uint16)
    same_shape = x.shape == y.shape
    diff = int(np.count_nonzero(x != y)) if same_shape else -1
    check(same_shape and diff == 0,
          f"{rel}: {x.size} entries, {diff} differ in their bits (shape {x.shape} vs {y.shape})")


def compare_ldsc(ref_dir, got_dir):
    files = sorted(glob.glob(os.path.join(ref_dir, "spatial_ldsc", "*.csv.gz")))
    check(len(files) > 0, f"spatial LDSC: {len(files)} trait files in {ref_dir}")
    for path in files:
        name = os.path.basename(path)
        e, g = read_csv(path), read_csv(os.path.join(got_dir, "spatial_ldsc", name))
        check([r["spot"] for r in e] == [r["spot"] for r in g], f"{name}: {len(e)} spots, same order")
        worst = {}
        for col, floor in [("beta", 1e-12), ("se", 1e-12), ("p", 1e-300)]:
            worst[col] = rel_err(column(e, col), column(g, col), floor)
        for col in ["z", "neg_log10_p"]:
            worst[col] = float(np.nanmax(np.abs(column(g, col) - column(e, col)), initial=0.0))
        nan_same = all(np.array_equal(np.isnan(column(e, c)), np.isnan(column(g, c)))
                       for c in ["beta", "se", "z", "p"])
        ok = nan_same and all(v <= 1e-4 for v in worst.values())
        check(ok, f"{name}: max rel err beta {worst['beta']:.2e} se {worst['se']:.2e} "
                  f"p {worst['p']:.2e}; max abs err z {worst['z']:.2e} -log10p "
                  f"{worst['neg_log10_p']:.2e} (<= 1e-4); NaNs at the same spots {nan_same}")


def compare_cauchy(ref_dir, got_dir):
    files = sorted(glob.glob(os.path.join(ref_dir, "cauchy_combination", "*.csv")))
    check(len(files) > 0, f"Cauchy combination: {len(files)} files in {ref_dir}")
    for path in files:
        name = os.path.basename(path)
        e, g = read_csv(path), read_csv(os.path.join(got_dir, "cauchy_combination", name))
        key = [k for k in ("annotation", "sample_name") if e and k in e[0]]
        ek = {tuple(r[k] for k in key): r for r in e}
        gk = {tuple(r[k] for k in key): r for r in g}
        check(set(ek) == set(gk), f"{name}: {len(ek)} groups, the same")
        common = sorted(set(ek) & set(gk))
        worst = 0.0
        counts_ok = True
        for k in common:
            for col in ["p_cauchy", "p_median", "top_95_quantile"]:
                ev, gv = float(ek[k][col]), float(gk[k][col])
                if abs(gv - ev) > 2.3e-16:
                    worst = max(worst, abs(gv - ev) / max(abs(ev), 1e-300))
            for col in ["sig_spots", "total_spots"]:
                counts_ok &= abs(int(float(ek[k][col])) - int(float(gk[k][col]))) <= 1
        check(worst <= 1e-3 and counts_ok,
              f"{name}: max rel err {worst:.2e} (<= 1e-3); spot counts within 1: {counts_ok}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ref, got = sys.argv[1], sys.argv[2]
    compare_matrix(ref, got, "latent_to_gene/log_ranks.h5ad")
    compare_matrix(ref, got, "latent_to_gene/marker_scores.h5ad")
    compare_ldsc(ref, got)
    compare_cauchy(ref, got)
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)
