#include "gsmap/io/text.hpp"

#include <unistd.h>
#include <zlib.h>

#include <libdeflate.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/atomic_file.hpp"

namespace gsmap::io {
namespace {

constexpr std::size_t kInputChunk = std::size_t{1} << 20;   // compressed bytes per fread
constexpr std::size_t kOutputChunk = std::size_t{1} << 20;  // decoded bytes per refill

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

FilePtr open_for_reading(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw InputError(path, "", "file not found", "check the path");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(path, "", "is a directory, expected a file", "check the path");
  }
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    throw InputError(path, "", fmt::format("cannot open file ({})", std::strerror(errno)),
                     "check the file's permissions");
  }
  return f;
}

// Why a decoded read stopped short of a clean end of input.
enum class ReadStatus { kData, kEnd, kTruncated, kCorrupt };

// Decoded bytes of a plain or gzip file (format chosen by the first bytes, not the name).
// Concatenated gzip members decode to the concatenation of their contents; zero padding after the
// last member is ignored (as gzip(1) and Python's gzip do). A gzip stream that ends before its
// end-of-stream marker is reported as kTruncated, never as a clean end.
class DecodedSource {
 public:
  explicit DecodedSource(const std::string& path) : path_(path), file_(open_for_reading(path)) {
    in_.resize(kInputChunk);
    refill_input();
    if (avail_ >= 2 && in_[0] == 0x1f && in_[1] == 0x8b) {
      gzip_ = true;
      std::memset(&zs_, 0, sizeof(zs_));
      if (inflateInit2(&zs_, 15 + 16) != Z_OK) {
        throw InputError(path_, "", "cannot initialise the gzip decoder (out of memory?)");
      }
      zs_initialised_ = true;
    } else if (avail_ >= 3 && std::memcmp(in_.data(), "BZh", 3) == 0) {
      throw InputError(path_, "", "bzip2-compressed files are not supported",
                       "decompress it (bunzip2) or recompress it with gzip");
    }
  }
  ~DecodedSource() {
    if (zs_initialised_) inflateEnd(&zs_);
  }
  DecodedSource(const DecodedSource&) = delete;
  DecodedSource& operator=(const DecodedSource&) = delete;

  // Decodes up to `cap` bytes into `dst`; sets `n` to the count. kData while bytes come, kEnd at a
  // clean end, kTruncated / kCorrupt (with message()) at a bad one.
  ReadStatus read(char* dst, std::size_t cap, std::size_t& n) {
    n = 0;
    if (!gzip_) return read_plain(dst, cap, n);
    while (true) {
      if (member_done_) {
        ReadStatus s = start_next_member();
        if (s != ReadStatus::kData) return s;
      }
      if (avail_ == 0) {
        refill_input();
        if (avail_ == 0) {
          if (read_error_) return fail(ReadStatus::kCorrupt, read_error_message());
          return fail(ReadStatus::kTruncated,
                      "truncated gzip stream: the compressed data ends before the end-of-stream "
                      "marker");
        }
      }
      zs_.next_in = in_.data() + pos_;
      zs_.avail_in = static_cast<uInt>(avail_);
      zs_.next_out = reinterpret_cast<Bytef*>(dst);
      zs_.avail_out = static_cast<uInt>(cap);
      int ret = inflate(&zs_, Z_NO_FLUSH);
      std::size_t consumed = avail_ - zs_.avail_in;
      pos_ += consumed;
      avail_ -= consumed;
      n = cap - zs_.avail_out;
      if (ret == Z_STREAM_END) {
        member_done_ = true;
      } else if (ret == Z_BUF_ERROR && consumed == 0 && n == 0 && avail_ > 0) {
        // No progress with input and output space available: never loop on it.
        return fail(ReadStatus::kCorrupt, "corrupt gzip data (the decoder made no progress)");
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        return fail(ReadStatus::kCorrupt,
                    fmt::format("corrupt gzip data ({})", zs_.msg ? zs_.msg : "inflate error"));
      }
      if (n > 0) return ReadStatus::kData;
    }
  }

  bool is_gzip() const { return gzip_; }
  const std::string& message() const { return message_; }

 private:
  ReadStatus read_plain(char* dst, std::size_t cap, std::size_t& n) {
    // The first refill (for the magic check) may hold bytes already.
    if (avail_ > 0) {
      n = std::min(cap, avail_);
      std::memcpy(dst, in_.data() + pos_, n);
      pos_ += n;
      avail_ -= n;
      return ReadStatus::kData;
    }
    n = std::fread(dst, 1, cap, file_.get());
    if (n > 0) return ReadStatus::kData;
    if (std::ferror(file_.get())) return fail(ReadStatus::kCorrupt, read_error_message());
    return ReadStatus::kEnd;
  }

  // After a member's end: skip zero padding; the next bytes must be another gzip member or EOF.
  ReadStatus start_next_member() {
    while (true) {
      if (avail_ == 0) {
        refill_input();
        if (avail_ == 0) {
          if (read_error_) return fail(ReadStatus::kCorrupt, read_error_message());
          return ReadStatus::kEnd;
        }
      }
      if (in_[pos_] != 0) break;
      ++pos_;
      --avail_;
    }
    if (in_[pos_] != 0x1f) {
      return fail(ReadStatus::kCorrupt, "trailing data after the end of the gzip stream");
    }
    inflateReset(&zs_);
    member_done_ = false;
    return ReadStatus::kData;
  }

  void refill_input() {
    pos_ = 0;
    avail_ = std::fread(in_.data(), 1, in_.size(), file_.get());
    if (avail_ == 0 && std::ferror(file_.get())) read_error_ = true;
  }

  std::string read_error_message() const { return "read error (I/O failure while reading)"; }

  ReadStatus fail(ReadStatus s, std::string msg) {
    message_ = std::move(msg);
    return s;
  }

  std::string path_;
  FilePtr file_;
  std::vector<unsigned char> in_;
  std::size_t pos_ = 0;
  std::size_t avail_ = 0;
  bool read_error_ = false;
  bool gzip_ = false;
  bool zs_initialised_ = false;
  bool member_done_ = false;
  z_stream zs_{};
  std::string message_;
};

const char* fix_for(ReadStatus s) {
  return s == ReadStatus::kTruncated
             ? "the file is incomplete (interrupted download or copy); fetch or write it again "
               "and check it with `gzip -t`"
             : "the file is damaged; fetch or write it again and check it with `gzip -t`";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// LineReader

struct LineReader::Impl {
  explicit Impl(const std::string& p) : path(p), source(p) {}
  std::string path;
  DecodedSource source;
  std::string buffer;  // decoded bytes; [begin, buffer.size()) not yet returned
  std::size_t begin = 0;
  std::size_t scanned = 0;  // bytes after `begin` known to hold no newline
  std::int64_t line = 0;
  bool at_end = false;

  // Appends one decoded chunk; false at a clean end of input.
  bool refill() {
    if (begin > 0) {  // drop the bytes already returned, keep the partial line
      buffer.erase(0, begin);
      begin = 0;
    }
    std::size_t old = buffer.size();
    buffer.resize(old + kOutputChunk);
    std::size_t n = 0;
    ReadStatus s = source.read(buffer.data() + old, kOutputChunk, n);
    buffer.resize(old + n);
    if (s == ReadStatus::kData) return true;
    if (s == ReadStatus::kEnd) return false;
    throw InputError(
        path, fmt::format("after line {}", line),
        fmt::format("{}; {} complete lines were read before it", source.message(), line),
        fix_for(s));
  }
};

LineReader::LineReader(const std::string& path) : impl_(std::make_unique<Impl>(path)) {}
LineReader::~LineReader() = default;

bool LineReader::next_view(std::string_view& out) {
  Impl& s = *impl_;
  while (true) {
    const char* base = s.buffer.data() + s.begin;
    std::size_t avail = s.buffer.size() - s.begin;
    if (s.scanned < avail) {
      const void* nl = std::memchr(base + s.scanned, '\n', avail - s.scanned);
      if (nl) {
        std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
        std::size_t next = s.begin + len + 1;
        if (len > 0 && base[len - 1] == '\r') --len;
        out = std::string_view(base, len);
        s.begin = next;
        s.scanned = 0;
        ++s.line;
        return true;
      }
      s.scanned = avail;
    }
    if (s.at_end || !s.refill()) {
      s.at_end = true;
      if (s.begin >= s.buffer.size()) return false;
      // Last line without a trailing newline.
      std::size_t len = s.buffer.size() - s.begin;
      const char* b = s.buffer.data() + s.begin;
      if (len > 0 && b[len - 1] == '\r') --len;
      out = std::string_view(b, len);
      s.begin = s.buffer.size();
      s.scanned = 0;
      ++s.line;
      return true;
    }
  }
}

bool LineReader::next(std::string& line) {
  std::string_view v;
  if (!next_view(v)) return false;
  line.assign(v.data(), v.size());
  return true;
}

std::int64_t LineReader::line_number() const { return impl_->line; }
const std::string& LineReader::path() const { return impl_->path; }

// ---------------------------------------------------------------------------------------------
// Splitting

void split_whitespace(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  const char* p = line.data();
  const char* end = p + line.size();
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    if (p == end) break;
    const char* start = p;
    while (p < end && *p != ' ' && *p != '\t') ++p;
    fields.emplace_back(start, static_cast<std::size_t>(p - start));
  }
}

void split_char(std::string_view line, char delim, std::vector<std::string_view>& fields) {
  fields.clear();
  std::size_t start = 0;
  while (true) {
    std::size_t pos = line.find(delim, start);
    if (pos == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return;
    }
    fields.push_back(line.substr(start, pos - start));
    start = pos + 1;
  }
}

std::vector<std::string_view> split_whitespace(std::string_view line) {
  std::vector<std::string_view> f;
  split_whitespace(line, f);
  return f;
}

std::vector<std::string_view> split_char(std::string_view line, char delim) {
  std::vector<std::string_view> f;
  split_char(line, delim, f);
  return f;
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180)

void append_csv_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

CsvSplit split_csv_record(std::string_view record, std::vector<std::string_view>& fields,
                          std::string& storage) {
  fields.clear();
  storage.clear();
  storage.reserve(record.size());  // never reallocated below: the views stay valid
  std::size_t i = 0;
  while (true) {
    const std::size_t start = storage.size();
    if (i < record.size() && record[i] == '"') {
      ++i;
      while (true) {
        if (i >= record.size()) return CsvSplit::kOpenQuote;
        if (record[i] == '"') {
          if (i + 1 < record.size() && record[i + 1] == '"') {
            storage += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        storage += record[i++];
      }
      if (i < record.size() && record[i] != ',') return CsvSplit::kTextAfterQuote;
    } else {
      const std::size_t end = std::min(record.find(',', i), record.size());
      storage.append(record.substr(i, end - i));
      i = end;
    }
    fields.emplace_back(storage.data() + start, storage.size() - start);
    if (i >= record.size()) return CsvSplit::kOk;
    ++i;  // the comma
  }
}

CsvReader::CsvReader(const std::string& path) : lines_(path) {}

bool CsvReader::next(std::vector<std::string_view>& fields) {
  std::string_view line;
  if (!lines_.next_view(line)) return false;
  first_line_ = lines_.line_number();
  if (line.find('"') == std::string_view::npos) {
    split_char(line, ',', fields);
    return true;
  }
  record_.assign(line);
  while (true) {
    switch (split_csv_record(record_, fields, fields_)) {
      case CsvSplit::kOk:
        return true;
      case CsvSplit::kTextAfterQuote:
        throw InputError(
            lines_.path(), fmt::format("line {}", first_line_),
            "text follows a closing quote (a quote inside a quoted field must be doubled)",
            "the file is not valid CSV (RFC 4180); re-create it");
      case CsvSplit::kOpenQuote:
        break;
    }
    if (!lines_.next_view(line)) {
      throw InputError(lines_.path(), fmt::format("line {}", first_line_),
                       "a quoted field is not closed before the end of the file",
                       "the file is truncated or not valid CSV (RFC 4180); re-create it");
    }
    record_ += '\n';  // the line break inside the quoted field
    record_.append(line);
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers

bool is_missing_token(std::string_view t) {
  // '.' (LDSC convention) plus pandas' default na_values.
  static constexpr std::string_view kMissing[] = {
      "",     ".",    "NA",   "NaN", "nan",      "-NaN",   "-nan",    "N/A",     "n/a",     "NULL",
      "null", "<NA>", "#N/A", "#NA", "#N/A N/A", "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN"};
  if (t.size() > 8) return false;
  for (std::string_view m : kMissing) {
    if (t == m) return true;
  }
  return false;
}

bool parse_number(std::string_view t, double& value) {
  if (is_missing_token(t)) {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* p = t.data();
  const char* end = p + t.size();
  if (p < end && *p == '+') {
    ++p;
    if (p < end && *p == '-') return false;
  }
  auto res = std::from_chars(p, end, value);
  if (res.ec == std::errc::result_out_of_range && res.ptr == end) {
    // Beyond double range: what strtod (and pandas) give, 0 or +-inf.
    std::string copy(p, end);
    value = std::strtod(copy.c_str(), nullptr);
    return true;
  }
  return res.ec == std::errc() && res.ptr == end && p < end;
}

// ---------------------------------------------------------------------------------------------
// Whole files

std::string gzip_compress(std::string_view data, int level) {
  // libdeflate: one complete gzip member with a zero mtime (reproducible bytes), faster than zlib.
  level = std::clamp(level, 0, 12);
  std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> c(
      libdeflate_alloc_compressor(level), &libdeflate_free_compressor);
  if (!c) throw IoError("gzip_compress: cannot allocate a compressor (out of memory)");
  std::string out(libdeflate_gzip_compress_bound(c.get(), data.size()), '\0');
  std::size_t n =
      libdeflate_gzip_compress(c.get(), data.data(), data.size(), out.data(), out.size());
  if (n == 0) throw IoError("gzip_compress: compression failed");
  out.resize(n);
  return out;
}

void write_file_atomic(const std::string& path, std::string_view data) {
  AtomicOutput out(path, MPI_COMM_NULL);
  const std::string& tmp = out.temp_path();
  {
    FilePtr f(std::fopen(tmp.c_str(), "wb"));
    if (!f) {
      throw IoError(fmt::format("{}: cannot open the new file {} for writing: {}", path, tmp,
                                std::strerror(errno)));
    }
    bool ok = std::fwrite(data.data(), 1, data.size(), f.get()) == data.size();
    ok = ok && std::fflush(f.get()) == 0;
    int err = errno;
    if (std::fclose(f.release()) != 0 && ok) {
      ok = false;
      err = errno;
    }
    if (!ok) {
      throw IoError(fmt::format("{}: cannot write {} bytes to {}: {}", path, data.size(), tmp,
                                std::strerror(err)));
    }
  }
  out.commit();
}

std::string read_text_file(const std::string& path) {
  DecodedSource source(path);
  std::string out;
  while (true) {
    std::size_t old = out.size();
    out.resize(old + kOutputChunk);
    std::size_t n = 0;
    ReadStatus s = source.read(out.data() + old, kOutputChunk, n);
    out.resize(old + n);
    if (s == ReadStatus::kData) continue;
    if (s == ReadStatus::kEnd) return out;
    auto lines = std::count(out.begin(), out.end(), '\n');
    throw InputError(
        path, fmt::format("after line {}", lines),
        fmt::format("{}; {} complete lines were read before it", source.message(), lines),
        fix_for(s));
  }
}

// ---------------------------------------------------------------------------------------------
// Number formatting

namespace {

// Shortest round-trip decimal digits of v (finite, non-zero or zero) and the decimal exponent of
// the first digit: v = 0.d1d2... * 10^decpt.
template <typename T>
void shortest_digits(T v, char* digits, int& ndigits, int& decpt) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  // buf = [-]d[.ddd]e(+|-)XX
  const char* p = buf;
  const char* end = res.ptr;
  if (*p == '-') ++p;
  ndigits = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') digits[ndigits++] = *p;
    ++p;
  }
  int exp10 = 0;
  std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), end, exp10);
  decpt = exp10 + 1;
}

void append_positional(std::string& out, const char* digits, int ndigits, int decpt) {
  if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-decpt), '0');
    out.append(digits, static_cast<std::size_t>(ndigits));
  } else if (decpt >= ndigits) {
    out.append(digits, static_cast<std::size_t>(ndigits));
    out.append(static_cast<std::size_t>(decpt - ndigits), '0');
    out += ".0";
  } else {
    out.append(digits, static_cast<std::size_t>(decpt));
    out += '.';
    out.append(digits + decpt, static_cast<std::size_t>(ndigits - decpt));
  }
}

void append_scientific(std::string& out, const char* digits, int ndigits, int decpt) {
  out += digits[0];
  if (ndigits > 1) {
    out += '.';
    out.append(digits + 1, static_cast<std::size_t>(ndigits - 1));
  }
  int e = decpt - 1;
  out += 'e';
  out += e < 0 ? '-' : '+';
  if (e < 0) e = -e;
  if (e < 10) out += '0';
  out += std::to_string(e);
}

// Handles sign, zero, inf and nan; false when v is finite and non-zero (the caller formats it).
template <typename T>
bool append_special(std::string& out, T v) {
  if (std::isnan(v)) {
    out += "nan";
    return true;
  }
  if (std::signbit(v)) out += '-';
  if (std::isinf(v)) {
    out += "inf";
    return true;
  }
  if (v == 0) {
    out += "0.0";
    return true;
  }
  return false;
}

}  // namespace

void append_double(std::string& out, double v) {
  if (append_special(out, v)) return;
  char digits[32];
  int nd = 0, decpt = 0;
  shortest_digits(v, digits, nd, decpt);
  // CPython float_repr_style 'short', mode 'r': positional iff -4 < decpt <= 16.
  if (decpt > -4 && decpt <= 16) {
    append_positional(out, digits, nd, decpt);
  } else {
    append_scientific(out, digits, nd, decpt);
  }
}

void append_float(std::string& out, float v) {
  if (append_special(out, v)) return;
  char digits[32];
  int nd = 0, decpt = 0;
  shortest_digits(v, digits, nd, decpt);
  // numpy's scalar str/repr (Dragon4): positional iff 1e-4 <= |v| < 1e16, judged on the value.
  const double a = std::fabs(static_cast<double>(v));
  if (a >= 1e-4 && a < 1e16) {
    append_positional(out, digits, nd, decpt);
  } else {
    append_scientific(out, digits, nd, decpt);
  }
}

std::string format_double(double v) {
  std::string s;
  append_double(s, v);
  return s;
}

std::string format_float(float v) {
  std::string s;
  append_float(s, v);
  return s;
}

std::string format_csv_double(double v) { return std::isnan(v) ? std::string() : format_double(v); }
std::string format_csv_float(float v) { return std::isnan(v) ? std::string() : format_float(v); }

}  // namespace gsmap::io
