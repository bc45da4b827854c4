// PLINK 1 binary filesets (docs/ldscore.md §2.1).
#include "gsmap/ldscore/plink.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"
#include "gsmap/io/text.hpp"

namespace gsmap::ldscore {
namespace {

// Two bits per call, first individual in the least significant bits; (high, low) = 00 -> 0,
// 01 -> missing, 10 -> 1, 11 -> 2 copies of BIM allele 2 (docs/ldscore.md §2.1).
constexpr std::array<float, 4> kDosage = {0.0f, 0.0f, 1.0f, 2.0f};
constexpr std::array<float, 4> kObserved = {1.0f, 0.0f, 1.0f, 1.0f};

struct ByteCounts {
  std::uint8_t n_obs, sum, sum_sq;
};

constexpr std::array<ByteCounts, 256> make_byte_counts() {
  std::array<ByteCounts, 256> table{};
  for (int b = 0; b < 256; ++b) {
    int n_obs = 0, sum = 0, sum_sq = 0;
    for (int k = 0; k < 4; ++k) {
      const int code = (b >> (2 * k)) & 3;
      if (code == 1) continue;
      const int x = code == 0 ? 0 : code - 1;
      ++n_obs;
      sum += x;
      sum_sq += x * x;
    }
    table[static_cast<std::size_t>(b)] = {static_cast<std::uint8_t>(n_obs),
                                          static_cast<std::uint8_t>(sum),
                                          static_cast<std::uint8_t>(sum_sq)};
  }
  return table;
}
constexpr std::array<ByteCounts, 256> kByteCounts = make_byte_counts();

template <typename T>
bool parse_whole(std::string_view token, T& value) {
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  return ec == std::errc() && ptr == end;
}

}  // namespace

std::int64_t count_fam(const std::string& path) {
  io::LineReader reader(path);
  std::string_view line;
  std::int64_t n = 0;
  while (reader.next_view(line)) {
    if (line.find_first_not_of(" \t") != std::string_view::npos) ++n;
  }
  if (n == 0) {
    throw InputError(path, "", "the .fam file lists no individuals",
                     "give the fileset's .fam (one line per individual)");
  }
  return n;
}

Bim read_bim(const std::string& path) { return read_bim_rows(path, 0, -1); }

Bim read_bim_rows(const std::string& path, std::int64_t first, std::int64_t last) {
  io::LineReader reader(path);
  Bim bim;
  bim.path = path;
  std::string_view line;
  std::vector<std::string_view> fields;
  std::int64_t row = -1;
  while (reader.next_view(line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++row;
    if (row < first) continue;
    if (last >= 0 && row >= last) break;
    io::split_whitespace(line, fields);
    const std::string where = fmt::format("line {}", reader.line_number());
    if (fields.size() != 6) {
      throw InputError(path, where,
                       fmt::format("{} fields, a .bim line has 6 (chromosome, id, cM, bp, allele "
                                   "1, allele 2)",
                                   fields.size()),
                       "give a PLINK 1 .bim file (whitespace-separated)");
    }
    double cm = 0;
    if (!io::parse_number(fields[2], cm) || std::isnan(cm)) {
      throw InputError(path, where + ", column 3 (cM)",
                       fmt::format("'{}' is not a number", fields[2]),
                       "the third column is the genetic position in centimorgans (0 if unknown)");
    }
    std::int32_t bp = 0;
    if (!parse_whole(fields[3], bp)) {
      throw InputError(path, where + ", column 4 (bp)",
                       fmt::format("'{}' is not a 32-bit integer", fields[3]),
                       "the fourth column is the base-pair position");
    }
    bim.chrom.emplace_back(fields[0]);
    bim.id.emplace_back(fields[1]);
    bim.cm.push_back(cm);
    bim.bp.push_back(bp);
  }
  if (bim.id.empty() && first == 0 && last < 0) {
    throw InputError(path, "", "the .bim file lists no variants",
                     "give the fileset's .bim (one line per variant)");
  }
  return bim;
}

BedFile::BedFile(std::string path, std::int64_t n_samples, std::int64_t n_variants)
    : path_(std::move(path)), n_(n_samples), m_(n_variants), stride_((n_samples + 3) / 4) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw InputError(path_, "", fmt::format("cannot open: {}", std::strerror(errno)),
                     "check that the .bed of the fileset exists and is readable");
  }
  std::uint8_t magic[3] = {0, 0, 0};
  const ssize_t got = ::pread(fd_, magic, 3, 0);
  std::error_code ec;
  const auto size = static_cast<std::int64_t>(std::filesystem::file_size(path_, ec));
  const std::int64_t expected = 3 + m_ * stride_;
  std::string problem, fix;
  if (got != 3 || magic[0] != 0x6C || magic[1] != 0x1B) {
    problem = "not a PLINK 1 .bed file (the first bytes are not 6C 1B)";
    fix = "give a PLINK 1 binary fileset (plink --make-bed)";
  } else if (magic[2] != 0x01) {
    problem = fmt::format("mode byte {:#04x}: the file is individual-major, not SNP-major",
                          magic[2]);
    fix = "re-write it SNP-major: plink --bfile PREFIX --make-bed --out NEWPREFIX";
  } else if (ec || size != expected) {
    const std::string stem = path_.size() > 4 ? path_.substr(0, path_.size() - 4) : path_;
    problem = fmt::format(
        "{} bytes, but {} variants ({}.bim lines) x {} individuals ({}.fam lines) need 3 + {} x {} "
        "= {} bytes{}",
        ec ? -1 : size, m_, stem, n_, stem, m_, stride_, expected,
        size < expected ? " (truncated?)" : "");
    fix = "the .bed, .bim and .fam must be one fileset: re-create them together (plink "
          "--make-bed) or use the matching .bim/.fam";
  }
  if (!problem.empty()) {
    ::close(fd_);
    fd_ = -1;
    throw InputError(path_, "", problem, fix);
  }
}

BedFile::~BedFile() {
  if (fd_ >= 0) ::close(fd_);
}

void BedFile::read(std::int64_t first, std::int64_t count, std::vector<std::uint8_t>& out) const {
  out.resize(static_cast<std::size_t>(count * stride_));
  std::int64_t done = 0;
  const std::int64_t total = count * stride_;
  const std::int64_t offset = 3 + first * stride_;
  while (done < total) {
    const ssize_t got = ::pread(fd_, out.data() + done, static_cast<std::size_t>(total - done),
                                static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw InputError(path_, fmt::format("variants {}-{}", first + 1, first + count),
                       got < 0 ? std::string(std::strerror(errno)) : "unexpected end of file",
                       "check that the file is complete and readable");
    }
    done += got;
  }
}

CallCounts count_calls(const std::uint8_t* block, std::int64_t n) {
  CallCounts c;
  const std::int64_t full = n / 4;
  std::int64_t n_obs = 0, sum = 0, sum_sq = 0;
  for (std::int64_t b = 0; b < full; ++b) {
    const ByteCounts& t = kByteCounts[block[b]];
    n_obs += t.n_obs;
    sum += t.sum;
    sum_sq += t.sum_sq;
  }
  for (std::int64_t i = full * 4; i < n; ++i) {
    const int code = (block[i / 4] >> (2 * (i % 4))) & 3;
    if (code == 1) continue;
    const int x = code == 0 ? 0 : code - 1;
    ++n_obs;
    sum += x;
    sum_sq += x * x;
  }
  c.n_obs = static_cast<std::int32_t>(n_obs);
  c.sum = static_cast<std::int32_t>(sum);
  c.sum_sq = static_cast<std::int32_t>(sum_sq);
  return c;
}

void decode_variant(const std::uint8_t* block, std::int64_t n, std::int64_t n_pad, float* dosage,
                    float* observed) {
  for (std::int64_t i = 0; i < n; ++i) {
    const int code = (block[i >> 2] >> (2 * (i & 3))) & 3;
    dosage[i] = kDosage[static_cast<std::size_t>(code)];
    if (observed) observed[i] = kObserved[static_cast<std::size_t>(code)];
  }
  for (std::int64_t i = n; i < n_pad; ++i) {
    dosage[i] = 0.0f;
    if (observed) observed[i] = 0.0f;
  }
}

}  // namespace gsmap::ldscore
