// `--help` lists every registered option, grouped by section; `--version` and error exits of the
// built executable (gsmap::test::exe(); build target gsmap-mpi first, else those tests skip).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "gsmap/cli/parse.hpp"
#include "gsmap/version.hpp"
#include "test_support.hpp"

namespace {

using gsmap::cli::help_text;
using gsmap::cli::option_names;

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "lacks '" << (part) << "'"
#define EXPECT_LACKS(text, part) \
  EXPECT_EQ(std::string(text).find(part), std::string::npos) << "has '" << (part) << "'"

// An option line of the help: "  --name" at the start of a line, then a space (value name or
// padding), so that mentions in descriptions and longer names do not count.
std::string listed(const std::string& option) { return "\n  " + option + " "; }

TEST(Help, TopLevelListsEverySubcommandSectionAndOption) {
  const std::string text = help_text("");
  for (const auto& sub : gsmap::cli::subcommands()) EXPECT_CONTAINS(text, "  " + sub + " ");
  for (const char* section : {"Input:", "Latent to gene:", "Neighbours:", "Pipeline workers:",
                              "Spatial LDSC:", "Cauchy:", "Simulate:", "Control:"}) {
    EXPECT_CONTAINS(text, section);
  }
  const auto names = option_names("");
  EXPECT_GE(names.size(), 70u);
  for (const auto& name : names) EXPECT_CONTAINS(text, listed(name));
  // Sections come in the documented order.
  EXPECT_LT(text.find("Input:"), text.find("Latent to gene:"));
  EXPECT_LT(text.find("Neighbours:"), text.find("Pipeline workers:"));
  EXPECT_LT(text.find("Spatial LDSC:"), text.find("Cauchy:"));
  EXPECT_LT(text.find("Cauchy:"), text.find("Control:"));
  // The rejected gsMap options are named too.
  EXPECT_CONTAINS(text, "--homolog-file");
  EXPECT_CONTAINS(text, "--plot-origin");
}

TEST(Help, SubcommandShowsItsOwnOptionsWithDefaults) {
  for (const auto& sub : gsmap::cli::subcommands()) {
    const std::string text = help_text(sub);
    const auto own = option_names(sub);
    for (const auto& name : own) EXPECT_CONTAINS(text, listed(name)) << sub;
    for (const auto& name : option_names("")) {
      if (std::find(own.begin(), own.end(), name) == own.end()) {
        EXPECT_LACKS(text, listed(name)) << sub;
      }
    }
  }
  const std::string l2g = help_text("latent-to-gene");
  EXPECT_CONTAINS(l2g, "Default: 301.");
  EXPECT_CONTAINS(l2g, "Allowed: 1-200. Default: 21.");
  EXPECT_CONTAINS(l2g, "Neighbours:");
  EXPECT_LACKS(l2g, "Spatial LDSC:");
  EXPECT_LACKS(l2g, "Cauchy:");
  const std::string ldsc = help_text("spatial-ldsc");
  EXPECT_CONTAINS(ldsc, "--cell-indices-range START END");
  EXPECT_CONTAINS(ldsc, "Allowed: >= 2. Default: 200.");
  EXPECT_LACKS(ldsc, "Latent to gene:");
  const std::string quick = help_text("quick-mode");
  for (const char* section : {"Input:", "Latent to gene:", "Neighbours:", "Pipeline workers:",
                              "Spatial LDSC:", "Cauchy:", "Control:"}) {
    EXPECT_CONTAINS(quick, section);
  }
  EXPECT_CONTAINS(quick, "--start-step STEP");
  EXPECT_LACKS(quick, "Simulate:");
}

TEST(Help, OptionNamesPerSubcommand) {
  const auto l2g = option_names("latent-to-gene");
  const auto has = [](const std::vector<std::string>& v, const std::string& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  EXPECT_TRUE(has(l2g, "--homogeneous-neighbors"));
  EXPECT_TRUE(has(l2g, "--no-high-quality-filter"));
  EXPECT_FALSE(has(l2g, "--n-blocks"));
  const auto quick = option_names("quick-mode");
  for (const auto& sub : {"latent-to-gene", "spatial-ldsc", "cauchy-combination"}) {
    for (const auto& name : option_names(sub)) EXPECT_TRUE(has(quick, name)) << name;
  }
  EXPECT_TRUE(has(quick, "--stop-step"));
  EXPECT_FALSE(has(quick, "--seed"));
}

class Executable : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(gsmap::test::exe())) {
      GTEST_SKIP() << gsmap::test::exe() << " not built (cmake --build ... --target gsmap-mpi)";
    }
  }
  static gsmap::test::CommandResult run(const std::string& args) {
#if defined(__SANITIZE_ADDRESS__)
    // A usage error leaves right after MPI_Init, while Open MPI's progress threads still run; the
    // LeakSanitizer tracer then crashes at exit (exit code 1). These tests check exit codes and
    // messages, not leaks (the asan CI phase checks leaks in every other test).
    const std::string env = "ASAN_OPTIONS=\"${ASAN_OPTIONS}:detect_leaks=0\" ";
#else
    const std::string env;
#endif
    return gsmap::test::run_command(env + gsmap::test::exe().string() + " " + args);
  }
};

TEST_F(Executable, Version) {
  const auto r = run("--version");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, std::string("gsmap-mpi ") + gsmap::kVersion + "\n");
  // The hash is taken at configure time, so the executable and this test may have been built
  // from different commits; check its form.
  EXPECT_TRUE(std::regex_search(r.output, std::regex("\ngit: ([0-9a-f]{7,40}|unknown)\n")))
      << r.output;
  EXPECT_CONTAINS(r.output, std::string("CUDA backend: ") + (gsmap::kHaveCuda ? "on" : "off"));
  EXPECT_CONTAINS(r.output, std::string("NCCL: ") + (gsmap::kHaveNccl ? "on" : "off"));
  EXPECT_CONTAINS(r.output, "MPI: Open MPI v");  // Debian's Open MPI (docs/development.md §1)
  EXPECT_CONTAINS(r.output, "HDF5: 1.");
  EXPECT_CONTAINS(r.output, "(parallel)");
}

// The kill points of the resume tests (core/kill_point.hpp) exist only in a build configured with
// -DGSMAP_TEST_HOOKS=ON: --version says which, and the code and its variable name are absent
// otherwise.
TEST_F(Executable, TestHooksOnlyInTestBuilds) {
  const auto r = run("--version");
  EXPECT_CONTAINS(r.output, std::string("\ntest hooks: ") + (gsmap::kTestHooks ? "on" : "off"));
  std::ifstream in(gsmap::test::exe(), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  EXPECT_EQ(bytes.find("GSMAP_KILL_AT") != std::string::npos, gsmap::kTestHooks);
}

// GSMAP_KILL_AT=ranking kills latent-to-gene in a test build and is ignored in any other.
TEST_F(Executable, KillAtActsOnlyWithTestHooks) {
  GSMAP_REQUIRE_SHARED();
  gsmap::test::TempDir dir("cli_kill_at");
  const auto in = gsmap::test::fixture("fx2d") / "input";
  const auto r = gsmap::test::run_command(
      "GSMAP_KILL_AT=ranking " + gsmap::test::exe().string() + " latent-to-gene --workdir " +
      dir.path().string() + " --project-name p --h5ad-yaml " +
      (in / "st" / "samples.yaml").string() +
      " --annotation annotation --latent-representation-cell emb_cell"
      " --latent-representation-niche emb_niche --data-layer X --dataset-type spatial2D --no-gpu");
  const bool written =
      std::filesystem::exists(dir.path() / "p" / "latent_to_gene" / "marker_scores.h5ad");
  if (gsmap::kTestHooks) {
    EXPECT_EQ(r.exit_code, 128 + 9) << r.output;  // SIGKILL, as the shell reports it
    EXPECT_FALSE(written);
  } else {
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(written);
  }
}

TEST_F(Executable, HelpExitsZero) {
  const auto r = run("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, help_text(""));
  const auto sub = run("cauchy-combination --help");
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_EQ(sub.output, help_text("cauchy-combination"));
}

TEST_F(Executable, UsageErrorExitsTwoWithMessage) {
  gsmap::test::TempDir dir("cli_exe");
  const auto r = run("latent-to-gene --workdir " + dir.path().string() +
                     " --project-name p --n-blocks 20");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.output,
                  "error: --n-blocks is an option of spatial-ldsc (and quick-mode), not of "
                  "latent-to-gene\n");
  const auto none = run("");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_CONTAINS(none.output, "error: no subcommand given");
}

TEST_F(Executable, UsageErrorUnderMpirunIsPrintedOnce) {
  gsmap::test::TempDir dir("cli_exe_mpi");
  const auto r = gsmap::test::run_command(
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + gsmap::test::mpiexec() +
      " -np 2 --oversubscribe " + gsmap::test::exe().string() + " spatial-ldsc --workdir " +
      dir.path().string() + " --project-name p --n-block 3");
  EXPECT_NE(r.exit_code, 0);
  const std::string message = "error: unknown option --n-block for spatial-ldsc; did you mean --n-blocks?";
  const auto first = r.output.find(message);
  ASSERT_NE(first, std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(message, first + 1), std::string::npos) << r.output;
}

}  // namespace
