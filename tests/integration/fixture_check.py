#!/usr/bin/python3
"""Compares a gsmap-mpi work directory with a fixture's expected/ outputs, using the tolerances
of docs/algorithms.md §10.11. Exit code 0 = within tolerance; prints the measured figures.

  fixture_check.py quick FIXTURE_DIR PROJECT_DIR      # latent_to_gene + spatial_ldsc + cauchy
  fixture_check.py ldsc  FIXTURE_DIR PROJECT_DIR      # spatial_ldsc from the expected GSS only
  fixture_check.py same  PROJECT_DIR_A PROJECT_DIR_B  # identical data in every output
"""
import gzip, io, json, os, sys
import h5py, numpy as np, pandas as pd

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def read_ldsc(path):
    return pd.read_csv(path)


def compare_ldsc(exp, got, mask, label):
    """LDSC tolerances on the rows in `mask` (bool array over spots)."""
    e, g = exp[mask], got[mask]
    check(list(e.spot) == list(g.spot), f"{label}: spot order")
    for col in ["beta", "se"]:
        ev, gv = e[col].to_numpy(), g[col].to_numpy()
        big = np.abs(ev) > 1e-12
        rel = np.abs(gv[big] - ev[big]) / np.abs(ev[big])
        check(np.nanmax(rel, initial=0) <= 1e-4, f"{label}: {col} max rel err {np.nanmax(rel, initial=0):.2e} <= 1e-4")
    for col in ["z", "neg_log10_p"]:
        d = np.abs(g[col].to_numpy() - e[col].to_numpy())
        check(np.nanmax(d, initial=0) <= 1e-4, f"{label}: {col} max abs err {np.nanmax(d, initial=0):.2e} <= 1e-4")
    ep, gp = e.p.to_numpy(), g.p.to_numpy()
    sel = ep > 1e-300
    rel = np.abs(gp[sel] - ep[sel]) / ep[sel]
    check(np.nanmax(rel, initial=0) <= 1e-4, f"{label}: p max rel err {np.nanmax(rel, initial=0):.2e} <= 1e-4")


def compare_cauchy(exp_path, got_path, rel_tol, label):
    e, g = pd.read_csv(exp_path), pd.read_csv(got_path)
    key = ["annotation"] + (["sample_name"] if "sample_name" in e.columns else [])
    m = e.merge(g, on=key, suffixes=("_e", "_g"))
    check(len(m) == len(e) == len(g), f"{label}: {len(g)} groups (expected {len(e)})")
    for col in ["p_cauchy", "p_median", "top_95_quantile"]:
        ev, gv = m[col + "_e"].to_numpy(), m[col + "_g"].to_numpy()
        rel = np.abs(gv - ev) / np.maximum(np.abs(ev), 1e-300)
        ok = np.all((rel <= rel_tol) | (np.abs(gv - ev) <= 2.3e-16))
        check(ok, f"{label}: {col} max rel err {rel.max():.2e} <= {rel_tol}")
    check(np.all(np.abs(m.sig_spots_e - m.sig_spots_g) <= (0 if rel_tol <= 1e-4 else 1)), f"{label}: sig_spots")
    check(np.all(np.abs(m.total_spots_e - m.total_spots_g) <= 1), f"{label}: total_spots within 1")


def quick(fx, proj):
    exp = os.path.join(fx, "expected")
    cfg = json.load(open(os.path.join(exp, "oracle_config.json")))
    cells = pd.read_csv(os.path.join(exp, "cells.csv"))
    eh = h5py.File(os.path.join(exp, "expected.h5"), "r")
    l2g = os.path.join(proj, "latent_to_gene")
    ms = h5py.File(os.path.join(l2g, "marker_scores.h5ad"), "r")
    spots = [s.decode() for s in ms["obs/_index"][:]]
    check(spots == list(cells.spot), f"kept cells: {len(spots)} (expected {len(cells)}), same order and names")
    mf_e = pd.read_csv(os.path.join(exp, "mean_frac.csv"))
    mf_g = pd.read_csv(os.path.join(l2g, "mean_frac.csv"))
    check(list(mf_e.gene) == list(mf_g.gene), "mean_frac genes")
    for col in ["G_Mean", "frac"]:
        d = np.abs(mf_e[col].to_numpy() - mf_g[col].to_numpy()).max()
        check(d <= 1e-6, f"{col} max abs err {d:.2e} <= 1e-6")
    lr = h5py.File(os.path.join(l2g, "log_ranks.h5ad"), "r")["X"][:].view(np.uint16)
    lr_e = eh["log_ranks"][:].view(np.uint16)
    check(np.array_equal(lr, lr_e), f"log ranks bit-identical ({lr.size} entries)")
    idx, idx_e = ms["obsm/gsMap_homo_indices"][:], eh["homo_indices"][:]
    same = np.array([set(a) == set(b) for a, b in zip(idx, idx_e)])
    check(same.mean() >= 0.999, f"homogeneous neighbour sets identical in {same.mean()*100:.3f}% of cells (>= 99.9%)")
    for key, ekey in [("gsMap_homo_cell_sims", "homo_cell_sims"), ("gsMap_homo_niche_sims", "homo_niche_sims")]:
        if "obsm/" + key not in ms:
            continue
        # compare where the neighbour index agrees slot by slot
        a = ms["obsm/" + key][:].view(np.uint16).astype(np.int64)
        b = eh[ekey][:].view(np.uint16).astype(np.int64)
        slot_same = idx == idx_e
        frac = (a == b)[slot_same].mean()
        check(frac >= 0.9999 and np.abs(a - b)[slot_same].max() <= 1,
              f"{key}: {frac*100:.4f}% bit-identical (>= 99.99%), others one f16 step")
    gss = ms["X"][:].view(np.uint16)
    gss_e = eh["gss"][:].view(np.uint16)
    eq = gss == gss_e
    check(eq.mean() >= 0.999, f"GSS {eq.mean()*100:.4f}% of entries bit-identical (>= 99.9%)")
    rows_same = eq.all(axis=1)
    print(f"     GSS rows bit-identical: {rows_same.sum()}/{len(rows_same)}")
    proj_name = os.path.basename(proj.rstrip("/"))
    for trait in cfg["traits"]:
        e = read_ldsc(os.path.join(exp, f"ldsc_{trait}.csv"))
        g = read_ldsc(os.path.join(proj, "spatial_ldsc", f"{proj_name}_{trait}.csv.gz"))
        compare_ldsc(e, g, rows_same, f"ldsc {trait} (spots with identical GSS rows)")
        for ann in cfg["cauchy_annotations"]:
            base = os.path.join(proj, "cauchy_combination", f"{proj_name}_{trait}.{ann}")
            compare_cauchy(os.path.join(exp, f"cauchy_{trait}_{ann}.csv"), base + ".cauchy.csv", 1e-3,
                           f"cauchy {trait} {ann}")
            compare_cauchy(os.path.join(exp, f"cauchy_{trait}_{ann}_by_sample.csv"), base + ".sample_cauchy.csv",
                           1e-3, f"cauchy {trait} {ann} by sample")
    res = h5py.File(os.path.join(proj, "spatial_ldsc", f"{proj_name}_results.h5ad"), "r")
    check(int(res.attrs["gsmap_complete"]) == 1, "results h5ad complete")
    check(res["X"].shape == (len(cells), len(cfg["traits"])), "results h5ad shape spots x traits")


def ldsc_only(fx, proj):
    exp = os.path.join(fx, "expected")
    cfg = json.load(open(os.path.join(exp, "oracle_config.json")))
    proj_name = os.path.basename(proj.rstrip("/"))
    for trait in cfg["traits"]:
        e = read_ldsc(os.path.join(exp, f"ldsc_{trait}.csv"))
        g = read_ldsc(os.path.join(proj, "spatial_ldsc", f"{proj_name}_{trait}.csv.gz"))
        compare_ldsc(e, g, np.ones(len(e), bool), f"ldsc {trait} from expected GSS")


def same(a, b):
    """Every output of two runs carries identical data: the one definition in outputs_same.py
    (provenance, metadata.yaml, sidecars, locks and logs excluded)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import outputs_same
    outputs_same.compare(a, b, check)


if __name__ == "__main__":
    mode = sys.argv[1]
    {"quick": quick, "ldsc": ldsc_only, "same": same}[mode](sys.argv[2], sys.argv[3])
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)
