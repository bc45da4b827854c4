#include "gsmap/io/hdf5.hpp"

#include <filesystem>
#include <stdexcept>
#include <type_traits>

#include "gsmap/core/error.hpp"

namespace gsmap::io {

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex m;
  return m;
}

void Hid::reset() {
  if (id_ < 0) return;
  H5Lock lock;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = H5I_INVALID_HID;
}

void quiet_hdf5_errors() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5Lock lock;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

Hid open_file(const std::string& path, Access access, std::optional<MPI_Comm> comm) {
  quiet_hdf5_errors();
  H5Lock lock;
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (comm) {
    H5Pset_fapl_mpio(fapl, *comm, MPI_INFO_NULL);
    H5Pset_all_coll_metadata_ops(fapl, true);
    H5Pset_coll_metadata_write(fapl, true);
  }
  if (access == Access::kTruncate) {
    Hid fcpl(H5Pcreate(H5P_FILE_CREATE));
    hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
    if (f < 0) {
      throw IoError(fmt::format("{}: cannot create HDF5 file (is the directory writable?)", path));
    }
    return Hid(f);
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw InputError(path, "", "file not found", "check the path (relative paths are resolved "
                     "against the current directory or the YAML file's folder)");
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw InputError(path, "", "not an HDF5 file (an .h5ad is HDF5)",
                     "pass an .h5ad written by anndata, or check the file is not truncated");
  }
  hid_t f = H5Fopen(path.c_str(), access == Access::kRead ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl);
  if (f < 0) {
    throw InputError(path, "", "HDF5 cannot open the file",
                     "check permissions; on NFS/Lustre try HDF5_USE_FILE_LOCKING=FALSE");
  }
  return Hid(f);
}

bool link_exists(hid_t loc, const std::string& path) {
  H5Lock lock;
  std::string partial;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    std::string part = path.substr(pos, next - pos);
    if (!part.empty()) {
      partial += (partial.empty() ? "" : "/") + part;
      if (H5Lexists(loc, partial.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    pos = next + 1;
  }
  return true;
}

namespace {
H5O_type_t object_type(hid_t loc, const std::string& path) {
  if (!link_exists(loc, path)) return H5O_TYPE_UNKNOWN;
  H5Lock lock;
  H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
  if (H5Oget_info_by_name3(loc, path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
#else
  if (H5Oget_info_by_name(loc, path.c_str(), &info, H5P_DEFAULT) < 0)
#endif
    return H5O_TYPE_UNKNOWN;
  return info.type;
}
}  // namespace

bool is_group(hid_t loc, const std::string& path) { return object_type(loc, path) == H5O_TYPE_GROUP; }
bool is_dataset(hid_t loc, const std::string& path) {
  return object_type(loc, path) == H5O_TYPE_DATASET;
}

Hid open_group(hid_t loc, const std::string& path) {
  H5Lock lock;
  hid_t g = H5Gopen2(loc, path.c_str(), H5P_DEFAULT);
  if (g < 0) throw std::runtime_error("HDF5 group not found: " + path);
  return Hid(g);
}

Hid open_dataset(hid_t loc, const std::string& path) {
  H5Lock lock;
  hid_t d = H5Dopen2(loc, path.c_str(), H5P_DEFAULT);
  if (d < 0) throw std::runtime_error("HDF5 dataset not found: " + path);
  return Hid(d);
}

std::vector<std::string> list_children(hid_t group) {
  H5Lock lock;
  std::vector<std::string> names;
  H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* op) -> herr_t {
        static_cast<std::vector<std::string>*>(op)->emplace_back(name);
        return 0;
      },
      &names);
  return names;
}

std::vector<hsize_t> dataset_shape(hid_t dset) {
  H5Lock lock;
  Hid space(H5Dget_space(dset));
  int nd = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(nd > 0 ? nd : 0);
  if (nd > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

bool has_attr(hid_t obj, const std::string& name) {
  H5Lock lock;
  return H5Aexists(obj, name.c_str()) > 0;
}

namespace {
// Reads all string elements of an attribute or dataset given its type and space.
template <typename ReadFn>
std::vector<std::string> read_string_elements(hid_t type, hid_t space, ReadFn&& read) {
  hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<std::string> out;
  if (n <= 0) return out;
  out.reserve(static_cast<std::size_t>(n));
  if (H5Tis_variable_str(type) > 0) {
    Hid mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));
    std::vector<char*> buf(static_cast<std::size_t>(n), nullptr);
    if (read(mem.get(), buf.data()) < 0) throw std::runtime_error("cannot read strings");
    for (char* s : buf) out.emplace_back(s ? s : "");
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf.data());
  } else {
    std::size_t sz = H5Tget_size(type);
    Hid mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem, sz);
    H5Tset_strpad(mem, H5T_STR_NULLPAD);
    H5Tset_cset(mem, H5Tget_cset(type));
    std::vector<char> buf(sz * static_cast<std::size_t>(n));
    if (read(mem.get(), buf.data()) < 0) throw std::runtime_error("cannot read strings");
    for (hssize_t i = 0; i < n; ++i) {
      const char* p = buf.data() + sz * i;
      std::size_t len = 0;
      while (len < sz && p[len] != '\0') ++len;
      out.emplace_back(p, len);
    }
  }
  return out;
}
}  // namespace

std::vector<std::string> read_attr_strings(hid_t obj, const std::string& name) {
  H5Lock lock;
  if (H5Aexists(obj, name.c_str()) <= 0) return {};
  Hid attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  Hid type(H5Aget_type(attr));
  Hid space(H5Aget_space(attr));
  if (H5Tget_class(type) != H5T_STRING) return {};
  return read_string_elements(type, space, [&](hid_t mem, void* buf) { return H5Aread(attr, mem, buf); });
}

std::optional<std::string> read_attr_string(hid_t obj, const std::string& name) {
  H5Lock lock;
  if (H5Aexists(obj, name.c_str()) <= 0) return std::nullopt;
  auto v = read_attr_strings(obj, name);
  if (v.empty()) return std::nullopt;
  return v.front();
}

std::vector<std::int64_t> read_attr_ints(hid_t obj, const std::string& name) {
  H5Lock lock;
  if (H5Aexists(obj, name.c_str()) <= 0) return {};
  Hid attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  Hid space(H5Aget_space(attr));
  hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<std::int64_t> v(n > 0 ? n : 0);
  if (n > 0 && H5Aread(attr, H5T_NATIVE_INT64, v.data()) < 0) return {};
  return v;
}

std::optional<double> read_attr_double(hid_t obj, const std::string& name) {
  H5Lock lock;
  if (H5Aexists(obj, name.c_str()) <= 0) return std::nullopt;
  Hid attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  double v = 0;
  if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) return std::nullopt;
  return v;
}

template <> hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t native_type<std::int8_t>() { return H5T_NATIVE_INT8; }
template <> hid_t native_type<std::int16_t>() { return H5T_NATIVE_INT16; }
template <> hid_t native_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }
template <> hid_t native_type<std::uint16_t>() { return H5T_NATIVE_UINT16; }
template <> hid_t native_type<std::uint32_t>() { return H5T_NATIVE_UINT32; }
template <> hid_t native_type<std::uint64_t>() { return H5T_NATIVE_UINT64; }

namespace {
// The memory type used to read a dataset into T. f16 datasets read into uint16_t keep their raw
// bits (the file's own 2-byte float type), everything else converts numerically.
template <typename T>
Hid memory_type_for(hid_t dset) {
  if constexpr (std::is_same_v<T, std::uint16_t>) {
    Hid ftype(H5Dget_type(dset));
    if (H5Tget_class(ftype) == H5T_FLOAT && H5Tget_size(ftype) == 2) return Hid(H5Tcopy(ftype));
  }
  return Hid(H5Tcopy(native_type<T>()));
}
}  // namespace

template <typename T>
std::vector<T> read_all(hid_t dset) {
  H5Lock lock;
  Hid space(H5Dget_space(dset));
  hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<T> v(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (n <= 0) return v;
  Hid mt = memory_type_for<T>(dset);
  if (H5Dread(dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    throw std::runtime_error("HDF5 read failed");
  return v;
}

template <typename T>
std::vector<T> read_rows(hid_t dset, hsize_t row0, hsize_t nrows) {
  H5Lock lock;
  Hid space(H5Dget_space(dset));
  int nd = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(nd);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  if (nd < 1 || row0 + nrows > dims[0]) throw std::runtime_error("row range outside dataset");
  std::vector<hsize_t> start(nd, 0), count(dims);
  start[0] = row0;
  count[0] = nrows;
  std::size_t total = 1;
  for (auto c : count) total *= c;
  std::vector<T> v(total);
  if (total == 0) return v;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Hid mspace(H5Screate_simple(nd, count.data(), nullptr));
  Hid mt = memory_type_for<T>(dset);
  if (H5Dread(dset, mt, mspace, space, H5P_DEFAULT, v.data()) < 0)
    throw std::runtime_error("HDF5 read failed");
  return v;
}

#define GSMAP_INSTANTIATE(T)                                 \
  template std::vector<T> read_all<T>(hid_t);                \
  template std::vector<T> read_rows<T>(hid_t, hsize_t, hsize_t);
GSMAP_INSTANTIATE(float)
GSMAP_INSTANTIATE(double)
GSMAP_INSTANTIATE(std::int8_t)
GSMAP_INSTANTIATE(std::int16_t)
GSMAP_INSTANTIATE(std::int32_t)
GSMAP_INSTANTIATE(std::int64_t)
GSMAP_INSTANTIATE(std::uint8_t)
GSMAP_INSTANTIATE(std::uint16_t)
GSMAP_INSTANTIATE(std::uint32_t)
GSMAP_INSTANTIATE(std::uint64_t)
#undef GSMAP_INSTANTIATE

std::vector<std::string> read_strings_range(hid_t dset, hsize_t start, hsize_t count) {
  H5Lock lock;
  Hid type(H5Dget_type(dset));
  if (H5Tget_class(type) != H5T_STRING) throw std::runtime_error("dataset is not a string array");
  Hid space(H5Dget_space(dset));
  hsize_t st[1] = {start}, ct[1] = {count};
  H5Sselect_hyperslab(space, H5S_SELECT_SET, st, nullptr, ct, nullptr);
  Hid mspace(H5Screate_simple(1, ct, nullptr));
  return read_string_elements(type, mspace, [&](hid_t mem, void* buf) {
    return H5Dread(dset, mem, mspace, space, H5P_DEFAULT, buf);
  });
}

std::vector<std::string> read_strings(hid_t dset) {
  auto shape = dataset_shape(dset);
  hsize_t n = shape.empty() ? 1 : shape[0];
  if (shape.empty()) {  // scalar string
    H5Lock lock;
    Hid type(H5Dget_type(dset));
    Hid space(H5Dget_space(dset));
    return read_string_elements(type, space, [&](hid_t mem, void* buf) {
      return H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    });
  }
  return read_strings_range(dset, 0, n);
}

Hid dataset_create_plist() {
  H5Lock lock;
  Hid p(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_obj_track_times(p, false);
  return p;
}

Hid group_create_plist() {
  H5Lock lock;
  Hid p(H5Pcreate(H5P_GROUP_CREATE));
  H5Pset_obj_track_times(p, false);
  return p;
}

}  // namespace gsmap::io
