#pragma once
// AnnData (.h5ad) reading and writing over the HDF5 C API (anndata >= 0.8 encodings; see
// docs/development.md §2.1). Files without encoding attributes
// (anndata <= 0.7) are rejected with a message asking to re-save them (docs/development.md §2.1).
//
// Every reader error is an InputError naming the file, the key, what was expected and the fix.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <mpi.h>

#include "gsmap/io/hdf5.hpp"

namespace gsmap::io {

// ---- obs / var columns ---------------------------------------------------------------------

// A categorical column: codes index into categories; -1 = missing.
struct Categorical {
  std::vector<std::string> categories;
  std::vector<std::int32_t> codes;
  bool ordered = false;
};
// Numeric columns are widened to double; NaN marks missing (nullable-integer/boolean masks, float
// NaN). Booleans become 0/1. `dtype` is the numpy name of the stored element type ("int32",
// "uint8", "float32", "bool", ...), written back as that type (docs/formats.md "Types kept");
// empty: int64, float64 or bool by the flags. Integers beyond +-2^53 are not exact in a double.
struct NumericColumn {
  NumericColumn() = default;
  NumericColumn(std::vector<double> v, bool boolean, bool integer, std::string stored = {})
      : values(std::move(v)), is_bool(boolean), is_integer(integer), dtype(std::move(stored)) {}
  std::vector<double> values;
  bool is_bool = false;
  bool is_integer = false;
  std::string dtype;
};
// String columns; `missing[i]` true where nullable-string-array masks a value.
struct StringColumn {
  std::vector<std::string> values;
  std::vector<bool> missing;
};
using Column = std::variant<Categorical, NumericColumn, StringColumn>;

// The label of row i as a string; missing -> nullopt (categorical code -1, masked, NaN).
std::optional<std::string> column_label(const Column& c, std::size_t i);
std::size_t column_size(const Column& c);
// Rows [a, b) of a column, or the rows listed (in that order); kind, categories and dtype kept.
Column slice_rows(const Column& c, std::int64_t a, std::int64_t b);
Column take_rows(const Column& c, const std::vector<std::int64_t>& rows);
// Appends `part`'s rows to `whole` (pandas-style concatenation of one column). Categorical:
// categories merged in order of first appearance, so identical lists stay unchanged (and keep
// `ordered`; merged different lists are unordered); strings joined with a categorical become
// one (unordered). Numeric: integer with float gives float, differing widths give int64 /
// float64. std::invalid_argument for other kinds (labels vs numbers, bool vs number), naming
// neither: the caller adds the column's name.
void append_column(Column& whole, const Column& part);

// ---- matrices -------------------------------------------------------------------------------

enum class MatrixFormat { kDense, kCsr, kCsc };

struct MatrixInfo {
  MatrixFormat format;
  std::int64_t n_rows = 0, n_cols = 0;
  std::int64_t nnz = 0;        // stored entries (sparse) or n_rows*n_cols (dense)
  std::string dtype;           // "float32", "float64", "int32", ... of the stored values
};

// A block of rows in CSR form: row r of the block is indices/data[indptr[r] .. indptr[r+1]).
// Column indices are sorted ascending within each row only if the file had them sorted.
struct CsrRows {
  std::int64_t row0 = 0;       // global index of the first row
  std::int64_t n_cols = 0;
  std::vector<std::int64_t> indptr;  // size n_rows + 1, starting at 0
  std::vector<std::int32_t> indices;
  std::vector<float> data;      // values cast to f32 (the reference ranks f32 values)
  std::int64_t n_rows() const { return static_cast<std::int64_t>(indptr.size()) - 1; }
};

class H5adReader {
 public:
  // Opens read-only (serial HDF5 driver; every rank may open the same file independently).
  explicit H5adReader(std::string path);
  const std::string& path() const { return path_; }

  std::int64_t n_obs() const;
  std::int64_t n_vars() const;
  std::vector<std::string> obs_names() const;
  // obs names [start, end) only (a string index is read by a hyperslab).
  std::vector<std::string> obs_names(std::int64_t start, std::int64_t end) const;
  std::vector<std::string> var_names() const;

  bool has_obs_column(const std::string& name) const;
  std::vector<std::string> obs_column_names() const;       // column-order attribute
  Column obs_column(const std::string& name) const;        // InputError if absent
  // Rows [start, end) of an obs column (hyperslabs of its per-row datasets; categories whole).
  Column obs_column(const std::string& name, std::int64_t start, std::int64_t end) const;
  Column var_column(const std::string& name) const;
  bool has_var_column(const std::string& name) const;
  std::vector<std::string> var_column_names() const;

  bool has_obsm(const std::string& key) const;
  std::vector<std::string> obsm_keys() const;
  // obsm/<key> as row-major f64 (n_obs x cols). InputError if absent or not 2-D.
  std::vector<double> obsm(const std::string& key, std::int64_t* n_cols) const;
  // Rows `rows` (ascending, no repeats) of obsm/<key> as row-major f64 (rows.size() x cols), read
  // by hyperslabs of nearby rows (gaps of up to 64 rows read through, at most 16384 rows a read),
  // so memory follows the rows asked for. The key is checked as obsm() does, also for no rows.
  std::vector<double> obsm_rows(const std::string& key, std::span<const std::int64_t> rows,
                                std::int64_t* n_cols) const;
  // obsm/<key> rounded through its stored type into f32 (embeddings keep their f32 bits).
  std::vector<float> obsm_f32(const std::string& key, std::int64_t* n_cols) const;
  // The stored element type of obsm/<key> ("float32", "float64", ...).
  std::string obsm_dtype(const std::string& key) const;

  // `layer` = "X" or a name under layers/. InputError if absent.
  bool has_layer(const std::string& layer) const;
  MatrixInfo matrix_info(const std::string& layer = "X") const;
  // Rows [row0, row1) as CSR (dense and CSC are converted; dense zeros are not stored). CSC row
  // ranges are streamed over the columns with bounded memory, but every call passes over all
  // stored entries: with CSC input read a rank's whole range once rather than batch by batch.
  // Validates indptr (monotone, within nnz) for the rows read.
  CsrRows read_rows(const std::string& layer, std::int64_t row0, std::int64_t row1) const;
  // Rows [row0, row1) densified, row-major f32 (n_rows x n_cols).
  std::vector<float> read_rows_dense(const std::string& layer, std::int64_t row0,
                                     std::int64_t row1) const;
  // Per-row detected-gene counts used by the cell filter (docs/algorithms.md §1.1): for CSR the
  // number of STORED entries per row (explicit zeros count); otherwise the number of entries > 0.
  std::vector<std::int64_t> row_detected_counts(const std::string& layer = "X") const;
  // The same counts capped at `cap`, 1 byte per row (CSR indptr read in blocks).
  std::vector<std::uint8_t> row_detected_capped(const std::string& layer, std::uint8_t cap) const;
  // Names under layers/ (without "X").
  std::vector<std::string> layer_names() const;

  // Upper bound on the stored entries held in memory at once while streaming a CSC matrix or a
  // dense matrix for row_detected_counts (default 4 Mi entries). Tests lower it to exercise chunk
  // boundaries; it never changes results.
  void set_stream_chunk_entries(std::int64_t entries);

  hid_t file() const { return file_.get(); }

 private:
  std::string path_;
  Hid file_;
  std::int64_t stream_chunk_entries_ = std::int64_t{1} << 22;
};

// ---- writing --------------------------------------------------------------------------------

// A dataframe to write: index + columns in order. `index_name` names the index dataset (the
// `_index` attribute): anndata's default "_index", or the pandas index name ("SNP").
struct DataFrame {
  std::vector<std::string> index;
  std::vector<std::pair<std::string, Column>> columns;
  std::string index_name = "_index";
};

// Serial writer: creates `path` (truncating), writes the anndata root, empty dict groups, and the
// elements given. Files open in Debian's python3-anndata (0.8) and newer.
class H5adWriter {
 public:
  explicit H5adWriter(const std::string& path);
  ~H5adWriter();
  H5adWriter(const H5adWriter&) = delete;
  H5adWriter& operator=(const H5adWriter&) = delete;

  void write_obs(const DataFrame& obs);
  void write_var(const DataFrame& var);
  // Dense X or layer (layer "X" or a name under layers/): row-major n_rows x n_cols.
  void write_dense_f32(const std::string& layer, const std::vector<float>& values,
                       std::int64_t n_rows, std::int64_t n_cols);
  void write_dense_f16(const std::string& layer, const std::vector<std::uint16_t>& bits,
                       std::int64_t n_rows, std::int64_t n_cols);
  // CSR X or layer.
  void write_csr_f32(const std::string& layer, const CsrRows& rows);
  void write_obsm_f64(const std::string& key, const std::vector<double>& values,
                      std::int64_t n_rows, std::int64_t n_cols);
  void write_obsm_f32(const std::string& key, const std::vector<float>& values,
                      std::int64_t n_rows, std::int64_t n_cols);
  void write_obsm_i32(const std::string& key, const std::vector<std::int32_t>& values,
                      std::int64_t n_rows, std::int64_t n_cols);
  void write_obsm_f16(const std::string& key, const std::vector<std::uint16_t>& bits,
                      std::int64_t n_rows, std::int64_t n_cols);
  // Root attribute (e.g. gsmap_complete = 1, written last).
  void set_root_attr_int(const std::string& name, std::int64_t value);
  void set_root_attr_string(const std::string& name, const std::string& value);
  void close();
  hid_t file() const { return file_.get(); }

 private:
  std::string path_;
  Hid file_;
};

// Collective writer for row-partitioned outputs: every rank of `comm` owns rows
// [row0, row0 + n_local) of each per-row dataset and writes them with one collective call.
// Strings (obs/var index, categorical categories) cannot be written in parallel as VL
// (docs/development.md §2.3): they are gathered to rank 0 and written after the parallel phase by a
// serial reopen, so the file stays anndata-conformant.
class ParallelH5adWriter {
 public:
  // Collective. n_rows = global rows; every rank passes the same global shapes.
  ParallelH5adWriter(const std::string& path, MPI_Comm comm, std::int64_t n_rows);
  ~ParallelH5adWriter();
  ParallelH5adWriter(const ParallelH5adWriter&) = delete;
  ParallelH5adWriter& operator=(const ParallelH5adWriter&) = delete;

  // Collective: creates a dense dataset at `h5path` ("X", "layers/beta", "obsm/spatial") of
  // global shape n_rows x n_cols with the given element type, with anndata's 'array' encoding.
  enum class DType { kF16, kF32, kF64, kI32 };
  void create_dense(const std::string& h5path, DType type, std::int64_t n_cols);
  // Collective: writes this rank's rows [row0, row0 + n_local) (n_local may be 0: still call).
  // `data` holds n_local * n_cols elements of the dataset's type (f16 as uint16 bits).
  void write_rows(const std::string& h5path, std::int64_t row0, std::int64_t n_local,
                  const void* data);
  // Rows of a dense dataset written straight into the file's bytes, from any thread
  // (docs/development.md §2.5): a dataset created by create_dense is one contiguous, early-allocated
  // extent (no chunks, no filters) at a fixed file offset, so row r of a dataset of n_cols
  // elements of s bytes starts at offset + r * n_cols * s. The writer needs no HDF5 and no MPI
  // call, so GSS writer workers store each finished batch at once (pwritev on this rank's own file
  // descriptor), concurrently, while HDF5 and MPI stay on the main thread. Values must be in the
  // file's byte order (little-endian; the constructor refuses a big-endian host). The descriptor is
  // closed by finish() (or the destructor), before the file is closed and committed.
  class DirectRows {
   public:
    // `rows` are global row indices; `data` holds rows.size() rows in that order.
    void write(std::span<const std::int64_t> rows, const void* data) const;
    // Global rows [row0, row0 + n) from contiguous `data`; the whole pages of a large block with
    // direct I/O where the file system allows it (not through the page cache).
    void write_block(std::int64_t row0, std::int64_t n, const void* data) const;
    // Starts the write-back of rows [row0, row0 + n) to the disk without waiting for it
    // (sync_file_range): the fsync of the commit then finds them written. Best effort.
    void start_writeback(std::int64_t row0, std::int64_t n) const;
    // Bytes written with direct I/O so far (write_block).
    std::int64_t direct_bytes() const { return direct_bytes_.load(std::memory_order_relaxed); }

   private:
    friend class ParallelH5adWriter;
    std::string path_;
    int fd_ = -1;
    int direct_fd_ = -1;  // O_DIRECT, where the file system allows it (write_block)
    mutable std::atomic<bool> direct_failed_{false};
    mutable std::atomic<std::int64_t> direct_bytes_{0};
    std::int64_t offset_ = 0, row_bytes_ = 0, n_rows_ = 0;
  };
  // Local (not collective): the direct writer of dataset `h5path` (created by create_dense). The
  // reference stays valid until finish(). Throws IoError when the dataset has no contiguous extent.
  const DirectRows& direct_rows(const std::string& h5path);
  // Dataframes: each rank passes its own rows of obs (same columns on every rank); var is passed
  // by rank 0 in full (others pass an empty DataFrame). Collective.
  void write_obs_local(const DataFrame& obs_local);
  void write_var(const DataFrame& var);
  // Collective: creates a csr_matrix group at `h5path` ("X") of global shape n_rows x n_cols with
  // `nnz` stored entries: data float32, indices and indptr int32 (int64 when nnz or n_cols do not
  // fit), no encoding attributes on the members (as anndata writes scipy matrices).
  void create_csr(const std::string& h5path, std::int64_t n_cols, std::int64_t nnz);
  // Collective: this rank's rows [row0, row0 + local.n_rows()) whose entries occupy the global
  // positions [nnz0, nnz0 + local.data.size()) (ranks own consecutive row and entry ranges; a rank
  // without rows passes an empty block and still calls). indptr[0] = 0 is written by finish().
  void write_csr_rows(const std::string& h5path, std::int64_t row0, std::int64_t nnz0,
                      const CsrRows& local);
  // Collective: closes the parallel file, rank 0 reopens serially to write gathered strings and the
  // completion attribute `gsmap_complete = 1` (last), then all ranks synchronise.
  void finish(bool mark_complete = true);

 private:
  struct Impl;
  Impl* impl_;
};

// True if `path` exists, is HDF5, and its root carries gsmap_complete = 1.
bool is_complete(const std::string& path);

}  // namespace gsmap::io
