#include "test_neighbors_fixture_io.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "gsmap/io/hdf5.hpp"
#include "test_support.hpp"

namespace gsmap::gss::fixture {

namespace {

DatasetType parse_dataset_type(const std::string& s) {
  if (s == "spatial2D") return DatasetType::kSpatial2D;
  if (s == "spatial3D") return DatasetType::kSpatial3D;
  if (s == "scRNA") return DatasetType::kScRNA;
  throw std::runtime_error("unknown dataset_type " + s);
}

struct SampleData {
  std::vector<std::string> names;
  std::vector<std::int32_t> codes;
  std::vector<std::string> categories;
  std::vector<std::int8_t> high_quality;
  std::vector<std::int64_t> x_indptr;  // X (filter uses X, docs/algorithms.md §1.1 step 3)
  std::vector<std::int64_t> indptr;    // data layer
  std::vector<std::int32_t> indices;
  std::vector<float> values;
  std::vector<double> coords;
  std::vector<float> emb_cell, emb_niche;
  int coord_dim = 0, cell_dim = 0, niche_dim = 0;
};

int columns_of(hid_t dset) { return static_cast<int>(io::dataset_shape(dset).at(1)); }

SampleData read_sample(const std::string& path, const FixtureCells& fx,
                       const std::string& annotation) {
  SampleData s;
  io::Hid file = io::open_file(path, io::Access::kRead);
  s.names = io::read_strings(io::open_dataset(file, "obs/_index"));
  s.codes = io::read_all<std::int32_t>(io::open_dataset(file, "obs/" + annotation + "/codes"));
  s.categories = io::read_strings(io::open_dataset(file, "obs/" + annotation + "/categories"));
  s.high_quality = io::read_all<std::int8_t>(io::open_dataset(file, "obs/High_quality"));
  s.x_indptr = io::read_all<std::int64_t>(io::open_dataset(file, "X/indptr"));
  const std::string layer = fx.data_layer == "X" ? "X" : "layers/" + fx.data_layer;
  s.indptr = io::read_all<std::int64_t>(io::open_dataset(file, layer + "/indptr"));
  s.indices = io::read_all<std::int32_t>(io::open_dataset(file, layer + "/indices"));
  s.values = io::read_all<float>(io::open_dataset(file, layer + "/data"));
  io::Hid spatial = io::open_dataset(file, "obsm/spatial");
  s.coord_dim = columns_of(spatial);
  s.coords = io::read_all<double>(spatial);
  io::Hid cell = io::open_dataset(file, "obsm/" + fx.emb_cell_key);
  s.cell_dim = columns_of(cell);
  s.emb_cell = io::read_all<float>(cell);
  if (!fx.emb_niche_key.empty()) {
    io::Hid niche = io::open_dataset(file, "obsm/" + fx.emb_niche_key);
    s.niche_dim = columns_of(niche);
    s.emb_niche = io::read_all<float>(niche);
  }
  return s;
}

// docs/algorithms.md §1.1: drop missing labels; drop labels with fewer than min_cells_per_type
// cells in this sample (counted after the first step); drop cells with fewer than 20 stored entries
// in X.
std::vector<std::int64_t> kept_rows(const SampleData& s, int min_cells_per_type) {
  const std::size_t n = s.names.size();
  std::map<std::int32_t, std::int64_t> per_label;
  for (std::size_t i = 0; i < n; ++i) {
    if (s.codes[i] >= 0) ++per_label[s.codes[i]];
  }
  std::vector<std::int64_t> kept;
  for (std::size_t i = 0; i < n; ++i) {
    if (s.codes[i] < 0) continue;
    if (per_label[s.codes[i]] < min_cells_per_type) continue;
    if (s.x_indptr[i + 1] - s.x_indptr[i] < 20) continue;
    kept.push_back(static_cast<std::int64_t>(i));
  }
  return kept;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream ss(line);
  std::string field;
  while (std::getline(ss, field, ',')) fields.push_back(field);
  return fields;
}

}  // namespace

FixtureCells load_cells(const std::string& fixture_name) {
  FixtureCells fx;
  fx.name = fixture_name;
  const auto root = test::fixture(fixture_name);
  std::ifstream config_file(root / "expected" / "oracle_config.json");
  if (!config_file) throw std::runtime_error("no oracle_config.json in " + root.string());
  const auto config = nlohmann::ordered_json::parse(config_file);
  fx.dataset_type = parse_dataset_type(config.at("dataset_type").get<std::string>());
  fx.k_central = config.at("k_central").get<int>();
  fx.k_homogeneous = config.at("k_homo").get<int>();
  fx.k_adjacent = config.at("k_adjacent").get<int>();
  fx.n_adjacent = config.at("n_adjacent").get<int>();
  fx.cell_threshold = config.at("cell_thr").get<double>();
  fx.niche_threshold = config.at("niche_thr").get<double>();
  fx.min_cells_per_type = config.at("min_cells_per_type").get<int>();
  fx.data_layer = config.at("data_layer").get<std::string>();
  fx.emb_cell_key = config.at("emb_cell").get<std::string>();
  if (!config.at("emb_niche").is_null())
    fx.emb_niche_key = config.at("emb_niche").get<std::string>();
  const std::string annotation = config.at("annotation").get<std::string>();

  const auto st = root / "input" / "st";
  const YAML::Node samples = YAML::LoadFile((st / "samples.yaml").string());
  std::map<std::string, std::int32_t> group_of_name;
  std::int32_t slice = 0;
  fx.indptr.push_back(0);
  for (const auto& entry : samples) {
    const std::string sample = entry.first.as<std::string>();
    const SampleData s =
        read_sample((st / entry.second.as<std::string>()).string(), fx, annotation);
    if (fx.n == 0) {
      fx.coord_dim = s.coord_dim;
      fx.cell_dim = s.cell_dim;
      fx.niche_dim = s.niche_dim;
    }
    const std::vector<std::int64_t> kept = kept_rows(s, fx.min_cells_per_type);
    fx.cells_per_sample.push_back(static_cast<std::int64_t>(kept.size()));
    for (const std::int64_t row : kept) {
      const auto r = static_cast<std::size_t>(row);
      fx.spots.push_back(s.names[r] + "|" + sample);
      fx.slice_id.push_back(slice);
      const std::string& label = s.categories[static_cast<std::size_t>(s.codes[r])];
      auto [it, inserted] =
          group_of_name.emplace(label, static_cast<std::int32_t>(fx.group_names.size()));
      if (inserted) fx.group_names.push_back(label);
      fx.group.push_back(it->second);
      fx.high_quality.push_back(s.high_quality[r] != 0 ? 1 : 0);
      const auto append_row = [r](const auto& from, int dim, auto& to) {
        const auto first =
            from.begin() + static_cast<std::ptrdiff_t>(r * static_cast<std::size_t>(dim));
        to.insert(to.end(), first, first + dim);
      };
      append_row(s.coords, s.coord_dim, fx.coords);
      append_row(s.emb_cell, s.cell_dim, fx.emb_cell);
      append_row(s.emb_niche, s.niche_dim, fx.emb_niche);
      for (std::int64_t k = s.indptr[r]; k < s.indptr[r + 1]; ++k) {
        fx.indices.push_back(s.indices[static_cast<std::size_t>(k)]);
        fx.values.push_back(s.values[static_cast<std::size_t>(k)]);
      }
      fx.indptr.push_back(static_cast<std::int64_t>(fx.indices.size()));
      ++fx.n;
    }
    ++slice;
  }
  io::Hid first =
      io::open_file((st / samples.begin()->second.as<std::string>()).string(), io::Access::kRead);
  fx.n_genes =
      static_cast<std::int64_t>(io::dataset_shape(io::open_dataset(first, "var/_index")).at(0));
  return fx;
}

std::vector<std::string> expected_spots(const std::string& fixture_name) {
  std::ifstream in(test::fixture(fixture_name) / "expected" / "cells.csv");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> spots;
  while (std::getline(in, line)) spots.push_back(split_csv_line(line).at(0));
  return spots;
}

std::vector<std::int32_t> expected_ints(const std::string& fixture_name, const std::string& key,
                                        std::vector<std::uint64_t>* shape) {
  io::Hid file = io::open_file((test::fixture(fixture_name) / "expected" / "expected.h5").string(),
                               io::Access::kRead);
  io::Hid dset = io::open_dataset(file, key);
  if (shape) {
    const auto s = io::dataset_shape(dset);
    shape->assign(s.begin(), s.end());
  }
  return io::read_all<std::int32_t>(dset);
}

std::vector<std::uint16_t> expected_f16(const std::string& fixture_name, const std::string& key,
                                        std::vector<std::uint64_t>* shape) {
  io::Hid file = io::open_file((test::fixture(fixture_name) / "expected" / "expected.h5").string(),
                               io::Access::kRead);
  io::Hid dset = io::open_dataset(file, key);
  if (shape) {
    const auto s = io::dataset_shape(dset);
    shape->assign(s.begin(), s.end());
  }
  return io::read_all<std::uint16_t>(dset);
}

MeanFrac expected_mean_frac(const std::string& fixture_name) {
  std::ifstream in(test::fixture(fixture_name) / "expected" / "mean_frac.csv");
  std::string line;
  std::getline(in, line);
  if (line != "gene,G_Mean,frac")
    throw std::runtime_error("unexpected mean_frac.csv header " + line);
  MeanFrac mf;
  while (std::getline(in, line)) {
    const auto f = split_csv_line(line);
    mf.genes.push_back(f.at(0));
    mf.g_mean.push_back(std::stod(f.at(1)));
    mf.frac.push_back(std::stod(f.at(2)));
  }
  return mf;
}

}  // namespace gsmap::gss::fixture
