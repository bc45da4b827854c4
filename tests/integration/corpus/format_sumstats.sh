#!/usr/bin/env bash
# Bad-input corpus: format-sumstats (docs/sumstats.md §3, docs/troubleshooting.md). A good raw GWAS
# table gives the baseline output; each bad input must fail under mpirun -np 2 with the documented
# exit code, an error naming the file and the problem, no output file of its own, and the baseline
# untouched.
# Usage: format_sumstats.sh EXE SCRATCH
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
exe=$1 scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch/work" "$scratch/bad"
work=$scratch/work bad=$scratch/bad

good=$bad/good.tsv
printf 'RSID\tEFFECT_ALLELE\tNEA\tBETA\tSE\tPVAL\tN\tEAF\n' >"$good"
for i in $(seq 1 200); do
  printf 'rs%d\tA\tG\t%s\t0.02\t0.%03d\t%d\t0.3\n' "$i" "$([[ $((i % 2)) -eq 0 ]] && echo 0.05 || echo -0.05)" "$i" $((10000 + i))
done >>"$good"
mpirun -np 2 "$exe" format-sumstats --sumstats "$good" --out "$work/good" >"$scratch/baseline.log" 2>&1 ||
  { echo "FAIL: baseline run"; tail -5 "$scratch/baseline.log"; exit 1; }
grep -h "wrote" "$scratch/baseline.log" | sed 's/^.*\] /     baseline: /'

# run NAME RC PHRASE FILE INPUT [extra args]: the output prefix is $work/NAME.
run() {
  local name=$1 rc=$2 phrase=$3 file=$4 input=$5
  shift 5
  expect "format_sumstats.$name" "$rc" "$phrase" "$file" -- mpirun -np 2 "$exe" format-sumstats \
    --sumstats "$input" --out "$work/$name" "$@"
  if compgen -G "$work/$name.*" >/dev/null; then
    echo "FAIL format_sumstats.$name: output written: $(ls "$work/$name".*)"
    corpus_fail=1
  fi
}
# bad NAME: bad/NAME.tsv, the good table changed by the caller.
bad() { cp "$good" "$bad/$1.tsv"; }

bad no_stat; cut -f1-4,7,8 "$good" >"$bad/no_stat.tsv"
run no_statistic 3 "no statistic to derive Z from" "no_stat.tsv: header (line 1)" "$bad/no_stat.tsv"
bad unsigned; cut -f1-3,5-8 "$good" >"$bad/unsigned.tsv"
run p_without_beta 3 "cannot sign Z: give BETA, an OR/SE_OR pair, or Z" "unsigned.tsv" "$bad/unsigned.tsv"
bad dup_p; sed -i '1s/\tN\t/\tP\t/' "$bad/dup_p.tsv"
run duplicate_roles 3 "Found 2 different P columns (PVAL, P)" "dup_p.tsv" "$bad/dup_p.tsv"
bad weight; sed -i '1s/\tN\t/\tWEIGHT\t/' "$bad/weight.tsv"
run n_twice 3 "Found 2 different N columns (WEIGHT, --n)" "weight.tsv" "$bad/weight.tsv" --n 1000
bad no_n; cut -f1-6,8 "$good" >"$bad/no_n.tsv"
run no_sample_size 3 "no sample size" "no_n.tsv" "$bad/no_n.tsv"
bad no_a2; cut -f1,2,4- "$good" >"$bad/no_a2.tsv"
run no_a2 3 "no A2 column (other allele)" "no_a2.tsv" "$bad/no_a2.tsv"
bad no_ids; sed -i '1s/^RSID/MarkerName/' "$bad/no_ids.tsv"
run no_ids 3 "no SNP id column" "no_ids.tsv" "$bad/no_ids.tsv"
bad chrpos; { printf 'Chr\tPos\tA1\tA2\tZ\tN\n'; printf '1\t100\tA\tG\t1\t10\n'; } >"$bad/chrpos.tsv"
run no_dbsnp 3 "needs a dbSNP table" "chrpos.tsv" "$bad/chrpos.tsv"
run dbsnp_missing 3 "the dbSNP table (--dbsnp) does not exist" "absent.tsv" "$bad/chrpos.tsv" --dbsnp "$bad/absent.tsv"
gzip -c "$good" >"$bad/full.tsv.gz"
head -c $(($(stat -c %s "$bad/full.tsv.gz") / 2)) "$bad/full.tsv.gz" >"$bad/trunc.tsv.gz"
run truncated_gzip 3 "truncated gzip stream" "trunc.tsv.gz" "$bad/trunc.tsv.gz"
bad wide; printf 'rs999\tA\tG\t0.1\t0.02\t0.1\t100\t0.3\textra\n' >>"$bad/wide.tsv"
run long_line 3 "line 202: 9 fields, but the header has 8 columns" "wide.tsv" "$bad/wide.tsv"
cp "$good" "$bad/bz.tsv.bz2"
run bzip2 3 "bzip2-compressed summary statistics are not supported" "bz.tsv.bz2" "$bad/bz.tsv.bz2"
expect format_sumstats.no_out_dir 4 "does not exist" "nowhere" -- mpirun -np 2 "$exe" \
  format-sumstats --sumstats "$good" --out "$work/nowhere/x"
run format_choice 2 "--format: 'ldsc' is not a known value" "--format" "$good" --format ldsc
corpus_finish
