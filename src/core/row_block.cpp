#include "gsmap/core/row_block.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <utility>

#include <fmt/format.h>

#include "gsmap/core/error.hpp"

namespace gsmap {

RowBlock::RowBlock(std::int64_t rows, std::int64_t cols, const std::string& tmp_dir,
                   const std::string& tag)
    : rows_(rows), cols_(cols) {
  const std::size_t n = bytes();
  if (tmp_dir.empty()) {
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

void RowBlock::release() {
  if (dir_.empty()) {
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
      dir_(std::exchange(o.dir_, {})) {}

RowBlock& RowBlock::operator=(RowBlock&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::exchange(o.data_, nullptr);
    rows_ = o.rows_;
    cols_ = o.cols_;
    dir_ = std::exchange(o.dir_, {});
  }
  return *this;
}

}  // namespace gsmap
