#!/usr/bin/env bash
# Bad-input corpus: YAML and list files (the trait list of spatial-ldsc / quick-mode, the sample
# list of latent-to-gene) under mpirun -np 2, next to the complete baseline project "p".
# Usage: yaml.sh EXE SCRATCH
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
corpus_init "$1" "$2"
corpus_baseline
cp "$data/gwas/"*.sumstats.gz "$data/st/sample0.h5ad" "$bad/"
traits() {  # traits NAME RC PHRASE FILE YAML-TEXT: spatial-ldsc with bad/NAME.yaml
  printf '%b' "$5" >"$bad/$1.yaml"
  expect "yaml.traits_$1" "$2" "$3" "$4" -- mpirun -np 2 "$exe" spatial-ldsc --workdir "$work" \
    --project-name p "${LDSC[@]}" --sumstats-config-file "$bad/$1.yaml"
}
samples() {  # samples NAME RC PHRASE FILE YAML-TEXT: latent-to-gene with bad/NAME.yaml
  printf '%b' "$5" >"$bad/$1.yaml"
  expect "yaml.samples_$1" "$2" "$3" "$4" -- mpirun -np 2 "$exe" latent-to-gene --workdir "$work" \
    --project-name s "${L2G[@]/$data\/st\/samples.yaml/$bad/$1.yaml}"
}
traits syntax 3 "invalid YAML" "syntax.yaml: line" 'new: [unclosed\n'
traits empty 3 "expected a non-empty mapping of trait name to sumstats file" empty.yaml ''
traits list 3 "expected a non-empty mapping" list.yaml '- a.sumstats.gz\n- b.sumstats.gz\n'
traits nested 3 "each entry must be 'trait_name: path'" "nested.yaml: line 1" 'x:\n  - a\n  - b\n'
traits missing_file 3 "sumstats file not found" "missing_file.yaml: trait 'gone'" 'gone: nosuch.sumstats.gz\n'
zcat "$bad/null_trait.sumstats.gz" | awk -F'\t' -v OFS='\t' 'NR==2{$5=0}1' | gzip >"$bad/zero_n.sumstats.gz"
traits bad_member 3 "is not a positive sample size" "zero_n.sumstats.gz: line 2, column N" 'null_trait: null_trait.sumstats.gz\nzero: zero_n.sumstats.gz\n'
expect yaml.traits_missing_yaml 3 "sumstats config file not found" nosuch.yaml -- mpirun -np 2 "$exe" \
  spatial-ldsc --workdir "$work" --project-name p "${LDSC[@]}" --sumstats-config-file "$bad/nosuch.yaml"
# quick-mode checks every trait's header before latent-to-gene writes anything.
zcat "$bad/null_trait.sumstats.gz" | awk -F'\t' -v OFS='\t' '{print $1, $2, $3, $5}' | gzip >"$bad/no_z.sumstats.gz"
printf 'null_trait: null_trait.sumstats.gz\nnoz: no_z.sumstats.gz\n' >"$bad/noz.yaml"
expect yaml.quick_mode_trait_header 3 "missing required column(s) Z" no_z.sumstats.gz -- mpirun -np 2 \
  "$exe" quick-mode --workdir "$work" --project-name q "${L2G[@]}" "${LDSC[@]}" \
  --sumstats-config-file "$bad/noz.yaml" "${CAUCHY[@]}"
[[ ! -e "$work/q/latent_to_gene" ]] || { echo "FAIL yaml.quick_mode_trait_header: step 1 ran"; corpus_fail=1; }
samples syntax 3 "invalid YAML" "syntax.yaml: line" 'a: [b\n'
samples empty 3 "expected a non-empty mapping of sample name to h5ad path" empty.yaml '{}\n'
samples missing_file 3 "h5ad file not found" "missing_file.yaml: sample 'x'" 'x: nosuch.h5ad\n'
samples nested 3 "each entry must be 'sample_name: path'" nested.yaml 'x: {a: 1}\n'
expect_dry_ok yaml.dry_good -- mpirun -np 2 "$exe" quick-mode --workdir "$work" --project-name q \
  "${L2G[@]}" "${LDSC[@]}" "${TRAITS[@]}" "${CAUCHY[@]}" --dry-run
corpus_finish
