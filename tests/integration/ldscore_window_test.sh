#!/usr/bin/env bash
# ldscore-weight-matrix: memory per rank is bounded by its window, not by the chromosome
# (docs/ldscore.md §8). One synthetic chromosome of 3,000 variants (every one a regression SNP, all
# passing QC, some missing calls) split over 3 ranks: from the logged count of the .bim rows each
# rank held for its LD computation, each holds at most its own output rows plus the LD window on
# both sides (--ld-unit SNP --ld-wind W: at most rows + 2W), far less than the chromosome; the
# outputs equal the 1-rank run's (tests/integration/outputs_same.py). Then the same 1-against-3-rank
# identity for the other window paths a slice must reproduce: --ld-window-mode snp with a cM and a
# SNP-count window, a kb window, the dict mapping and an annotation file.
# Usage: ldscore_window_test.sh EXE SCRATCH
set -uo pipefail
exe=$1 scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
rm -rf "$scratch" && mkdir -p "$scratch/hm3"
V=3000 W=60
/usr/bin/python3 - "$scratch" "$V" <<'EOF'
import random, sys
out, v = sys.argv[1], int(sys.argv[2])
n = 41  # not a multiple of 4
rng = random.Random(15)
with open(f"{out}/c.1.fam", "w") as f:
    for i in range(n):
        f.write(f"f{i} i{i} 0 0 0 -9\n")
hap = [rng.random() < 0.5 for _ in range(2 * n)]
with open(f"{out}/c.1.bed", "wb") as bed, open(f"{out}/c.1.bim", "w") as bim, \
        open(f"{out}/hm3/hm.1.snp", "w") as hm3, open(f"{out}/dict.tsv", "w") as d, \
        open(f"{out}/annot.1.txt", "w") as annot:
    bed.write(bytes([0x6C, 0x1B, 0x01]))
    d.write("SNP\tFeature\n")
    annot.write("SNP A1 A2\n")
    for j in range(v):
        p = 0.2 + 0.3 * rng.random()
        hap = [h if rng.random() < 0.85 else rng.random() < p for h in hap]
        # both alleles present, so that no variant is constant
        hap[0], hap[1] = True, False
        block = bytearray((n + 3) // 4)
        for i in range(n):
            g = hap[2 * i] + hap[2 * i + 1]
            code = 1 if rng.random() < 0.01 else (0 if g == 0 else 2 if g == 1 else 3)
            block[i // 4] |= code << (2 * (i % 4))
        bed.write(bytes(block))
        bim.write(f"1\trs{j}\t{j * 0.001:.3f}\t{10000 + 1000 * j}\tA\tG\n")
        hm3.write(f"rs{j}\n")
        if j % 3:
            d.write(f"rs{j}\tF{j // 400}\n")
        annot.write(f"rs{j} {1 if j % 7 == 0 else 0} {(j % 5) * 0.5}\n")
with open(f"{out}/genes.bed", "w") as g:
    for k in range(40):
        s = 10000 + k * 75000
        g.write(f"chr1\t{s}\t{s + 20000}\tG{k:02d}\t1\t{'+' if k % 2 else '-'}\n")
EOF
[[ $? == 0 ]] || { echo "FAIL: generator"; exit 1; }
fail=0
run() {  # run NAME NP [options...]
  local name=$1 np=$2; shift 2
  if ! mpirun -np "$np" --bind-to none "$exe" ldscore-weight-matrix \
       --bfile-root "$scratch/c.{chr}" --hm3-snp-dir "$scratch/hm3" --chromosomes 1 \
       --batch-size-hm3 50 --calculate-w-ld --ldscore-compute-workers 1 \
       --output-dir "$scratch/$name" "$@" >"$scratch/$name.log" 2>&1; then
    echo "FAIL: $name exited non-zero"; tail -5 "$scratch/$name.log"; fail=1
  fi
}
same() {  # same A B
  if /usr/bin/python3 "$here/outputs_same.py" "$scratch/$1" "$scratch/$2" >"$scratch/cmp_$2.txt"; then
    echo "ok   $1 == $2"
  else
    echo "FAIL: $1 and $2 differ"; cat "$scratch/cmp_$2.txt"; fail=1
  fi
}
bed=(--mapping-file "$scratch/genes.bed" --strategy tss --feature-window-size 20000)
run snp_np1 1 "${bed[@]}" --ld-unit SNP --ld-wind "$W"
run snp_np3 3 "${bed[@]}" --ld-unit SNP --ld-wind "$W"
same snp_np1 snp_np3
# The bound, from the log line "variants held per rank ... (..., of V in the run): a, b, c; of
# which QC-passing: ...; output rows: x, y, z; ..."
line=$(grep -h "variants held per rank" "$scratch/snp_np3.log")
echo "${line#*\] }"
held=$(sed -E 's/.*in the run\): ([0-9, ]+);.*/\1/' <<<"$line" | tr -d ' ')
rows=$(sed -E 's/.*output rows: ([0-9, ]+);.*/\1/' <<<"$line" | tr -d ' ')
IFS=, read -ra h <<<"$held"; IFS=, read -ra r <<<"$rows"
if [[ ${#h[@]} != 3 || ${#r[@]} != 3 ]]; then
  echo "FAIL: no per-rank counts for 3 ranks in the log"; fail=1
else
  total=0
  for k in 0 1 2; do
    total=$(( total + r[k] ))
    if (( r[k] < 1 || h[k] < r[k] || h[k] > r[k] + 2 * W || 2 * h[k] > V )); then
      echo "FAIL: rank $k holds ${h[k]} variants for ${r[k]} output rows (bound: rows + 2 x $W, and < half of $V)"
      fail=1
    else
      echo "ok   rank $k holds ${h[k]} of $V variants for ${r[k]} output rows (bound ${r[k]} + 2 x $W)"
    fi
  done
  (( total == V )) || { echo "FAIL: output rows sum to $total, not $V"; fail=1; }
fi
# Per-SNP windows in cM, kb windows, dict mapping, annotations: 1 rank == 3 ranks.
run cm_np1 1 "${bed[@]}" --ld-window-mode snp --ld-wind 0.08
run cm_np3 3 "${bed[@]}" --ld-window-mode snp --ld-wind 0.08
same cm_np1 cm_np3
run snpw_np1 1 "${bed[@]}" --ld-window-mode snp --ld-unit SNP --ld-wind 40
run snpw_np3 3 "${bed[@]}" --ld-window-mode snp --ld-unit SNP --ld-wind 40
same snpw_np1 snpw_np3
run kb_np1 1 "${bed[@]}" --ld-unit KB --ld-wind 50
run kb_np3 3 "${bed[@]}" --ld-unit KB --ld-wind 50
same kb_np1 kb_np3
run dict_np1 1 --mapping-type dict --mapping-file "$scratch/dict.tsv" --ld-wind 0.05
run dict_np3 3 --mapping-type dict --mapping-file "$scratch/dict.tsv" --ld-wind 0.05
same dict_np1 dict_np3
run annot_np1 1 --annot-file "$scratch/annot.{chr}.txt" --ld-wind 0.05
run annot_np3 3 --annot-file "$scratch/annot.{chr}.txt" --ld-wind 0.05
same annot_np1 annot_np3
exit $fail
