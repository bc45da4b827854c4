#pragma once
// A rank's own block of a cells x genes matrix (f16 bits), held in memory or, with
// --memmap-tmp-dir, in a file mapped from that (fast, local) directory. The file lives in a
// private sub-directory that is removed when the block is destroyed.
#include <cstddef>
#include <cstdint>
#include <string>

namespace gsmap {

class RowBlock {
 public:
  RowBlock() = default;
  // rows x cols elements of uint16_t, zero-filled. tmp_dir empty = heap memory.
  RowBlock(std::int64_t rows, std::int64_t cols, const std::string& tmp_dir, const std::string& tag);
  ~RowBlock();
  RowBlock(RowBlock&& o) noexcept;
  RowBlock& operator=(RowBlock&& o) noexcept;
  RowBlock(const RowBlock&) = delete;
  RowBlock& operator=(const RowBlock&) = delete;

  std::uint16_t* row(std::int64_t r) { return data_ + static_cast<std::size_t>(r) * cols_; }
  const std::uint16_t* row(std::int64_t r) const { return data_ + static_cast<std::size_t>(r) * cols_; }
  std::uint16_t* data() { return data_; }
  const std::uint16_t* data() const { return data_; }
  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::size_t bytes() const { return static_cast<std::size_t>(rows_) * cols_ * sizeof(std::uint16_t); }
  bool file_backed() const { return !dir_.empty(); }

 private:
  void release();
  std::uint16_t* data_ = nullptr;
  std::int64_t rows_ = 0, cols_ = 0;
  std::string dir_;  // private tmp sub-directory when file backed
};

}  // namespace gsmap
