// Who is in which room on a loop (server/loop/room_members.hpp): bookkeeping only.
#include "server/loop/room_members.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace wspush;

namespace {

RoomJoin room(RoomId id, std::string path, RoomKind kind = RoomKind::feed) {
  RoomJoin j;
  j.room = id;
  j.kind = kind;
  j.path = std::move(path);
  j.policy = default_slow_consumer_policy(kind);
  j.counters = std::make_shared<RoomCounters>(1);
  return j;
}

std::set<std::uint32_t> slots_of(RoomMembers& m, RoomId id) {
  std::set<std::uint32_t> out;
  if (auto* r = m.find(id)) {
    for (auto const& e : r->members) out.insert(e.slot);
  }
  return out;
}

}  // namespace

TEST(RoomMembers, ARoomKnowsItsMembersAndGoesWithTheLast) {
  RoomMembers m;
  RoomJoin const news = room(1, "/news");
  m.join(0, news, 5);
  m.join(3, news, 5);
  ASSERT_NE(m.find(1), nullptr);
  EXPECT_EQ(*m.find(1)->path, "/news");
  EXPECT_EQ(slots_of(m, 1), (std::set<std::uint32_t>{0, 3}));
  EXPECT_EQ(m.entry(3, 1)->last_seq, 5u);
  EXPECT_TRUE(m.leave(0, 1));
  EXPECT_FALSE(m.leave(0, 1));  // not a member any more
  EXPECT_EQ(slots_of(m, 1), (std::set<std::uint32_t>{3}));
  EXPECT_TRUE(m.leave(3, 1));
  EXPECT_EQ(m.find(1), nullptr);  // no member on this loop: no room here
  EXPECT_EQ(m.room_count(), 0u);
}

TEST(RoomMembers, JoiningTwiceIsOneMembership) {
  RoomMembers m;
  RoomJoin const news = room(1, "/news");
  m.join(2, news, 1).last_seq = 7;
  EXPECT_EQ(m.join(2, news, 1).last_seq, 7u);
  EXPECT_EQ(m.find(1)->members.size(), 1u);
}

TEST(RoomMembers, ASessionMayBeInManyRoomsAndLeavesThemAll) {
  RoomMembers m;
  m.join(4, room(1, "/a"), 0);
  m.join(4, room(2, "/b"), 0);
  m.join(4, room(3, "/c"), 0);
  m.join(5, room(2, "/b"), 0);
  auto rooms = m.rooms_of(4);
  ASSERT_EQ(rooms.size(), 3u);
  EXPECT_EQ(rooms.front()->id, 1u);  // the first it joined, first
  EXPECT_TRUE(m.leave(4, 1));        // the first goes: the next one takes its place
  rooms = m.rooms_of(4);
  ASSERT_EQ(rooms.size(), 2u);
  EXPECT_NE(m.entry(4, 2), nullptr);
  EXPECT_NE(m.entry(4, 3), nullptr);
  m.leave_all(4);
  EXPECT_FALSE(m.in_any(4));
  EXPECT_EQ(m.find(1), nullptr);
  EXPECT_EQ(m.find(3), nullptr);
  EXPECT_EQ(slots_of(m, 2), (std::set<std::uint32_t>{5}));
}

// Leaving swaps the last member into the gap: every member's entry must stay its own,
// whatever the order of leaves, with members in several rooms at once.
TEST(RoomMembers, LeavingInAnyOrderKeepsEveryEntryItsOwn) {
  RoomMembers m;
  for (std::uint32_t slot = 0; slot < 40; ++slot) {
    m.join(slot, room(1, "/a"), slot);
    if (slot % 3 == 0) m.join(slot, room(2, "/b"), 1000 + slot);
  }
  std::vector<std::uint32_t> order;
  for (std::uint32_t slot = 0; slot < 40; slot += 2) order.push_back(slot);
  std::reverse(order.begin() + 5, order.end());
  for (std::uint32_t slot : order) {
    if (slot % 4 == 0) {
      m.leave_all(slot);
    } else {
      m.leave(slot, 1);
    }
    for (std::uint32_t other = 0; other < 40; ++other) {
      if (auto* e = m.entry(other, 1)) {
        ASSERT_EQ(e->last_seq, other) << other;
      }
      if (auto* e = m.entry(other, 2)) {
        ASSERT_EQ(e->last_seq, 1000 + other) << other;
      }
    }
  }
  for (std::uint32_t slot = 1; slot < 40; slot += 2) EXPECT_NE(m.entry(slot, 1), nullptr);
  EXPECT_EQ(m.find(1)->members.size(), 20u);
}
