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
  std::int64_t line_number() const;  // 1-based number of the last line returned
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits on runs of spaces/tabs (whitespace-separated tables).
std::vector<std::string_view> split_whitespace(std::string_view line);
// Splits on one delimiter character (CSV without quoting).
std::vector<std::string_view> split_char(std::string_view line, char delim);

// In-memory gzip compression of a byte string into one complete gzip member (concatenated members
// form a valid gzip file: how ranks write one .csv.gz together).
std::string gzip_compress(std::string_view data, int level = 6);
// Writes `data` to `path` atomically: to `path.tmp.<pid>` first, then rename.
void write_file_atomic(const std::string& path, std::string_view data);
// Reads a whole (possibly gzip) file into a string (InputError on truncation).
std::string read_text_file(const std::string& path);

// Formats a double/float exactly as Python's repr (shortest round-trip), as pandas writes CSVs.
std::string format_double(double v);
std::string format_float(float v);

}  // namespace gsmap::io
