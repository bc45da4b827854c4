#pragma once
// Where each distinct string of a table first occurs (SNP ids, gene names), without a copy of any
// string: open addressing over 8-byte (hash tag, position) slots at load <= 0.75, the table's own
// string compared on a tag match. About 11-21 bytes per entry, where a
// std::unordered_map<std::string, int64_t> costs a node with a copy of the id (70+ bytes) —
// hundreds of MB for the 1-10 million SNP ids of the LD weights, weight matrix and sumstats.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gsmap::ldsc {

class FirstPositions {
 public:
  FirstPositions() = default;
  // Indexes `ids`; a repeated id keeps its first position (the others are counted).
  // std::length_error beyond 2^32 - 2 ids.
  explicit FirstPositions(const std::vector<std::string>& ids);

  // Position of the first occurrence of `id` in `ids` (the table this index was built from, which
  // must be unchanged), or -1.
  std::int64_t find(const std::vector<std::string>& ids, std::string_view id) const;
  std::int64_t duplicates() const { return duplicates_; }
  std::int64_t bytes() const { return static_cast<std::int64_t>(slots_.size() * sizeof(Slot)); }

 private:
  struct Slot {
    std::uint32_t tag;
    std::uint32_t position;
  };
  static constexpr std::uint32_t kEmpty = 0xffffffffu;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::int64_t duplicates_ = 0;
};

}  // namespace gsmap::ldsc
