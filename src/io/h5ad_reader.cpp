// H5adReader: anndata >= 0.8 files over the HDF5 C API (docs/development.md §2.1).
// Row ranges are read with one hyperslab per dataset; CSC matrices are streamed over their stored
// entries with bounded memory. Every problem with the file is an InputError naming file and key.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/h5ad.hpp"
#include "h5ad_internal.hpp"

namespace gsmap::io {
namespace {

using h5ad_detail::dtype_name;
using h5ad_detail::is_bool_enum;
using h5ad_detail::read_attr_bool;

const char* const kResaveFix =
    "re-save it with a current anndata (>= 0.8), e.g. python -c \"import anndata; "
    "anndata.read_h5ad('in.h5ad').write_h5ad('out.h5ad')\"";

[[noreturn]] void throw_legacy(const std::string& file, const std::string& key) {
  throw InputError(file, key,
                   "no 'encoding-type' attribute: the file was written by anndata <= 0.7, whose "
                   "layout is not supported",
                   kResaveFix);
}

std::string join_or_none(const std::vector<std::string>& names) {
  if (names.empty()) return "(none)";
  return fmt::format("{}", fmt::join(names, ", "));
}

// Runs `fn`, turning failures of the HDF5 helpers (plain std::runtime_error) into an InputError
// that names the file and key; our own errors pass through unchanged.
template <typename F>
auto guarded(const std::string& file, const std::string& key, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(file, key, fmt::format("HDF5 could not read it ({})", e.what()),
                     "the file may be truncated or use a compression filter this HDF5 lacks "
                     "(h5py's lzf: re-save with compression='gzip' or none)");
  }
}

std::string encoding_of(hid_t obj) { return read_attr_string(obj, "encoding-type").value_or(""); }

std::string shape_str(const std::vector<hsize_t>& dims) {
  return fmt::format("({})", fmt::join(dims, ", "));
}

// The rows of a per-row element to read: all, or [start, start + count) of a 1-D dataset.
struct RowRange {
  bool all = true;
  hsize_t start = 0, count = 0;
};
template <typename T>
std::vector<T> read_part(hid_t dset, const RowRange& r) {
  return r.all ? read_all<T>(dset) : read_rows<T>(dset, r.start, r.count);
}
std::vector<std::string> read_strings_part(hid_t dset, const RowRange& r) {
  return r.all ? read_strings(dset) : read_strings_range(dset, r.start, r.count);
}

// Integers of any stored width (enum bools included, through their native enum) as int64.
std::vector<std::int64_t> read_integers(hid_t dset, const RowRange& r = {}) {
  H5Lock lock;
  Hid ftype(H5Dget_type(dset));
  if (H5Tget_class(ftype) != H5T_ENUM) return read_part<std::int64_t>(dset, r);
  // HDF5 converts an enum only to another enum: read the raw base integers, then widen.
  Hid mtype(H5Tget_native_type(ftype, H5T_DIR_ASCEND));
  Hid base(H5Tget_super(mtype));
  const std::size_t size = H5Tget_size(mtype);
  const bool is_signed = H5Tget_sign(base) != H5T_SGN_NONE;
  Hid space(H5Dget_space(dset));
  hssize_t n = H5Sget_simple_extent_npoints(space);
  Hid mspace;
  if (!r.all) {
    if (r.start + r.count > static_cast<hsize_t>(std::max<hssize_t>(n, 0))) {
      throw std::runtime_error("row range outside dataset");
    }
    n = static_cast<hssize_t>(r.count);
    const hsize_t start[1] = {r.start}, count[1] = {r.count};
    if (n > 0) H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    mspace = Hid(H5Screate_simple(1, count, nullptr));
  }
  std::vector<unsigned char> raw(static_cast<std::size_t>(std::max<hssize_t>(n, 0)) * size);
  if (n > 0 && H5Dread(dset, mtype, r.all ? H5S_ALL : mspace.get(), r.all ? H5S_ALL : space.get(),
                       H5P_DEFAULT, raw.data()) < 0) {
    throw std::runtime_error("HDF5 read of an enum dataset failed");
  }
  std::vector<std::int64_t> out(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const unsigned char* p = raw.data() + i * size;
    switch (size) {
      case 1:
        out[i] = is_signed ? *reinterpret_cast<const std::int8_t*>(p) : p[0];
        break;
      case 2: {
        std::int16_t v;
        std::memcpy(&v, p, 2);
        out[i] = is_signed ? v : static_cast<std::uint16_t>(v);
        break;
      }
      case 4: {
        std::int32_t v;
        std::memcpy(&v, p, 4);
        out[i] = is_signed ? v : static_cast<std::uint32_t>(v);
        break;
      }
      default:
        std::memcpy(&out[i], p, std::min<std::size_t>(size, 8));
        break;
    }
  }
  return out;
}

// ---- dataframe elements -----------------------------------------------------------------------

struct Frame {
  std::string file;
  std::string name;  // "obs" or "var"
  Hid group;
  std::string index_key;
};

Frame open_frame(const std::string& file, hid_t root, const std::string& name) {
  if (!link_exists(root, name)) {
    throw InputError(file, name, "missing (every .h5ad has obs and var dataframes)", kResaveFix);
  }
  if (!is_group(root, name)) throw_legacy(file, name);  // pre-0.7 compound-dataset dataframe
  Frame f{file, name, open_group(root, name), {}};
  const std::string enc = encoding_of(f.group);
  if (enc.empty()) throw_legacy(file, name);
  if (enc != "dataframe") {
    throw InputError(file, name, "encoding-type is '" + enc + "', expected 'dataframe'",
                     kResaveFix);
  }
  auto key = read_attr_string(f.group, "_index");
  if (!key || !link_exists(f.group, *key)) {
    throw InputError(file, name + "/_index",
                     "the dataframe has no '_index' attribute naming its index", kResaveFix);
  }
  f.index_key = *key;
  return f;
}

std::string element_where(const Frame& f, const std::string& col) { return f.name + "/" + col; }

// Number of entries of a 1-D element: a dataset, or a group with codes / values.
std::int64_t element_length(const Frame& f, const std::string& key) {
  std::string ds = key;
  if (is_group(f.group, key)) {
    ds = link_exists(f.group, key + "/codes") ? key + "/codes" : key + "/values";
  }
  if (!is_dataset(f.group, ds)) {
    throw InputError(f.file, element_where(f, key), "has no codes/values dataset", kResaveFix);
  }
  Hid d = open_dataset(f.group, ds);
  const auto dims = dataset_shape(d);
  if (dims.size() != 1) {
    throw InputError(f.file, element_where(f, ds),
                     fmt::format("has shape {}, expected a 1-D array", shape_str(dims)));
  }
  return static_cast<std::int64_t>(dims[0]);
}

std::vector<double> to_doubles(const std::vector<std::int64_t>& v) {
  return std::vector<double>(v.begin(), v.end());
}

NumericColumn read_numeric_dataset(const std::string& file, const std::string& where, hid_t dset,
                                   const RowRange& r = {}) {
  Hid type;
  {
    H5Lock lock;
    type = Hid(H5Dget_type(dset));
  }
  NumericColumn col;
  H5T_class_t cls;
  {
    H5Lock lock;
    cls = H5Tget_class(type);
  }
  if (cls == H5T_ENUM) {
    if (!is_bool_enum(type)) {
      throw InputError(file, where, "is an HDF5 enum other than h5py's bool; not supported");
    }
    col.is_bool = true;
    col.values = to_doubles(read_integers(dset, r));
  } else if (cls == H5T_INTEGER) {
    col.is_integer = true;
    col.values = to_doubles(read_part<std::int64_t>(dset, r));
  } else if (cls == H5T_FLOAT) {
    col.values = read_part<double>(dset, r);
  } else {
    throw InputError(file, where,
                     "has element type '" + dtype_name(type) + "', expected numbers or strings");
  }
  col.dtype = dtype_name(type);  // written back as stored (docs/formats.md "Types kept")
  return col;
}

bool is_string_dataset(hid_t dset) {
  H5Lock lock;
  Hid type(H5Dget_type(dset));
  return H5Tget_class(type) == H5T_STRING;
}

// Strings of a category list or index that may be numeric (pandas allows any category dtype).
std::vector<std::string> read_labels(const std::string& file, const std::string& where,
                                     hid_t dset) {
  if (is_string_dataset(dset)) return read_strings(dset);
  Column numeric = read_numeric_dataset(file, where, dset);
  std::vector<std::string> out(column_size(numeric));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = column_label(numeric, i).value_or("nan");
  return out;
}

// Applies a nullable mask (true = missing) to numeric values.
void apply_mask(const std::string& file, const std::string& where, hid_t group,
                NumericColumn& col, const RowRange& r) {
  Hid mask_ds = open_dataset(group, "mask");
  const auto mask = read_integers(mask_ds, r);
  if (mask.size() != col.values.size()) {
    throw InputError(file, where + "/mask",
                     fmt::format("has {} entries, values has {}", mask.size(), col.values.size()));
  }
  for (std::size_t i = 0; i < mask.size(); ++i) {
    if (mask[i]) col.values[i] = std::numeric_limits<double>::quiet_NaN();
  }
}

void require_children(const std::string& file, const std::string& where, hid_t group,
                      std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (!is_dataset(group, n)) {
      throw InputError(file, where, fmt::format("has no '{}' dataset", n), kResaveFix);
    }
  }
}

Column read_group_element(const std::string& file, const std::string& where, hid_t group,
                          const RowRange& r) {
  const std::string enc = encoding_of(group);
  if (enc == "categorical") {
    require_children(file, where, group, {"codes", "categories"});
    Categorical cat;
    Hid cats = open_dataset(group, "categories");
    cat.categories = read_labels(file, where + "/categories", cats);
    Hid codes_ds = open_dataset(group, "codes");
    const auto codes = read_part<std::int64_t>(codes_ds, r);
    cat.codes.resize(codes.size());
    const auto n_cat = static_cast<std::int64_t>(cat.categories.size());
    for (std::size_t i = 0; i < codes.size(); ++i) {
      if (codes[i] < -1 || codes[i] >= n_cat) {
        throw InputError(file, where + "/codes",
                         fmt::format("code {} at row {} is outside [-1, {})", codes[i],
                                     i + (r.all ? 0 : r.start), n_cat));
      }
      cat.codes[i] = static_cast<std::int32_t>(codes[i]);
    }
    cat.ordered = read_attr_bool(group, "ordered").value_or(false);
    return cat;
  }
  if (enc == "nullable-integer" || enc == "nullable-boolean") {
    require_children(file, where, group, {"values", "mask"});
    Hid values = open_dataset(group, "values");
    NumericColumn col = read_numeric_dataset(file, where + "/values", values, r);
    if (enc == "nullable-boolean") col.is_bool = true;
    apply_mask(file, where, group, col, r);
    return col;
  }
  if (enc == "nullable-string-array") {
    require_children(file, where, group, {"values", "mask"});
    StringColumn col;
    Hid values = open_dataset(group, "values");
    col.values = read_strings_part(values, r);
    Hid mask_ds = open_dataset(group, "mask");
    const auto mask = read_integers(mask_ds, r);
    if (mask.size() != col.values.size()) {
      throw InputError(file, where + "/mask", "length differs from values");
    }
    col.missing.assign(mask.size(), false);
    for (std::size_t i = 0; i < mask.size(); ++i) col.missing[i] = mask[i] != 0;
    return col;
  }
  if (enc.empty()) throw_legacy(file, where);
  throw InputError(file, where,
                   "encoding-type '" + enc +
                       "' is not a supported dataframe column "
                       "(expected categorical, string-array, array, nullable-*)");
}

Column read_dataset_element(const std::string& file, const std::string& where, hid_t dset,
                            const RowRange& r) {
  if (has_attr(dset, "categories")) throw_legacy(file, where);  // 0.7: codes + object reference
  const auto dims = dataset_shape(dset);
  if (dims.size() != 1) {
    throw InputError(file, where,
                     fmt::format("has shape {}, expected a 1-D column", shape_str(dims)));
  }
  if (is_string_dataset(dset)) {
    StringColumn col;
    col.values = read_strings_part(dset, r);
    col.missing.assign(col.values.size(), false);
    return col;
  }
  return read_numeric_dataset(file, where, dset, r);
}

// The element `key` of a frame, all rows or the range `r` (then expected_rows = r.count).
Column read_element(const Frame& f, const std::string& key, std::int64_t expected_rows,
                    const RowRange& r = {}) {
  const std::string where = element_where(f, key);
  return guarded(f.file, where, [&]() -> Column {
    Column col;
    if (is_group(f.group, key)) {
      Hid g = open_group(f.group, key);
      col = read_group_element(f.file, where, g, r);
    } else {
      Hid d = open_dataset(f.group, key);
      col = read_dataset_element(f.file, where, d, r);
    }
    if (expected_rows >= 0 && static_cast<std::int64_t>(column_size(col)) != expected_rows) {
      throw InputError(
          f.file, where,
          fmt::format("has {} rows, the {} index has {}", column_size(col), f.name, expected_rows));
    }
    return col;
  });
}

std::vector<std::string> frame_index(const Frame& f) {
  const Column col = read_element(f, f.index_key, -1);
  std::vector<std::string> out(column_size(col));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = column_label(col, i).value_or("nan");
  return out;
}

std::vector<std::string> frame_columns(const Frame& f) {
  std::vector<std::string> order = read_attr_strings(f.group, "column-order");
  if (!order.empty() || has_attr(f.group, "column-order")) return order;
  for (auto& child : list_children(f.group)) {
    if (child != f.index_key) order.push_back(child);
  }
  return order;
}

bool frame_has_column(const Frame& f, const std::string& name) {
  return !name.empty() && name != f.index_key && link_exists(f.group, name);
}

Column frame_column(const Frame& f, const std::string& name, const RowRange& r = {}) {
  if (!frame_has_column(f, name)) {
    throw InputError(f.file, element_where(f, name),
                     fmt::format("{} column not found; the file's {} columns are: {}", f.name,
                                 f.name, join_or_none(frame_columns(f))),
                     "check the column name (case-sensitive)");
  }
  const std::int64_t n = element_length(f, f.index_key);
  if (!r.all && r.start + r.count > static_cast<hsize_t>(n)) {
    throw std::out_of_range(fmt::format("{}: obs rows [{}, {}) outside [0, {})", f.file, r.start,
                                        r.start + r.count, n));
  }
  return read_element(f, name, r.all ? n : static_cast<std::int64_t>(r.count), r);
}

// ---- matrices ---------------------------------------------------------------------------------

struct Matrix {
  std::string where;  // "X" or "layers/<name>"
  MatrixInfo info;
  Hid dense;                  // kDense
  Hid data, indices, indptr;  // kCsr / kCsc
};

std::string layer_path(const std::string& layer) {
  return layer == "X" ? std::string("X") : "layers/" + layer;
}

Hid open_1d(const std::string& file, const std::string& where, hid_t group, const char* name,
            std::int64_t* length) {
  if (!is_dataset(group, name)) {
    throw InputError(file, where, fmt::format("sparse matrix group has no '{}' dataset", name),
                     kResaveFix);
  }
  Hid d = open_dataset(group, name);
  const auto dims = dataset_shape(d);
  if (dims.size() != 1) {
    throw InputError(file, where + "/" + name,
                     fmt::format("has shape {}, expected 1-D", shape_str(dims)));
  }
  *length = static_cast<std::int64_t>(dims[0]);
  return d;
}

void check_shape(const std::string& file, const std::string& where, std::int64_t rows,
                 std::int64_t cols, std::int64_t n_obs, std::int64_t n_vars) {
  if (rows != n_obs || cols != n_vars) {
    throw InputError(file, where,
                     fmt::format("shape mismatch: the matrix is {} x {} but obs x var is {} x {}",
                                 rows, cols, n_obs, n_vars),
                     "the file is inconsistent; re-create it with anndata");
  }
}

Matrix open_matrix(const std::string& file, hid_t root, const std::string& layer,
                   std::int64_t n_obs, std::int64_t n_vars) {
  Matrix m;
  m.where = layer_path(layer);
  if (!link_exists(root, m.where)) {
    std::vector<std::string> names{"X"};
    if (is_group(root, "layers")) {
      Hid layers = open_group(root, "layers");
      for (auto& n : list_children(layers)) names.push_back(n);
    }
    throw InputError(
        file, m.where,
        fmt::format("layer '{}' not found; the file has: {}", layer, join_or_none(names)),
        "check --data-layer (use X for the main matrix)");
  }
  return guarded(file, m.where, [&]() -> Matrix {
    if (is_dataset(root, m.where)) {
      m.dense = open_dataset(root, m.where);
      const auto dims = dataset_shape(m.dense);
      if (dims.size() != 2) {
        throw InputError(file, m.where,
                         fmt::format("dense matrix has shape {}, expected 2-D", shape_str(dims)));
      }
      Hid type;
      {
        H5Lock lock;
        type = Hid(H5Dget_type(m.dense));
      }
      m.info = {MatrixFormat::kDense, static_cast<std::int64_t>(dims[0]),
                static_cast<std::int64_t>(dims[1]), static_cast<std::int64_t>(dims[0] * dims[1]),
                dtype_name(type)};
      check_shape(file, m.where, m.info.n_rows, m.info.n_cols, n_obs, n_vars);
      return std::move(m);
    }
    Hid g = open_group(root, m.where);
    const std::string enc = encoding_of(g);
    if (enc.empty()) throw_legacy(file, m.where);
    if (enc != "csr_matrix" && enc != "csc_matrix") {
      throw InputError(file, m.where,
                       "encoding-type '" + enc +
                           "' is not a matrix (expected array, csr_matrix "
                           "or csc_matrix)");
    }
    const auto shape = read_attr_ints(g, "shape");
    if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) {
      throw InputError(file, m.where + " (attribute shape)",
                       "missing or not two non-negative integers", kResaveFix);
    }
    std::int64_t n_data = 0, n_indices = 0, n_indptr = 0;
    m.data = open_1d(file, m.where, g, "data", &n_data);
    m.indices = open_1d(file, m.where, g, "indices", &n_indices);
    m.indptr = open_1d(file, m.where, g, "indptr", &n_indptr);
    const bool csr = enc == "csr_matrix";
    const std::int64_t major = csr ? shape[0] : shape[1];
    if (n_indptr != major + 1) {
      throw InputError(file, m.where + "/indptr",
                       fmt::format("shape attribute mismatch: shape is [{}, {}] so indptr should "
                                   "have {} entries, it has {}",
                                   shape[0], shape[1], major + 1, n_indptr));
    }
    if (n_data != n_indices) {
      throw InputError(file, m.where,
                       fmt::format("data has {} entries but indices has {}", n_data, n_indices));
    }
    Hid type;
    {
      H5Lock lock;
      type = Hid(H5Dget_type(m.data));
    }
    m.info = {csr ? MatrixFormat::kCsr : MatrixFormat::kCsc, shape[0], shape[1], n_data,
              dtype_name(type)};
    check_shape(file, m.where, m.info.n_rows, m.info.n_cols, n_obs, n_vars);
    return std::move(m);
  });
}

// Checks a slice of indptr: non-decreasing, within [0, nnz]; `starts_at_zero` for the first row.
void validate_indptr(const std::string& file, const std::string& where,
                     const std::vector<std::int64_t>& ptr, std::int64_t first_index,
                     std::int64_t nnz) {
  for (std::size_t i = 0; i < ptr.size(); ++i) {
    const auto global = first_index + static_cast<std::int64_t>(i);
    if (ptr[i] < 0 || ptr[i] > nnz) {
      throw InputError(
          file, where + "/indptr",
          fmt::format("entry {} = {} is out of range [0, {}] (nnz)", global, ptr[i], nnz),
          "the sparse matrix is corrupt; re-create it with scipy/anndata");
    }
    if (i > 0 && ptr[i] < ptr[i - 1]) {
      throw InputError(file, where + "/indptr",
                       fmt::format("not monotone: entry {} = {} is less than entry {} = {}", global,
                                   ptr[i], global - 1, ptr[i - 1]),
                       "the sparse matrix is corrupt; re-create it with scipy/anndata");
    }
  }
  if (first_index == 0 && !ptr.empty() && ptr[0] != 0) {
    throw InputError(file, where + "/indptr", fmt::format("starts at {}, expected 0", ptr[0]),
                     "the sparse matrix is corrupt; re-create it with scipy/anndata");
  }
}

void validate_minor_indices(const std::string& file, const std::string& where,
                            const std::vector<std::int32_t>& idx, std::int64_t bound,
                            std::int64_t first_entry) {
  for (std::size_t i = 0; i < idx.size(); ++i) {
    if (idx[i] < 0 || idx[i] >= bound) {
      throw InputError(file, where + "/indices",
                       fmt::format("entry {} = {} is out of range [0, {})",
                                   first_entry + static_cast<std::int64_t>(i), idx[i], bound),
                       "the sparse matrix is corrupt; re-create it with scipy/anndata");
    }
  }
}

CsrRows read_csr_rows(const std::string& file, const Matrix& m, std::int64_t row0,
                      std::int64_t row1) {
  CsrRows out;
  out.row0 = row0;
  out.n_cols = m.info.n_cols;
  auto ptr = read_rows<std::int64_t>(m.indptr, static_cast<hsize_t>(row0),
                                     static_cast<hsize_t>(row1 - row0 + 1));
  validate_indptr(file, m.where, ptr, row0, m.info.nnz);
  const std::int64_t lo = ptr.front(), hi = ptr.back();
  out.indices =
      read_rows<std::int32_t>(m.indices, static_cast<hsize_t>(lo), static_cast<hsize_t>(hi - lo));
  validate_minor_indices(file, m.where, out.indices, m.info.n_cols, lo);
  out.data = read_rows<float>(m.data, static_cast<hsize_t>(lo), static_cast<hsize_t>(hi - lo));
  for (auto& p : ptr) p -= lo;
  out.indptr = std::move(ptr);
  return out;
}

// Appends the non-zero entries of a dense row-major block as CSR rows.
void append_dense_as_csr(const std::vector<float>& block, std::int64_t n_rows, std::int64_t n_cols,
                         CsrRows& out) {
  for (std::int64_t r = 0; r < n_rows; ++r) {
    const float* row = block.data() + r * n_cols;
    for (std::int64_t c = 0; c < n_cols; ++c) {
      if (row[c] != 0.0f) {  // NaN is kept: it is a stored value, not a zero
        out.indices.push_back(static_cast<std::int32_t>(c));
        out.data.push_back(row[c]);
      }
    }
    out.indptr.push_back(static_cast<std::int64_t>(out.indices.size()));
  }
}

// Streams the stored entries of a CSC matrix in chunks of at most `chunk` entries; calls
// visit(first_entry, column_of_each_entry, row_indices) per chunk, with `need_data` telling
// whether to also read the values (visit returns the entry span [a, b) whose data it wants).
struct CscStream {
  const std::string& file;
  const Matrix& m;
  std::vector<std::int64_t> col_ptr;

  CscStream(const std::string& f, const Matrix& mat) : file(f), m(mat) {
    col_ptr = read_all<std::int64_t>(m.indptr);
    validate_indptr(file, m.where, col_ptr, 0, m.info.nnz);
  }

  // fn(entry, column, row_index) for entries whose row passes `want(row)`; values read only for
  // the span of wanted entries in each chunk (one hyperslab each).
  template <typename Want, typename Fn>
  void for_each(std::int64_t chunk, Want&& want, Fn&& fn) const {
    const std::int64_t nnz = col_ptr.back();
    std::int64_t col = 0;
    for (std::int64_t e0 = 0; e0 < nnz; e0 += chunk) {
      const std::int64_t e1 = std::min(nnz, e0 + chunk);
      const auto rows = read_rows<std::int32_t>(m.indices, static_cast<hsize_t>(e0),
                                                static_cast<hsize_t>(e1 - e0));
      validate_minor_indices(file, m.where, rows, m.info.n_rows, e0);
      std::int64_t first = -1, last = -1;
      for (std::int64_t e = e0; e < e1; ++e) {
        if (want(rows[e - e0])) {
          if (first < 0) first = e;
          last = e;
        }
      }
      if (first < 0) continue;
      const auto vals = read_rows<float>(m.data, static_cast<hsize_t>(first),
                                         static_cast<hsize_t>(last - first + 1));
      while (col_ptr[col + 1] <= first) ++col;
      for (std::int64_t e = first; e <= last; ++e) {
        while (col_ptr[col + 1] <= e) ++col;
        const std::int32_t r = rows[e - e0];
        if (want(r)) fn(col, r, vals[e - first]);
      }
    }
  }
};

CsrRows read_csc_rows(const std::string& file, const Matrix& m, std::int64_t row0,
                      std::int64_t row1, std::int64_t chunk) {
  const CscStream stream(file, m);
  const std::int64_t n = row1 - row0;
  struct Entry {
    std::int32_t row, col;
    float value;
  };
  std::vector<Entry> entries;
  auto in_range = [&](std::int32_t r) { return r >= row0 && r < row1; };
  stream.for_each(chunk, in_range, [&](std::int64_t col, std::int32_t r, float v) {
    entries.push_back({static_cast<std::int32_t>(r - row0), static_cast<std::int32_t>(col), v});
  });
  // Counting sort by row; entries arrive in column order, so each row's columns ascend.
  CsrRows out;
  out.row0 = row0;
  out.n_cols = m.info.n_cols;
  out.indptr.assign(static_cast<std::size_t>(n + 1), 0);
  for (const auto& e : entries) ++out.indptr[static_cast<std::size_t>(e.row) + 1];
  for (std::int64_t r = 0; r < n; ++r) out.indptr[r + 1] += out.indptr[r];
  out.indices.resize(entries.size());
  out.data.resize(entries.size());
  std::vector<std::int64_t> fill(out.indptr.begin(), out.indptr.end() - 1);
  for (const auto& e : entries) {
    const auto pos = fill[static_cast<std::size_t>(e.row)]++;
    out.indices[pos] = e.col;
    out.data[pos] = e.value;
  }
  return out;
}

}  // namespace

// ---- H5adReader ---------------------------------------------------------------------------------

H5adReader::H5adReader(std::string path) : path_(std::move(path)) {
  file_ = open_file(path_, Access::kRead);
  const auto enc = read_attr_string(file_, "encoding-type");
  if (!enc) throw_legacy(path_, "/ (root attribute encoding-type)");
  if (*enc != "anndata") {
    throw InputError(path_, "/ (root attribute encoding-type)",
                     "is '" + *enc + "', expected 'anndata'", "pass an .h5ad written by anndata");
  }
}

void H5adReader::set_stream_chunk_entries(std::int64_t entries) {
  stream_chunk_entries_ = std::max<std::int64_t>(1, entries);
}

std::int64_t H5adReader::n_obs() const {
  const Frame f = open_frame(path_, file_, "obs");
  return guarded(path_, "obs/" + f.index_key, [&] { return element_length(f, f.index_key); });
}

std::int64_t H5adReader::n_vars() const {
  const Frame f = open_frame(path_, file_, "var");
  return guarded(path_, "var/" + f.index_key, [&] { return element_length(f, f.index_key); });
}

std::vector<std::string> H5adReader::obs_names() const {
  return frame_index(open_frame(path_, file_, "obs"));
}
std::vector<std::string> H5adReader::obs_names(std::int64_t start, std::int64_t end) const {
  const Frame f = open_frame(path_, file_, "obs");
  const std::int64_t n = guarded(path_, "obs/" + f.index_key, [&] { return element_length(f, f.index_key); });
  if (start < 0 || end < start || end > n) {
    throw std::out_of_range(fmt::format("{}: obs names [{}, {}) outside [0, {})", path_, start, end, n));
  }
  // A plain 1-D string index (what anndata writes) is read by range; any other kind whole.
  if (is_dataset(f.group, f.index_key)) {
    Hid d = open_dataset(f.group, f.index_key);
    bool plain = false;
    {
      H5Lock lock;
      Hid type(H5Dget_type(d));
      plain = H5Tget_class(type) == H5T_STRING && dataset_shape(d).size() == 1;
    }
    if (plain) {
      return guarded(path_, "obs/" + f.index_key, [&] {
        return read_strings_range(d, static_cast<hsize_t>(start), static_cast<hsize_t>(end - start));
      });
    }
  }
  auto all = frame_index(f);
  return std::vector<std::string>(all.begin() + start, all.begin() + end);
}
std::vector<std::string> H5adReader::var_names() const {
  return frame_index(open_frame(path_, file_, "var"));
}

bool H5adReader::has_obs_column(const std::string& name) const {
  return frame_has_column(open_frame(path_, file_, "obs"), name);
}
bool H5adReader::has_var_column(const std::string& name) const {
  return frame_has_column(open_frame(path_, file_, "var"), name);
}
std::vector<std::string> H5adReader::obs_column_names() const {
  return frame_columns(open_frame(path_, file_, "obs"));
}
std::vector<std::string> H5adReader::var_column_names() const {
  return frame_columns(open_frame(path_, file_, "var"));
}
Column H5adReader::obs_column(const std::string& name) const {
  return frame_column(open_frame(path_, file_, "obs"), name);
}
Column H5adReader::obs_column(const std::string& name, std::int64_t start, std::int64_t end) const {
  if (start < 0 || end < start) {
    throw std::out_of_range(fmt::format("{}: obs rows [{}, {})", path_, start, end));
  }
  return frame_column(open_frame(path_, file_, "obs"), name,
                      RowRange{false, static_cast<hsize_t>(start), static_cast<hsize_t>(end - start)});
}
Column H5adReader::var_column(const std::string& name) const {
  return frame_column(open_frame(path_, file_, "var"), name);
}

// ---- obsm ---------------------------------------------------------------------------------------

bool H5adReader::has_obsm(const std::string& key) const {
  return !key.empty() && link_exists(file_, "obsm/" + key);
}

std::vector<std::string> H5adReader::obsm_keys() const {
  if (!is_group(file_, "obsm")) return {};
  Hid g = open_group(file_, "obsm");
  return list_children(g);
}

namespace {
// Opens obsm/<key> after checking it is a 2-D dataset with n_obs rows.
Hid open_obsm(const H5adReader& r, const std::string& key, std::int64_t* n_cols) {
  const std::string where = "obsm/" + key;
  if (!r.has_obsm(key)) {
    throw InputError(r.path(), where,
                     fmt::format("obsm key not found; the file's obsm keys are: {}",
                                 join_or_none(r.obsm_keys())),
                     "check --spatial-key / --latent-representation-* (case-sensitive)");
  }
  if (!is_dataset(r.file(), where)) {
    Hid g = open_group(r.file(), where);
    throw InputError(
        r.path(), where,
        fmt::format("is a '{}' group, expected a dense 2-D array (n_obs x d)", encoding_of(g)));
  }
  Hid d = open_dataset(r.file(), where);
  const auto dims = dataset_shape(d);
  if (dims.size() != 2) {
    throw InputError(r.path(), where,
                     fmt::format("has {} dimension(s), shape {}; expected a 2-D array (n_obs x d)",
                                 dims.size(), shape_str(dims)),
                     "store it as a 2-D array, e.g. adata.obsm[key] = x.reshape(-1, 1)");
  }
  const std::int64_t n_obs = r.n_obs();
  if (static_cast<std::int64_t>(dims[0]) != n_obs) {
    throw InputError(r.path(), where, fmt::format("has {} rows but obs has {}", dims[0], n_obs));
  }
  if (n_cols) *n_cols = static_cast<std::int64_t>(dims[1]);
  return d;
}
}  // namespace

std::vector<double> H5adReader::obsm(const std::string& key, std::int64_t* n_cols) const {
  Hid d = open_obsm(*this, key, n_cols);
  return guarded(path_, "obsm/" + key, [&] { return read_all<double>(d); });
}

std::vector<double> H5adReader::obsm_rows(const std::string& key,
                                          std::span<const std::int64_t> rows,
                                          std::int64_t* n_cols) const {
  std::int64_t cols = 0;
  Hid d = open_obsm(*this, key, &cols);
  if (n_cols) *n_cols = cols;
  const std::int64_t n_obs = this->n_obs();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= n_obs || (i > 0 && rows[i] <= rows[i - 1])) {
      throw std::out_of_range(fmt::format("{}: obsm/{}: rows must be ascending in [0, {})", path_,
                                          key, n_obs));
    }
  }
  return guarded(path_, "obsm/" + key, [&] {
    constexpr std::int64_t kGap = 64, kMaxSpan = std::int64_t{1} << 14;
    const auto c = static_cast<std::size_t>(cols);
    std::vector<double> out(rows.size() * c);
    std::size_t i = 0;
    while (i < rows.size()) {
      std::size_t j = i + 1;
      while (j < rows.size() && rows[j] - rows[j - 1] <= kGap && rows[j] - rows[i] < kMaxSpan) ++j;
      const std::int64_t r0 = rows[i];
      const auto block = io::read_rows<double>(d, static_cast<hsize_t>(r0),
                                               static_cast<hsize_t>(rows[j - 1] - r0 + 1));
      for (std::size_t k = i; k < j; ++k) {
        std::copy_n(block.data() + static_cast<std::size_t>(rows[k] - r0) * c, c,
                    out.data() + k * c);
      }
      i = j;
    }
    return out;
  });
}

std::vector<float> H5adReader::obsm_f32(const std::string& key, std::int64_t* n_cols) const {
  Hid d = open_obsm(*this, key, n_cols);
  return guarded(path_, "obsm/" + key, [&] { return read_all<float>(d); });
}

std::string H5adReader::obsm_dtype(const std::string& key) const {
  Hid d = open_obsm(*this, key, nullptr);
  H5Lock lock;
  Hid type(H5Dget_type(d));
  return dtype_name(type);
}

// ---- matrices -----------------------------------------------------------------------------------

bool H5adReader::has_layer(const std::string& layer) const {
  return !layer.empty() && link_exists(file_, layer_path(layer));
}

std::vector<std::string> H5adReader::layer_names() const {
  if (!is_group(file_, "layers")) return {};
  Hid g = open_group(file_, "layers");
  return list_children(g);
}

MatrixInfo H5adReader::matrix_info(const std::string& layer) const {
  return open_matrix(path_, file_, layer, n_obs(), n_vars()).info;
}

CsrRows H5adReader::read_rows(const std::string& layer, std::int64_t row0,
                              std::int64_t row1) const {
  const Matrix m = open_matrix(path_, file_, layer, n_obs(), n_vars());
  if (row0 < 0 || row1 < row0 || row1 > m.info.n_rows) {
    throw std::out_of_range(fmt::format("{}: {}: row range [{}, {}) outside [0, {})", path_,
                                        m.where, row0, row1, m.info.n_rows));
  }
  return guarded(path_, m.where, [&]() -> CsrRows {
    switch (m.info.format) {
      case MatrixFormat::kCsr:
        return read_csr_rows(path_, m, row0, row1);
      case MatrixFormat::kCsc:
        return read_csc_rows(path_, m, row0, row1, stream_chunk_entries_);
      case MatrixFormat::kDense:
        break;
    }
    CsrRows out;
    out.row0 = row0;
    out.n_cols = m.info.n_cols;
    out.indptr.push_back(0);
    const auto block = io::read_rows<float>(m.dense, static_cast<hsize_t>(row0),
                                            static_cast<hsize_t>(row1 - row0));
    append_dense_as_csr(block, row1 - row0, m.info.n_cols, out);
    return out;
  });
}

std::vector<float> H5adReader::read_rows_dense(const std::string& layer, std::int64_t row0,
                                               std::int64_t row1) const {
  const Matrix m = open_matrix(path_, file_, layer, n_obs(), n_vars());
  if (m.info.format == MatrixFormat::kDense) {
    if (row0 < 0 || row1 < row0 || row1 > m.info.n_rows) {
      throw std::out_of_range(fmt::format("{}: {}: row range [{}, {}) outside [0, {})", path_,
                                          m.where, row0, row1, m.info.n_rows));
    }
    return guarded(path_, m.where, [&] {
      return io::read_rows<float>(m.dense, static_cast<hsize_t>(row0),
                                  static_cast<hsize_t>(row1 - row0));
    });
  }
  const CsrRows rows = read_rows(layer, row0, row1);
  const auto n_cols = static_cast<std::size_t>(rows.n_cols);
  std::vector<float> dense(static_cast<std::size_t>(rows.n_rows()) * n_cols, 0.0f);
  for (std::int64_t r = 0; r < rows.n_rows(); ++r) {
    for (auto e = rows.indptr[r]; e < rows.indptr[r + 1]; ++e) {
      dense[static_cast<std::size_t>(r) * n_cols + static_cast<std::size_t>(rows.indices[e])] +=
          rows.data[e];  // scipy sums duplicate entries when densifying
    }
  }
  return dense;
}

namespace {

// Stored entries > 0 per row, each count capped at `cap`, as T (docs/algorithms.md §3.8): CSR from
// indptr read in blocks, CSC streamed, dense in blocks of rows. Memory beyond the result stays
// bounded by `chunk_entries`.
template <class T>
std::vector<T> detected_per_row(const std::string& path, const Matrix& m,
                                std::int64_t chunk_entries, std::int64_t cap) {
  const auto capped = [cap](std::int64_t c) { return static_cast<T>(std::min(c, cap)); };
  std::vector<T> counts(static_cast<std::size_t>(m.info.n_rows), 0);
  if (m.info.format == MatrixFormat::kCsr) {
    const std::int64_t block_rows = std::max<std::int64_t>(1, chunk_entries / 8);
    for (std::int64_t r0 = 0; r0 < m.info.n_rows; r0 += block_rows) {
      const std::int64_t r1 = std::min(m.info.n_rows, r0 + block_rows);
      const auto ptr = io::read_rows<std::int64_t>(m.indptr, static_cast<hsize_t>(r0),
                                                   static_cast<hsize_t>(r1 - r0 + 1));
      validate_indptr(path, m.where, ptr, r0, m.info.nnz);
      for (std::int64_t r = r0; r < r1; ++r)
        counts[static_cast<std::size_t>(r)] = capped(ptr[r - r0 + 1] - ptr[r - r0]);
    }
  } else if (m.info.format == MatrixFormat::kCsc) {
    const CscStream stream(path, m);
    stream.for_each(
        chunk_entries, [](std::int32_t) { return true; },
        [&](std::int64_t, std::int32_t r, float v) {
          auto& c = counts[static_cast<std::size_t>(r)];
          if (v > 0.0f && static_cast<std::int64_t>(c) < cap) ++c;
        });
  } else {
    const std::int64_t n_cols = std::max<std::int64_t>(1, m.info.n_cols);
    const std::int64_t block_rows = std::max<std::int64_t>(1, chunk_entries / n_cols);
    for (std::int64_t r0 = 0; r0 < m.info.n_rows; r0 += block_rows) {
      const std::int64_t r1 = std::min(m.info.n_rows, r0 + block_rows);
      const auto block =
          io::read_rows<float>(m.dense, static_cast<hsize_t>(r0), static_cast<hsize_t>(r1 - r0));
      for (std::int64_t r = r0; r < r1; ++r) {
        const float* row = block.data() + (r - r0) * m.info.n_cols;
        counts[static_cast<std::size_t>(r)] =
            capped(std::count_if(row, row + m.info.n_cols, [](float v) { return v > 0.0f; }));
      }
    }
  }
  return counts;
}

}  // namespace

std::vector<std::int64_t> H5adReader::row_detected_counts(const std::string& layer) const {
  const Matrix m = open_matrix(path_, file_, layer, n_obs(), n_vars());
  return guarded(path_, m.where, [&] {
    return detected_per_row<std::int64_t>(path_, m, stream_chunk_entries_,
                                          std::numeric_limits<std::int64_t>::max());
  });
}

std::vector<std::uint8_t> H5adReader::row_detected_capped(const std::string& layer,
                                                         std::uint8_t cap) const {
  const Matrix m = open_matrix(path_, file_, layer, n_obs(), n_vars());
  return guarded(path_, m.where,
                 [&] { return detected_per_row<std::uint8_t>(path_, m, stream_chunk_entries_, cap); });
}

}  // namespace gsmap::io
