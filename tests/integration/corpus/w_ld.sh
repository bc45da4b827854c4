#!/usr/bin/env bash
# Bad-input corpus: the LD-weight folder (--w-ld-dir; spatial-ldsc under mpirun -np 2, a new trait
# "bad" in the complete baseline project). Every chromosome file must parse.
# Usage: w_ld.sh EXE SCRATCH
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
corpus_init "$1" "$2"
corpus_baseline
# folder NAME: bad/NAME = a copy of the good folder (changed by the caller).
folder() { rm -rf "$bad/$1" && cp -r "$data/w_ld" "$bad/$1"; }
# rewrite NAME CHR AWK: chromosome CHR's file of bad/NAME rewritten by AWK (tab-separated).
rewrite() {
  local f="$bad/$1/weights.$2.l2.ldscore.gz"
  zcat "$f" | awk -F'\t' -v OFS='\t' "$3" | gzip >"$f.new" && mv "$f.new" "$f"
}
run() {  # run NAME RC PHRASE FILE DIR [extra args]
  local name=$1 rc=$2 phrase=$3 file=$4 dir=$5
  shift 5
  expect "w_ld.$name" "$rc" "$phrase" "$file" -- mpirun -np 2 "$exe" spatial-ldsc \
    --workdir "$work" --project-name p --w-ld-dir "$dir" \
    --snp-gene-weight-adata-path "$data/weights/snp_gene_weights.h5ad" \
    --n-blocks 20 --ldsc-read-workers 1 --ldsc-compute-workers 1 --no-gpu \
    --trait-name bad --sumstats-file "$data/gwas/null_trait.sumstats.gz" "$@"
}
zcat "$data/w_ld/weights.1.l2.ldscore.gz" | head -2 | sed 's/^/     w_ld header: /' | head -1
folder nan; rewrite nan 7 'NR==5{$NF="NA"}1'
run l2_missing 3 "LD weight 'NA' is missing or infinite" "weights.7.l2.ldscore.gz: line 5, column L2" "$bad/nan"
folder inf; rewrite inf 22 'NR==3{$NF="inf"}1'
run l2_inf 3 "is missing or infinite" "weights.22.l2.ldscore.gz: line 3" "$bad/inf"
folder text; rewrite text 3 'NR==9{$NF="x1"}1'
run l2_text 3 "'x1' is not a number" "weights.3.l2.ldscore.gz: line 9, column L2" "$bad/text"
folder fields; rewrite fields 12 'NR==4{NF=3}1'
run short_row 3 "3 tab-separated fields, but the header has 5 columns" "weights.12.l2.ldscore.gz: line 4" "$bad/fields"
folder spaces; rewrite spaces 5 '{gsub(/\t/, " ")}1'
run space_separated 3 "need a SNP column and a weight column" "weights.5.l2.ldscore.gz" "$bad/spaces"
folder bp; rewrite bp 9 'NR==6{$3="12x"}1'
run bp_text 3 "'12x' is not a number" "weights.9.l2.ldscore.gz: line 6, column BP" "$bad/bp"
folder trunc
head -c 200 "$data/w_ld/weights.14.l2.ldscore.gz" >"$bad/trunc/weights.14.l2.ldscore.gz"
run truncated_gzip 3 "truncated gzip" "weights.14.l2.ldscore.gz" "$bad/trunc"
folder empty_file; : | gzip >"$bad/empty_file/weights.2.l2.ldscore.gz"
run empty_file 3 "empty file: no header line" "weights.2.l2.ldscore.gz" "$bad/empty_file"
folder header_only
for f in "$bad"/header_only/*.gz; do zcat "$f" | head -1 | gzip >"$f.new" && mv "$f.new" "$f"; done
run no_rows 3 "the LD-weight files hold no data rows" "$bad/header_only" "$bad/header_only"
mkdir -p "$bad/none"
run no_files 3 "no LD-weight files" "$bad/none" "$bad/none"
run missing_dir 3 "LD-weight directory not found" "$bad/nosuch" "$bad/nosuch"
folder parquet; mv "$bad/parquet/weights.4.l2.ldscore.gz" "$bad/parquet/weights.4.l2.ldscore.parquet"
run parquet 3 "Feather/Parquet LD-weight files are not supported" "weights.4.l2.ldscore.parquet" "$bad/parquet"
run dry_l2_missing 3 "is missing or infinite" "weights.7.l2.ldscore.gz: line 5" "$bad/nan" --dry-run
corpus_finish
