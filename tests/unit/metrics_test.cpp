// The metrics sink: one writer per loop block, summed when read from any thread.
#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace wspush;

TEST(Metrics, LoopsCountOnTheirOwnBlocksAndReadsSumThem) {
  Metrics metrics(2);
  RoomCounters room(2);
  constexpr int kEach = 100000;
  // Two loops, each on its own thread and its own block; a reader meanwhile.
  std::thread a([&] {
    for (int i = 0; i < kEach; ++i) {
      metrics.loop(0).deliveries.add();
      room.loop(0).dropped.add();
    }
  });
  std::thread b([&] {
    for (int i = 0; i < kEach; ++i) {
      metrics.loop(1).deliveries.add(2);
      room.loop(1).disconnected.add();
    }
  });
  std::uint64_t seen = 0;
  for (int i = 0; i < 100; ++i) seen = std::max(seen, metrics.total(&LoopCounters::deliveries));
  a.join();
  b.join();
  EXPECT_LE(seen, 3u * kEach);
  EXPECT_EQ(metrics.total(&LoopCounters::deliveries), 3u * kEach);
  EXPECT_EQ(room.dropped(), std::uint64_t{kEach});
  EXPECT_EQ(room.disconnected(), std::uint64_t{kEach});
  EXPECT_EQ(metrics.loops(), 2u);
}

TEST(Metrics, BlocksDoNotShareACacheLine) {
  EXPECT_EQ(alignof(LoopCounters), 64u);
  EXPECT_EQ(alignof(RoomCounters::Slot), 64u);
}
