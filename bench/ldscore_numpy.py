#!/usr/bin/python3
"""Baseline for docs/performance.md: a straightforward numpy/scipy implementation of the
ldscore-weight-matrix computation (docs/ldscore.md; batch rule, CM unit, tss strategy, float32 like
gsMap3D), timed against gsmap-mpi on the same cores. Not a test; writes nothing.

  ldscore_numpy.py PLINK_PREFIX HM3_LIST GENES_BED [--window 50000] [--ld-wind 1] [--batch 50]
"""
import argparse, time

import numpy as np
import scipy.sparse as sp

p = argparse.ArgumentParser()
p.add_argument("prefix"); p.add_argument("hm3"); p.add_argument("bed")
p.add_argument("--window", type=int, default=50000)
p.add_argument("--ld-wind", type=float, default=1.0)
p.add_argument("--batch", type=int, default=50)
p.add_argument("--maf-min", type=float, default=0.01)
a = p.parse_args()
t0 = time.time()
n = sum(1 for line in open(a.prefix + ".fam") if line.strip())
bim = [line.split() for line in open(a.prefix + ".bim")]
m0 = len(bim)
raw = np.fromfile(a.prefix + ".bed", dtype=np.uint8)[3:].reshape(m0, (n + 3) // 4)
codes = np.stack([(raw >> (2 * k)) & 3 for k in range(4)], axis=2).reshape(m0, -1)[:, :n]
x = np.array([0, np.nan, 1, 2], dtype=np.float32)[codes].T  # n x m0
mean = np.nanmean(x, axis=0)
f = mean / 2
maf = np.minimum(f, 1 - f)
sd = np.nanstd(x, axis=0)
q = np.where((maf >= a.maf_min) & (sd > 0))[0]
z = np.nan_to_num((x[:, q] - mean[q]) / sd[q]).astype(np.float32)
cm = np.array([float(b[2]) for b in bim])[q]
bp = np.array([int(b[3]) for b in bim])[q]
ids = [bim[j][1] for j in q]
listed = set(line.split()[0] for line in open(a.hm3) if line.strip())
r = np.array([k for k, s in enumerate(ids) if s in listed])
# Mapping: nearest TSS among the windowed intervals (earliest row on ties), else Unmapped.
genes = [line.rstrip("\n").split("\t") for line in open(a.bed)]
names = sorted(set(g[3] for g in genes))
col = {g: i for i, g in enumerate(names)}
start = np.array([int(g[1]) for g in genes]); end = np.array([int(g[2]) for g in genes])
tss = np.where(np.array([g[5] == "+" for g in genes]), start, end)
rows, cols = [], []
for k in range(len(q)):
    hit = np.where((np.maximum(0, start - a.window) <= bp[k]) & (bp[k] < end + a.window))[0]
    rows.append(k)
    cols.append(col[genes[hit[np.argmin(np.abs(bp[k] - tss[hit]))]][3]] if len(hit) else len(names))
M = sp.csr_matrix((np.ones(len(q), np.float32), (rows, cols)), shape=(len(q), len(names) + 1))
t1 = time.time()
out = []
for b0 in range(0, len(r), a.batch):
    b = r[b0:b0 + a.batch]
    lo = np.searchsorted(cm, cm[b[0]] - a.ld_wind, "left")
    hi = np.searchsorted(cm, cm[b[-1]] + a.ld_wind, "right")
    rr = z[:, b].T @ z[:, lo:hi] / n
    ell = rr ** 2 - (1 - rr ** 2) / (n - 2)
    out.append(sp.csr_matrix(M[lo:hi].T.dot(ell.T).T))
W = sp.vstack(out)
t2 = time.time()
print(f"numpy baseline: {W.shape[0]} x {W.shape[1]}, {W.nnz} stored; read+QC+map {t1 - t0:.2f} s, "
      f"LD {t2 - t1:.2f} s, total {t2 - t0:.2f} s")
