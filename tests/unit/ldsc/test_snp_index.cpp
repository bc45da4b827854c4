// FirstPositions (ldsc/snp_index.hpp): the first position of every id, repeated ids, absent ids,
// an empty table, and agreement with std::unordered_map on a large table with many collisions of
// the 32-bit tag's home slot.
#include <gtest/gtest.h>

#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "gsmap/ldsc/snp_index.hpp"

namespace gsmap::ldsc {
namespace {

TEST(FirstPositions, FirstOccurrenceAbsentAndDuplicates) {
  const std::vector<std::string> ids{"rs3", "rs1", "rs3", "", "rs2", "rs1", "rs30"};
  const FirstPositions pos(ids);
  EXPECT_EQ(pos.find(ids, "rs3"), 0);
  EXPECT_EQ(pos.find(ids, "rs1"), 1);
  EXPECT_EQ(pos.find(ids, ""), 3);
  EXPECT_EQ(pos.find(ids, "rs2"), 4);
  EXPECT_EQ(pos.find(ids, "rs30"), 6);
  EXPECT_EQ(pos.find(ids, "rs4"), -1);
  EXPECT_EQ(pos.find(ids, "rs"), -1);
  EXPECT_EQ(pos.duplicates(), 2);
  EXPECT_GT(pos.bytes(), 0);

  const std::vector<std::string> none;
  const FirstPositions empty(none);
  EXPECT_EQ(empty.find(none, "rs1"), -1);
  EXPECT_EQ(empty.duplicates(), 0);
  const FirstPositions unbuilt;
  EXPECT_EQ(unbuilt.find(none, "rs1"), -1);
}

TEST(FirstPositions, AgreesWithAHashMapOnALargeTable) {
  std::vector<std::string> ids;
  for (int i = 0; i < 200000; ++i) ids.push_back(fmt::format("rs{}", (i * 7919) % 150000));
  std::unordered_map<std::string, std::int64_t> first;
  for (std::size_t i = 0; i < ids.size(); ++i) first.emplace(ids[i], static_cast<std::int64_t>(i));
  const FirstPositions pos(ids);
  EXPECT_EQ(pos.duplicates(), static_cast<std::int64_t>(ids.size() - first.size()));
  for (const auto& [id, p] : first) ASSERT_EQ(pos.find(ids, id), p) << id;
  for (int i = 150000; i < 160000; ++i) ASSERT_EQ(pos.find(ids, fmt::format("rs{}", i)), -1);
  // 8-byte slots at load <= 0.75 (a power of two): at most 2^19 slots for 150,000 distinct ids.
  EXPECT_LE(pos.bytes(), (std::int64_t{1} << 19) * 8);
}

}  // namespace
}  // namespace gsmap::ldsc
