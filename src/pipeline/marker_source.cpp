#include "gsmap/pipeline/marker_source.hpp"
#include "gsmap/pipeline/validate.hpp"

#include <sys/mman.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gsmap/core/error.hpp"
#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/hdf5.hpp"
#include "gsmap/math/f16.hpp"

namespace gsmap::pipeline {
namespace fs = std::filesystem;
namespace {

// Dense or sparse X of an h5ad. f16 datasets are read as raw bits; other types are converted.
class H5adMarkerScores final : public MarkerScoreSource {
 public:
  H5adMarkerScores(std::string path, std::string what)
      : path_(std::move(path)), what_(std::move(what)), reader_(path_) {
    genes_ = reader_.var_names();
    n_spots_ = reader_.n_obs();
    info_ = reader_.matrix_info("X");
    if (info_.n_rows != n_spots_ ||
        info_.n_cols != static_cast<std::int64_t>(genes_.size())) {
      throw InputError(path_, "X", fmt::format("shape {} x {} does not match obs {} x var {}",
                                               info_.n_rows, info_.n_cols, n_spots_, genes_.size()),
                       "write the marker scores as cells x genes");
    }
    if (info_.format == io::MatrixFormat::kDense && info_.dtype == "float16") {
      io::H5Lock lock;
      dset_ = io::open_dataset(reader_.file(), "X");
    }
  }
  std::string describe() const override { return fmt::format("{} {}", what_, path_); }
  std::int64_t n_spots() const override { return n_spots_; }
  const std::vector<std::string>& genes() const override { return genes_; }
  std::vector<std::string> spot_names(std::int64_t row0, std::int64_t row1) const override {
    return reader_.obs_names(row0, row1);
  }
  std::string obs_h5ad() const override { return path_; }

  std::vector<std::uint16_t> read_rows(std::int64_t row0, std::int64_t row1,
                                       const std::vector<std::int64_t>& cols) const override {
    const std::int64_t n = row1 - row0, g_all = info_.n_cols;
    std::vector<std::uint16_t> out(static_cast<std::size_t>(n) * cols.size());
    if (n <= 0) return out;
    if (dset_.valid()) {
      auto bits = io::read_rows<std::uint16_t>(dset_, row0, n);
      for (std::int64_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < cols.size(); ++c) out[r * cols.size() + c] = bits[r * g_all + cols[c]];
      return out;
    }
    auto dense = reader_.read_rows_dense("X", row0, row1);
    for (std::int64_t r = 0; r < n; ++r)
      for (std::size_t c = 0; c < cols.size(); ++c)
        out[r * cols.size() + c] = math::f32_to_f16(dense[r * g_all + cols[c]]);
    return out;
  }

 private:
  std::string path_, what_;
  io::H5adReader reader_;
  io::MatrixInfo info_;
  io::Hid dset_;
  std::vector<std::string> genes_;
  std::int64_t n_spots_ = 0;
};

// gsMap3D's headerless row-major f16 memmap, mapped read-only.
class GsMap3dMemmap final : public MarkerScoreSource {
 public:
  explicit GsMap3dMemmap(const fs::path& l2g_dir) {
    dat_ = (l2g_dir / "marker_scores.dat").string();
    const auto meta_path = (l2g_dir / "marker_scores.meta.json").string();
    adata_ = (l2g_dir / "concatenated_latent_adata.h5ad").string();
    std::ifstream meta_in(meta_path);
    if (!meta_in) {
      throw InputError(meta_path, "", "missing metadata of the gsMap3D marker-score memmap",
                       "re-run gsMap3D latent-to-gene to completion");
    }
    nlohmann::json meta;
    try {
      meta_in >> meta;
    } catch (const std::exception& e) {
      throw InputError(meta_path, "", std::string("not valid JSON: ") + e.what(),
                       "re-run gsMap3D latent-to-gene");
    }
    if (!meta.value("complete", false)) {
      throw InputError(meta_path, "complete",
                       "the gsMap3D marker scores are incomplete (latent-to-gene did not finish)",
                       "re-run gsMap3D latent-to-gene to completion, or run gsmap-mpi latent-to-gene");
    }
    if (meta.value("dtype", "") != "float16") {
      throw InputError(meta_path, "dtype", "expected float16", "use a gsMap3D marker_scores.dat");
    }
    auto shape = meta.at("shape").get<std::vector<std::int64_t>>();
    io::H5adReader reader(adata_);
    n_spots_ = reader.n_obs();
    genes_ = reader.var_names();
    if (shape.size() != 2 || shape[0] != n_spots_ ||
        shape[1] != static_cast<std::int64_t>(genes_.size())) {
      throw InputError(meta_path, "shape",
                       fmt::format("does not match {} ({} spots x {} genes)", adata_, n_spots_,
                                   genes_.size()),
                       "use the memmap and adata of the same gsMap3D run");
    }
    const std::size_t bytes = static_cast<std::size_t>(shape[0]) * shape[1] * 2;
    int fd = ::open(dat_.c_str(), O_RDONLY);
    if (fd < 0) throw InputError(dat_, "", "cannot open", "check the gsMap3D workdir");
    struct stat st {};
    fstat(fd, &st);
    if (static_cast<std::size_t>(st.st_size) < bytes) {
      ::close(fd);
      throw InputError(dat_, "", fmt::format("file has {} bytes, expected {}", st.st_size, bytes),
                       "the memmap is truncated; re-run gsMap3D latent-to-gene");
    }
    map_ = bytes ? mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0) : nullptr;
    ::close(fd);
    if (map_ == MAP_FAILED) throw IoError(dat_ + ": mmap failed");
    bytes_ = bytes;
  }
  ~GsMap3dMemmap() override {
    if (map_ && map_ != MAP_FAILED) munmap(map_, bytes_);
  }
  std::string describe() const override { return "gsMap3D memmap " + dat_; }
  std::int64_t n_spots() const override { return n_spots_; }
  const std::vector<std::string>& genes() const override { return genes_; }
  std::vector<std::string> spot_names(std::int64_t row0, std::int64_t row1) const override {
    return io::H5adReader(adata_).obs_names(row0, row1);
  }
  std::string obs_h5ad() const override { return adata_; }
  std::vector<std::uint16_t> read_rows(std::int64_t row0, std::int64_t row1,
                                       const std::vector<std::int64_t>& cols) const override {
    const auto* base = static_cast<const std::uint16_t*>(map_);
    const std::size_t g = genes_.size();
    std::vector<std::uint16_t> out(static_cast<std::size_t>(row1 - row0) * cols.size());
    for (std::int64_t r = row0; r < row1; ++r)
      for (std::size_t c = 0; c < cols.size(); ++c) out[(r - row0) * cols.size() + c] = base[r * g + cols[c]];
    return out;
  }

 private:
  std::string dat_, adata_;
  std::vector<std::string> genes_;
  std::int64_t n_spots_ = 0;
  void* map_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace

namespace {
std::unique_ptr<MarkerScoreSource> open_source(const CommonConfig& common, const SpatialLdscConfig& l) {
  auto format = l.marker_score_format;
  if (format == MarkerScoreFormat::kAuto) {
    format = !l.marker_score_feather_path.empty() ? MarkerScoreFormat::kFeather
             : !l.marker_score_h5ad_path.empty()  ? MarkerScoreFormat::kH5ad
                                                  : MarkerScoreFormat::kMemmap;
  }
  if (format == MarkerScoreFormat::kFeather) {
    throw UsageError(
        "--marker-score-format feather is not supported: gsmap-mpi has no Arrow reader. Convert the "
        "scores to an h5ad (cells x genes) and pass --marker-score-h5ad-path, or run gsmap-mpi "
        "latent-to-gene");
  }
  if (format == MarkerScoreFormat::kH5ad) {
    if (l.marker_score_h5ad_path.empty()) {
      throw UsageError("--marker-score-format h5ad needs --marker-score-h5ad-path");
    }
    return std::make_unique<H5adMarkerScores>(l.marker_score_h5ad_path, "marker scores h5ad");
  }
  const fs::path l2g = fs::path(common.project_dir()) / "latent_to_gene";
  const auto ours = (l2g / "marker_scores.h5ad").string();
  if (fs::exists(ours)) {
    if (!io::is_complete(ours)) {
      throw InputError(ours, "gsmap_complete",
                       "marker scores are incomplete (latent-to-gene was interrupted)",
                       "re-run gsmap-mpi latent-to-gene (or quick-mode) with the same options");
    }
    return std::make_unique<H5adMarkerScores>(ours, "gsmap-mpi marker scores");
  }
  if (fs::exists(l2g / "marker_scores.dat") || fs::exists(l2g / "marker_scores.meta.json")) {
    return std::make_unique<GsMap3dMemmap>(l2g);
  }
  throw InputError(ours, "", "no marker scores found (neither gsmap-mpi's marker_scores.h5ad nor "
                   "gsMap3D's marker_scores.dat)",
                   "run latent-to-gene first, or pass --marker-score-h5ad-path");
}

}  // namespace

std::unique_ptr<MarkerScoreSource> open_marker_scores(const CommonConfig& common,
                                                      const SpatialLdscConfig& ldsc) {
  auto source = open_source(common, ldsc);
  // A repeated gene would enter every spot's LD twice (docs/troubleshooting.md).
  check_unique_names(source->genes(), source->describe(), "genes (var index)");
  return source;
}

std::unique_ptr<MarkerScoreSource> open_marker_scores(const Config& cfg) {
  return open_marker_scores(cfg.common, cfg.ldsc);
}

}  // namespace gsmap::pipeline
