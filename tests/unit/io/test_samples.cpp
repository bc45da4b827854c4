#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gsmap/core/error.hpp"
#include "gsmap/io/samples.hpp"
#include "test_support.hpp"

namespace {
namespace fs = std::filesystem;
using gsmap::InputError;
using gsmap::UsageError;
using gsmap::io::resolve_samples;
using gsmap::io::Sample;

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::vector<std::string> names(const std::vector<Sample>& s) {
  std::vector<std::string> out;
  for (const auto& x : s) out.push_back(x.name);
  return out;
}

template <typename E, typename Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected exception not thrown";
  return {};
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A folder with empty stand-in .h5ad files (resolve_samples only checks that they exist).
struct SampleFiles {
  gsmap::test::TempDir dir{"samples"};
  fs::path p(const std::string& rel) const { return dir.path() / rel; }
  SampleFiles() {
    for (const char* f : {"st/a.MOSTA.h5ad", "st/b.h5ad", "st/c.h5ad", "other/b.h5ad"}) {
      write_text(p(f), "");
    }
  }
};

TEST(Samples, NameIsFileNameWithoutLastSuffix) {
  EXPECT_EQ(gsmap::io::sample_name_from_path("a.MOSTA.h5ad"), "a.MOSTA");
  EXPECT_EQ(gsmap::io::sample_name_from_path("/data/E16.5_E1S1.MOSTA.h5ad"), "E16.5_E1S1.MOSTA");
  EXPECT_EQ(gsmap::io::sample_name_from_path("rel/dir/sample0.h5ad"), "sample0");
  EXPECT_EQ(gsmap::io::sample_name_from_path("noext"), "noext");
}

TEST(Samples, H5adPathsKeepOrderAndDuplicatesTakeTheLaterPath) {
  SampleFiles f;
  auto s = resolve_samples({f.p("st/c.h5ad").string(), f.p("st/b.h5ad").string(),
                            f.p("st/a.MOSTA.h5ad").string(), f.p("other/b.h5ad").string()},
                           "", "", "");
  ASSERT_EQ(names(s), (std::vector<std::string>{"c", "b", "a.MOSTA"}));
  EXPECT_EQ(s[1].path, f.p("other/b.h5ad").string());  // later path, first position
  EXPECT_EQ(s[0].path, f.p("st/c.h5ad").string());
}

TEST(Samples, YamlMappingResolvedAgainstItsFolder) {
  SampleFiles f;
  write_text(f.p("cfg/samples.yaml"), "slice2: ../st/b.h5ad\nslice1: " + f.p("st/c.h5ad").string() +
                                          "\nslice2: ../other/b.h5ad\n");
  auto s = resolve_samples({}, f.p("cfg/samples.yaml").string(), "", "");
  ASSERT_EQ(names(s), (std::vector<std::string>{"slice2", "slice1"}));
  EXPECT_EQ(s[0].path, f.p("other/b.h5ad").string());
  EXPECT_EQ(s[1].path, f.p("st/c.h5ad").string());
}

TEST(Samples, FixtureYaml) {
  GSMAP_REQUIRE_SHARED();
  const fs::path st = gsmap::test::fixture("fx3d") / "input/st";
  auto s = resolve_samples({}, (st / "samples.yaml").string(), "", "");
  ASSERT_EQ(s.size(), 4u);  // 4 consecutive sections, Z order = YAML order
  for (const auto& x : s) {
    EXPECT_TRUE(fs::exists(x.path)) << x.path;
    EXPECT_EQ(fs::path(x.path).parent_path(), st.lexically_normal());
  }
  // The YAML's order, as Python's yaml.safe_load keeps it.
  std::string py = gsmap::test::run_python("import yaml\nprint(' '.join(yaml.safe_load(open('" +
                                           (st / "samples.yaml").string() + "'))))\n");
  std::string ours;
  for (const auto& x : s) ours += (ours.empty() ? "" : " ") + x.name;
  EXPECT_EQ(ours + "\n", py);
}

TEST(Samples, ListFileSkipsBlankLinesAndResolvesRelativePaths) {
  SampleFiles f;
  write_text(f.p("lists/files.txt"), "../st/b.h5ad\n\n   \n  " + f.p("st/a.MOSTA.h5ad").string() +
                                         "  \r\n../other/b.h5ad\n");
  auto s = resolve_samples({}, "", f.p("lists/files.txt").string(), "");
  ASSERT_EQ(names(s), (std::vector<std::string>{"b", "a.MOSTA"}));
  EXPECT_EQ(s[0].path, f.p("other/b.h5ad").string());
  EXPECT_EQ(s[1].path, f.p("st/a.MOSTA.h5ad").string());
}

TEST(Samples, FindLatentMetadataTakesPrecedence) {
  SampleFiles f;
  const fs::path meta = f.p("proj/find_latent_representations/find_latent_metadata.yaml");
  write_text(meta, "inputs:\n  x: 1\noutputs:\n  latent_files:\n    S1: " +
                       f.p("st/c.h5ad").string() + "\n    S0: " + f.p("st/b.h5ad").string() + "\n");
  auto s = resolve_samples({f.p("st/a.MOSTA.h5ad").string()}, "", "", meta.string());
  ASSERT_EQ(names(s), (std::vector<std::string>{"S1", "S0"}));
  EXPECT_EQ(s[1].path, f.p("st/b.h5ad").string());
  // A metadata path that does not exist is simply not used.
  auto t = resolve_samples({f.p("st/a.MOSTA.h5ad").string()}, "", "",
                           f.p("proj/none/find_latent_metadata.yaml").string());
  EXPECT_EQ(names(t), (std::vector<std::string>{"a.MOSTA"}));
  // Metadata listing a missing file, or without the key.
  write_text(meta, "outputs:\n  latent_files:\n    S1: " + f.p("st/gone.h5ad").string() + "\n");
  std::string msg = error_message<InputError>([&] { resolve_samples({}, "", "", meta.string()); });
  EXPECT_TRUE(contains(msg, "sample 'S1'") && contains(msg, "gone.h5ad")) << msg;
  write_text(meta, "outputs: {}\n");
  msg = error_message<InputError>([&] { resolve_samples({}, "", "", meta.string()); });
  EXPECT_TRUE(contains(msg, "outputs.latent_files")) << msg;
}

TEST(Samples, UsageAndInputErrors) {
  SampleFiles f;
  write_text(f.p("s.yaml"), "a: st/b.h5ad\n");
  write_text(f.p("l.txt"), "st/b.h5ad\n");
  std::string msg = error_message<UsageError>(
      [&] { resolve_samples({f.p("st/b.h5ad").string()}, f.p("s.yaml").string(), "", ""); });
  EXPECT_TRUE(contains(msg, "--h5ad-path, --h5ad-yaml")) << msg;
  EXPECT_THROW(resolve_samples({}, f.p("s.yaml").string(), f.p("l.txt").string(), ""), UsageError);
  EXPECT_THROW(resolve_samples({}, "", "", ""), UsageError);
  EXPECT_THROW(resolve_samples({}, "", "", f.p("missing_meta.yaml").string()), UsageError);

  msg = error_message<InputError>(
      [&] { resolve_samples({f.p("st/zzz.h5ad").string()}, "", "", ""); });
  EXPECT_TRUE(contains(msg, "sample 'zzz'") && contains(msg, "not found")) << msg;
  write_text(f.p("bad.yaml"), "a: missing.h5ad\n");
  msg = error_message<InputError>([&] { resolve_samples({}, f.p("bad.yaml").string(), "", ""); });
  EXPECT_TRUE(contains(msg, f.p("missing.h5ad").string())) << msg;
  write_text(f.p("list.yaml"), "- st/b.h5ad\n");
  msg = error_message<InputError>([&] { resolve_samples({}, f.p("list.yaml").string(), "", ""); });
  EXPECT_TRUE(contains(msg, "mapping")) << msg;
  EXPECT_THROW(resolve_samples({}, f.p("nope.yaml").string(), "", ""), InputError);
  write_text(f.p("empty.txt"), "\n\n");
  msg = error_message<InputError>([&] { resolve_samples({}, "", f.p("empty.txt").string(), ""); });
  EXPECT_TRUE(contains(msg, "no h5ad paths")) << msg;
  EXPECT_THROW(resolve_samples({}, "", f.p("nope.txt").string(), ""), InputError);
}

}  // namespace
