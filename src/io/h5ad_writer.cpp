// H5adWriter: serial .h5ad files that anndata 0.8 (Debian) and newer read. Everything is created
// without HDF5 time stamps, so identical inputs give identical bytes (docs/algorithms.md §10.9).
#include <stdexcept>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/h5ad.hpp"
#include "h5ad_internal.hpp"

namespace gsmap::io {
namespace {

using namespace h5ad_detail;

const char* const kDictGroups[] = {"layers", "obsm", "obsp", "varm", "varp", "uns"};

// "X" stays at the root; anything else is a layer.
std::string layer_path(const std::string& layer) {
  return layer == "X" ? std::string("X") : "layers/" + layer;
}

void check_size(std::size_t have, std::int64_t rows, std::int64_t cols, const std::string& what) {
  if (rows < 0 || cols < 0 ||
      have != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols)) {
    throw std::invalid_argument(
        fmt::format("{}: {} values given for a {} x {} matrix", what, have, rows, cols));
  }
}

// Index "0", "1", ... as anndata uses when a dataframe has no names.
DataFrame range_frame(std::int64_t n) {
  DataFrame df;
  df.index.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) df.index.push_back(std::to_string(i));
  return df;
}

}  // namespace

H5adWriter::H5adWriter(const std::string& path) : path_(path) {
  file_ = open_file(path_, Access::kTruncate);
  try {
    set_encoding(file_, "anndata", "0.1.0");
    for (const char* g : kDictGroups) write_empty_dict(file_, g);
  } catch (const std::exception& e) {
    throw IoError(fmt::format("{}: cannot write the h5ad skeleton ({})", path_, e.what()));
  }
}

H5adWriter::~H5adWriter() {
  try {
    close();
  } catch (...) {  // NOLINT(bugprone-empty-catch): destructors must not throw; close() reports
  }
}

namespace {
// Rows and columns of the X already written, so that close() can give default obs/var of the
// right length to a file whose caller wrote only X.
std::int64_t matrix_rows(hid_t file, const std::string& path, std::int64_t* cols) {
  if (is_dataset(file, path)) {
    Hid d = open_dataset(file, path);
    const auto dims = dataset_shape(d);
    *cols = static_cast<std::int64_t>(dims.size() > 1 ? dims[1] : 0);
    return static_cast<std::int64_t>(dims.empty() ? 0 : dims[0]);
  }
  Hid g = open_group(file, path);
  const auto shape = read_attr_ints(g, "shape");
  *cols = shape.size() == 2 ? shape[1] : 0;
  return shape.size() == 2 ? shape[0] : 0;
}
}  // namespace

void H5adWriter::close() {
  if (!file_.valid()) return;
  try {
    // anndata needs obs and var; default them to range indexes matching X when not written.
    std::int64_t n_cols = 0, n_rows = 0;
    if (link_exists(file_, "X")) n_rows = matrix_rows(file_, "X", &n_cols);
    if (!link_exists(file_, "obs")) write_dataframe(file_, "obs", range_frame(n_rows));
    if (!link_exists(file_, "var")) write_dataframe(file_, "var", range_frame(n_cols));
    H5Lock lock;
    if (H5Fflush(file_, H5F_SCOPE_LOCAL) < 0) throw std::runtime_error(with_hdf5_detail("flush failed"));
  } catch (const std::exception& e) {
    file_.reset();
    throw IoError(fmt::format("{}: cannot finish the h5ad file ({})", path_, e.what()));
  }
  file_.reset();
}

namespace {
template <typename F>
void writing(const std::string& path, const std::string& key, F&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw IoError(fmt::format("{}: {}: cannot write ({})", path, key, e.what()));
  }
}

void require_open(const Hid& file, const std::string& path) {
  if (!file.valid()) throw std::logic_error(path + ": H5adWriter used after close()");
}
}  // namespace

void H5adWriter::write_obs(const DataFrame& obs) {
  require_open(file_, path_);
  writing(path_, "obs", [&] { write_dataframe(file_, "obs", obs); });
}

void H5adWriter::write_var(const DataFrame& var) {
  require_open(file_, path_);
  writing(path_, "var", [&] { write_dataframe(file_, "var", var); });
}

void H5adWriter::write_dense_f32(const std::string& layer, const std::vector<float>& values,
                                 std::int64_t n_rows, std::int64_t n_cols) {
  require_open(file_, path_);
  check_size(values.size(), n_rows, n_cols, layer);
  writing(path_, layer_path(layer), [&] {
    write_dataset(file_, layer_path(layer), H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                  {static_cast<hsize_t>(n_rows), static_cast<hsize_t>(n_cols)}, values.data());
  });
}

void H5adWriter::write_dense_f16(const std::string& layer, const std::vector<std::uint16_t>& bits,
                                 std::int64_t n_rows, std::int64_t n_cols) {
  require_open(file_, path_);
  check_size(bits.size(), n_rows, n_cols, layer);
  writing(path_, layer_path(layer), [&] {
    Hid f16 = f16_file_type();
    write_dataset(file_, layer_path(layer), f16, f16,
                  {static_cast<hsize_t>(n_rows), static_cast<hsize_t>(n_cols)}, bits.data());
  });
}

void H5adWriter::write_csr_f32(const std::string& layer, const CsrRows& rows) {
  require_open(file_, path_);
  const std::int64_t n_rows = rows.n_rows();
  if (rows.indptr.empty() || rows.indptr.front() != 0 ||
      rows.indptr.back() != static_cast<std::int64_t>(rows.indices.size()) ||
      rows.indices.size() != rows.data.size()) {
    throw std::invalid_argument(layer + ": inconsistent CsrRows (indptr/indices/data)");
  }
  writing(path_, layer_path(layer), [&] {
    Hid g = create_group(file_, layer_path(layer));
    set_encoding(g, "csr_matrix", "0.1.0");
    write_attr_int64s(g, "shape", {n_rows, rows.n_cols});
    const hsize_t nnz = rows.data.size();
    // scipy's members carry no encoding attributes (as anndata writes them).
    write_dataset(g, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {nnz}, rows.data.data(), false);
    // scipy keeps indices and indptr of one dtype (int32 below 2^31 entries); mixing them breaks
    // scipy's slicing of the matrix anndata returns ("Output dtype not compatible with inputs").
    const bool wide = nnz >= (hsize_t{1} << 31);
    const hid_t index_type = wide ? H5T_STD_I64LE : H5T_STD_I32LE;
    write_dataset(g, "indices", index_type, H5T_NATIVE_INT32, {nnz}, rows.indices.data(), false);
    write_dataset(g, "indptr", index_type, H5T_NATIVE_INT64, {rows.indptr.size()},
                  rows.indptr.data(), false);
  });
}

namespace {
void write_obsm(hid_t file, const std::string& path, const std::string& key, hid_t file_type,
                hid_t mem_type, const void* data, std::size_t size, std::int64_t n_rows,
                std::int64_t n_cols) {
  check_size(size, n_rows, n_cols, "obsm/" + key);
  writing(path, "obsm/" + key, [&] {
    write_dataset(file, "obsm/" + key, file_type, mem_type,
                  {static_cast<hsize_t>(n_rows), static_cast<hsize_t>(n_cols)}, data);
  });
}
}  // namespace

void H5adWriter::write_obsm_f64(const std::string& key, const std::vector<double>& values,
                                std::int64_t n_rows, std::int64_t n_cols) {
  require_open(file_, path_);
  write_obsm(file_, path_, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.data(), values.size(),
             n_rows, n_cols);
}

void H5adWriter::write_obsm_f32(const std::string& key, const std::vector<float>& values,
                                std::int64_t n_rows, std::int64_t n_cols) {
  require_open(file_, path_);
  write_obsm(file_, path_, key, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, values.data(), values.size(),
             n_rows, n_cols);
}

void H5adWriter::write_obsm_i32(const std::string& key, const std::vector<std::int32_t>& values,
                                std::int64_t n_rows, std::int64_t n_cols) {
  require_open(file_, path_);
  write_obsm(file_, path_, key, H5T_STD_I32LE, H5T_NATIVE_INT32, values.data(), values.size(),
             n_rows, n_cols);
}

void H5adWriter::write_obsm_f16(const std::string& key, const std::vector<std::uint16_t>& bits,
                                std::int64_t n_rows, std::int64_t n_cols) {
  require_open(file_, path_);
  Hid f16 = f16_file_type();
  write_obsm(file_, path_, key, f16, f16, bits.data(), bits.size(), n_rows, n_cols);
}

void H5adWriter::set_root_attr_int(const std::string& name, std::int64_t value) {
  require_open(file_, path_);
  writing(path_, "/@" + name, [&] { write_attr_int64s(file_, name, {value}, true); });
}

void H5adWriter::set_root_attr_string(const std::string& name, const std::string& value) {
  require_open(file_, path_);
  writing(path_, "/@" + name, [&] { write_attr_string(file_, name, value); });
}

}  // namespace gsmap::io
