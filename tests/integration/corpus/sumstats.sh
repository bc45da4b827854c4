#!/usr/bin/env bash
# Bad-input corpus: summary statistics (spatial-ldsc under mpirun -np 2, a new trait "bad" in the
# complete baseline project). Usage: sumstats.sh EXE SCRATCH
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
corpus_init "$1" "$2"
corpus_baseline
good=$data/gwas/null_trait.sumstats.gz
# make NAME AWK-PROGRAM: bad/NAME.sumstats.gz from the good file (tab-separated SNP A1 A2 Z N).
make() { zcat "$good" | awk -F'\t' -v OFS='\t' "$2" | gzip >"$bad/$1.sumstats.gz"; }
run() {  # run NAME RC PHRASE FILE [extra args]
  local name=$1 rc=$2 phrase=$3 file=$4
  shift 4
  expect "sumstats.$name" "$rc" "$phrase" "$file" -- mpirun -np 2 "$exe" spatial-ldsc \
    --workdir "$work" --project-name p "${LDSC[@]}" --trait-name bad "$@"
}
make n_zero 'NR==3{$5=0}1'
run n_zero 3 "N = '0' is not a positive sample size" n_zero.sumstats.gz --sumstats-file "$bad/n_zero.sumstats.gz"
make n_negative 'NR==4000{$5=-5}1'
run n_negative 3 "is not a positive sample size" "n_negative.sumstats.gz: line 4000, column N" --sumstats-file "$bad/n_negative.sumstats.gz"
make n_inf 'NR==10{$5="inf"}1'
run n_inf 3 "is not a positive sample size" n_inf.sumstats.gz --sumstats-file "$bad/n_inf.sumstats.gz"
make z_inf 'NR==7{$4="-inf"}1'
run z_inf 3 "Z = '-inf' is infinite" "z_inf.sumstats.gz: line 7, column Z" --sumstats-file "$bad/z_inf.sumstats.gz"
make z_text 'NR==5{$4="abc"}1'
run z_text 3 "'abc' is not a number" "z_text.sumstats.gz: line 5, column Z" --sumstats-file "$bad/z_text.sumstats.gz"
make no_z '{print $1, $2, $3, $5}'
run no_z 3 "missing required column(s) Z" no_z.sumstats.gz --sumstats-file "$bad/no_z.sumstats.gz"
make lower_case 'NR==1{$4="z"; $5="n"}1'
run lower_case 3 "missing required column(s) Z, N" lower_case.sumstats.gz --sumstats-file "$bad/lower_case.sumstats.gz"
make short_row 'NR==20{NF=4}1'
run short_row 3 "4 fields, but the header has 5 columns" "short_row.sumstats.gz: line 20" --sumstats-file "$bad/short_row.sumstats.gz"
make header_only 'NR==1'
run header_only 3 "no data rows after the header" header_only.sumstats.gz --sumstats-file "$bad/header_only.sumstats.gz"
: | gzip >"$bad/empty.sumstats.gz"
run empty 3 "empty file: no header line" empty.sumstats.gz --sumstats-file "$bad/empty.sumstats.gz"
make all_z_missing 'NR>1{$4="NA"}1'
run all_z_missing 3 "Z" all_z_missing.sumstats.gz --sumstats-file "$bad/all_z_missing.sumstats.gz"
make no_common 'NR>1{$1="x"$1}1'
run no_common 3 "is among the" no_common.sumstats.gz --sumstats-file "$bad/no_common.sumstats.gz"
head -c 3000 "$good" >"$bad/truncated.sumstats.gz"
run truncated 3 "truncated" truncated.sumstats.gz --sumstats-file "$bad/truncated.sumstats.gz"
printf 'this is not gzip\n' >"$bad/not_gzip.sumstats.gz"
run not_gzip 3 "missing required column(s) SNP, Z, N" not_gzip.sumstats.gz --sumstats-file "$bad/not_gzip.sumstats.gz"
run missing 3 "not found" nosuch.sumstats.gz --sumstats-file "$bad/nosuch.sumstats.gz"
cp "$good" "$bad/x.sumstats.bz2"
run bzip2 3 "bzip2-compressed summary statistics are not supported" x.sumstats.bz2 --sumstats-file "$bad/x.sumstats.bz2"
# The same checks in a dry run, and a dry run of good input writes nothing.
run dry_n_zero 3 "is not a positive sample size" n_zero.sumstats.gz --sumstats-file "$bad/n_zero.sumstats.gz" --dry-run
expect_dry_ok sumstats.dry_good -- mpirun -np 2 "$exe" spatial-ldsc --workdir "$work" \
  --project-name p "${LDSC[@]}" --trait-name fresh --sumstats-file "$good" --dry-run
corpus_finish
