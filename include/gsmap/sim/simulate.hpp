#pragma once
// `gsmap-mpi simulate`: writes a complete, realistic gsMap input set with a planted truth, in the
// layout of shared/fixtures/*/input:
//
//   <out>/manifest.json                      keys, paths, generator settings, the planted truth
//   <out>/st/samples.yaml, st/<sample>.h5ad  one file per slice (raw counts, CSR f32 X)
//   <out>/weights/snp_gene_weights.h5ad      SNPs x (genes + Unmapped), CSR f32
//   <out>/w_ld/weights.<chr>.l2.ldscore.gz   CHR SNP BP CM L2, tab-separated, chr 1..22
//   <out>/gwas/sumstats.yaml, gwas/<trait>.sumstats.gz   SNP A1 A2 Z N, tab-separated
//
// Two traits: `planted_<type>`, whose chi-square is enriched at SNPs in LD with the planted cell
// type's marker genes, and `null_trait`, heritable through the baseline only (no cell type
// enrichment). Same options and seed -> byte-identical files on every platform.
#include <cstdint>
#include <string>

namespace gsmap::sim {

struct SimulateOptions {
  std::string out_dir;          // --out (created; must be empty unless overwrite)
  std::uint64_t seed = 1;       // --seed
  std::int64_t n_cells = 3000;  // --n-cells: cells PER SLICE (as the fixtures' generator)
  std::int64_t n_genes = 1000;  // --n-genes: genes measured in every slice
  std::int64_t n_snps = 20000;  // --n-snps: rows of the SNP-gene weight matrix
  int n_slices = 1;             // --n-slices: 1 -> spatial2D, > 1 -> a spatial3D stack

  // Library-level settings (the fixtures' generator_args).
  int n_types = 6;           // cell types T0..T{n-1}
  int n_domains = 4;         // spatial domains D0..D{n-1} (layered bands)
  int markers_per_type = 0;  // 0 = auto: clamp(n_genes / 25, 5, 100)
  int emb_dim = 32;          // obsm/emb_cell width
  int niche_dim = 16;        // obsm/emb_niche width
  int planted_type = 1;      // index of the type whose markers carry the GWAS signal
  double gwas_n = 1e5;       // GWAS sample size (per-SNP N uniform in [0.9, 1] x this)
  // Expected increase of the mean chi-square at N = gwas_n from the baseline (both traits) and
  // from the planted markers (planted trait only); LDSC's N h2 l / M, averaged over SNPs.
  double h2_base = 0.4;
  double h2_planted = 0.4;
  bool edge_cases = false;  // plant the fixtures' edge cases (NaN labels, rare type, ...)
  // Benchmark settings. Their defaults reproduce the files of earlier versions byte for byte.
  // SNP-gene non-zeros per SNP of the weight matrix, Unmapped included (0: the model's own
  // density, about 6.5 at the default sizes; gsMap's real matrix has about 13): the gene windows
  // of model.hpp step 5 are widened or narrowed until the expected density is this value.
  double weight_nnz_per_snp = 0.0;
  // Write each slice's cells in a random permutation of their spatial order (seeded; the data of
  // every cell, its name included, are unchanged), like real h5ad files sorted by barcode.
  bool shuffle_cells = false;
  bool overwrite = false;  // allow a non-empty --out
};

// Throws UsageError (naming the option, the problem and the fix) for unusable settings.
void validate(const SimulateOptions& options);

// A few lines for `simulate --help`: what is generated and the defaults.
std::string describe_defaults();

// Generates the data set under options.out_dir. Throws UsageError for bad options, IoError when
// files cannot be written. manifest.json is written last: its presence marks a complete set.
void simulate(const SimulateOptions& options);

}  // namespace gsmap::sim
