// A node's copy of a shared stream: every seq once, in order, holes filled from reads.
#include "core/stream_mirror.hpp"

#include <gtest/gtest.h>

#include "common/frame.hpp"

using namespace wspush;

namespace {

std::string env(std::uint64_t seq) {
  return R"({"status":200,"event":"message","data":)" + std::to_string(seq) + R"(,"seq":)" +
         std::to_string(seq) + "}";
}

std::vector<StreamEntry> entries(std::uint64_t from, std::uint64_t to) {
  std::vector<StreamEntry> out;
  for (std::uint64_t s = from; s <= to; ++s) out.push_back({s, env(s)});
  return out;
}

std::vector<std::uint64_t> seqs(StreamMirror::Step const& step) {
  std::vector<std::uint64_t> out;
  for (auto const& [seq, framed] : step.deliver) {
    EXPECT_EQ(frame_payload(*framed), env(seq));
    out.push_back(seq);
  }
  return out;
}

using Seqs = std::vector<std::uint64_t>;

}  // namespace

TEST(StreamMirror, TheFirstReadIsHistoryNotNewsThenLiveMessagesFollowIt) {
  StreamMirror m(10);
  ASSERT_TRUE(m.begin_read());
  EXPECT_TRUE(seqs(m.on_message(5, 4, env(4))).empty());  // waits for the read
  auto step = m.on_snapshot(5, 3, entries(1, 3));
  EXPECT_EQ(seqs(step), Seqs{4});  // what came while reading, after what the read saw
  EXPECT_TRUE(m.started());
  EXPECT_EQ(seqs(m.on_message(5, 5, env(5))), Seqs{5});
  EXPECT_EQ(m.state().last_seq, 5u);
  EXPECT_EQ(m.state().epoch, 5u);
  EXPECT_EQ(m.replay_after(1).messages.size(), 4u);
}

TEST(StreamMirror, DuplicatesAreDroppedAndAJumpAsksForARead) {
  StreamMirror m(10);
  m.begin_read();
  m.on_snapshot(1, 2, entries(1, 2));
  EXPECT_TRUE(seqs(m.on_message(1, 2, env(2))).empty());
  auto step = m.on_message(1, 5, env(5));
  EXPECT_TRUE(step.deliver.empty());
  ASSERT_TRUE(step.read_after);
  EXPECT_EQ(*step.read_after, 2u);
  EXPECT_TRUE(seqs(m.on_message(1, 6, env(6))).empty());  // waits behind the hole
  step = m.on_snapshot(1, 5, entries(3, 5));
  EXPECT_EQ(seqs(step), (Seqs{3, 4, 5, 6}));
  EXPECT_FALSE(step.read_after);
  EXPECT_EQ(step.lost, 0u);
}

TEST(StreamMirror, AfterTheLinkIsLostAReadCatchesUpFromTheLastSeqDelivered) {
  StreamMirror m(10);
  m.begin_read();
  m.on_snapshot(1, 0, {});
  EXPECT_EQ(seqs(m.on_message(1, 1, env(1))), Seqs{1});
  m.on_link_lost();
  ASSERT_TRUE(m.begin_read());
  EXPECT_FALSE(m.begin_read());  // one read at a time
  EXPECT_EQ(seqs(m.on_snapshot(1, 4, entries(2, 4))), (Seqs{2, 3, 4}));
}

TEST(StreamMirror, WhatTheStreamNoLongerHeldIsCountedAsLost) {
  StreamMirror m(3);
  m.begin_read();
  m.on_snapshot(1, 1, entries(1, 1));
  m.on_link_lost();
  m.begin_read();
  auto const step = m.on_snapshot(1, 9, entries(7, 9));  // 2..6 trimmed meanwhile
  EXPECT_EQ(seqs(step), (Seqs{7, 8, 9}));
  EXPECT_EQ(step.lost, 5u);
  EXPECT_FALSE(m.replay_after(1).complete);
}

TEST(StreamMirror, ANewEpochResetsTheCopy) {
  StreamMirror m(10);
  m.begin_read();
  m.on_snapshot(1, 3, entries(1, 3));
  auto const step = m.on_message(2, 1, env(1));  // Redis lost the room: seq starts again
  EXPECT_TRUE(step.reset);
  EXPECT_EQ(seqs(step), Seqs{1});
  EXPECT_EQ(m.state().epoch, 2u);
  EXPECT_EQ(m.state().last_seq, 1u);
  EXPECT_EQ(m.state().size, 1u);
}

TEST(StreamMirror, ARoomWithoutHistoryMovesOnWithoutEntries) {
  StreamMirror m(0);
  m.begin_read();
  m.on_snapshot(1, 2, {});
  m.on_link_lost();
  m.begin_read();
  auto const step = m.on_snapshot(1, 5, {});
  EXPECT_TRUE(step.deliver.empty());
  EXPECT_EQ(step.lost, 3u);
  EXPECT_EQ(seqs(m.on_message(1, 6, env(6))), Seqs{6});
}

TEST(StreamMirror, AHoleTheStreamDoesNotHaveEitherIsSkippedNotReadForever) {
  StreamMirror m(10);
  m.begin_read();
  m.on_snapshot(1, 2, entries(1, 2));
  auto step = m.on_message(1, 6, env(6));  // 3..5 never reach the stream (trimmed, or junk)
  ASSERT_TRUE(step.read_after);
  step = m.on_snapshot(1, 2, {});
  EXPECT_EQ(seqs(step), Seqs{6});
  EXPECT_EQ(step.lost, 3u);
  EXPECT_FALSE(step.read_after);
  EXPECT_FALSE(m.reading());
}
