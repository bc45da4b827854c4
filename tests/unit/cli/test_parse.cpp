// gsmap::cli::parse: options land in the right Config fields with the reference defaults
// (docs/usage.md "All options", docs/algorithms.md §3.1), and every wrong command line
// gives a UsageError that says what is wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "gsmap/cli/parse.hpp"
#include "gsmap/core/error.hpp"
#include "test_support.hpp"

namespace {

using gsmap::cli::Action;
using gsmap::cli::parse;
using gsmap::cli::ParseResult;
using gsmap::cli::help_text;
using gsmap::cli::resolved_options;
using Args = std::vector<std::string>;

class ParseTest : public ::testing::Test {
 protected:
  gsmap::test::TempDir dir_{"cli_parse"};
  std::string workdir() const { return dir_.path().string(); }

  // The options every step subcommand needs, followed by `extra`.
  Args step(const std::string& sub, const Args& extra) const {
    Args a = {sub, "--workdir", workdir(), "--project-name", "proj"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  Args trait() const { return {"--trait-name", "height", "--sumstats-file", "h.sumstats.gz"}; }

  // The message of the UsageError that parse(args) must throw.
  static std::string error_of(const Args& args) {
    try {
      parse(args);
    } catch (const gsmap::UsageError& e) {
      EXPECT_EQ(e.code(), gsmap::ExitCode::kUsage);
      return e.what();
    }
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    ADD_FAILURE() << "no UsageError for: " << joined;
    return {};
  }
};

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "'" << (text) << "' lacks '" << (part) << "'"

TEST_F(ParseTest, LatentToGeneDefaults) {
  const ParseResult r = parse(step("latent-to-gene", {"--h5ad-path", "a.h5ad"}));
  EXPECT_EQ(r.action, Action::kRun);
  EXPECT_EQ(r.subcommand, "latent-to-gene");
  const gsmap::Config& c = r.config;
  EXPECT_EQ(c.common.workdir, workdir());
  EXPECT_EQ(c.common.project_name, "proj");
  EXPECT_TRUE(c.common.use_gpu);
  EXPECT_EQ(c.common.memmap_tmp_dir, "");
  EXPECT_EQ(c.l2g.h5ad_path, (Args{"a.h5ad"}));
  EXPECT_EQ(c.l2g.data_layer, "X");
  EXPECT_EQ(c.l2g.spatial_key, "spatial");
  EXPECT_EQ(c.l2g.annotation, "");
  EXPECT_EQ(c.l2g.latent_representation_cell, "emb_cell");
  EXPECT_EQ(c.l2g.latent_representation_niche, "");  // 5.5.1: no default niche
  EXPECT_EQ(c.l2g.dataset_type, gsmap::DatasetType::kSpatial2D);
  EXPECT_EQ(c.l2g.spatial_neighbors, 301);
  EXPECT_EQ(c.l2g.homogeneous_neighbors, 21);
  EXPECT_EQ(c.l2g.cell_embedding_similarity_threshold, 0.0);
  EXPECT_EQ(c.l2g.spatial_domain_similarity_threshold, 0.6);
  EXPECT_FALSE(c.l2g.no_expression_fraction);
  EXPECT_EQ(c.l2g.adjacent_slice_spatial_neighbors, 200);
  EXPECT_EQ(c.l2g.n_adjacent_slices, 0);  // docs/algorithms.md §3.1: forced to 0 for spatial2D
  EXPECT_EQ(c.l2g.cross_slice_marker_score_strategy, gsmap::CrossSliceStrategy::kHierarchicalPool);
  EXPECT_FALSE(c.l2g.high_quality_neighbor_filter);
  EXPECT_EQ(c.l2g.mkscore_batch_size, 500);
  EXPECT_EQ(c.l2g.rank_read_workers, 16);
  EXPECT_EQ(c.l2g.mkscore_compute_workers, 4);
  EXPECT_EQ(c.l2g.mkscore_write_workers, 4);
  EXPECT_EQ(c.l2g.compute_input_queue_size, 5);
  EXPECT_EQ(c.l2g.writer_queue_size, 100);
  EXPECT_EQ(c.l2g.rank_batch_size, 500);
  EXPECT_EQ(c.l2g.find_homogeneous_batch_size, 100);
  EXPECT_FALSE(c.l2g.min_cells_per_type.has_value());
  EXPECT_EQ(c.start_step, gsmap::Step::kLatentToGene);
  EXPECT_EQ(c.stop_step, gsmap::Step::kLatentToGene);
  EXPECT_EQ(c.common.command_line, "gsmap-mpi latent-to-gene --workdir " + workdir() +
                                " --project-name proj --h5ad-path a.h5ad");
}

TEST_F(ParseTest, LatentToGeneEveryOption) {
  const ParseResult r = parse(step(
      "latent-to-gene",
      {"--h5ad-path", "s1.h5ad", "--h5ad-path", "s2.h5ad", "--h5ad-path=s3.h5ad", "--data-layer",
       "counts", "--spatial-key", "xy", "--annotation", "cell_type",
       "--latent-representation-cell", "E", "--latent-representation-niche", "N",
       "--dataset-type", "SPATIAL3D", "--spatial-neighbors", "400", "--homogeneous-neighbors",
       "30", "--cell-embedding-similarity-threshold", "0.25",
       "--spatial-domain-similarity-threshold", "0.5", "--no-expression-fraction",
       "--adjacent-slice-spatial-neighbors", "100", "--n-adjacent-slices", "2",
       "--cross-slice-marker-score-strategy", "per_slice_pool", "--high-quality-neighbor-filter",
       "--no-gpu", "--memmap-tmp-dir", workdir(), "--mkscore-batch-size", "250",
       "--rank-read-workers", "8", "--mkscore-compute-workers", "2", "--mkscore-write-workers",
       "3", "--compute-input-queue-size", "7", "--writer-queue-size", "50", "--rank-batch-size",
       "1000", "--find-homogeneous-batch-size", "64", "--min-cells-per-type", "12"}));
  const auto& g = r.config.l2g;
  EXPECT_EQ(g.h5ad_path, (Args{"s1.h5ad", "s2.h5ad", "s3.h5ad"}));
  EXPECT_EQ(g.data_layer, "counts");
  EXPECT_EQ(g.spatial_key, "xy");
  EXPECT_EQ(g.annotation, "cell_type");
  EXPECT_EQ(r.config.cauchy.annotation, "cell_type");
  EXPECT_EQ(g.latent_representation_cell, "E");
  EXPECT_EQ(g.latent_representation_niche, "N");
  EXPECT_EQ(g.dataset_type, gsmap::DatasetType::kSpatial3D);
  EXPECT_EQ(g.spatial_neighbors, 400);
  EXPECT_EQ(g.homogeneous_neighbors, 30);
  EXPECT_EQ(g.cell_embedding_similarity_threshold, 0.25);
  EXPECT_EQ(g.spatial_domain_similarity_threshold, 0.5);
  EXPECT_TRUE(g.no_expression_fraction);
  EXPECT_EQ(g.adjacent_slice_spatial_neighbors, 100);
  EXPECT_EQ(g.n_adjacent_slices, 2);
  EXPECT_EQ(g.cross_slice_marker_score_strategy, gsmap::CrossSliceStrategy::kPerSlicePool);
  EXPECT_TRUE(g.high_quality_neighbor_filter);
  EXPECT_FALSE(r.config.common.use_gpu);
  EXPECT_EQ(r.config.common.memmap_tmp_dir, workdir());
  EXPECT_EQ(g.mkscore_batch_size, 250);
  EXPECT_EQ(g.rank_read_workers, 8);
  EXPECT_EQ(g.mkscore_compute_workers, 2);
  EXPECT_EQ(g.mkscore_write_workers, 3);
  EXPECT_EQ(g.compute_input_queue_size, 7);
  EXPECT_EQ(g.writer_queue_size, 50);
  EXPECT_EQ(g.rank_batch_size, 1000);
  EXPECT_EQ(g.find_homogeneous_batch_size, 64);
  EXPECT_EQ(g.min_cells_per_type, 12);
}

TEST_F(ParseTest, ScRnaHasNoCoordinatesNorNiche) {
  const ParseResult r = parse(step("latent-to-gene", {"--dataset-type", "scrna",
                                                      "--latent-representation-niche", "N"}));
  EXPECT_EQ(r.config.l2g.dataset_type, gsmap::DatasetType::kScRNA);
  EXPECT_EQ(r.config.l2g.spatial_key, "");  // docs/algorithms.md §3.1
  EXPECT_EQ(r.config.l2g.latent_representation_niche, "");
  EXPECT_EQ(r.config.l2g.n_adjacent_slices, 0);
  EXPECT_EQ(r.warnings, (Args{"--latent-representation-niche N is ignored for --dataset-type scRNA"}));
}

TEST_F(ParseTest, AdjacentSlicesOnlyFor3D) {
  ParseResult r = parse(step("latent-to-gene", {"--n-adjacent-slices", "3"}));
  EXPECT_EQ(r.config.l2g.n_adjacent_slices, 0);
  EXPECT_EQ(r.warnings, (Args{"--n-adjacent-slices 3 is ignored: only spatial3D data have "
                              "adjacent slices (--dataset-type spatial3D)"}));
  r = parse(step("latent-to-gene", {"--dataset-type", "spatial3D", "--n-adjacent-slices", "3"}));
  EXPECT_EQ(r.config.l2g.n_adjacent_slices, 3);
  EXPECT_TRUE(r.warnings.empty());
  r = parse(step("latent-to-gene", {"--dataset-type", "spatial3D"}));
  EXPECT_EQ(r.config.l2g.n_adjacent_slices, 1);
  EXPECT_TRUE(parse(step("latent-to-gene", {})).warnings.empty());
}

TEST_F(ParseTest, SpatialLdscDefaultsAndOptions) {
  Args a = trait();
  a.insert(a.end(), {"--snp-gene-weight-adata-path", "w.h5ad"});
  ParseResult r = parse(step("spatial-ldsc", a));
  const auto& l = r.config.ldsc;
  EXPECT_EQ(r.subcommand, "spatial-ldsc");
  EXPECT_EQ(l.trait_name, "height");
  EXPECT_EQ(l.sumstats_file, "h.sumstats.gz");
  EXPECT_EQ(l.snp_gene_weight_adata_path, "w.h5ad");
  EXPECT_EQ(l.w_ld_dir, "");
  EXPECT_TRUE(l.additional_baseline_h5ad_path_list.empty());
  EXPECT_FALSE(l.chisq_max.has_value());
  EXPECT_EQ(l.n_blocks, 200);
  EXPECT_EQ(l.spots_per_chunk_quick_mode, 50);
  EXPECT_EQ(l.ldsc_read_workers, 10);
  EXPECT_EQ(l.ldsc_compute_workers, 10);
  EXPECT_FALSE(l.cell_indices_range.has_value());
  EXPECT_EQ(l.marker_score_format, gsmap::MarkerScoreFormat::kAuto);
  EXPECT_EQ(r.config.start_step, gsmap::Step::kSpatialLdsc);
  EXPECT_EQ(r.config.stop_step, gsmap::Step::kSpatialLdsc);

  a.insert(a.end(), {"--w-ld-dir", "wld", "--additional-baseline-h5ad-path-list", "b1.h5ad",
                     "--additional-baseline-h5ad-path-list", "b2.h5ad", "--chisq-max", "120",
                     "--n-blocks", "100", "--spots-per-chunk-quick-mode", "25",
                     "--ldsc-read-workers", "3", "--ldsc-compute-workers", "5",
                     "--cell-indices-range", "1", "5000", "--marker-score-h5ad-path", "m.h5ad",
                     "--marker-score-format", "H5AD", "--no-gpu"});
  r = parse(step("spatial-ldsc", a));
  const auto& m = r.config.ldsc;
  EXPECT_EQ(m.w_ld_dir, "wld");
  EXPECT_EQ(m.additional_baseline_h5ad_path_list, (Args{"b1.h5ad", "b2.h5ad"}));
  EXPECT_EQ(m.chisq_max, 120);
  EXPECT_EQ(m.n_blocks, 100);
  EXPECT_EQ(m.spots_per_chunk_quick_mode, 25);
  EXPECT_EQ(m.ldsc_read_workers, 3);
  EXPECT_EQ(m.ldsc_compute_workers, 5);
  ASSERT_TRUE(m.cell_indices_range.has_value());
  EXPECT_EQ(m.cell_indices_range->first, 1);  // 5.5.5: start 1 is never rewritten
  EXPECT_EQ(m.cell_indices_range->second, 5000);
  EXPECT_EQ(m.marker_score_h5ad_path, "m.h5ad");
  EXPECT_EQ(m.marker_score_format, gsmap::MarkerScoreFormat::kH5ad);
  EXPECT_FALSE(r.config.common.use_gpu);
}

TEST_F(ParseTest, SampleFilterAndTraitConfig) {
  const ParseResult r = parse(step(
      "spatial-ldsc", {"--sumstats-config-file", "traits.yaml", "--sample-filter", "S2",
                       "--snp-gene-weight-adata-path", "w.h5ad"}));
  EXPECT_EQ(r.config.ldsc.sumstats_config_file, "traits.yaml");
  EXPECT_EQ(r.config.ldsc.trait_name, "");
  EXPECT_EQ(r.config.ldsc.sample_filter, "S2");
}

TEST_F(ParseTest, CauchyCombination) {
  Args a = trait();
  a.insert(a.end(), {"--annotation", "cell_type", "--cauchy-annotations", "domain",
                     "--cauchy-annotations", "region", "--cauchy-outlier-iqr-factor", "2",
                     "--cauchy-use-floored-p"});
  const ParseResult r = parse(step("cauchy-combination", a));
  EXPECT_EQ(r.config.cauchy.annotation, "cell_type");
  EXPECT_EQ(r.config.cauchy.cauchy_annotations, (Args{"domain", "region"}));
  EXPECT_EQ(r.config.cauchy.cauchy_outlier_iqr_factor, 2.0);
  EXPECT_TRUE(r.config.cauchy.cauchy_use_floored_p);
  EXPECT_EQ(r.config.start_step, gsmap::Step::kCauchyCombination);

  const ParseResult d = parse(step("cauchy-combination", {"--sumstats-config-file", "t.yaml",
                                                          "--cauchy-annotations", "domain"}));
  EXPECT_EQ(d.config.cauchy.cauchy_outlier_iqr_factor, 3.0);  // docs/algorithms.md §9.2
  EXPECT_FALSE(d.config.cauchy.cauchy_use_floored_p);
}

TEST_F(ParseTest, QuickModeTakesEveryStepsOptions) {
  Args a = trait();
  a.insert(a.end(), {"--h5ad-yaml", "s.yaml", "--annotation", "ct", "--homogeneous-neighbors",
                     "10", "--n-blocks", "50", "--cauchy-annotations", "dom",
                     "--snp-gene-weight-adata-path", "w.h5ad", "--ldsc-compute-workers", "2"});
  ParseResult r = parse(step("quick-mode", a));
  EXPECT_EQ(r.subcommand, "quick-mode");
  EXPECT_EQ(r.config.l2g.h5ad_yaml, "s.yaml");
  EXPECT_EQ(r.config.l2g.homogeneous_neighbors, 10);
  EXPECT_EQ(r.config.ldsc.n_blocks, 50);
  EXPECT_EQ(r.config.ldsc.ldsc_compute_workers, 2);
  EXPECT_EQ(r.config.cauchy.cauchy_annotations, (Args{"dom"}));
  EXPECT_EQ(r.config.start_step, gsmap::Step::kLatentToGene);  // first and last
  EXPECT_EQ(r.config.stop_step, gsmap::Step::kReport);

  Args steps = a;
  steps.insert(steps.end(), {"--start-step", "spatial_ldsc", "--stop-step", "cauchy"});
  r = parse(step("quick-mode", steps));
  EXPECT_EQ(r.config.start_step, gsmap::Step::kSpatialLdsc);
  EXPECT_EQ(r.config.stop_step, gsmap::Step::kCauchyCombination);

  // Stopping before spatial LDSC: the weight matrix is not needed, the traits still are (4.3).
  r = parse(step("quick-mode", {"--trait-name", "t", "--sumstats-file", "f", "--annotation", "ct",
                                "--stop-step", "latent_to_gene"}));
  EXPECT_EQ(r.config.stop_step, gsmap::Step::kLatentToGene);
  EXPECT_CONTAINS(error_of(step("quick-mode", {"--annotation", "ct", "--stop-step",
                                               "latent_to_gene"})),
                  "no trait given");
}

TEST_F(ParseTest, FlagPairsLastOneWins) {
  EXPECT_FALSE(parse(step("latent-to-gene", {"--no-gpu"})).config.common.use_gpu);
  EXPECT_TRUE(parse(step("latent-to-gene", {"--no-gpu", "--use-gpu"})).config.common.use_gpu);
  EXPECT_TRUE(parse(step("latent-to-gene", {"--high-quality-neighbor-filter"}))
                  .config.l2g.high_quality_neighbor_filter);
  EXPECT_FALSE(parse(step("latent-to-gene",
                          {"--high-quality-neighbor-filter", "--no-high-quality-filter"}))
                   .config.l2g.high_quality_neighbor_filter);
  EXPECT_CONTAINS(error_of(step("latent-to-gene", {"--use-gpu=yes"})), "use-gpu");
}

TEST_F(ParseTest, SimulateAndMerge) {
  ParseResult r = parse({"simulate", "--out", "/tmp/x", "--seed", "42", "--n-cells", "500",
                         "--n-slices", "3", "--gwas-n", "50000", "--edge-cases", "--overwrite"});
  EXPECT_EQ(r.subcommand, "simulate");
  EXPECT_EQ(r.simulate.out_dir, "/tmp/x");
  EXPECT_EQ(r.simulate.seed, 42u);
  EXPECT_EQ(r.simulate.n_cells, 500);
  EXPECT_EQ(r.simulate.n_slices, 3);
  EXPECT_EQ(r.simulate.n_genes, 1000);  // default of sim::SimulateOptions
  EXPECT_EQ(r.simulate.gwas_n, 50000.0);
  EXPECT_TRUE(r.simulate.edge_cases);
  EXPECT_TRUE(r.simulate.overwrite);
  EXPECT_EQ(r.simulate.weight_nnz_per_snp, 0.0);  // benchmark options off by default
  EXPECT_FALSE(r.simulate.shuffle_cells);
  const ParseResult bench =
      parse({"simulate", "--out", "/tmp/y", "--weight-nnz-per-snp", "13", "--shuffle-cells"});
  EXPECT_EQ(bench.simulate.weight_nnz_per_snp, 13.0);
  EXPECT_TRUE(bench.simulate.shuffle_cells);
  EXPECT_CONTAINS(error_of({"simulate", "--out", "/tmp/y", "--weight-nnz-per-snp", "500"}),
                  "weight-nnz-per-snp");
  EXPECT_CONTAINS(error_of({"simulate", "--seed", "1"}), "--out DIR is required");
  EXPECT_CONTAINS(error_of({"simulate", "--out", "x", "--workdir", workdir()}),
                  "--workdir is an option of");

  r = parse({"merge", "--workdir", workdir(), "--project-name", "p", "--trait-name", "height"});
  EXPECT_EQ(r.subcommand, "merge");
  EXPECT_EQ(r.merge.workdir, workdir());
  EXPECT_EQ(r.merge.project_name, "p");
  EXPECT_EQ(r.merge.trait_name, "height");
  r = parse({"merge", "--workdir", workdir(), "--project-name", "p"});
  EXPECT_EQ(r.merge.trait_name, "");
  EXPECT_EQ(r.merge.sumstats_config_file, "");
  EXPECT_CONTAINS(error_of({"merge", "--workdir", workdir(), "--project-name", "p",
                            "--trait-name", "a", "--sumstats-config-file", "t.yaml"}),
                  "exclusive");
  EXPECT_EQ(error_of({"merge", "--workdir", workdir(), "--project-name", "p", "--n-blocks", "3"}),
            "--n-blocks is an option of spatial-ldsc (and quick-mode), not of merge");
}

TEST_F(ParseTest, OptionOfAnotherStepSaysWhereItBelongs) {
  EXPECT_EQ(error_of(step("latent-to-gene", {"--n-blocks", "20"})),
            "--n-blocks is an option of spatial-ldsc (and quick-mode), not of latent-to-gene");
  EXPECT_EQ(error_of(step("spatial-ldsc", {"--annotation", "ct"})),
            "--annotation is an option of latent-to-gene, cauchy-combination, report (and "
            "quick-mode), not of spatial-ldsc");
  EXPECT_EQ(error_of(step("latent-to-gene", {"--start-step", "spatial_ldsc"})),
            "--start-step is an option of quick-mode, not of latent-to-gene");
  EXPECT_EQ(error_of(step("cauchy-combination", {"--no-gpu"})),
            "--no-gpu is an option of latent-to-gene, spatial-ldsc (and quick-mode), not of "
            "cauchy-combination");
  EXPECT_EQ(error_of(step("quick-mode", {"--n-cells", "5"})),
            "--n-cells is an option of simulate, not of quick-mode");
}

TEST_F(ParseTest, GsmapPythonOnlyOptionsAndSteps) {
  for (const char* option : {"--high-quality-cell-qc", "--no-high-quality-cell-qc", "--two-stage",
                             "--single-stage", "--homolog-file", "--feat-cell", "--itermax"}) {
    const std::string message = error_of(step("quick-mode", {option}));
    EXPECT_CONTAINS(message, std::string(option) + " is an option of gsMap's find_latent step");
    EXPECT_CONTAINS(message, "gsMap's Python tool provides it");
  }
  EXPECT_CONTAINS(error_of(step("quick-mode", {"--n-cell-training", "5000"})), "find_latent");
  for (const char* option : {"--downsampling-n-spots-pcc", "--downsampling-n-spots-3d",
                             "--downsampling-n-spots-2d", "--top-corr-genes", "--plot-origin"}) {
    EXPECT_CONTAINS(error_of(step("quick-mode", {option, "5"})),
                    std::string(option) + " is an option of gsMap's report (gene diagnostics) step");
  }
  EXPECT_CONTAINS(error_of(step("quick-mode", {"--start-step", "find_latent"})),
                  "gsMap's Python tool provides it");
  EXPECT_CONTAINS(error_of({"find-latent", "--workdir", "w"}),
                  "gsMap command that gsmap-mpi does not implement");
  EXPECT_CONTAINS(error_of({"format-sumstats"}), "--sumstats PATH is required");
}

TEST_F(ParseTest, ReportStepAndSubcommand) {
  // quick-mode ends with the report by default; --stop-step cauchy_combination skips it.
  const Args q = {"--annotation", "a", "--trait-name", "t", "--sumstats-file", "f",
                  "--snp-gene-weight-adata-path", "w.h5ad"};
  EXPECT_EQ(parse(step("quick-mode", q)).config.stop_step, gsmap::Step::kReport);
  Args skip = q;
  skip.insert(skip.end(), {"--stop-step", "cauchy_combination"});
  EXPECT_EQ(parse(step("quick-mode", skip)).config.stop_step, gsmap::Step::kCauchyCombination);
  Args only = q;
  only.insert(only.end(), {"--start-step", "REPORT"});
  EXPECT_EQ(parse(step("quick-mode", only)).config.start_step, gsmap::Step::kReport);

  // The subcommand: traits and annotations optional, their names checked.
  ParseResult r = parse(step("report", {}));
  EXPECT_EQ(r.subcommand, "report");
  EXPECT_EQ(r.config.start_step, gsmap::Step::kReport);
  EXPECT_EQ(r.config.stop_step, gsmap::Step::kReport);
  r = parse(step("report", {"--trait-name", "t1", "--annotation", "cell_type",
                            "--cauchy-annotations", "domain", "--force"}));
  EXPECT_EQ(r.config.ldsc.trait_name, "t1");
  EXPECT_EQ(r.config.cauchy.annotation, "cell_type");
  EXPECT_EQ(r.config.cauchy.cauchy_annotations, (Args{"domain"}));
  EXPECT_TRUE(r.config.common.force);
  EXPECT_CONTAINS(error_of(step("report", {"--trait-name", "a/b"})), "--trait-name");
  EXPECT_CONTAINS(error_of(step("report", {"--trait-name", "t", "--sumstats-config-file", "y"})),
                  "exclusive");
  EXPECT_EQ(error_of(step("report", {"--n-blocks", "5"})),
            "--n-blocks is an option of spatial-ldsc (and quick-mode), not of report");
  EXPECT_CONTAINS(error_of({"report", "--project-name", "p"}), "--workdir is required");
  EXPECT_CONTAINS(error_of({"report-view"}), "gsMap command that gsmap-mpi does not implement");
}

// ldscore-weight-matrix is run by gsmap-mpi (docs/ldscore.md): gsMap3D's option names and defaults,
// exact choices, our --ld-window-mode.
TEST_F(ParseTest, LdscoreWeightMatrix) {
  const std::string bed = (dir_.path() / "genes.bed").string();
  { std::ofstream(bed) << "1\t0\t10\tG\t1\t+\n"; }
  const Args base = {"ldscore-weight-matrix", "--bfile-root", "panel.{chr}", "--hm3-snp-dir",
                     workdir(), "--output-dir", workdir() + "/out", "--mapping-file", bed};
  const ParseResult r = parse(base);
  EXPECT_EQ(r.subcommand, "ldscore-weight-matrix");
  const gsmap::ldscore::Options& o = r.ldscore;
  EXPECT_EQ(o.output_filename, "ld_score_weights");
  EXPECT_EQ(o.strategy_kind, gsmap::ldscore::Strategy::kScore);
  EXPECT_EQ(o.unit, gsmap::ldscore::LdUnit::kCm);
  EXPECT_EQ(o.ld_wind, 1.0);
  EXPECT_EQ(o.maf_min, 0.01);
  EXPECT_EQ(o.batch_size_hm3, 50);
  EXPECT_EQ(o.chromosome_list.size(), 22u);
  EXPECT_FALSE(o.calculate_w_ld);
  EXPECT_EQ(o.w_ld_dir, workdir() + "/out/w_ld");
  EXPECT_EQ(o.window, gsmap::ldscore::WindowMode::kBatch);
  Args more = base;
  for (const char* a : {"--strategy", "tss", "--ld-unit", "kb", "--chromosomes", "2,1",
                        "--calculate-w-ld", "--w-ld-dir", "/tmp/wld", "--ld-window-mode", "snp"})
    more.push_back(a);
  const ParseResult m = parse(more);
  EXPECT_EQ(m.ldscore.unit, gsmap::ldscore::LdUnit::kKb);
  EXPECT_EQ(m.ldscore.chromosome_list, (std::vector<int>{2, 1}));
  EXPECT_TRUE(m.ldscore.calculate_w_ld);
  EXPECT_EQ(m.ldscore.w_ld_dir, "/tmp/wld");
  EXPECT_EQ(m.ldscore.window, gsmap::ldscore::WindowMode::kSnp);
  Args bad = base;
  bad.insert(bad.end(), {"--strategy", "TSS"});
  EXPECT_CONTAINS(error_of(bad), "--strategy: 'TSS' is not a known value");
  EXPECT_CONTAINS(error_of({"ldscore-weight-matrix", "--hm3-snp-dir", workdir()}),
                  "--bfile-root is required");
  EXPECT_CONTAINS(error_of(step("ldscore-weight-matrix", {})),
                  "--workdir is an option of");
  EXPECT_CONTAINS(error_of(step("spatial-ldsc", {"--bfile-root", "x"})),
                  "--bfile-root is an option of ldscore-weight-matrix, not of spatial-ldsc");
}

// format-sumstats is run by gsmap-mpi (docs/sumstats.md): gsMap3D's option names and defaults;
// --out and --maf-min are shared with simulate and ldscore-weight-matrix.
TEST_F(ParseTest, FormatSumstats) {
  const Args base = {"format-sumstats", "--sumstats", "raw.tsv.gz", "--out", "gwas/height"};
  const ParseResult r = parse(base);
  EXPECT_EQ(r.subcommand, "format-sumstats");
  const gsmap::sumstats::Options& o = r.sumstats;
  EXPECT_EQ(o.sumstats, "raw.tsv.gz");
  EXPECT_EQ(o.out, "gwas/height");
  EXPECT_EQ(o.chr, "Chr");
  EXPECT_EQ(o.pos, "Pos");
  EXPECT_EQ(o.chunksize, 1000000);
  EXPECT_EQ(o.format, gsmap::sumstats::Format::kGsMap);
  EXPECT_EQ(o.info_min, 0.9);
  EXPECT_EQ(o.maf_min, 0.01);
  EXPECT_FALSE(o.keep_chr_pos);
  EXPECT_TRUE(o.n.empty());
  Args more = base;
  for (const char* a : {"--a1", "effect_allele", "--a2", "other_allele", "--p", "p_value", "--n",
                        "20000", "--format", "cojo", "--maf-min", "0.05", "--info-min", "0.8",
                        "--keep-chr-pos", "--chr", "chromosome", "--pos", "base_pair_location",
                        "--dbsnp", "db.tsv", "--or", "OddsRatio", "--se-or", "SEOR", "--z", "ZZ",
                        "--snp", "MarkerName", "--beta", "b", "--se", "s", "--frq", "f",
                        "--info", "i", "--chunksize", "10"})
    more.push_back(a);
  const ParseResult m = parse(more);
  EXPECT_EQ(m.sumstats.a1, "effect_allele");
  EXPECT_EQ(m.sumstats.a2, "other_allele");
  EXPECT_EQ(m.sumstats.p, "p_value");
  EXPECT_EQ(m.sumstats.n, "20000");
  EXPECT_EQ(m.sumstats.format, gsmap::sumstats::Format::kCojo);
  EXPECT_EQ(m.sumstats.maf_min, 0.05);
  EXPECT_EQ(m.sumstats.info_min, 0.8);
  EXPECT_TRUE(m.sumstats.keep_chr_pos);
  EXPECT_EQ(m.sumstats.odds_ratio, "OddsRatio");
  EXPECT_EQ(m.sumstats.se_or, "SEOR");
  EXPECT_EQ(m.sumstats.chunksize, 10);
  const auto lines = resolved_options(m);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "--format COJO"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "--maf-min 0.05"), lines.end());
  EXPECT_CONTAINS(error_of({"format-sumstats", "--out", "x"}), "--sumstats PATH is required");
  EXPECT_CONTAINS(error_of({"format-sumstats", "--sumstats", "x"}), "--out PREFIX is required");
  Args bad = base;
  bad.insert(bad.end(), {"--format", "ldsc"});
  EXPECT_CONTAINS(error_of(bad), "--format: 'ldsc' is not a known value");
  EXPECT_CONTAINS(error_of(step("spatial-ldsc", {"--dbsnp", "x"})),
                  "--dbsnp is an option of format-sumstats, not of spatial-ldsc");
  EXPECT_CONTAINS(help_text("format-sumstats"), "--keep-chr-pos");
  EXPECT_CONTAINS(help_text("format-sumstats"), "Keep SNPs whose MAF");
  EXPECT_CONTAINS(help_text("simulate"), "Output directory of the data set");
}

TEST_F(ParseTest, UnknownOptionsGetSuggestions) {
  EXPECT_EQ(error_of(step("spatial-ldsc", {"--n-block", "5"})),
            "unknown option --n-block for spatial-ldsc; did you mean --n-blocks?");
  EXPECT_EQ(error_of(step("quick-mode", {"--homogenous-neighbors", "5"})),
            "unknown option --homogenous-neighbors for quick-mode; did you mean "
            "--homogeneous-neighbors?");
  EXPECT_EQ(error_of(step("latent-to-gene", {"--n_blocks", "5"})),
            "unknown option --n_blocks for latent-to-gene; did you mean --n-blocks (an option of "
            "spatial-ldsc (and quick-mode))?");
  EXPECT_EQ(error_of(step("latent-to-gene", {"--completely-unrelated"})),
            "unknown option --completely-unrelated for latent-to-gene (see gsmap-mpi "
            "latent-to-gene --help)");
  // No prefix guessing: an abbreviation is an unknown option, not silently another one.
  EXPECT_CONTAINS(error_of(step("spatial-ldsc", {"--n-bl", "5"})), "unknown option --n-bl");
  EXPECT_CONTAINS(error_of(step("latent-to-gene", {"-workdir", "x"})),
                  "options start with two dashes: --workdir");
  EXPECT_EQ(error_of({"quick_mode"}), "unknown subcommand 'quick_mode'; did you mean 'quick-mode'?");
  EXPECT_CONTAINS(error_of({}), "no subcommand given");
  EXPECT_CONTAINS(error_of({"--workdir", "x"}), "expected a subcommand before the options");
}

TEST_F(ParseTest, RangesAreChecked) {
  const auto l2g = [&](const Args& extra) { return error_of(step("latent-to-gene", extra)); };
  EXPECT_EQ(l2g({"--homogeneous-neighbors", "0"}),
            "--homogeneous-neighbors: '0' is out of range (allowed: 1-200)");
  EXPECT_EQ(l2g({"--homogeneous-neighbors", "201"}),
            "--homogeneous-neighbors: '201' is out of range (allowed: 1-200)");
  EXPECT_EQ(l2g({"--mkscore-batch-size", "5"}),
            "--mkscore-batch-size: '5' is out of range (allowed: 10-1000)");
  EXPECT_EQ(l2g({"--spatial-neighbors", "5001"}),
            "--spatial-neighbors: '5001' is out of range (allowed: 10-5000)");
  EXPECT_CONTAINS(l2g({"--adjacent-slice-spatial-neighbors", "9"}), "allowed: 10-2000");
  EXPECT_CONTAINS(l2g({"--n-adjacent-slices", "6"}), "allowed: 0-5");
  EXPECT_CONTAINS(l2g({"--rank-read-workers", "51"}), "allowed: 1-50");
  EXPECT_CONTAINS(l2g({"--mkscore-compute-workers", "17"}), "allowed: 1-16");
  EXPECT_CONTAINS(l2g({"--mkscore-write-workers", "0"}), "allowed: 1-50");
  EXPECT_CONTAINS(l2g({"--compute-input-queue-size", "11"}), "allowed: 1-10");
  EXPECT_CONTAINS(l2g({"--writer-queue-size", "9"}), "allowed: 10-500");
  EXPECT_EQ(l2g({"--cell-embedding-similarity-threshold", "1.5"}),
            "--cell-embedding-similarity-threshold: '1.5' is out of range (allowed: 0-1)");
  EXPECT_CONTAINS(l2g({"--spatial-domain-similarity-threshold", "-0.1"}), "allowed: 0-1");
  EXPECT_EQ(l2g({"--spatial-neighbors", "3.5"}),
            "--spatial-neighbors: '3.5' is not an integer (allowed: 10-5000)");
  EXPECT_EQ(l2g({"--dataset-type", "3D"}),
            "--dataset-type: '3D' is not a known value (allowed: scRNA, spatial2D, spatial3D)");
  EXPECT_CONTAINS(l2g({"--cross-slice-marker-score-strategy", "pool"}),
                  "allowed: global_pool, per_slice_pool, hierarchical_pool");
  EXPECT_CONTAINS(l2g({"--rank-batch-size", "0"}), "allowed: >= 1");

  Args base = trait();
  base.insert(base.end(), {"--snp-gene-weight-adata-path", "w.h5ad"});
  const auto ldsc = [&](const Args& extra) {
    Args a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return error_of(step("spatial-ldsc", a));
  };
  EXPECT_EQ(ldsc({"--n-blocks", "1"}), "--n-blocks: '1' is out of range (allowed: >= 2)");
  EXPECT_EQ(ldsc({"--chisq-max", "-5"}), "--chisq-max: '-5' is out of range (allowed: >= 1)");
  EXPECT_CONTAINS(ldsc({"--spots-per-chunk-quick-mode", "0"}), "allowed: >= 1");
  EXPECT_CONTAINS(ldsc({"--ldsc-read-workers", "0"}), "allowed: >= 1");
  EXPECT_CONTAINS(ldsc({"--cell-indices-range", "10", "10"}), "START must be smaller than END");
  EXPECT_CONTAINS(ldsc({"--cell-indices-range", "-1", "10"}), "'-1' is out of range");
  EXPECT_CONTAINS(ldsc({"--cell-indices-range", "5"}), "cell-indices-range");
  EXPECT_CONTAINS(ldsc({"--marker-score-format", "parquet"}),
                  "allowed: auto, memmap, h5ad, feather");

  EXPECT_CONTAINS(error_of(step("cauchy-combination", {"--annotation", "a", "--trait-name", "t",
                                                       "--sumstats-file", "f",
                                                       "--cauchy-outlier-iqr-factor", "0"})),
                  "(allowed: > 0)");
}

TEST_F(ParseTest, CaseRules) {
  EXPECT_CONTAINS(error_of({"latent-to-gene", "--project-name", "p"}), "--workdir is required");
  EXPECT_CONTAINS(error_of({"latent-to-gene", "--workdir", workdir() + "/missing", "--project-name",
                            "p"}),
                  "not an existing directory");
  EXPECT_CONTAINS(error_of({"latent-to-gene", "--workdir", workdir()}),
                  "--project-name is required");
  EXPECT_CONTAINS(error_of(step("latent-to-gene", {"--memmap-tmp-dir", workdir() + "/nope"})),
                  "--memmap-tmp-dir");
  EXPECT_CONTAINS(error_of(step("latent-to-gene", {"--h5ad-path", "a", "--h5ad-yaml", "b"})),
                  "exclusive");
  EXPECT_CONTAINS(error_of(step("latent-to-gene", {"--dataset-type", "spatial3D",
                                                   "--n-adjacent-slices", "0"})),
                  "must be >= 1 for --dataset-type spatial3D");
  EXPECT_EQ(error_of(step("latent-to-gene", {"--spatial-neighbors", "10",
                                             "--homogeneous-neighbors", "21"})),
            "--homogeneous-neighbors 21 must not exceed --spatial-neighbors 10");
  EXPECT_CONTAINS(error_of(step("latent-to-gene", {"--dataset-type", "spatial3D",
                                                   "--spatial-neighbors", "100",
                                                   "--adjacent-slice-spatial-neighbors", "200"})),
                  "must not exceed --spatial-neighbors 100");
  EXPECT_EQ(error_of(step("latent-to-gene", {"--spatial-neighbors", "10", "--spatial-neighbors",
                                             "20"})),
            "--spatial-neighbors given more than once");
  EXPECT_CONTAINS(error_of(step("latent-to-gene", {"--h5ad-path", "a.h5ad", "b.h5ad"})),
                  "repeat it (--h5ad-path A --h5ad-path B)");

  // docs/algorithms.md §6.5: trait options.
  const Args w = {"--snp-gene-weight-adata-path", "w.h5ad"};
  const auto ldsc = [&](Args extra) {
    extra.insert(extra.end(), w.begin(), w.end());
    return error_of(step("spatial-ldsc", extra));
  };
  EXPECT_CONTAINS(ldsc({}), "no trait given");
  EXPECT_CONTAINS(ldsc({"--trait-name", "t"}), "--trait-name t needs --sumstats-file");
  EXPECT_CONTAINS(ldsc({"--sumstats-file", "f"}), "--sumstats-file f needs --trait-name");
  EXPECT_CONTAINS(ldsc({"--sumstats-config-file", "y", "--trait-name", "t"}),
                  "--sumstats-config-file cannot be combined with --trait-name");
  EXPECT_CONTAINS(ldsc({"--sumstats-config-file", "y", "--sumstats-file", "f"}),
                  "--sumstats-config-file cannot be combined with --sumstats-file");
  EXPECT_CONTAINS(error_of(step("spatial-ldsc", trait())), "--snp-gene-weight-adata-path is required");
  EXPECT_CONTAINS(ldsc({"--trait-name", "t", "--sumstats-file", "f", "--cell-indices-range", "0",
                        "9", "--sample-filter", "S"}),
                  "exclusive");
  EXPECT_CONTAINS(ldsc({"--trait-name", "t", "--sumstats-file", "f", "--marker-score-format",
                        "feather"}),
                  "feather marker scores are not supported");
  EXPECT_CONTAINS(ldsc({"--trait-name", "t", "--sumstats-file", "f", "--marker-score-feather-path",
                        "m.feather"}),
                  "not supported");
  EXPECT_CONTAINS(ldsc({"--trait-name", "t", "--sumstats-file", "f", "--marker-score-format",
                        "h5ad"}),
                  "needs --marker-score-h5ad-path");

  EXPECT_CONTAINS(error_of(step("cauchy-combination", trait())), "needs an annotation");
  Args quick = trait();
  quick.insert(quick.end(), w.begin(), w.end());
  EXPECT_CONTAINS(error_of(step("quick-mode", quick)), "needs an annotation");
  EXPECT_CONTAINS(error_of(step("quick-mode", {"--annotation", "a", "--trait-name", "t",
                                               "--sumstats-file", "f", "--start-step",
                                               "cauchy_combination", "--stop-step",
                                               "spatial_ldsc"})),
                  "--start-step comes after --stop-step");
}

TEST_F(ParseTest, HelpAndVersionActions) {
  ParseResult r = parse({"--help"});
  EXPECT_EQ(r.action, Action::kHelp);
  EXPECT_CONTAINS(r.help_text, "Subcommands:");
  r = parse({"-h"});
  EXPECT_EQ(r.action, Action::kHelp);
  EXPECT_EQ(parse({"--version"}).action, Action::kVersion);
  EXPECT_EQ(parse({"-v"}).action, Action::kVersion);
  // Help wins over anything else on the line, even bad options.
  r = parse({"spatial-ldsc", "--n-blocks", "1", "--help"});
  EXPECT_EQ(r.action, Action::kHelp);
  EXPECT_EQ(r.subcommand, "spatial-ldsc");
  EXPECT_EQ(r.help_text, gsmap::cli::help_text("spatial-ldsc"));
}

TEST_F(ParseTest, ResolvedOptionsListOnlyNonDefaults) {
  Args a = trait();
  a.insert(a.end(), {"--snp-gene-weight-adata-path", "w.h5ad", "--n-blocks", "100", "--no-gpu",
                     "--ldsc-read-workers", "10", "--cell-indices-range", "0", "500"});
  const auto lines = gsmap::cli::resolved_options(parse(step("spatial-ldsc", a)));
  const Args expected = {"--workdir " + workdir(),
                         "--project-name proj",
                         "--trait-name height",
                         "--sumstats-file h.sumstats.gz",
                         "--snp-gene-weight-adata-path w.h5ad",
                         "--n-blocks 100",
                         "--cell-indices-range 0 500",
                         "--no-gpu"};
  EXPECT_EQ(lines, expected);  // --ldsc-read-workers 10 is the default: not listed

  const auto scrna = gsmap::cli::resolved_options(
      parse(step("latent-to-gene", {"--dataset-type", "scRNA", "--high-quality-neighbor-filter",
                                    "--min-cells-per-type", "5"})));
  // scRNA clears the spatial key and has no adjacent slices: implied, so not listed.
  EXPECT_EQ(scrna, (Args{"--workdir " + workdir(), "--project-name proj", "--dataset-type scRNA",
                         "--high-quality-neighbor-filter", "--min-cells-per-type 5"}));
  // spatial3D keeps n-adjacent-slices 1 (the default, not listed); spatial2D forces 0 (implied).
  EXPECT_EQ(gsmap::cli::resolved_options(parse(step("latent-to-gene", {"--dataset-type",
                                                                       "spatial3D"}))),
            (Args{"--workdir " + workdir(), "--project-name proj", "--dataset-type spatial3D"}));
  EXPECT_EQ(gsmap::cli::resolved_options(parse(step("latent-to-gene", {"--n-adjacent-slices",
                                                                       "3"}))),
            (Args{"--workdir " + workdir(), "--project-name proj"}));
}

TEST(EditDistance, Values) {
  using gsmap::cli::edit_distance;
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("n-block", "n-blocks"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
}

}  // namespace

TEST_F(ParseTest, ForceIsAcceptedByEveryComputeSubcommand) {
  EXPECT_FALSE(parse(step("latent-to-gene", {})).config.common.force);
  EXPECT_TRUE(parse(step("latent-to-gene", {"--force"})).config.common.force);
  Args ldsc = trait();
  ldsc.insert(ldsc.end(), {"--snp-gene-weight-adata-path", "w.h5ad", "--force"});
  EXPECT_TRUE(parse(step("spatial-ldsc", ldsc)).config.common.force);
  Args cauchy = trait();
  cauchy.insert(cauchy.end(), {"--annotation", "a", "--force"});
  EXPECT_TRUE(parse(step("cauchy-combination", cauchy)).config.common.force);
  Args quick = ldsc;
  quick.insert(quick.end(), {"--h5ad-path", "a.h5ad", "--annotation", "a"});
  EXPECT_TRUE(parse(step("quick-mode", quick)).config.common.force);
  EXPECT_CONTAINS(error_of({"merge", "--workdir", workdir(), "--project-name", "p", "--force"}),
                  "force");
}

// --dry-run (docs/usage.md "Dry run"): accepted by the four step commands, off by default, and an
// option of no other subcommand.
TEST(ParseDryRun, StepsOnly) {
  gsmap::test::TempDir dir{"cli_dry_run"};
  const std::string w = dir.path().string();
  for (const std::string sub : {"latent-to-gene", "spatial-ldsc", "cauchy-combination", "quick-mode"}) {
    Args a = {sub, "--workdir", w, "--project-name", "p"};
    if (sub != "latent-to-gene") {
      a.insert(a.end(), {"--trait-name", "t", "--sumstats-file", "t.sumstats.gz"});
    }
    if (sub == "spatial-ldsc" || sub == "quick-mode") {
      a.insert(a.end(), {"--snp-gene-weight-adata-path", "w.h5ad"});
    }
    if (sub == "cauchy-combination" || sub == "quick-mode") {
      a.insert(a.end(), {"--annotation", "cell_type"});
    }
    EXPECT_FALSE(parse(a).config.dry_run) << sub;
    a.push_back("--dry-run");
    EXPECT_TRUE(parse(a).config.dry_run) << sub;
  }
  try {
    parse({"simulate", "--out", w + "/x", "--dry-run"});
    ADD_FAILURE() << "simulate accepted --dry-run";
  } catch (const gsmap::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--dry-run is an option of"), std::string::npos) << e.what();
  }
}
