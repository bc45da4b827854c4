// Memory accounting and row blocks (docs/algorithms.md §5.3, docs/scalability.md "Memory per rank").
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "gsmap/core/memory.hpp"
#include "gsmap/core/row_block.hpp"

using gsmap::RowBlock;
using gsmap::core::MemoryLedger;

TEST(RowBlock, ReleasedRowsGiveBackTheirWholePagesOnly) {
  // 2,000 columns: 4,000-byte rows, so pages straddle rows. 1,000 rows (4 MB): a mapping.
  RowBlock block(1000, 2000, "", "test");
  for (std::int64_t r = 0; r < block.rows(); ++r) {
    for (std::int64_t c = 0; c < block.cols(); ++c) block.row(r)[c] = static_cast<std::uint16_t>(r + 1);
  }
  // Rows [1, 3) are bytes [4000, 12000): only the page [4096, 8192) lies wholly inside.
  EXPECT_EQ(block.release_rows(1, 3), 4096u);
  EXPECT_EQ(block.row(0)[1999], 1);                  // bytes 3998-3999: kept
  EXPECT_EQ(block.row(1)[47], 2);                    // byte 4094: kept (page 0)
  EXPECT_EQ(block.row(1)[48], 0);                    // byte 4096: released
  EXPECT_EQ(block.row(2)[95], 0);                    // byte 8190: released
  EXPECT_EQ(block.row(2)[96], 3);                    // byte 8192: kept
  EXPECT_EQ(block.row(3)[0], 4);
  // Rows [0, 500): bytes [0, 2,000,000): 488 whole pages.
  EXPECT_EQ(block.release_rows(0, 500), 488u * 4096u);
  EXPECT_EQ(block.row(499)[0], 0);
  EXPECT_EQ(block.row(500)[1999], 501);
  EXPECT_EQ(block.release_rows(5, 5), 0u);
  // A small block lives on the heap and keeps its rows.
  RowBlock small(4, 8, "", "small");
  small.row(1)[0] = 7;
  EXPECT_EQ(small.release_rows(0, 4), 0u);
  EXPECT_EQ(small.row(1)[0], 7);
}

TEST(MemoryLedger, ReportsThePartsAsHeldTogetherAtTheirLargestSum) {
  auto& ledger = MemoryLedger::instance();
  ledger.reset();
  const std::int64_t mib = std::int64_t{1} << 20;
  // A ranked block handed over window by window to a resident block: never both in full.
  ledger.add("ranked block", 100 * mib);
  ledger.add("log-rank block", 0);
  for (int w = 0; w < 10; ++w) {
    ledger.add("log-rank block", 12 * mib);  // a window's rows arrive
    ledger.add("ranked block", -10 * mib);   // then the window is released
  }
  // Largest sum: the last window arrived, not yet released: 10 + 120 MiB.
  EXPECT_EQ(ledger.peak_total(), 130 * mib);
  const auto at = ledger.parts_at_peak_total();
  ASSERT_EQ(at.size(), 2u);
  EXPECT_EQ(at[0].name, "ranked block");
  EXPECT_EQ(at[0].current, 10 * mib);
  EXPECT_EQ(at[0].peak, 100 * mib);
  EXPECT_EQ(at[1].current, 120 * mib);
  const std::string line = ledger.summary();
  EXPECT_NE(line.find("ranked block 0.01 + log-rank block 0.12 + other"), std::string::npos) << line;
  EXPECT_NE(line.find("larger apart: ranked block 0.10"), std::string::npos) << line;
  ledger.reset();
}
