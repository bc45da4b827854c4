// Cores per rank, the worker counts that follow from them (docs/usage.md "Threads per rank"), the
// oversubscription warnings, and the per-subcommand help (docs/usage.md "All options").
#include <gtest/gtest.h>

#include <string>

#include "gsmap/cli/parse.hpp"
#include "gsmap/cli/resources.hpp"
#include "test_support.hpp"

namespace gsmap::cli {
namespace {

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "lacks '" << (part) << "'"
#define EXPECT_LACKS(text, part) \
  EXPECT_EQ(std::string(text).find(part), std::string::npos) << "has '" << (part) << "'"

TEST(Resources, CoresFromAffinitySlurmAndUnboundRanks) {
  // One rank alone, no Slurm: its affinity mask.
  EXPECT_EQ(resolve_cores(64, 64, 0, 1), 64);
  EXPECT_EQ(resolve_cores(64, 8, 0, 1), 8);
  // SLURM_CPUS_PER_TASK caps it (task/none plugins leave the mask at the whole node).
  EXPECT_EQ(resolve_cores(64, 64, 16, 1), 16);
  // 4 ranks bound apart (16 CPUs each): their own masks.
  EXPECT_EQ(resolve_cores(64, 16, 0, 4), 16);
  // 4 unbound ranks (mpirun --bind-to none) share the node: a quarter each, at least 1.
  EXPECT_EQ(resolve_cores(64, 64, 0, 4), 16);
  EXPECT_EQ(resolve_cores(2, 2, 0, 4), 1);
  EXPECT_EQ(resolve_cores(2, 0, 0, 1), 1);
  EXPECT_EQ(cores_source(64, 64, 16, 1), "SLURM_CPUS_PER_TASK");
  EXPECT_EQ(cores_source(64, 16, 0, 4), "CPU affinity mask");
  EXPECT_EQ(cores_source(64, 64, 0, 4), "64 hardware threads shared by 4 unbound ranks on the node");
}

ParseResult parse_quick(std::vector<std::string> extra) {
  gsmap::test::TempDir dir("resources");
  std::vector<std::string> args = {"quick-mode", "--workdir", dir.path().string(), "--project-name",
                                   "p", "--h5ad-path", "a.h5ad", "--annotation", "annotation",
                                   "--trait-name", "T", "--sumstats-file", "t.sumstats",
                                   "--snp-gene-weight-adata-path", "w.h5ad"};
  args.insert(args.end(), extra.begin(), extra.end());
  return parse(args);
}

TEST(Resources, WorkerDefaultsFollowTheCoresUnlessGiven) {
  ParseResult r = parse_quick({"--ldsc-compute-workers", "3"});
  EXPECT_TRUE(r.was_given("ldsc-compute-workers"));
  EXPECT_FALSE(r.was_given("rank-read-workers"));
  EXPECT_EQ(apply_worker_defaults(r, 8, false), 8);  // busiest: latent to gene's 8 compute workers
  EXPECT_EQ(r.config.l2g.rank_read_workers, 2);
  EXPECT_EQ(r.config.l2g.mkscore_compute_workers, 8);
  EXPECT_EQ(r.config.l2g.mkscore_write_workers, 2);
  EXPECT_EQ(r.config.ldsc.ldsc_read_workers, 1);
  EXPECT_EQ(r.config.ldsc.ldsc_compute_workers, 3);  // given: kept

  ParseResult big = parse_quick({});
  apply_worker_defaults(big, 128, false);
  EXPECT_EQ(big.config.l2g.rank_read_workers, 16);
  EXPECT_EQ(big.config.l2g.mkscore_compute_workers, 16);
  EXPECT_EQ(big.config.l2g.mkscore_write_workers, 4);
  EXPECT_EQ(big.config.ldsc.ldsc_read_workers, 10);
  EXPECT_EQ(big.config.ldsc.ldsc_compute_workers, 128);

  ParseResult one = parse_quick({});
  apply_worker_defaults(one, 1, false);
  EXPECT_EQ(one.config.l2g.rank_read_workers, 1);
  EXPECT_EQ(one.config.l2g.mkscore_compute_workers, 1);
  EXPECT_EQ(one.config.ldsc.ldsc_compute_workers, 1);

  ParseResult gpu = parse_quick({"--stop-step", "latent_to_gene"});
  EXPECT_EQ(apply_worker_defaults(gpu, 8, true), 0);  // GPU streams keep no core busy
  EXPECT_EQ(gpu.config.l2g.mkscore_compute_workers, 4);

  // Run-time defaults are not listed as the user's choices; given values are.
  const auto lines = resolved_options(r);
  bool listed_given = false;
  for (const auto& l : lines) {
    EXPECT_EQ(l.find("--rank-read-workers"), std::string::npos) << l;
    if (l == "--ldsc-compute-workers 3") listed_given = true;
  }
  EXPECT_TRUE(listed_given);
}

TEST(Resources, OversubscriptionIsWarnedPerRankAndPerNode) {
  RankResources a;
  a.host = "n1";
  a.hardware_threads = 4;
  a.cores = 2;
  a.compute_threads = 2;
  RankResources b = a;
  EXPECT_TRUE(oversubscription_warnings({a, b}).empty());
  b.compute_threads = 6;  // more workers than its cores, and 8 on a 4-thread node
  const auto w = oversubscription_warnings({a, b});
  ASSERT_EQ(w.size(), 2u);
  EXPECT_CONTAINS(w[0], "rank 1 runs 6 compute workers on 2 cores: oversubscribed");
  EXPECT_CONTAINS(w[1], "n1: 2 ranks run 8 compute workers on 4 hardware threads");
}

TEST(Resources, EnvironmentLinesNameHostsRanksAndMemory) {
  RankResources a;
  a.host = "n1";
  a.hardware_threads = 8;
  a.affinity_cpus = 4;
  a.cores = 4;
  a.mem_total = 16LL << 30;
  a.mem_available = 8LL << 30;
  RankResources b = a, c = a;
  c.host = "n2";
  const auto lines = environment_lines({a, b, c});
  ASSERT_GE(lines.size(), 5u);
  EXPECT_CONTAINS(lines[0], "working directory: /");
  EXPECT_CONTAINS(lines[2], "hosts: 2 nodes");
  EXPECT_CONTAINS(lines[3], "n1: ranks 0-1; 8 hardware threads, 4 cores per rank (CPU affinity mask); "
                            "memory 16.0 GiB, 8.0 GiB available");
  EXPECT_CONTAINS(lines[4], "n2: rank 2;");
}

// The help with line breaks and column padding collapsed to single spaces.
std::string flat_help(const std::string& sub) {
  std::string out;
  for (const char ch : help_text(sub)) {
    const bool space = ch == ' ' || ch == '\n';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : ch;
  }
  return out;
}

TEST(Help, EachSubcommandShowsItsOwnMeaningOfASharedOption) {
  const std::string l2g = flat_help("latent-to-gene");
  EXPECT_CONTAINS(l2g, "obs column of cell types: neighbours stay within a type.");
  EXPECT_LACKS(l2g, "Cauchy combination");
  const std::string cauchy = flat_help("cauchy-combination");
  EXPECT_CONTAINS(cauchy, "obs column whose groups the Cauchy combination combines");
  EXPECT_LACKS(cauchy, "neighbours stay within a type");
  const std::string merge = flat_help("merge");
  EXPECT_CONTAINS(merge, "The trait to merge");
  EXPECT_LACKS(merge, "with --sumstats-file");
  EXPECT_LACKS(flat_help("spatial-ldsc"), "the trait to merge");
  // quick-mode runs every step: every meaning.
  const std::string quick = flat_help("quick-mode");
  EXPECT_CONTAINS(quick, "neighbours stay within a type, and the");
  // Worker counts: the run-time default, not a number.
  EXPECT_CONTAINS(quick, "Default: cores / 4, 1-16.");
  EXPECT_LACKS(quick, "Default: 16.");
}

TEST(Help, EverySubcommandAndTheTopLevelShowAnExample) {
  for (const auto& sub : subcommands()) {
    const std::string text = flat_help(sub);
    EXPECT_CONTAINS(text, "Example");
    EXPECT_CONTAINS(text, "gsmap-mpi " + sub + " ");
  }
  const std::string top = flat_help("");
  EXPECT_CONTAINS(top, "gsmap-mpi simulate --out demo/data --seed 1");
  EXPECT_CONTAINS(top, "gsmap-mpi quick-mode --workdir demo/work --project-name demo");
  EXPECT_CONTAINS(top, "latent2gene");
}

}  // namespace
}  // namespace gsmap::cli
