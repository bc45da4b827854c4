#include "gsmap/io/hdf5.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <tuple>
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

std::string hdf5_error_detail() {
  H5Lock lock;
  std::string detail;
  // The walk goes from the API call down; the last description is the innermost one (for the
  // sec2 driver it carries errno and the OS message of a failed open, read or write).
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        if (e->desc && *e->desc) *static_cast<std::string*>(out) = e->desc;
        return 0;
      },
      &detail);
  return detail;
}

namespace {

// The HDF5 signature, found at offset 0 or 512, 1024, 2048, ... (a user block before it).
constexpr unsigned char kHdf5Signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

// A few bytes of the file's start, printable, for "it starts with ..." messages.
std::string printable_start(const unsigned char* b, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n && out.size() < 24; ++i) {
    const unsigned char c = b[i];
    if (c == '\n' || c == '\r') break;
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
  }
  return out;
}

std::string what_it_looks_like(const unsigned char* b, std::size_t n) {
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return "a gzip file";
  if (n >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) return "a zip archive";
  if (n >= 6 && std::memcmp(b, "\x93NUMPY", 6) == 0) return "a numpy .npy file";
  bool text = n > 0;
  for (std::size_t i = 0; i < n && text; ++i) {
    text = b[i] == '\n' || b[i] == '\r' || b[i] == '\t' || (b[i] >= 0x20 && b[i] != 0x7f);
  }
  if (text) return fmt::format("a text file (it starts with \"{}\")", printable_start(b, n));
  return "binary data that is not HDF5";
}

std::uint64_t read_le(const unsigned char* p, int size) {
  std::uint64_t v = 0;
  for (int i = size - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The byte where the superblock starts (the signature's offset), or -1 without a signature.
// `sb` receives up to 96 bytes of the superblock.
long long find_superblock(int fd, std::uint64_t size, unsigned char* sb, std::size_t& sb_len) {
  for (std::uint64_t off = 0; off + 8 <= size; off = off == 0 ? 512 : off * 2) {
    const ssize_t n = ::pread(fd, sb, 96, static_cast<off_t>(off));
    if (n < 8) return -1;
    if (std::memcmp(sb, kHdf5Signature, 8) == 0) {
      sb_len = static_cast<std::size_t>(n);
      return static_cast<long long>(off);
    }
  }
  return -1;
}

// The end-of-file address the superblock records (bytes from the superblock's base), 0 when the
// superblock cannot be parsed (HDF5 file format specification, "Superblock" versions 0-3).
std::uint64_t stored_eof(const unsigned char* sb, std::size_t len) {
  if (len < 9) return 0;
  const int version = sb[8];
  if (version == 0 || version == 1) {
    if (len < 16) return 0;
    const int so = sb[13];  // size of offsets
    std::size_t pos = 24 + (version == 1 ? 4 : 0);  // base address follows
    if (so < 2 || so > 8 || len < pos + 4 * static_cast<std::size_t>(so)) return 0;
    return read_le(sb + pos + 2 * so, so);  // base, free-space, end-of-file, driver
  }
  if (version == 2 || version == 3) {
    const int so = sb[9];
    const std::size_t pos = 12;  // base address, extension address, end-of-file address
    if (so < 2 || so > 8 || len < pos + 3 * static_cast<std::size_t>(so)) return 0;
    return read_le(sb + pos + 2 * so, so);
  }
  return 0;
}

// Before HDF5 sees the file: present, a regular readable file, not empty, with the HDF5 signature.
// Each failure says what the file really is.
void check_readable_hdf5(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      throw InputError(path, "", "file not found",
                       "check the path (relative paths are resolved against the current directory "
                       "or the YAML file's folder)");
    }
    throw InputError(path, "", fmt::format("cannot access the file: {}", std::strerror(err)),
                     "check the path and the permissions of its folders");
  }
  if (S_ISDIR(st.st_mode)) {
    throw InputError(path, "", "is a directory, expected an .h5ad (HDF5) file", "check the path");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw InputError(path, "", fmt::format("cannot open the file: {}", std::strerror(errno)),
                     "check the file's permissions");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  unsigned char sb[96] = {};
  std::size_t sb_len = 0;
  const long long at = S_ISREG(st.st_mode) ? find_superblock(fd, size, sb, sb_len) : 0;
  unsigned char head[64] = {};
  const ssize_t head_len = ::pread(fd, head, sizeof head, 0);
  ::close(fd);
  if (size == 0 && S_ISREG(st.st_mode)) {
    throw InputError(path, "", "the file is empty (0 bytes), not an HDF5 file",
                     "copy or write the file again (an interrupted copy or a full disk leaves empty "
                     "files)");
  }
  if (at < 0) {
    throw InputError(path, "",
                     fmt::format("not an HDF5 file: no HDF5 signature; it looks like {}",
                                 what_it_looks_like(head, head_len > 0 ? head_len : 0)),
                     "pass an .h5ad written by anndata (an .h5ad is an HDF5 file)");
  }
}

// After H5Fopen failed on a file with the HDF5 signature: the real cause in words.
[[noreturn]] void throw_open_failure(const std::string& path, const std::string& detail) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      unsigned char sb[96] = {};
      std::size_t sb_len = 0;
      const long long at = find_superblock(fd, static_cast<std::uint64_t>(st.st_size), sb, sb_len);
      ::close(fd);
      const std::uint64_t eof = at >= 0 ? stored_eof(sb, sb_len) : 0;
      const auto size = static_cast<std::uint64_t>(st.st_size);
      if (eof > 0 && static_cast<std::uint64_t>(at) + eof > size) {
        throw InputError(path, "",
                         fmt::format("the HDF5 file is truncated: it has {} bytes, its superblock "
                                     "says {}",
                                     size, static_cast<std::uint64_t>(at) + eof),
                         "the file was cut off (an interrupted copy, download or write); copy or "
                         "write it again");
      }
    }
  }
  const bool locking = detail.find("lock") != std::string::npos;
  throw InputError(path, "",
                   fmt::format("HDF5 cannot open the file ({})",
                               detail.empty() ? "no reason given" : detail),
                   locking ? "another program holds a lock on it, or the file system does not "
                             "support file locks (NFS, Lustre): set HDF5_USE_FILE_LOCKING=FALSE"
                           : "the file may be damaged; write it again with anndata");
}

struct ForeignStorage {
  std::string file;
  std::string object, problem;
};

// Every link of an input file: no external or user-defined links, no dataset whose data lives in
// other files (external raw storage) or is assembled from other datasets (virtual datasets). Such
// objects would pull other files' bytes into our outputs (docs/troubleshooting.md, "Refused HDF5
// features").
void refuse_foreign_storage(hid_t file, const std::string& path) {
  // A file is visited once per process (readers reopen the same sample for every chunk); a file
  // that changed on disk since (other size or modification time) is visited again.
  struct stat st {};
  using Identity = std::tuple<dev_t, ino_t, off_t, std::int64_t>;
  static std::mutex checked_mutex;
  static std::set<Identity> checked;
  std::optional<Identity> identity;
  if (::stat(path.c_str(), &st) == 0) {
    identity = Identity{st.st_dev, st.st_ino, st.st_size,
                        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                            st.st_mtim.tv_nsec};
    std::lock_guard guard(checked_mutex);
    if (checked.count(*identity)) return;
  }
  ForeignStorage found;
  found.file = path;
  const auto visit = [](hid_t group, const char* name, const H5L_info_t* info,
                        void* data) -> herr_t {
    auto& f = *static_cast<ForeignStorage*>(data);
    if (info->type == H5L_TYPE_SOFT) return 0;
    if (info->type != H5L_TYPE_HARD) {
      f.object = name;
      f.problem = "is an external link (its data would come from another file)";
      if (info->type == H5L_TYPE_EXTERNAL) {
        std::vector<char> value(info->u.val_size + 1, '\0');
        const char* target_file = nullptr;
        const char* target_obj = nullptr;
        if (H5Lget_val(group, name, value.data(), value.size(), H5P_DEFAULT) >= 0 &&
            H5Lunpack_elink_val(value.data(), info->u.val_size, nullptr, &target_file,
                                &target_obj) >= 0 &&
            target_file && target_obj) {
          f.problem = fmt::format("is an external link to {}:{}", target_file, target_obj);
        }
      } else {
        f.problem = "is a user-defined link (only hard and soft links are read)";
      }
      return 1;
    }
    H5O_info_t oinfo;
#if H5_VERSION_GE(1, 12, 0)
    if (H5Oget_info_by_name3(group, name, &oinfo, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return 0;
#else
    if (H5Oget_info_by_name(group, name, &oinfo, H5P_DEFAULT) < 0) return 0;
#endif
    if (oinfo.type != H5O_TYPE_DATASET) return 0;
    Hid dset(H5Dopen2(group, name, H5P_DEFAULT));
    if (!dset.valid()) return 0;
    Hid dcpl(H5Dget_create_plist(dset));
    if (!dcpl.valid()) return 0;
    if (H5Pget_layout(dcpl) == H5D_VIRTUAL) {
      f.object = name;
      f.problem = "is a virtual dataset (its data would come from other datasets or files)";
      return 1;
    }
    if (H5Pget_external_count(dcpl) > 0) {
      char first[1024] = {};
      off_t offset = 0;
      hsize_t size = 0;
      H5Pget_external(dcpl, 0, sizeof first - 1, first, &offset, &size);
      f.object = name;
      f.problem = fmt::format("stores its data in external raw files ({}{})", first,
                              H5Pget_external_count(dcpl) > 1 ? ", ..." : "");
      return 1;
    }
    return 0;
  };
  H5Lock lock;
  const herr_t rc = H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, visit, &found);
  if (rc > 0 || !found.object.empty()) {
    throw InputError(path, found.object, found.problem + "; gsmap-mpi reads only data stored in "
                                                         "the file itself",
                     "write a self-contained copy, e.g. python -c \"import anndata; "
                     "anndata.read_h5ad('in.h5ad').write_h5ad('out.h5ad')\"");
  }
  if (identity) {
    std::lock_guard guard(checked_mutex);
    checked.insert(*identity);
  }
}

}  // namespace

Hid open_file(const std::string& path, Access access, std::optional<MPI_Comm> comm) {
  quiet_hdf5_errors();
  if (access != Access::kTruncate) check_readable_hdf5(path);
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
      throw IoError(fmt::format("{}: cannot create the HDF5 file ({})", path,
                                hdf5_error_detail()));
    }
    return Hid(f);
  }
  hid_t f = H5Fopen(path.c_str(), access == Access::kRead ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl);
  if (f < 0) throw_open_failure(path, hdf5_error_detail());
  Hid file(f);
  if (access == Access::kRead) refuse_foreign_storage(file, path);
  return file;
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
