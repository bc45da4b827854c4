#include "gsmap/core/row_block.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <utility>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap {
namespace {
constexpr std::size_t kMappedBytes = std::size_t{1} << 20;
}  // namespace

RowBlock::RowBlock(std::int64_t rows, std::int64_t cols, const std::string& tmp_dir,
                   const std::string& tag)
    : rows_(rows), cols_(cols) {
  const std::size_t n = bytes();
  if (tmp_dir.empty()) {
    if (n >= kMappedBytes) {  // zero-filled, pages faulted in as they are written
      void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw ComputeError(fmt::format("out of memory allocating {} bytes for {}", n, tag));
      data_ = static_cast<std::uint16_t*>(p);
      mapped_ = true;
      return;
    }
    data_ = static_cast<std::uint16_t*>(std::calloc(n ? n : 1, 1));
    if (!data_) throw ComputeError(fmt::format("out of memory allocating {} bytes for {}", n, tag));
    return;
  }
  if (!std::filesystem::is_directory(tmp_dir)) {
    throw UsageError(fmt::format("--memmap-tmp-dir {} is not an existing directory", tmp_dir));
  }
  std::random_device rd;
  dir_ = fmt::format("{}/memmap_{:08x}", tmp_dir, rd());
  std::filesystem::create_directories(dir_);
  const std::string file = dir_ + "/" + tag + ".dat";
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || (n && ftruncate(fd, static_cast<off_t>(n)) != 0)) {
    if (fd >= 0) ::close(fd);
    throw IoError(fmt::format("{}: cannot create a {}-byte staging file (disk full?)", file, n));
  }
  void* p = n ? mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : nullptr;
  ::close(fd);
  if (p == MAP_FAILED) throw IoError(fmt::format("{}: mmap of {} bytes failed", file, n));
  data_ = static_cast<std::uint16_t*>(p);
}

std::size_t RowBlock::release_rows(std::int64_t begin, std::int64_t end) {
  if (!data_ || (!mapped_ && dir_.empty())) return 0;
  begin = std::clamp<std::int64_t>(begin, 0, rows_);
  end = std::clamp<std::int64_t>(end, begin, rows_);
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto base = reinterpret_cast<std::uintptr_t>(data_);  // page-aligned (a mapping)
  const std::uintptr_t b = (base + static_cast<std::uintptr_t>(begin) * cols_ * 2 + page - 1) / page * page;
  const std::uintptr_t e = (base + static_cast<std::uintptr_t>(end) * cols_ * 2) / page * page;
  if (e <= b) return 0;
  void* p = reinterpret_cast<void*>(b);
  // A file-backed block: punch a hole (frees the disk blocks and the page cache); else, or where
  // the file system cannot, drop the pages from this mapping.
  if (dir_.empty() || madvise(p, e - b, MADV_REMOVE) != 0) madvise(p, e - b, MADV_DONTNEED);
  return e - b;
}

void RowBlock::release() {
  if (mapped_) {
    if (data_) munmap(data_, bytes());
    mapped_ = false;
  } else if (dir_.empty()) {
    std::free(data_);
  } else {
    if (data_) munmap(data_, bytes());
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  data_ = nullptr;
  dir_.clear();
}

RowBlock::~RowBlock() { release(); }

RowBlock::RowBlock(RowBlock&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), rows_(o.rows_), cols_(o.cols_),
      dir_(std::exchange(o.dir_, {})), mapped_(std::exchange(o.mapped_, false)) {}

RowBlock& RowBlock::operator=(RowBlock&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::exchange(o.data_, nullptr);
    rows_ = o.rows_;
    cols_ = o.cols_;
    dir_ = std::exchange(o.dir_, {});
    mapped_ = std::exchange(o.mapped_, false);
  }
  return *this;
}

}  // namespace gsmap
