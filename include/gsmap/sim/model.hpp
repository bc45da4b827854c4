#pragma once
// The simulator's generative model, in the order it is drawn (each part from its own random
// stream, mix_seed(seed, Stream::k...)):
//
//  1. GeneDesign: gene names, disjoint marker sets per cell type and per spatial domain, baseline
//     expression proportions (log-normal), NB dispersions, which genes the weight matrix holds.
//  2. TissueLayout: domains are horizontal bands with wavy boundaries (like cortical layers) whose
//     phase drifts slowly from slice to slice, so K slices form a consistent 3-D stack; type and
//     domain centroids of the embeddings (orthogonal directions plus a shared offset).
//  3. Per slice: cells uniform in a square (10 length units between neighbours on average), domain
//     from the layout, type = one of the domain's home types (t % n_domains == d) with p = 0.85,
//     any type otherwise; raw counts ~ NB(library x type/domain-scaled proportions, dispersion);
//     emb_cell = type centroid + noise; emb_niche = the domain centroids averaged over the cells
//     within 3 spacings (so boundary cells look mixed) + noise.
//  4. Genome: 22 chromosomes with lengths proportional to GRCh37, scaled to ~2.5 kb per SNP
//     (HapMap3-like density); SNP positions uniform; an autocorrelated log-normal LD score per SNP
//     (the w_ld L2); weight-matrix genes placed uniformly.
//  5. Weight matrix: SNP s gets weight on the genes within 2.5 mean gene spacings, decaying with
//     distance and sharing its LD budget (20 x LD score) with the Unmapped column; a few tiny
//     (possibly negative) entries for farther genes (up to 4 spacings) mimic LD-estimation
//     noise. --weight-nnz-per-snp scales both windows and the decay length by one factor.
//  6. GWAS: E[chi2_s] = 1 + (N_s / gwas_n) (h2_base base(s)/mean(base) + h2_planted P(s)/mean(P)),
//     P(s) = weight of SNP s on the planted type's markers; Z_s = sqrt(E[chi2_s]) x N(0, 1).
#include <cstdint>
#include <string>
#include <vector>

#include "gsmap/io/h5ad.hpp"
#include "gsmap/sim/simulate.hpp"

namespace gsmap::sim {

enum class Stream : std::uint64_t {
  kGenes = 1,
  kLayout = 2,
  kCells = 3,
  kExpression = 4,
  kGenome = 5,
  kWeights = 6,
  kGwas = 7,
  kShuffle = 8,
};

// Effective settings after defaults are resolved.
int resolved_markers_per_type(const SimulateOptions& o);
int domain_genes_per_domain(const SimulateOptions& o);
std::string sample_name(const SimulateOptions& o, int slice);

struct GeneDesign {
  std::vector<std::string> st_genes;                    // var order of every slice
  std::vector<std::string> type_names;                  // T0..T{n-1}, then "Rare" (edge cases)
  std::vector<std::vector<std::int32_t>> type_markers;  // ST gene indices, ascending
  std::vector<std::string> domain_names;                // D0..
  std::vector<std::vector<std::int32_t>> domain_genes;  // ST gene indices, ascending
  std::vector<double> base_log_proportion;              // per ST gene (unnormalised)
  std::vector<double> dispersion;                       // NB dispersion per ST gene
  std::vector<std::vector<double>> type_log_fold;       // [type][gene], 0 off the markers
  std::vector<std::vector<double>> domain_log_fold;     // [domain][gene]
  std::vector<double> type_log_library;                 // per type library-size offset
  double log_library_mean = 0.0;                        // ln of the median library size
  // Weight-matrix features in column order (the final Unmapped column is not listed).
  std::vector<std::string> weight_genes;
  std::vector<std::int32_t> weight_gene_st_index;  // -1 for genes not measured in ST
  std::int64_t n_st_genes_in_weights = 0;
};
GeneDesign make_gene_design(const SimulateOptions& o);

struct TissueLayout {
  struct Boundary {
    double offset;           // mean height, fraction of the side
    double amplitude;        // fraction of the side
    double frequency;        // waves per side
    double phase;            // radians
    double phase_per_slice;  // radians per slice
    double drift_per_slice;  // fraction of the side per slice
  };
  double side = 0.0;
  std::vector<Boundary> boundaries;      // n_domains - 1, bottom to top
  std::vector<double> type_centroids;    // n_types_total x emb_dim
  std::vector<double> domain_centroids;  // n_domains x niche_dim
  int domain_at(double x, double y, int slice) const;
};
TissueLayout make_tissue_layout(const SimulateOptions& o, const GeneDesign& design);

struct SliceData {
  std::string name;
  std::vector<std::string> obs_names;
  std::vector<double> xy;  // n x 2
  std::vector<std::int32_t> domain;
  std::vector<std::int32_t> true_type;  // type that drove the expression
  std::vector<std::int32_t> label;      // obs annotation code; -1 = missing (edge cases)
  std::vector<std::uint8_t> high_quality;
  io::CsrRows counts;            // raw counts as f32, columns ascending per row
  std::vector<float> emb_cell;   // n x emb_dim
  std::vector<float> emb_niche;  // n x niche_dim
};
SliceData simulate_slice(const SimulateOptions& o, const GeneDesign& design,
                         const TissueLayout& layout, int slice);
// --shuffle-cells: puts the slice's cells in a random order drawn from mix_seed(seed,
// Stream::kShuffle, slice); row i of every per-cell array becomes the old row order[i], which is
// returned.
std::vector<std::int64_t> shuffle_cells(const SimulateOptions& o, int slice, SliceData& s);

struct Genome {
  std::vector<std::int64_t> chr_length;  // chromosomes 1..22
  std::vector<std::int32_t> chr;         // per SNP, sorted by (chr, bp)
  std::vector<std::int64_t> bp;
  std::vector<std::string> snp_id;
  std::vector<char> a1, a2;
  std::vector<double> ld_score;        // w_ld L2 (rounded to 4 decimals)
  std::vector<std::int32_t> gene_chr;  // per weight gene (column order)
  std::vector<std::int64_t> gene_pos;
};
Genome make_genome(const SimulateOptions& o, const GeneDesign& design);

// Factor applied to the gene windows and the weight decay of step 5: 1 unless
// o.weight_nnz_per_snp > 0, then the factor whose expected non-zeros per SNP (Unmapped included)
// equal it (bisection over the exact count of SNP-gene pairs within the windows). Throws
// UsageError if the genome's genes cannot give that many.
double weight_window_scale(const SimulateOptions& o, const Genome& genome);
// Expected non-zeros per SNP (Unmapped included) with the windows scaled by `scale`.
double expected_weight_nnz_per_snp(const Genome& genome, double scale);

// SNPs x (weight genes + Unmapped), columns ascending per row.
io::CsrRows make_weight_matrix(const SimulateOptions& o, const Genome& genome,
                               const GeneDesign& design);

struct TraitStats {
  std::string name;
  double h2_base = 0.0, h2_planted = 0.0;
  double mean_expected_chi2 = 0.0;         // at N = gwas_n over all SNPs
  double mean_observed_chi2 = 0.0;         // of the sampled Z (finite, non-outlier rows)
  std::int64_t n_linked = 0;               // SNPs with planted-marker weight P(s) >= 1
  double mean_expected_chi2_linked = 0.0;  // at N = gwas_n
  double mean_expected_chi2_unlinked = 0.0;
  double mean_observed_chi2_linked = 0.0;
  double mean_observed_chi2_unlinked = 0.0;
};
struct SimulatedTrait {
  TraitStats stats;
  std::string sumstats_text;  // uncompressed .sumstats table
};
// `trait_index` selects the random stream (0 = planted, 1 = null).
SimulatedTrait simulate_trait(const SimulateOptions& o, const Genome& genome,
                              const io::CsrRows& weights, const GeneDesign& design,
                              const std::string& name, double h2_planted, int trait_index);

// One chromosome's w_ld table (CHR SNP BP CM L2), uncompressed.
std::string ld_weight_table(const SimulateOptions& o, const Genome& genome, int chromosome);

}  // namespace gsmap::sim
