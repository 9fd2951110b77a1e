#include "core/history.hpp"

#include <gtest/gtest.h>

using wspush::History;
using wspush::Payload;

namespace {
Payload msg(std::uint64_t seq) {
  return std::make_shared<const std::string>(std::to_string(seq));
}

std::vector<std::string> texts(History::Replay const& r) {
  std::vector<std::string> out;
  for (auto const& m : r.messages) out.push_back(*m);
  return out;
}
}  // namespace

TEST(History, KeepsTheLastNInOrder) {
  History h(3);
  for (std::uint64_t s = 1; s <= 5; ++s) h.append(s, msg(s));
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.first_seq(), std::optional<std::uint64_t>(3));
  auto const r = h.after(3, 5);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(texts(r), (std::vector<std::string>{"4", "5"}));
}

TEST(History, JustBeforeTheOldestIsStillComplete) {
  History h(3);
  for (std::uint64_t s = 1; s <= 5; ++s) h.append(s, msg(s));
  auto const r = h.after(2, 5);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(texts(r), (std::vector<std::string>{"3", "4", "5"}));
}

TEST(History, OlderThanTheHistoryIsTruncated) {
  History h(3);
  for (std::uint64_t s = 1; s <= 5; ++s) h.append(s, msg(s));
  auto const r = h.after(1, 5);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(texts(r), (std::vector<std::string>{"3", "4", "5"}));
}

TEST(History, UpToDateReplaysNothing) {
  History h(3);
  for (std::uint64_t s = 1; s <= 2; ++s) h.append(s, msg(s));
  auto const r = h.after(2, 2);
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(r.messages.empty());
}

TEST(History, ZeroCapacityKeepsNothingAndSaysSo) {
  History h(0);
  h.append(1, msg(1));
  EXPECT_EQ(h.size(), 0u);
  EXPECT_FALSE(h.after(0, 1).complete);
  EXPECT_TRUE(h.after(1, 1).complete);
}

TEST(History, ASeqFromTheFutureMeansTheStreamWasReset) {
  History h(10);
  h.append(1, msg(1));
  auto const r = h.after(500, 1);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(texts(r), (std::vector<std::string>{"1"}));
}

TEST(History, SinceZeroOnAFreshRoomIsComplete) {
  History h(10);
  EXPECT_TRUE(h.after(0, 0).complete);
  h.append(1, msg(1));
  EXPECT_TRUE(h.after(0, 1).complete);
  EXPECT_EQ(texts(h.after(0, 1)), (std::vector<std::string>{"1"}));
}

TEST(History, ExpireDropsWhatWasPublishedBeforeACutAndTheRingGoesOn) {
  History h(4);
  for (std::uint64_t s = 1; s <= 6; ++s) h.append(s, msg(s), static_cast<std::int64_t>(s) * 100);
  // Held: 3..6, published at 300..600 ms.
  EXPECT_EQ(h.expire(450), 2u);
  EXPECT_EQ(h.first_seq(), std::optional<std::uint64_t>(5));
  auto const r = h.after(2, 6);
  EXPECT_FALSE(r.complete);  // 3 and 4 expired
  EXPECT_EQ(texts(r), (std::vector<std::string>{"5", "6"}));
  EXPECT_EQ(h.expire(450), 0u);
  h.append(7, msg(7), 700);
  EXPECT_EQ(texts(h.after(4, 7)), (std::vector<std::string>{"5", "6", "7"}));
  EXPECT_EQ(h.expire(10000), 3u);
  EXPECT_EQ(h.size(), 0u);
  EXPECT_FALSE(h.first_seq());
  h.append(8, msg(8), 800);
  EXPECT_EQ(texts(h.after(7, 8)), (std::vector<std::string>{"8"}));
}
