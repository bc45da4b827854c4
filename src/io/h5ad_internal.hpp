#pragma once
// Internal helpers shared by the h5ad reader and writers (not a public header). Every function
// takes the HDF5 lock itself (the mutex is recursive, so callers may hold it too).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gsmap/io/h5ad.hpp"
#include "gsmap/io/hdf5.hpp"

namespace gsmap::io::h5ad_detail {

// ---- types ----------------------------------------------------------------------------------

// "<what> (<HDF5's innermost error description>[; <OS reason>])". The serial driver's description
// carries the OS message; the MPI-IO driver's does not, so an I/O errno left by the failed call is
// added (callers set errno = 0 right before the HDF5 call, so a stale value cannot mislead).
std::string with_hdf5_detail(const std::string& what);

// h5py's bool: an enum over int8 with FALSE = 0, TRUE = 1 (what anndata writes for numpy bool).
Hid bool_enum_type();
// IEEE binary16, little endian: the type h5py writes for numpy float16.
Hid f16_file_type();
// Variable-length UTF-8 string (anndata's string attributes and string-arrays).
Hid vl_utf8_type();
// numpy-style name of a stored element type: "float32", "int64", "bool", "string", ...
std::string dtype_name(hid_t type);
bool is_bool_enum(hid_t type);

// ---- attributes -----------------------------------------------------------------------------

void write_attr_string(hid_t obj, const std::string& name, const std::string& value);
void write_attr_strings(hid_t obj, const std::string& name, const std::vector<std::string>& values);
// 1-D int64 attribute (anndata's `shape`); `scalar` writes one value as a scalar attribute.
void write_attr_int64s(hid_t obj, const std::string& name, const std::vector<std::int64_t>& values,
                       bool scalar = false);
void write_attr_bool(hid_t obj, const std::string& name, bool value);
// anndata writes the column-order of a dataframe without columns as an empty float64 array.
void write_attr_empty_f64(hid_t obj, const std::string& name);
// Reads a scalar bool attribute stored as h5py enum, integer or float; nullopt if absent.
std::optional<bool> read_attr_bool(hid_t obj, const std::string& name);
void set_encoding(hid_t obj, const std::string& type, const std::string& version);

// ---- objects --------------------------------------------------------------------------------

// Groups and datasets are created without time stamps (docs/algorithms.md §10.9).
Hid create_group(hid_t loc, const std::string& name);
// Contiguous dataset, fill never written (every element is written by the caller).
Hid create_dataset(hid_t loc, const std::string& name, hid_t file_type,
                   const std::vector<hsize_t>& dims);
// Creates and writes a whole dataset in one call; `array_encoding` adds anndata's 'array' 0.2.0
// attributes (not wanted on the members of a sparse matrix group).
void write_dataset(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                   const std::vector<hsize_t>& dims, const void* data, bool array_encoding = true);
// 1-D VL UTF-8 string dataset with anndata's 'string-array' encoding.
void write_string_array(hid_t loc, const std::string& name, const std::vector<std::string>& values);
// An empty group with the 'dict' encoding (layers, obsm, uns, ...).
void write_empty_dict(hid_t loc, const std::string& name);
// A dataframe group (obs/var) in anndata's 'dataframe' 0.2.0 encoding.
void write_dataframe(hid_t loc, const std::string& name, const DataFrame& df);
// Throws std::invalid_argument when a column's length differs from the index.
void check_dataframe(const DataFrame& df, const std::string& what);

// ---- dataframe serialisation (for gathering obs rows to rank 0) -----------------------------

std::vector<char> serialize_dataframe(const DataFrame& df);
DataFrame deserialize_dataframe(const char* data, std::size_t size);
// Appends `part`'s rows to `whole` (same columns, same kinds). Categorical categories are merged
// in order of first appearance, so parts sharing one category list keep it unchanged.
void append_rows(DataFrame& whole, const DataFrame& part);

}  // namespace gsmap::io::h5ad_detail
