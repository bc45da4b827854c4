#include "gsmap/ldsc/snp_index.hpp"

#include <functional>
#include <stdexcept>

#include <fmt/format.h>

namespace gsmap::ldsc {

FirstPositions::FirstPositions(const std::vector<std::string>& ids) {
  if (ids.size() >= kEmpty)
    throw std::length_error(fmt::format("{} ids: more than 2^32 - 2 in one table", ids.size()));
  std::size_t capacity = 16;
  while (capacity * 3 < ids.size() * 4) capacity <<= 1;
  slots_.assign(capacity, Slot{0, kEmpty});
  mask_ = capacity - 1;
  for (std::size_t p = 0; p < ids.size(); ++p) {
    const std::string_view id = ids[p];
    const std::uint64_t h = std::hash<std::string_view>{}(id);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.position == kEmpty) {
        s = Slot{tag, static_cast<std::uint32_t>(p)};
        break;
      }
      if (s.tag == tag && ids[s.position] == id) {
        ++duplicates_;
        break;
      }
    }
  }
}

std::int64_t FirstPositions::find(const std::vector<std::string>& ids, std::string_view id) const {
  if (slots_.empty()) return -1;
  const std::uint64_t h = std::hash<std::string_view>{}(id);
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.position == kEmpty) return -1;
    if (s.tag == tag && s.position < ids.size() && ids[s.position] == id) return s.position;
  }
}

}  // namespace gsmap::ldsc
