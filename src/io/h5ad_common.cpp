// Helpers shared by the h5ad reader and writers: HDF5 types as h5py/anndata write them, attribute
// writers, dataframe encoding, and the column utilities of the public header.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "gsmap/io/atomic_file.hpp"
#include "h5ad_internal.hpp"

namespace gsmap::io {

// ---- public column utilities ----------------------------------------------------------------

namespace {
// Python's str() of a float: shortest round-trip digits, "2.0" rather than "2".
std::string python_float_str(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

std::size_t column_size(const Column& c) {
  return std::visit(
      [](const auto& col) -> std::size_t {
        using T = std::decay_t<decltype(col)>;
        if constexpr (std::is_same_v<T, Categorical>)
          return col.codes.size();
        else
          return col.values.size();
      },
      c);
}

std::optional<std::string> column_label(const Column& c, std::size_t i) {
  if (const auto* cat = std::get_if<Categorical>(&c)) {
    const std::int32_t code = cat->codes.at(i);
    if (code < 0) return std::nullopt;
    return cat->categories.at(static_cast<std::size_t>(code));
  }
  if (const auto* num = std::get_if<NumericColumn>(&c)) {
    const double v = num->values.at(i);
    if (std::isnan(v)) return std::nullopt;
    if (num->is_bool) return v != 0.0 ? std::string("True") : std::string("False");
    if (num->is_integer) return fmt::format("{}", static_cast<std::int64_t>(v));
    return python_float_str(v);
  }
  const auto& str = std::get<StringColumn>(c);
  if (i < str.missing.size() && str.missing[i]) return std::nullopt;
  return str.values.at(i);
}

Column slice_rows(const Column& c, std::int64_t a, std::int64_t b) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(std::max<std::int64_t>(b - a, 0)));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = a + static_cast<std::int64_t>(i);
  return take_rows(c, rows);
}

Column take_rows(const Column& c, const std::vector<std::int64_t>& rows) {
  return std::visit(
      [&](const auto& col) -> Column {
        using T = std::decay_t<decltype(col)>;
        T out;
        if constexpr (std::is_same_v<T, Categorical>) {
          out.categories = col.categories;
          out.ordered = col.ordered;
          out.codes.reserve(rows.size());
          for (auto r : rows) out.codes.push_back(col.codes.at(static_cast<std::size_t>(r)));
        } else if constexpr (std::is_same_v<T, NumericColumn>) {
          out.is_bool = col.is_bool;
          out.is_integer = col.is_integer;
          out.dtype = col.dtype;
          out.values.reserve(rows.size());
          for (auto r : rows) out.values.push_back(col.values.at(static_cast<std::size_t>(r)));
        } else {
          out.values.reserve(rows.size());
          for (auto r : rows) out.values.push_back(col.values.at(static_cast<std::size_t>(r)));
          if (!col.missing.empty()) {
            for (auto r : rows) out.missing.push_back(col.missing.at(static_cast<std::size_t>(r)));
          }
        }
        return out;
      },
      c);
}

namespace {
// Strings as an unordered categorical, categories in order of first appearance.
Categorical categorical_of(const StringColumn& s) {
  Categorical cat;
  std::unordered_map<std::string, std::int32_t> code;
  cat.codes.reserve(s.values.size());
  for (std::size_t i = 0; i < s.values.size(); ++i) {
    if (i < s.missing.size() && s.missing[i]) {
      cat.codes.push_back(-1);
      continue;
    }
    const auto [it, inserted] =
        code.try_emplace(s.values[i], static_cast<std::int32_t>(cat.categories.size()));
    if (inserted) cat.categories.push_back(s.values[i]);
    cat.codes.push_back(it->second);
  }
  return cat;
}
}  // namespace

void append_column(Column& whole, const Column& part) {
  // Labels stored as a categorical in one part and as strings in the other join as a categorical.
  if (std::holds_alternative<StringColumn>(whole) && std::holds_alternative<Categorical>(part)) {
    whole = categorical_of(std::get<StringColumn>(whole));
  }
  if (std::holds_alternative<Categorical>(whole) && std::holds_alternative<StringColumn>(part)) {
    Categorical cat = categorical_of(std::get<StringColumn>(part));
    auto& w = std::get<Categorical>(whole);
    w.ordered = false;
    append_column(whole, cat);
    return;
  }
  if (whole.index() != part.index()) {
    throw std::invalid_argument("the parts are of different kinds (categorical, number, string)");
  }
  if (auto* cat = std::get_if<Categorical>(&whole)) {
    const auto& pc = std::get<Categorical>(part);
    if (cat->categories == pc.categories) {
      cat->ordered = cat->ordered && pc.ordered;
      cat->codes.insert(cat->codes.end(), pc.codes.begin(), pc.codes.end());
      return;
    }
    std::unordered_map<std::string, std::int32_t> position;
    for (std::size_t k = 0; k < cat->categories.size(); ++k) {
      position.emplace(cat->categories[k], static_cast<std::int32_t>(k));
    }
    std::vector<std::int32_t> remap(pc.categories.size());
    for (std::size_t k = 0; k < pc.categories.size(); ++k) {
      auto [it, inserted] =
          position.emplace(pc.categories[k], static_cast<std::int32_t>(cat->categories.size()));
      if (inserted) cat->categories.push_back(pc.categories[k]);
      remap[k] = it->second;
    }
    // A merged list has no order both parts agree on (a part with no rows changes nothing).
    if (!pc.codes.empty() && !cat->codes.empty()) cat->ordered = false;
    for (auto code : pc.codes) cat->codes.push_back(code < 0 ? -1 : remap.at(code));
  } else if (auto* num = std::get_if<NumericColumn>(&whole)) {
    const auto& pn = std::get<NumericColumn>(part);
    if (num->is_bool != pn.is_bool) {
      throw std::invalid_argument("booleans and numbers cannot be joined in one column");
    }
    if (num->is_integer != pn.is_integer) {  // int + float -> float (as pandas)
      num->is_integer = false;
      num->dtype = "float64";
    } else if (num->dtype != pn.dtype) {
      num->dtype = num->is_bool ? "bool" : num->is_integer ? "int64" : "float64";
    }
    num->values.insert(num->values.end(), pn.values.begin(), pn.values.end());
  } else {
    auto& s = std::get<StringColumn>(whole);
    const auto& ps = std::get<StringColumn>(part);
    s.missing.resize(s.values.size(), false);
    s.values.insert(s.values.end(), ps.values.begin(), ps.values.end());
    for (std::size_t i = 0; i < ps.values.size(); ++i) {
      s.missing.push_back(i < ps.missing.size() && ps.missing[i]);
    }
  }
}

}  // namespace gsmap::io

namespace gsmap::io::h5ad_detail {

std::string with_hdf5_detail(const std::string& what) {
  const int err = errno;  // first: the calls below may change it
  std::string detail = hdf5_error_detail();
  const std::string reason = os_io_reason(err);
  if (!reason.empty() && detail.find(reason) == std::string::npos) {
    detail += (detail.empty() ? "" : "; ") + reason;
  }
  return detail.empty() ? what : what + " (" + detail + ")";
}

// ---- types ----------------------------------------------------------------------------------

Hid bool_enum_type() {
  H5Lock lock;
  Hid t(H5Tenum_create(H5T_STD_I8LE));
  const std::int8_t no = 0, yes = 1;
  H5Tenum_insert(t, "FALSE", &no);
  H5Tenum_insert(t, "TRUE", &yes);
  return t;
}

Hid f16_file_type() {
  H5Lock lock;
  // The layout h5py uses for numpy float16: sign bit 15, exponent bits 10-14 (bias 15), mantissa
  // bits 0-9.
  Hid t(H5Tcopy(H5T_IEEE_F32LE));
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  H5Tset_precision(t, 16);
  return t;
}

Hid vl_utf8_type() {
  H5Lock lock;
  Hid t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

bool is_bool_enum(hid_t type) {
  H5Lock lock;
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_nmembers(type) != 2) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    const bool ok = name && (std::strcmp(name, "FALSE") == 0 || std::strcmp(name, "TRUE") == 0);
    H5free_memory(name);
    if (!ok) return false;
  }
  return true;
}

std::string dtype_name(hid_t type) {
  H5Lock lock;
  const std::size_t bits = 8 * H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return fmt::format("float{}", bits);
    case H5T_INTEGER:
      return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
    case H5T_ENUM:
      return is_bool_enum(type) ? "bool" : "enum";
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    default:
      return "unknown";
  }
}

// ---- attributes -----------------------------------------------------------------------------

namespace {
void delete_attr_if_present(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
}

void write_attr(hid_t obj, const std::string& name, hid_t type, hid_t space, const void* data) {
  H5Lock lock;
  delete_attr_if_present(obj, name);
  Hid attr(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid() || H5Awrite(attr, type, data) < 0) {
    throw std::runtime_error(with_hdf5_detail("cannot write HDF5 attribute " + name));
  }
}
}  // namespace

void write_attr_string(hid_t obj, const std::string& name, const std::string& value) {
  H5Lock lock;
  Hid type = vl_utf8_type();
  Hid space(H5Screate(H5S_SCALAR));
  const char* p = value.c_str();
  write_attr(obj, name, type, space, &p);
}

void write_attr_strings(hid_t obj, const std::string& name,
                        const std::vector<std::string>& values) {
  H5Lock lock;
  Hid type = vl_utf8_type();
  hsize_t n = values.size();
  Hid space(H5Screate_simple(1, &n, nullptr));
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  write_attr(obj, name, type, space, ptrs.data());
}

void write_attr_int64s(hid_t obj, const std::string& name, const std::vector<std::int64_t>& values,
                       bool scalar) {
  H5Lock lock;
  hsize_t n = values.size();
  Hid space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
  if (scalar && values.size() != 1) throw std::invalid_argument("scalar attribute needs 1 value");
  write_attr(obj, name, H5T_STD_I64LE, space, values.data());
}

void write_attr_bool(hid_t obj, const std::string& name, bool value) {
  H5Lock lock;
  Hid type = bool_enum_type();
  Hid space(H5Screate(H5S_SCALAR));
  const std::int8_t v = value ? 1 : 0;
  write_attr(obj, name, type, space, &v);
}

void write_attr_empty_f64(hid_t obj, const std::string& name) {
  H5Lock lock;
  hsize_t n = 0;
  Hid space(H5Screate_simple(1, &n, nullptr));
  const double dummy = 0;
  write_attr(obj, name, H5T_IEEE_F64LE, space, &dummy);
}

std::optional<bool> read_attr_bool(hid_t obj, const std::string& name) {
  H5Lock lock;
  if (H5Aexists(obj, name.c_str()) <= 0) return std::nullopt;
  Hid attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  Hid ftype(H5Aget_type(attr));
  Hid space(H5Aget_space(attr));
  if (H5Sget_simple_extent_npoints(space) != 1) return std::nullopt;
  if (H5Tget_class(ftype) == H5T_ENUM) {
    // HDF5 converts enums only to enums: read the raw base integer through the native enum.
    Hid mtype(H5Tget_native_type(ftype, H5T_DIR_ASCEND));
    std::int64_t raw = 0;  // zero-filled and large enough for any enum base
    if (H5Tget_size(mtype) > sizeof raw || H5Aread(attr, mtype, &raw) < 0) return std::nullopt;
    return raw != 0;
  }
  double v = 0;
  if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) return std::nullopt;
  return v != 0.0;
}

void set_encoding(hid_t obj, const std::string& type, const std::string& version) {
  write_attr_string(obj, "encoding-type", type);
  write_attr_string(obj, "encoding-version", version);
}

// ---- objects --------------------------------------------------------------------------------

Hid create_group(hid_t loc, const std::string& name) {
  Hid gcpl = group_create_plist();
  H5Lock lock;
  Hid g(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT));
  if (!g.valid()) throw std::runtime_error(with_hdf5_detail("cannot create HDF5 group " + name));
  return g;
}

Hid create_dataset(hid_t loc, const std::string& name, hid_t file_type,
                   const std::vector<hsize_t>& dims) {
  Hid dcpl = dataset_create_plist();
  H5Lock lock;
  // Skipping the fill saves a pass over big numeric datasets; HDF5 refuses it for VL strings.
  if (H5Tis_variable_str(file_type) <= 0) H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  Hid space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Hid d(H5Dcreate2(loc, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  if (!d.valid()) throw std::runtime_error(with_hdf5_detail("cannot create HDF5 dataset " + name));
  return d;
}

void write_dataset(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                   const std::vector<hsize_t>& dims, const void* data, bool array_encoding) {
  H5Lock lock;
  Hid d = create_dataset(loc, name, file_type, dims);
  hsize_t total = 1;
  for (auto x : dims) total *= x;
  errno = 0;
  if (total > 0 && H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    throw std::runtime_error(with_hdf5_detail("cannot write HDF5 dataset " + name));
  }
  if (array_encoding) set_encoding(d, "array", "0.2.0");
}

void write_string_array(hid_t loc, const std::string& name,
                        const std::vector<std::string>& values) {
  H5Lock lock;
  Hid type = vl_utf8_type();
  Hid d = create_dataset(loc, name, type, {values.size()});
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  errno = 0;
  if (!values.empty() && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0) {
    throw std::runtime_error(with_hdf5_detail("cannot write HDF5 string dataset " + name));
  }
  set_encoding(d, "string-array", "0.2.0");
}

void write_empty_dict(hid_t loc, const std::string& name) {
  Hid g = create_group(loc, name);
  set_encoding(g, "dict", "0.1.0");
}

namespace {

bool any_nan(const std::vector<double>& v) {
  for (double x : v) {
    if (std::isnan(x)) return true;
  }
  return false;
}

// Codes in the smallest signed type pandas would choose for this many categories.
void write_codes(hid_t loc, const std::vector<std::int32_t>& codes, std::size_t n_categories) {
  const std::vector<hsize_t> dims{codes.size()};
  if (n_categories < 127) {
    std::vector<std::int8_t> narrow(codes.begin(), codes.end());
    write_dataset(loc, "codes", H5T_STD_I8LE, H5T_NATIVE_INT8, dims, narrow.data());
  } else if (n_categories < 32767) {
    std::vector<std::int16_t> narrow(codes.begin(), codes.end());
    write_dataset(loc, "codes", H5T_STD_I16LE, H5T_NATIVE_INT16, dims, narrow.data());
  } else {
    write_dataset(loc, "codes", H5T_STD_I32LE, H5T_NATIVE_INT32, dims, codes.data());
  }
}

void write_categorical(hid_t loc, const std::string& name, const Categorical& cat) {
  Hid g = create_group(loc, name);
  set_encoding(g, "categorical", "0.2.0");
  write_attr_bool(g, "ordered", cat.ordered);
  write_string_array(g, "categories", cat.categories);
  write_codes(g, cat.codes, cat.categories.size());
}

std::vector<std::int8_t> bools_of(const std::vector<double>& values) {
  std::vector<std::int8_t> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    out[i] = !std::isnan(values[i]) && values[i] != 0.0 ? 1 : 0;
  }
  return out;
}

std::vector<std::int8_t> nan_mask(const std::vector<double>& values) {
  std::vector<std::int8_t> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = std::isnan(values[i]) ? 1 : 0;
  return out;
}

// The file type of a numeric column: its stored dtype, else int64 / float64 (bools: h5py's enum).
Hid numeric_file_type(const NumericColumn& col) {
  static const std::pair<const char*, hid_t> kTypes[] = {
      {"int8", H5T_STD_I8LE},    {"int16", H5T_STD_I16LE},  {"int32", H5T_STD_I32LE},
      {"int64", H5T_STD_I64LE},  {"uint8", H5T_STD_U8LE},   {"uint16", H5T_STD_U16LE},
      {"uint32", H5T_STD_U32LE}, {"uint64", H5T_STD_U64LE}, {"float32", H5T_IEEE_F32LE},
      {"float64", H5T_IEEE_F64LE}};
  if (col.is_bool) return bool_enum_type();
  if (!col.is_integer && col.dtype == "float16") return f16_file_type();
  hid_t type = col.is_integer ? H5T_STD_I64LE : H5T_IEEE_F64LE;
  for (const auto& [name, t] : kTypes) {
    // An integer dtype only for integer columns, a float dtype only for floats.
    if (col.dtype == name && (col.dtype[0] == 'f') != col.is_integer) type = t;
  }
  H5Lock lock;
  return Hid(H5Tcopy(type));
}

void write_numeric(hid_t loc, const std::string& name, const NumericColumn& col) {
  const std::vector<hsize_t> dims{col.values.size()};
  const bool nullable = any_nan(col.values) && (col.is_bool || col.is_integer);
  Hid bool_type = bool_enum_type();
  Hid file_type = numeric_file_type(col);
  auto write_values = [&](hid_t where, const std::string& key) {
    if (col.is_bool) {
      const auto b = bools_of(col.values);
      write_dataset(where, key, bool_type, bool_type, dims, b.data());
    } else if (col.is_integer) {
      // HDF5 narrows int64 to the stored width exactly (the values came from that width).
      std::vector<std::int64_t> ints(col.values.size());
      for (std::size_t i = 0; i < ints.size(); ++i) {
        ints[i] = std::isnan(col.values[i]) ? 0 : static_cast<std::int64_t>(col.values[i]);
      }
      write_dataset(where, key, file_type, H5T_NATIVE_INT64, dims, ints.data());
    } else {
      write_dataset(where, key, file_type, H5T_NATIVE_DOUBLE, dims, col.values.data());
    }
  };
  if (!nullable) {
    write_values(loc, name);
    return;
  }
  // pandas Int64 / boolean with missing values: anndata's nullable encodings (values + mask).
  Hid g = create_group(loc, name);
  set_encoding(g, col.is_bool ? "nullable-boolean" : "nullable-integer", "0.1.0");
  write_values(g, "values");
  const auto mask = nan_mask(col.values);
  write_dataset(g, "mask", bool_type, bool_type, dims, mask.data());
}

void write_strings(hid_t loc, const std::string& name, const StringColumn& col) {
  bool has_missing = false;
  for (std::size_t i = 0; i < col.missing.size(); ++i) has_missing |= col.missing[i];
  if (!has_missing) {
    write_string_array(loc, name, col.values);
    return;
  }
  // anndata 0.8 cannot store missing strings in a string-array; it writes such an object column
  // as a categorical with code -1. Categories sorted, as pandas does.
  std::vector<std::string> cats;
  for (std::size_t i = 0; i < col.values.size(); ++i) {
    if (!col.missing[i]) cats.push_back(col.values[i]);
  }
  std::sort(cats.begin(), cats.end());
  cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
  Categorical cat;
  cat.categories = cats;
  cat.codes.resize(col.values.size());
  for (std::size_t i = 0; i < col.values.size(); ++i) {
    cat.codes[i] =
        col.missing[i]
            ? -1
            : static_cast<std::int32_t>(std::lower_bound(cats.begin(), cats.end(), col.values[i]) -
                                        cats.begin());
  }
  write_categorical(loc, name, cat);
}

}  // namespace

void check_dataframe(const DataFrame& df, const std::string& what) {
  for (const auto& [name, col] : df.columns) {
    if (column_size(col) != df.index.size()) {
      throw std::invalid_argument(fmt::format("{} column '{}' has {} rows, the index has {}", what,
                                              name, column_size(col), df.index.size()));
    }
    if (name == "_index" || name == df.index_name) {
      throw std::invalid_argument(what + " column may not be named '" + name +
                                  "' (the index's key)");
    }
    if (const auto* s = std::get_if<StringColumn>(&col)) {
      if (!s->missing.empty() && s->missing.size() != s->values.size()) {
        throw std::invalid_argument(what + " column '" + name + "': missing mask has wrong size");
      }
    }
    if (const auto* c = std::get_if<Categorical>(&col)) {
      for (auto code : c->codes) {
        if (code < -1 || code >= static_cast<std::int64_t>(c->categories.size())) {
          throw std::invalid_argument(what + " column '" + name + "': code out of range");
        }
      }
    }
  }
}

void write_dataframe(hid_t loc, const std::string& name, const DataFrame& df) {
  check_dataframe(df, name);
  Hid g = create_group(loc, name);
  set_encoding(g, "dataframe", "0.2.0");
  if (df.index_name.empty()) throw std::invalid_argument(name + ": empty index name");
  write_attr_string(g, "_index", df.index_name);
  std::vector<std::string> order;
  for (const auto& c : df.columns) order.push_back(c.first);
  if (order.empty())
    write_attr_empty_f64(g, "column-order");
  else
    write_attr_strings(g, "column-order", order);
  write_string_array(g, df.index_name, df.index);
  for (const auto& [col_name, col] : df.columns) {
    if (const auto* cat = std::get_if<Categorical>(&col))
      write_categorical(g, col_name, *cat);
    else if (const auto* num = std::get_if<NumericColumn>(&col))
      write_numeric(g, col_name, *num);
    else
      write_strings(g, col_name, std::get<StringColumn>(col));
  }
}

// ---- dataframe serialisation ----------------------------------------------------------------

namespace {

class ByteWriter {
 public:
  template <typename T>
  void pod(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    buf_.insert(buf_.end(), p, p + sizeof(T));
  }
  void str(const std::string& s) {
    pod<std::uint64_t>(s.size());
    buf_.insert(buf_.end(), s.begin(), s.end());
  }
  void strs(const std::vector<std::string>& v) {
    pod<std::uint64_t>(v.size());
    for (const auto& s : v) str(s);
  }
  template <typename T>
  void vec(const std::vector<T>& v) {
    pod<std::uint64_t>(v.size());
    const auto* p = reinterpret_cast<const char*>(v.data());
    buf_.insert(buf_.end(), p, p + v.size() * sizeof(T));
  }
  std::vector<char> take() { return std::move(buf_); }

 private:
  std::vector<char> buf_;
};

class ByteReader {
 public:
  ByteReader(const char* data, std::size_t size) : p_(data), end_(data + size) {}
  template <typename T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  std::string str() {
    const auto n = pod<std::uint64_t>();
    need(n);
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(pod<std::uint64_t>());
    for (auto& s : v) s = str();
    return v;
  }
  template <typename T>
  std::vector<T> vec() {
    const auto n = pod<std::uint64_t>();
    need(n * sizeof(T));
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), p_, n * sizeof(T));
    p_ += n * sizeof(T);
    return v;
  }

 private:
  void need(std::size_t n) const {
    if (static_cast<std::size_t>(end_ - p_) < n) throw std::runtime_error("truncated dataframe");
  }
  const char* p_;
  const char* end_;
};

enum class Kind : std::uint8_t { kCategorical = 0, kNumeric = 1, kString = 2 };

}  // namespace

std::vector<char> serialize_dataframe(const DataFrame& df) {
  ByteWriter w;
  w.str(df.index_name);
  w.strs(df.index);
  w.pod<std::uint64_t>(df.columns.size());
  for (const auto& [name, col] : df.columns) {
    w.str(name);
    if (const auto* cat = std::get_if<Categorical>(&col)) {
      w.pod(Kind::kCategorical);
      w.strs(cat->categories);
      w.vec(cat->codes);
      w.pod<std::uint8_t>(cat->ordered);
    } else if (const auto* num = std::get_if<NumericColumn>(&col)) {
      w.pod(Kind::kNumeric);
      w.vec(num->values);
      w.pod<std::uint8_t>(num->is_bool);
      w.pod<std::uint8_t>(num->is_integer);
      w.str(num->dtype);
    } else {
      const auto& s = std::get<StringColumn>(col);
      w.pod(Kind::kString);
      w.strs(s.values);
      std::vector<std::uint8_t> missing(s.values.size(), 0);
      for (std::size_t i = 0; i < s.missing.size() && i < missing.size(); ++i) {
        missing[i] = s.missing[i];
      }
      w.vec(missing);
    }
  }
  return w.take();
}

DataFrame deserialize_dataframe(const char* data, std::size_t size) {
  ByteReader r(data, size);
  DataFrame df;
  df.index_name = r.str();
  df.index = r.strs();
  const auto n_cols = r.pod<std::uint64_t>();
  for (std::uint64_t c = 0; c < n_cols; ++c) {
    std::string name = r.str();
    const auto kind = r.pod<Kind>();
    if (kind == Kind::kCategorical) {
      Categorical cat;
      cat.categories = r.strs();
      cat.codes = r.vec<std::int32_t>();
      cat.ordered = r.pod<std::uint8_t>() != 0;
      df.columns.emplace_back(std::move(name), std::move(cat));
    } else if (kind == Kind::kNumeric) {
      NumericColumn num;
      num.values = r.vec<double>();
      num.is_bool = r.pod<std::uint8_t>() != 0;
      num.is_integer = r.pod<std::uint8_t>() != 0;
      num.dtype = r.str();
      df.columns.emplace_back(std::move(name), std::move(num));
    } else {
      StringColumn s;
      s.values = r.strs();
      const auto missing = r.vec<std::uint8_t>();
      s.missing.assign(missing.begin(), missing.end());
      df.columns.emplace_back(std::move(name), std::move(s));
    }
  }
  return df;
}

void append_rows(DataFrame& whole, const DataFrame& part) {
  if (part.index.empty() && part.columns.empty()) return;
  if (whole.index.empty() && whole.columns.empty()) {
    whole = part;
    return;
  }
  if (whole.index_name != part.index_name) {
    throw std::invalid_argument(fmt::format("obs parts differ in their index name ('{}' vs '{}')",
                                            whole.index_name, part.index_name));
  }
  if (whole.columns.size() != part.columns.size()) {
    throw std::invalid_argument(
        fmt::format("obs parts differ in their number of columns ({} vs {})", whole.columns.size(),
                    part.columns.size()));
  }
  whole.index.insert(whole.index.end(), part.index.begin(), part.index.end());
  for (std::size_t c = 0; c < part.columns.size(); ++c) {
    auto& [name, col] = whole.columns[c];
    const auto& [part_name, part_col] = part.columns[c];
    if (name != part_name || col.index() != part_col.index()) {
      throw std::invalid_argument("obs parts differ in column " + std::to_string(c) + " ('" + name +
                                  "' vs '" + part_name + "')");
    }
    append_column(col, part_col);
  }
}

}  // namespace gsmap::io::h5ad_detail
