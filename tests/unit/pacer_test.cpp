// The slow-consumer policy and the pacing of replays (server/loop/pacer.hpp), the real
// code, with fake members whose queues the tests fill and empty by hand.
#include "server/loop/pacer.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "common/frame.hpp"
#include "fake_member.hpp"

using namespace wspush;
using namespace wspush::test;

namespace {

Payload message(std::uint64_t seq, std::size_t size = 40) {
  std::string data = std::to_string(seq);
  data.resize(size, '.');
  return framed_message(Opcode::text, data);
}

class PacerTest : public ::testing::Test {
 protected:
  RoomMembers::Room& join(std::uint32_t slot, RoomId id, RoomKind kind, std::uint64_t last = 0) {
    RoomJoin j;
    j.room = id;
    j.kind = kind;
    j.path = "/room" + std::to_string(id);
    j.policy = default_slow_consumer_policy(kind);
    j.counters =
        counters_of[id] ? counters_of[id] : (counters_of[id] = std::make_shared<RoomCounters>(1));
    members.join(slot, j, last);
    return *members.find(id);
  }
  // Every member of `room` offered the message numbered `seq`.
  void broadcast(RoomId id, std::uint64_t seq, std::size_t size = 40) {
    RoomMembers::Room* room = members.find(id);
    Payload const framed = message(seq, size);
    for (auto& e : room->members) pacer.offer(*room, e, fake[e.slot], framed, seq);
  }
  std::uint64_t last_seq(std::uint32_t slot, RoomId id) {
    return members.entry(slot, id)->last_seq;
  }
  std::vector<std::uint64_t> seqs(std::uint32_t slot) {
    std::vector<std::uint64_t> out;
    for (std::string const& s : fake[slot].take()) out.push_back(std::stoull(s));
    return out;
  }

  std::map<std::uint32_t, FakeMember> fake;
  std::map<RoomId, std::shared_ptr<RoomCounters>> counters_of;
  LoopCounters loop;
  RoomMembers members;
  using Lookup = std::function<FakeMember*(std::uint32_t)>;
  Pacer<FakeMember, Lookup> pacer{200, 0, loop, members, [this](std::uint32_t slot) -> FakeMember* {
                                    auto const it = fake.find(slot);
                                    return it == fake.end() || !it->second.is_open ? nullptr
                                                                                   : &it->second;
                                  }};
};

}  // namespace

TEST_F(PacerTest, DisconnectCutsASlowMemberWith4008NamingItsLastSeqAndTheRoomGoesOn) {
  fake.emplace(0, FakeMember{});
  fake.emplace(1, FakeMember{100});  // two 42-byte frames fill it
  join(0, 1, RoomKind::feed);
  join(1, 1, RoomKind::feed);
  for (std::uint64_t seq = 1; seq <= 4; ++seq) broadcast(1, seq);
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{1, 2, 3, 4}));  // the room never waited
  EXPECT_EQ(seqs(1), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(fake[1].close_code, kCloseSlowConsumer);
  EXPECT_EQ(fake[1].close_reason, "slow consumer: last seq 2");
  EXPECT_EQ(counters_of[1]->disconnected(), 1u);  // counted once
  EXPECT_EQ(loop.slow_disconnected.get(), 1u);
  EXPECT_EQ(counters_of[1]->dropped(), 0u);
  EXPECT_EQ(loop.deliveries.get(), 6u);
}

TEST_F(PacerTest, LatestKeepsOnlyTheNewestMessageAndOffersItAgainWhenTheQueueHasRoom) {
  fake.emplace(0, FakeMember{50});  // one frame fills it
  join(0, 1, RoomKind::ticker);
  broadcast(1, 1);
  broadcast(1, 2);  // waits
  broadcast(1, 3);  // supersedes 2
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(pacer.has_pending());
  EXPECT_EQ(counters_of[1]->dropped(), 1u);
  EXPECT_EQ(loop.slow_dropped.get(), 1u);
  pacer.retry_pending();  // still full: nothing moves
  EXPECT_TRUE(fake[0].take().empty());
  fake[0].read_all();
  pacer.retry_pending();
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(last_seq(0, 1), 3u);
  EXPECT_FALSE(pacer.has_pending());
  EXPECT_FALSE(pacer.behind(0));  // caught up: nothing of it is kept
  // A message that finds room while an older one waits supersedes it there and then.
  broadcast(1, 4);  // the queue holds 3: waits
  fake[0].read_all();
  broadcast(1, 5);
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{5}));
  EXPECT_EQ(counters_of[1]->dropped(), 2u);
  EXPECT_EQ(fake[0].close_code, 0);  // never cut
}

TEST_F(PacerTest, AReplayGoesOutAsTheMemberReadsWithLiveMessagesBehindIt) {
  fake.emplace(0, FakeMember{100});                     // two frames at a time
  auto& room = join(0, 1, RoomKind::feed, /*last=*/2);  // up to 2 before the replay of 3..5
  std::vector<Payload> replay{message(3), message(4), message(5)};
  pacer.replay(0, room, replay);
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_TRUE(fake[0].drain_asked);
  broadcast(1, 6);  // live: waits behind the replay
  EXPECT_TRUE(fake[0].take().empty());
  fake[0].read_all();
  pacer.on_queue_empty(0);
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{5, 6}));
  EXPECT_EQ(last_seq(0, 1), 6u);
  fake[0].read_all();
  pacer.on_queue_empty(0);
  EXPECT_FALSE(pacer.behind(0));
  broadcast(1, 7);
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{7}));
}

TEST_F(PacerTest, LiveMessagesWaitBehindAReplayWithinOneMoreSendBuffer) {
  fake.emplace(0, FakeMember{50});
  auto& room = join(0, 1, RoomKind::feed, 0);
  pacer.replay(0, room, {message(1), message(2)});
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{1}));
  for (std::uint64_t seq = 3; seq <= 6; ++seq) broadcast(1, seq);  // 4 x 42 bytes: they wait
  EXPECT_EQ(fake[0].close_code, 0);
  broadcast(1, 7);  // one more than 200 bytes behind the replay
  EXPECT_EQ(fake[0].close_code, kCloseSlowConsumer);
  EXPECT_EQ(fake[0].close_reason, "slow consumer: last seq 1");
}

TEST_F(PacerTest, LeavingARoomDropsWhatOfItWaitsAndKeepsTheRest) {
  fake.emplace(0, FakeMember{50});
  auto& a = join(0, 1, RoomKind::feed, 0);
  auto& b = join(0, 2, RoomKind::feed, 10);
  pacer.replay(0, a, {message(1), message(2), message(3)});
  pacer.replay(0, b, {message(11), message(12)});
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{1}));
  pacer.forget_room(0, 1);  // unsubscribed during the replay
  members.leave(0, 1);
  fake[0].read_all();
  pacer.on_queue_empty(0);
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{11}));
  fake[0].read_all();
  pacer.on_queue_empty(0);
  EXPECT_EQ(seqs(0), (std::vector<std::uint64_t>{12}));
  EXPECT_EQ(last_seq(0, 2), 12u);
  EXPECT_FALSE(pacer.behind(0));
}

TEST_F(PacerTest, ASessionThatDoesNotReadItsRepliesIsCut) {
  fake.emplace(0, FakeMember{50});
  EXPECT_TRUE(pacer.send(0, message(1)));
  EXPECT_FALSE(pacer.send(0, message(2)));
  EXPECT_EQ(fake[0].close_code, kCloseSlowConsumer);
  EXPECT_EQ(fake[0].close_reason, "slow consumer: sends faster than it reads");
  EXPECT_FALSE(pacer.send(7, message(3)));  // no such session
}
