#pragma once
// Declaring the ST samples: --h5ad-path (repeatable) / --h5ad-yaml / --h5ad-list-file, or the
// find-latent metadata of a gsMap3D workdir (docs/algorithms.md §1.1). Order = global cell order =
// Z order.
#include <string>
#include <vector>

namespace gsmap::io {

struct Sample {
  std::string name;
  std::string path;  // absolute or relative to the current directory
};

// Exactly one source may be non-empty (UsageError otherwise; none given -> UsageError too, unless
// `find_latent_metadata` exists). Duplicate names: warning, later path wins, first position kept.
// `find_latent_metadata`: <workdir>/<project>/find_latent_representations/find_latent_metadata.yaml
// which, when it exists, takes precedence (its outputs.latent_files mapping).
std::vector<Sample> resolve_samples(const std::vector<std::string>& h5ad_paths,
                                    const std::string& h5ad_yaml, const std::string& h5ad_list_file,
                                    const std::string& find_latent_metadata);

// File name without its last suffix: a.MOSTA.h5ad -> a.MOSTA.
std::string sample_name_from_path(const std::string& path);

}  // namespace gsmap::io
