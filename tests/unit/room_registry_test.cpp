#include "core/room_registry.hpp"

#include <gtest/gtest.h>

using namespace wspush;

namespace {
RoomSpec spec(const char* text) {
  return *parse_room_spec(text).spec;
}
}  // namespace

TEST(RoomSpec, ParsesPathKindAndFamily) {
  auto const plain = parse_room_spec("/news");
  ASSERT_TRUE(plain.spec);
  EXPECT_EQ(plain.spec->path, "/news");
  EXPECT_EQ(plain.spec->kind, RoomKind::feed);
  EXPECT_FALSE(plain.spec->family);

  auto const fam = parse_room_spec("/chat/*:relay");
  ASSERT_TRUE(fam.spec);
  EXPECT_EQ(fam.spec->path, "/chat/");
  EXPECT_EQ(fam.spec->kind, RoomKind::relay);
  EXPECT_TRUE(fam.spec->family);
}

TEST(RoomSpec, RefusesBadSpecs) {
  for (auto text : {"news", "/x:party", "/a*b", "/x?y", ":ticker", "/x/*/y"}) {
    auto const r = parse_room_spec(text);
    EXPECT_FALSE(r.spec) << text;
    EXPECT_FALSE(r.error.empty()) << text;
  }
}

TEST(RoomRegistry, ResolvesDeclaredRoomsAndFamilies) {
  RoomRegistry reg;
  EXPECT_EQ(reg.declare(spec("/nowtime:ticker")), "");
  EXPECT_EQ(reg.declare(spec("/chat/*:relay")), "");
  EXPECT_EQ(reg.declare(spec("/chat/ops/*:echo")), "");
  EXPECT_EQ(reg.resolve("/nowtime"), RoomKind::ticker);
  EXPECT_EQ(reg.resolve("/chat/a"), RoomKind::relay);
  EXPECT_EQ(reg.resolve("/chat/a/b"), RoomKind::relay);
  EXPECT_EQ(reg.resolve("/chat/ops/x"), RoomKind::echo);  // longest prefix wins
  EXPECT_EQ(reg.resolve("/chat"), std::nullopt);          // the family root is not a room
  EXPECT_EQ(reg.resolve("/chat/"), std::nullopt);
  EXPECT_EQ(reg.resolve("/nowtime/x"), std::nullopt);
}

TEST(RoomRegistry, RefusesDuplicates) {
  RoomRegistry reg;
  EXPECT_EQ(reg.declare(spec("/a")), "");
  EXPECT_NE(reg.declare(spec("/a:relay")), "");
  EXPECT_EQ(reg.declare(spec("/f/*")), "");
  EXPECT_NE(reg.declare(spec("/f/*:echo")), "");
}

TEST(RoomRegistry, FamilyRoomsComeAndGo) {
  RoomRegistry reg;
  reg.declare(spec("/chat/*:relay"));
  reg.declare(spec("/fixed"));
  bool created = false;
  Room* room = reg.get_or_create("/chat/a", &created);
  ASSERT_NE(room, nullptr);
  EXPECT_TRUE(created);
  EXPECT_TRUE(room->dynamic());
  EXPECT_EQ(reg.get_or_create("/chat/a", &created), room);
  EXPECT_FALSE(created);
  EXPECT_EQ(reg.get_or_create("/other", &created), nullptr);

  room->add_member();
  EXPECT_FALSE(reg.drop_if_unused(*room, false));
  room->remove_member();
  EXPECT_FALSE(reg.drop_if_unused(*room, true));  // it still holds history
  EXPECT_TRUE(reg.drop_if_unused(*room, false));
  EXPECT_EQ(reg.find("/chat/a"), nullptr);

  Room* fixed = reg.find("/fixed");
  ASSERT_NE(fixed, nullptr);
  EXPECT_FALSE(reg.drop_if_unused(*fixed, false));  // declared rooms stay
}

TEST(RoomRegistry, EveryRoomInstanceHasItsOwnId) {
  RoomRegistry reg;
  reg.declare(spec("/chat/*:relay"));
  reg.declare(spec("/fixed"));
  Room* a = reg.get_or_create("/chat/a", nullptr);
  RoomId const first = a->id();
  EXPECT_NE(first, reg.find("/fixed")->id());
  EXPECT_TRUE(reg.drop_if_unused(*a, false));
  // The same path again is a new room: deliveries queued for the old one cannot reach it.
  EXPECT_NE(reg.get_or_create("/chat/a", nullptr)->id(), first);
}

TEST(Room, TickEventIsTheLastSegment) {
  EXPECT_EQ(
      Room(1, "/nowtime", RoomKind::ticker, false, 0, SlowConsumerPolicy::latest, 1).tick_event(),
      "nowtime");
  EXPECT_EQ(
      Room(2, "/a/b/clock", RoomKind::ticker, false, 0, SlowConsumerPolicy::latest, 1).tick_event(),
      "clock");
  EXPECT_EQ(Room(3, "/", RoomKind::ticker, false, 0, SlowConsumerPolicy::latest, 1).tick_event(),
            "tick");
}
