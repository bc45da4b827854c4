#!/usr/bin/env bash
# The halo is the boundary of a rank's region, not the tissue (docs/algorithms.md §5.1, §5.3):
# latent-to-gene with 4 ranks on a simulated section whose cells are stored in random order must
# fetch halo rows for at most 25 % of the cells (rows, not time; each row counted once per rank
# that reads it). The halo is a band along the regions' borders about as deep as the spatial
# candidate radius (sqrt(--spatial-neighbors / pi) cell spacings): to keep the test small (12,000
# cells, 3,000 per rank) it searches 51 spatial neighbours instead of 301, which keeps the ratio of
# band depth to region side that the default has at about 18,000 cells per rank (bench/scaling.sh
# measures the default at 25,000 cells per rank).
# Usage: halo_bound_test.sh EXE SCRATCH [CELLS]
set -euo pipefail
exe=$1 scratch=$2 cells=${3:-12000}
rm -rf "$scratch" && mkdir -p "$scratch/work"
"$exe" simulate --out "$scratch/data" --seed 3 --n-cells "$cells" --n-genes 100 --n-snps 2000 \
  --shuffle-cells >/dev/null
mpirun -np 4 --oversubscribe --bind-to none "$exe" latent-to-gene --workdir "$scratch/work" \
  --project-name halo --h5ad-yaml "$scratch/data/st/samples.yaml" --annotation annotation \
  --latent-representation-cell emb_cell --latent-representation-niche emb_niche --no-gpu --spatial-neighbors 51 \
  --rank-read-workers 1 --mkscore-compute-workers 1 --mkscore-write-workers 1 >"$scratch/l2g.log" 2>&1 \
  || { tail -20 "$scratch/l2g.log"; exit 1; }
line=$(grep "Halo exchange:" "$scratch/l2g.log")
echo "$line"
grep -E "rank [0-9]: .* own rows" "$scratch/l2g.log"
kept=$(sed -nE 's/.*\] ([0-9]+) cells kept in.*/\1/p' "$scratch/l2g.log")
halo=$(echo "$line" | sed -nE 's/.*Halo exchange: ([0-9]+) rows.*/\1/p')
moved=$(echo "$line" | sed -nE 's/.*redistribution into processing order: ([0-9]+) rows.*/\1/p')
[[ -n $kept && -n $halo && -n $moved ]] || { echo "FAIL: log lines not found"; exit 1; }
echo "cells $kept, halo rows $halo ($(( 100 * halo / kept )) %), redistributed rows $moved"
# Shuffled input: about 3/4 of the rows change rank, so the redistribution must be visible.
(( moved > kept / 2 )) || { echo "FAIL: only $moved rows redistributed on a shuffled input"; exit 1; }
(( 4 * halo <= kept )) || { echo "FAIL: halo rows $halo > 25 % of $kept cells"; exit 1; }
echo "ok   halo rows <= 25 % of the cells at 4 ranks on a shuffled section"
