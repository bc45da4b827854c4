#!/usr/bin/env bash
# Bad-input corpus: ldscore-weight-matrix (docs/ldscore.md §9, docs/troubleshooting.md). A small
# two-chromosome PLINK panel is written here (8 individuals, 40 variants each), a good run makes
# the baseline outputs, then each bad input must fail under mpirun -np 2 with the documented exit
# code, an error naming the file, no new output marked complete and the baseline untouched.
# Usage: ldscore.sh EXE SCRATCH
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
exe=$1 scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch/work" "$scratch/bad" "$scratch/data/hm3"
data=$scratch/data work=$scratch/work bad=$scratch/bad

# panel PREFIX CHROM: 8 individuals (2 bytes per variant), 40 variants, cM increasing.
panel() {
  local prefix=$1 chrom=$2 j
  printf 'f%d i%d 0 0 1 -9\n' 1 1 2 2 3 3 4 4 5 5 6 6 7 7 8 8 >"$prefix.fam"
  : >"$prefix.bim"
  printf '\x6c\x1b\x01' >"$prefix.bed"
  for ((j = 0; j < 40; j++)); do
    printf '%s\tv%s_%d\t%s\t%d\tA\tG\n' "$chrom" "$chrom" "$j" "$(awk -v j=$j 'BEGIN{printf "%.2f", j*0.1}')" \
      $((10000 + 5000 * j)) >>"$prefix.bim"
    printf "\\x$(printf %02x $(((j * 37 + 11) % 256 | 0xA0)))\\x$(printf %02x $(((j * 53 + 7) % 256 | 0x08)))" >>"$prefix.bed"
    echo "v${chrom}_$j" >>"$data/hm3/hm.$chrom.snp"
  done
}
panel "$data/p.1" 1
panel "$data/p.2" 2
printf 'chr1\t10000\t80000\tGENE_A\t1\t+\nchr1\t60000\t200000\tGENE_B\t2\t-\nchr2\t10000\t90000\tGENE_C\t1\t+\n' >"$data/genes.bed"
good=(--bfile-root "$data/p.{chr}" --hm3-snp-dir "$data/hm3" --mapping-file "$data/genes.bed"
      --strategy tss --chromosomes 1,2 --maf-min 0 --calculate-w-ld --output-dir "$work/out")
mpirun -np 2 "$exe" ldscore-weight-matrix "${good[@]}" >"$scratch/baseline.log" 2>&1 ||
  { echo "FAIL: baseline run"; tail -5 "$scratch/baseline.log"; exit 1; }
grep -h "stored entries" "$scratch/baseline.log" | sed 's/^/     baseline: /'

# copy NAME: bad/NAME = a copy of the good data (changed by the caller).
copy() { rm -rf "$bad/$1" && cp -r "$data" "$bad/$1"; }
# run NAME RC PHRASE FILE DATA_DIR [extra args]; STRATEGY and CHROMS override tss and 1,2.
run() {
  local name=$1 rc=$2 phrase=$3 file=$4 dir=$5
  shift 5
  expect "ldscore.$name" "$rc" "$phrase" "$file" -- mpirun -np 2 "$exe" ldscore-weight-matrix \
    --bfile-root "$dir/p.{chr}" --hm3-snp-dir "$dir/hm3" --mapping-file "$dir/genes.bed" \
    --strategy "${STRATEGY:-tss}" --chromosomes "${CHROMS:-1,2}" --maf-min 0 --calculate-w-ld \
    --output-dir "$work/out" "$@"
}

copy trunc; head -c 50 "$data/p.2.bed" >"$bad/trunc/p.2.bed"
run truncated_bed 3 "(truncated?)" "p.2.bed" "$bad/trunc"
copy mode; printf '\x6c\x1b\x00' | dd of="$bad/mode/p.1.bed" bs=1 conv=notrunc 2>/dev/null
run individual_major 3 "individual-major, not SNP-major" "p.1.bed" "$bad/mode"
copy magic; printf 'XX' | dd of="$bad/magic/p.1.bed" bs=1 conv=notrunc 2>/dev/null
run not_plink 3 "not a PLINK 1 .bed file" "p.1.bed" "$bad/magic"
copy bim_short; sed -i '$d' "$bad/bim_short/p.1.bim"
run bim_wrong_length 3 "39 variants ($bad/bim_short/p.1.bim lines)" "p.1.bed" "$bad/bim_short"
copy fam_long; echo "f9 i9 0 0 1 -9" >>"$bad/fam_long/p.2.fam"
run fam_wrong_length 3 "9 individuals ($bad/fam_long/p.2.fam lines)" "p.2.bed" "$bad/fam_long"
copy bim_fields; sed -i '7s/\tG$//' "$bad/bim_fields/p.1.bim"
run bim_fields 3 "line 7: 5 fields, a .bim line has 6" "p.1.bim" "$bad/bim_fields"
copy unsorted; sed -i '12s/\t1.10\t/\t0.05\t/' "$bad/unsorted/p.2.bim"
run unsorted_cm 3 "cM position 0.05 of v2_11 is smaller than 1" "p.2.bim: line 12" "$bad/unsorted"
copy unsorted_bp; sed -i '12s/\t65000\t/\t100\t/' "$bad/unsorted_bp/p.1.bim"
run unsorted_bp 3 "bp position 100 of v1_11 is smaller than 60000" "p.1.bim: line 12" "$bad/unsorted_bp" --ld-unit KB --ld-wind 100
copy bed3; cut -f1-3 "$data/genes.bed" >"$bad/bed3/genes.bed"
run bed_no_name 3 "the BED must contain a Name column" "genes.bed: line 1" "$bad/bed3"
copy bed_fields; printf 'chr2\t5\t50\tGENE_D\t1\n' >>"$bad/bed_fields/genes.bed"
run bed_unequal 3 "5 tab-separated fields, but line 1 has 6" "genes.bed: line 4" "$bad/bed_fields"
copy bed5; cut -f1-5 "$data/genes.bed" >"$bad/bed5/genes.bed"
run bed_no_strand 3 "--strategy tss needs a strand column" "genes.bed" "$bad/bed5"
copy bed_score; sed -i '2s/\t2\t/\tx\t/' "$bad/bed_score/genes.bed"
STRATEGY=score run bed_score_text 3 "'x' is not a finite number" "genes.bed: line 2, column 5 (score)" "$bad/bed_score"
copy hm3_empty; : >"$bad/hm3_empty/hm3/hm.2.snp"
run hm3_empty 3 "the regression-SNP list of chromosome 2 is empty" "hm.2.snp" "$bad/hm3_empty"
copy hm3_none; rm "$bad/hm3_none/hm3/hm.1.snp"
run hm3_missing 3 "no regression-SNP list for chromosome 1" "$bad/hm3_none/hm3" "$bad/hm3_none"
copy nochrom
CHROMS=1,5,2 run chromosome_without_files 3 "no PLINK fileset for 1 requested chromosome(s)" "p.5.bed" "$bad/nochrom"
copy nofam; rm "$bad/nofam/p.2.fam"
run missing_fam 3 "chromosome 2 has a .bed but no .fam" "p.2.fam" "$bad/nofam"
copy dup; sed -i '3s/\tv1_2\t/\tv1_1\t/' "$bad/dup/p.1.bim"
run duplicate_id 3 "regression SNP id 'v1_1' occurs twice" "p.1.bim" "$bad/dup"
copy dup2; sed -i '4s/\tv2_3\t/\tv1_30\t/' "$bad/dup2/p.2.bim"; echo v1_30 >>"$bad/dup2/hm3/hm.2.snp"
run duplicate_id_across_chromosomes 3 "regression SNP id 'v1_30' occurs twice (also chromosome 1, .bim line 31)" "p.2.bim: line 4" "$bad/dup2"
copy nolist; for c in 1 2; do echo "rs_unknown" >"$bad/nolist/hm3/hm.$c.snp"; done
run no_regression_snp 3 "no regression SNP" "$bad/nolist/hm3" "$bad/nolist"
copy annot; printf 'A1\tA2\n1\t0\n' >"$bad/annot/a.1.annot"; cp "$bad/annot/a.1.annot" "$bad/annot/a.2.annot"
run annot_thin_rows 3 "1 rows without a SNP column, but" "a.1.annot" "$bad/annot" --annot-file "$bad/annot/a.{chr}.annot"
STRATEGY=TSS run strategy_case 2 "--strategy: 'TSS' is not a known value" "--strategy" "$data"
run mapping_type 2 "--mapping-type: 'BED' is not a known value" "--mapping-type" "$data" --mapping-type BED
run batch_zero 2 "is out of range" "--batch-size-hm3" "$data" --batch-size-hm3 0
corpus_finish
