#pragma once
// Line-oriented text input (plain or gzip, chosen by content: gzip magic bytes) and gzip/CSV output.
// A truncated or corrupt gzip stream is an error, never a quiet end of file.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gsmap::io {

class LineReader {
 public:
  explicit LineReader(const std::string& path);  // InputError if missing/unreadable
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  // Next line without the trailing newline (and '\r'). false at a clean end of input; throws
  // InputError("... truncated gzip ...") naming the file and line number at a bad end.
  bool next(std::string& line);
  // Same without a copy: `line` stays valid until the next call.
  bool next_view(std::string_view& line);
  std::int64_t line_number() const;  // 1-based number of the last line returned
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits on runs of spaces/tabs (whitespace-separated tables).
std::vector<std::string_view> split_whitespace(std::string_view line);
// Splits on one delimiter character (no quoting: whitespace tables, numeric-only lines).
std::vector<std::string_view> split_char(std::string_view line, char delim);
// The same into a caller-owned vector (cleared first), so hot loops do not allocate per line.
void split_whitespace(std::string_view line, std::vector<std::string_view>& fields);
void split_char(std::string_view line, char delim, std::vector<std::string_view>& fields);

// ---- CSV (RFC 4180; docs/formats.md "CSV") -------------------------------------------------
// Appends one field, quoted only when needed (a comma, a double quote, CR or LF inside), with an
// inner quote doubled: Python's csv module with QUOTE_MINIMAL, i.e. what pandas' to_csv writes.
void append_csv_field(std::string& out, std::string_view field);

// Reads CSV records (plain or gzip, as LineReader): fields separated by commas, a field in double
// quotes may hold commas, doubled quotes and line breaks (one record then spans several lines).
// Lines without a quote take a fast path (no copy). A quoted field left open at the end of the
// file, or text after a closing quote, is an InputError naming the file and line.
class CsvReader {
 public:
  explicit CsvReader(const std::string& path);
  // Next record into `fields` (unquoted); the views stay valid until the next call. false at the
  // end of the input.
  bool next(std::vector<std::string_view>& fields);
  std::int64_t line_number() const { return first_line_; }  // first line of the last record
  const std::string& path() const { return lines_.path(); }

 private:
  LineReader lines_;
  std::string record_;   // a record with quotes, its lines joined by '\n'
  std::string fields_;   // the unquoted fields of record_
  std::int64_t first_line_ = 0;
};
// Splits one record (quoted line breaks included) into fields; unquoted text goes into `storage`
// (cleared first), which the views point into. A quote inside an unquoted field is kept as text (as
// pandas reads it). kOpenQuote: the record ends inside a quoted field (it continues on the next
// line); kTextAfterQuote: text follows a closing quote ("a"b), not CSV.
enum class CsvSplit { kOk, kOpenQuote, kTextAfterQuote };
CsvSplit split_csv_record(std::string_view record, std::vector<std::string_view>& fields,
                          std::string& storage);

// Numeric fields as pandas reads them: '.', 'NA', 'nan', '' and pandas' other default NA markers
// are missing (value = NaN, returns true); a leading '+' is allowed; anything that is not entirely
// a number returns false. Decimal -> double is correctly rounded (std::from_chars).
bool is_missing_token(std::string_view token);
bool parse_number(std::string_view token, double& value);

// In-memory gzip compression of a byte string into one complete gzip member (concatenated members
// form a valid gzip file: how ranks write one .csv.gz together).
std::string gzip_compress(std::string_view data, int level = 6);
// Writes `data` to `path` atomically (io/atomic_file.hpp: a temp file in the same directory,
// flushed, then renamed; a symlink at `path` is refused).
void write_file_atomic(const std::string& path, std::string_view data);
// Reads a whole (possibly gzip) file into a string (InputError on truncation).
std::string read_text_file(const std::string& path);

// Formats a double/float exactly as Python's repr (shortest round-trip), as pandas writes CSVs.
// format_double: Python float repr (1e-05, 0.0001, 100.0, 1e+16, inf, nan, -0.0).
// format_float: numpy float32 str (shortest digits that round-trip through f32; scientific when
// |v| < 1e-4 or |v| >= 1e16, so 0.0001f -> "1e-04"), which is what pandas writes for f32 columns
// (gsMap3D's <project>_<trait>.csv.gz: beta, se, z are f32, p and neg_log10_p f64).
std::string format_double(double v);
std::string format_float(float v);
// Appending variants for writers that build large buffers.
void append_double(std::string& out, double v);
void append_float(std::string& out, float v);
// CSV fields as pandas' to_csv writes them: NaN is an empty field, everything else as above.
std::string format_csv_double(double v);
std::string format_csv_float(float v);

}  // namespace gsmap::io
