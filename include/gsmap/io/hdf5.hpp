#pragma once
// Thin RAII layer over the HDF5 C API. Debian's parallel HDF5 is not thread-safe: every call into
// the library must hold hdf5_mutex() (docs/development.md §2.2). The helpers here lock it; code
// that calls the C API directly must take `H5Lock lock;` itself.
#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gsmap::io {

std::recursive_mutex& hdf5_mutex();
struct H5Lock {
  std::lock_guard<std::recursive_mutex> guard{hdf5_mutex()};
};

// Owns one hid_t and closes it with the matching H5*close.
class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~Hid() { reset(); }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: handles are passed to the C API everywhere
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Silences HDF5's automatic error stack printing for the lifetime of the process; our errors say
// what went wrong in words. Called once from the file-opening helpers.
void quiet_hdf5_errors();

enum class Access { kRead, kReadWrite, kTruncate };

// HDF5's innermost error description after a failed call (the OS reason of a failed open is
// among them), "" when HDF5 recorded none.
std::string hdf5_error_detail();

// Opens a file. With a communicator, uses the MPI-IO driver (collective open/create: every rank of
// `comm` must call). Missing, empty, truncated or non-HDF5 file -> InputError naming the path and
// the real cause. Read-only opens also refuse external links, external raw storage and virtual
// datasets anywhere in the file (InputError naming the object).
Hid open_file(const std::string& path, Access access, std::optional<MPI_Comm> comm = std::nullopt);

bool link_exists(hid_t loc, const std::string& path);  // every component checked
bool is_group(hid_t loc, const std::string& path);
bool is_dataset(hid_t loc, const std::string& path);
Hid open_group(hid_t loc, const std::string& path);    // throws std::runtime_error if absent
Hid open_dataset(hid_t loc, const std::string& path);
std::vector<std::string> list_children(hid_t group);   // in creation/name order as HDF5 lists

std::vector<hsize_t> dataset_shape(hid_t dset);

// Attributes (missing -> nullopt). Strings: variable or fixed length; arrays of strings too.
bool has_attr(hid_t obj, const std::string& name);
std::optional<std::string> read_attr_string(hid_t obj, const std::string& name);
std::vector<std::string> read_attr_strings(hid_t obj, const std::string& name);
std::vector<std::int64_t> read_attr_ints(hid_t obj, const std::string& name);
std::optional<double> read_attr_double(hid_t obj, const std::string& name);

// Memory type for T (float, double, int8..int64, uint8..uint64).
template <typename T>
hid_t native_type();

// Reads a whole 1-D or N-D dataset converting to T (HDF5 converts numeric types).
template <typename T>
std::vector<T> read_all(hid_t dset);

// Reads rows [row0, row0+nrows) of a 1-D or 2-D dataset (all columns) into T.
template <typename T>
std::vector<T> read_rows(hid_t dset, hsize_t row0, hsize_t nrows);

// Reads a 1-D string dataset (variable- or fixed-length, UTF-8 or ASCII).
std::vector<std::string> read_strings(hid_t dset);
std::vector<std::string> read_strings_range(hid_t dset, hsize_t start, hsize_t count);

// Property lists for reproducible files: no time stamps (docs/algorithms.md §10.9).
Hid dataset_create_plist();
Hid group_create_plist();

}  // namespace gsmap::io
