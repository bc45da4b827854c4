#include "gsmap/io/samples.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "gsmap/core/error.hpp"
#include "gsmap/core/log.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::io {
namespace fs = std::filesystem;

namespace {

// Ordered-dict insertion (Python OrderedDict / dict semantics, docs/algorithms.md §1.1): a repeated
// name keeps its first position and takes the later path.
void add_sample(std::vector<Sample>& samples, std::string name, std::string path,
                const std::string& source) {
  auto it =
      std::find_if(samples.begin(), samples.end(), [&](const Sample& s) { return s.name == name; });
  if (it != samples.end()) {
    GSMAP_LOG_WARN("{}: duplicate sample name '{}': {} replaces {} (position of the first kept)",
                   source, name, path, it->path);
    it->path = std::move(path);
    return;
  }
  samples.push_back({std::move(name), std::move(path)});
}

std::string resolve_against(const fs::path& base, const std::string& p) {
  fs::path path(p);
  if (path.is_relative() && !base.empty()) path = base / path;
  return path.lexically_normal().string();
}

void require_files_exist(const std::vector<Sample>& samples, const std::string& source) {
  std::error_code ec;
  for (const auto& s : samples) {
    if (!fs::is_regular_file(s.path, ec)) {
      throw InputError(source, fmt::format("sample '{}'", s.name),
                       fmt::format("h5ad file not found: {}", s.path),
                       "fix the path (relative paths in a YAML or list file are resolved against "
                       "that file's folder)");
    }
  }
}

YAML::Node load_yaml(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw InputError(path, "", fmt::format("{} not found", what), "check the path");
  }
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    throw InputError(path, fmt::format("line {}", e.mark.line + 1),
                     fmt::format("invalid YAML ({})", e.msg),
                     "write one 'sample_name: path/to/sample.h5ad' per line");
  } catch (const YAML::Exception& e) {
    throw InputError(path, "", fmt::format("cannot read the YAML file ({})", e.what()));
  }
}

// A mapping sample -> path; relative paths via `resolve`.
template <typename Resolve>
std::vector<Sample> samples_from_mapping(const YAML::Node& map, const std::string& file,
                                         const std::string& key, Resolve&& resolve) {
  if (!map.IsMap() || map.size() == 0) {
    throw InputError(file, key, "expected a non-empty mapping of sample name to h5ad path",
                     "write one 'sample_name: path/to/sample.h5ad' per line");
  }
  std::vector<Sample> samples;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
      throw InputError(file, fmt::format("line {}", kv.first.Mark().line + 1),
                       "each entry must be 'sample_name: path'",
                       "remove nested lists or maps");
    }
    add_sample(samples, kv.first.as<std::string>(), resolve(kv.second.as<std::string>()), file);
  }
  return samples;
}

std::vector<Sample> samples_from_yaml(const std::string& yaml_path) {
  YAML::Node root = load_yaml(yaml_path, "--h5ad-yaml file");
  const fs::path base = fs::path(yaml_path).parent_path();
  auto samples = samples_from_mapping(
      root, yaml_path, "", [&](const std::string& p) { return resolve_against(base, p); });
  require_files_exist(samples, yaml_path);
  return samples;
}

std::vector<Sample> samples_from_list_file(const std::string& list_path) {
  std::error_code ec;
  if (!fs::is_regular_file(list_path, ec)) {
    throw InputError(list_path, "", "--h5ad-list-file not found", "check the path");
  }
  const fs::path base = fs::path(list_path).parent_path();
  LineReader reader(list_path);
  std::string_view line;
  std::vector<Sample> samples;
  while (reader.next_view(line)) {
    auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;  // blank line
    auto last = line.find_last_not_of(" \t");
    const std::string path =
        resolve_against(base, std::string(line.substr(first, last - first + 1)));
    add_sample(samples, sample_name_from_path(path), path, list_path);
  }
  if (samples.empty()) {
    throw InputError(list_path, "", "no h5ad paths in the list file",
                     "write one h5ad path per line");
  }
  require_files_exist(samples, list_path);
  return samples;
}

std::vector<Sample> samples_from_paths(const std::vector<std::string>& paths) {
  std::vector<Sample> samples;
  for (const auto& p : paths) add_sample(samples, sample_name_from_path(p), p, "--h5ad-path");
  require_files_exist(samples, "--h5ad-path");
  return samples;
}

std::vector<Sample> samples_from_find_latent_metadata(const std::string& meta_path) {
  YAML::Node root = load_yaml(meta_path, "find-latent metadata");
  YAML::Node files;
  if (root.IsMap() && root["outputs"] && root["outputs"].IsMap()) {
    files = root["outputs"]["latent_files"];
  }
  if (!files) {
    throw InputError(meta_path, "outputs.latent_files", "key missing",
                     "re-run find-latent, or delete this file to use --h5ad-* options");
  }
  // gsMap3D writes these paths as given at find-latent time (usually absolute); a relative one is
  // taken from the current directory, else from the metadata file's folder.
  const fs::path base = fs::path(meta_path).parent_path();
  auto samples =
      samples_from_mapping(files, meta_path, "outputs.latent_files", [&](const std::string& p) {
        std::error_code ec;
        if (fs::path(p).is_absolute() || fs::exists(p, ec)) return p;
        return resolve_against(base, p);
      });
  require_files_exist(samples, meta_path);
  return samples;
}

}  // namespace

std::string sample_name_from_path(const std::string& path) {
  return fs::path(path).stem().string();
}

std::vector<Sample> resolve_samples(const std::vector<std::string>& h5ad_paths,
                                    const std::string& h5ad_yaml, const std::string& h5ad_list_file,
                                    const std::string& find_latent_metadata) {
  std::vector<std::string> given;
  if (!h5ad_paths.empty()) given.emplace_back("--h5ad-path");
  if (!h5ad_yaml.empty()) given.emplace_back("--h5ad-yaml");
  if (!h5ad_list_file.empty()) given.emplace_back("--h5ad-list-file");
  if (given.size() > 1) {
    std::string list;
    for (const auto& g : given) list += (list.empty() ? "" : ", ") + g;
    throw UsageError(
        fmt::format("give at most one of --h5ad-path, --h5ad-yaml, --h5ad-list-file "
                    "(got {})",
                    list));
  }
  std::error_code ec;
  if (!find_latent_metadata.empty() && fs::exists(find_latent_metadata, ec)) {
    if (!given.empty()) {
      GSMAP_LOG_WARN(
          "{} exists and takes precedence over {} (as in gsMap3D); delete it to use "
          "the explicit inputs",
          find_latent_metadata, given.front());
    }
    auto samples = samples_from_find_latent_metadata(find_latent_metadata);
    GSMAP_LOG_INFO("{} samples from {}", samples.size(), find_latent_metadata);
    return samples;
  }
  if (given.empty()) {
    throw UsageError(
        "no samples given: pass --h5ad-path (repeatable), --h5ad-yaml or "
        "--h5ad-list-file");
  }
  if (!h5ad_paths.empty()) return samples_from_paths(h5ad_paths);
  if (!h5ad_yaml.empty()) return samples_from_yaml(h5ad_yaml);
  return samples_from_list_file(h5ad_list_file);
}

}  // namespace gsmap::io
