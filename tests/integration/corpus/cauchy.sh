#!/usr/bin/env bash
# Bad-input corpus: Cauchy combination inputs (cauchy-combination / quick-mode under mpirun -np 2
# on the complete baseline project "p"): annotation columns, LDSC result files, the spot obs.
# Usage: cauchy.sh EXE SCRATCH
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
corpus_init "$1" "$2"
corpus_baseline
ldsc=$work/p/spatial_ldsc
# A trait "broken" whose LDSC result is planted (with the good sumstats, so the trait list is valid).
yaml_for() { printf 'broken: %s\n' "$data/gwas/null_trait.sumstats.gz" >"$bad/$1.yaml"; }
cauchy() {  # cauchy NAME RC PHRASE FILE [args]
  local name=$1 rc=$2 phrase=$3 file=$4
  shift 4
  expect "cauchy.$name" "$rc" "$phrase" "$file" -- mpirun -np 2 "$exe" cauchy-combination \
    --workdir "$work" --project-name p "$@"
}
cauchy missing_column 3 "its obs columns are: sample_name, slice_id, annotation, domain" \
  "marker_scores.h5ad: obs/nosuch" "${TRAITS[@]}" --cauchy-annotations nosuch
cauchy one_of_two_missing 3 "annotation column not found" "obs/Domain" "${TRAITS[@]}" \
  --annotation annotation --cauchy-annotations Domain
# quick-mode checks the Cauchy columns in the samples before latent-to-gene writes anything.
expect cauchy.quick_mode_missing_column 3 "its obs columns are: annotation, domain" "sample0.h5ad: obs/nosuch" -- \
  mpirun -np 2 "$exe" quick-mode --workdir "$work" --project-name q "${L2G[@]}" "${LDSC[@]}" \
  "${TRAITS[@]}" --cauchy-annotations nosuch
[[ ! -e "$work/q/latent_to_gene" ]] || { echo "FAIL cauchy.quick_mode_missing_column: step 1 ran"; corpus_fail=1; }
yaml_for no_result
cauchy no_ldsc_result 3 "spatial LDSC result not found" "p_broken.csv.gz" --sumstats-config-file "$bad/no_result.yaml" --cauchy-annotations domain
# Planted LDSC results of trait "broken" (new files in the project; removed after each case).
plant() { printf '%b' "$2" | gzip >"$ldsc/p_broken.csv.gz"; }
zcat "$ldsc/p_null_trait.csv.gz" | head -1 | sed 's/^/     ldsc header: /'
plant header 'spot,beta,se\nA,1,2\n'
cauchy ldsc_missing_columns 3 "p_broken.csv.gz" "p_broken.csv.gz" --sumstats-config-file "$bad/no_result.yaml" --cauchy-annotations domain
rm -f "$ldsc/p_broken.csv.gz"
head -c 400 "$ldsc/p_null_trait.csv.gz" >"$ldsc/p_broken.csv.gz"
cauchy ldsc_truncated 3 "truncated gzip" "p_broken.csv.gz" --sumstats-config-file "$bad/no_result.yaml" --cauchy-annotations domain
rm -f "$ldsc/p_broken.csv.gz"
zcat "$ldsc/p_null_trait.csv.gz" | awk -F, -v OFS=, 'NR==7{$5="abc"}1' | gzip >"$ldsc/p_broken.csv.gz"
cauchy ldsc_bad_p 3 "abc" "p_broken.csv.gz" --sumstats-config-file "$bad/no_result.yaml" --cauchy-annotations domain
rm -f "$ldsc/p_broken.csv.gz"
touch "$ldsc/p_broken_cells_0_300.csv.gz"
cauchy ldsc_only_partial 3 "join them with gsmap-mpi merge" "p_broken.csv.gz" --sumstats-config-file "$bad/no_result.yaml" --cauchy-annotations domain
rm -f "$ldsc/p_broken_cells_0_300.csv.gz"
expect_dry_ok cauchy.dry_good -- mpirun -np 2 "$exe" cauchy-combination --workdir "$work" \
  --project-name p "${TRAITS[@]}" --cauchy-annotations section --dry-run
cauchy dry_missing_column 3 "its obs columns are:" "obs/nosuch" "${TRAITS[@]}" --cauchy-annotations nosuch --dry-run
corpus_finish
