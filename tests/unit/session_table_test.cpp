// A loop's sessions by slot, and the one mapping between ids and slots
// (server/loop/session_table.hpp); a shutdown's batches (spread_close.hpp).
#include "server/loop/session_table.hpp"

#include <gtest/gtest.h>

#include "server/loop/spread_close.hpp"

using namespace wspush;
using namespace std::chrono_literals;

TEST(SessionTable, IdsAreSlotTimesLoopsPlusTheLoopAndSlotsAreReused) {
  SessionTable<std::string> t(1, 3);  // loop 1 of 3
  std::uint32_t const a = t.allocate();
  std::uint32_t const b = t.allocate();
  EXPECT_EQ(t.id_of(a), 1u);
  EXPECT_EQ(t.id_of(b), 4u);
  EXPECT_TRUE(t.owns(4));
  EXPECT_FALSE(t.owns(3));
  EXPECT_EQ(t.slot_of(4), b);
  *t.at(b) = "b";
  EXPECT_EQ(*t.find(4), "b");
  EXPECT_EQ(t.find(5), nullptr);  // another loop's id
  EXPECT_EQ(t.size(), 2u);
  t.release(a);
  t.release(a);  // idempotent
  EXPECT_EQ(t.at(a), nullptr);
  EXPECT_EQ(t.size(), 1u);
  std::uint32_t const c = t.allocate();
  EXPECT_EQ(c, a);          // the free slot first: ids stay dense
  EXPECT_EQ(*t.at(c), "");  // a fresh entry
  EXPECT_EQ(t.slots(), 2u);
}

TEST(SpreadClose, BatchesFitTheSpread) {
  EXPECT_EQ(SpreadClose::per_batch(1000, 2500ms), 4u);  // 250 batches, 10 ms apart
  EXPECT_EQ(SpreadClose::per_batch(3, 2500ms), 1u);
  EXPECT_EQ(SpreadClose::per_batch(7, 0ms), 7u);  // no spread: all at once
  EXPECT_EQ(SpreadClose::per_batch(0, 1s), 1u);
}

TEST(SpreadClose, ClosesEveryOneInOrderOverTheSpread) {
  asio::io_context io;
  SpreadClose spread(io);
  std::vector<std::size_t> closed;
  auto const start = std::chrono::steady_clock::now();
  spread.start(20, 100ms, [&](std::size_t i) { closed.push_back(i); });
  EXPECT_EQ(closed.size(), 2u);  // the first batch at once
  io.run();
  ASSERT_EQ(closed.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(closed[i], i);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);  // nine more batches, 10 ms apart
}
