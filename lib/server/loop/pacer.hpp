// How room messages reach a loop's members when some cannot keep up (SPEC §6): the
// slow-consumer policy and the pacing of ?since= replays. A member's queue is bounded by
// --send-buffer; the rest of the room never waits for it:
//  - `disconnect`: a member whose queue cannot take a message is closed with 4008, the
//    reason naming the last seq queued to it, so it can resume with ?since=;
//  - `latest`: it keeps only the newest message it could not take, offered again as its
//    queue empties (retry_pending(), on a short timer the shard arms);
//  - a replay goes out as the member reads: what does not fit waits here, and live
//    messages wait behind it, within one more --send-buffer, so that a member that reads
//    gets all of it in order and one that does not pins no more.
// What a member missed is counted in its room's RoomCounters and the loop's counters.
// Most members are never behind: one costs a null pointer here.
//
// Threading: the loop's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "server/loop/member.hpp"
#include "server/loop/room_members.hpp"

namespace wspush {

class Pacer {
 public:
  // `member_at` finds the open session of a slot (nullptr when there is none).
  Pacer(std::size_t send_buffer, std::size_t loop_index, LoopCounters& counters,
        RoomMembers& members, std::function<Member*(std::uint32_t slot)> member_at);

  // One room message (numbered `seq`) for the member `entry` of `room`: queued, held
  // behind its replay, or the room's policy applied. Returns whether it still receives.
  bool offer(RoomMembers::Room& room, RoomMembers::Entry& entry, Payload const& framed,
             std::uint64_t seq);
  // A ?since= replay for `slot`'s entry of `room`: the messages just before its
  // last_seq, oldest first; as much as fits goes now, the rest as it reads.
  void replay(std::uint32_t slot, RoomMembers::Room& room, std::vector<Payload> messages);
  // `slot`'s send queue emptied (it asked to hear, WsSession::notify_when_empty).
  void on_queue_empty(std::uint32_t slot);
  // One message for one session (a reply, a greeting), bounded by the same queue: a
  // session that cannot take it is cut. Returns whether it was queued.
  bool send(std::uint32_t slot, Payload const& framed);
  // Whether `latest` members wait with a message; retry_pending() offers them theirs.
  bool has_pending() const { return !pending_slots_.empty(); }
  void retry_pending();
  // `slot` left `room`: nothing of it that waits here goes out.
  void forget_room(std::uint32_t slot, RoomId room);
  // The session in `slot` is gone: what waited for it is dropped.
  void forget(std::uint32_t slot);
  bool behind(std::uint32_t slot) const { return slot < lags_.size() && lags_[slot]; }

 private:
  struct Queued {
    Payload framed;
    RoomId room;
    std::uint64_t seq;
    bool live;  // a live message behind the replay, not one of it
  };
  struct Pending {  // `latest`: the newest message of a room it could not take yet
    RoomId room;
    Payload framed;
    std::uint64_t seq;
  };
  // What a member that fell behind needs; allocated only while it is behind.
  struct Lag {
    std::vector<Pending> pending;
    // A replay still going out: backlog[next..]; live messages wait behind it
    // (live_bytes of them, at most --send-buffer).
    std::vector<Queued> backlog;
    std::size_t next = 0;
    std::size_t live_bytes = 0;
    bool replaying() const { return next < backlog.size(); }
    bool idle() const { return pending.empty() && !replaying(); }
  };

  Lag& lag(std::uint32_t slot);
  void caught_up(std::uint32_t slot);  // drops the Lag once nothing in it is left
  void pump(std::uint32_t slot, Member& member, bool may_write);
  bool apply_policy(RoomMembers::Room& room, RoomMembers::Entry& entry, Payload const& framed,
                    std::uint64_t seq);
  void set_last_seq(std::uint32_t slot, RoomId room, std::uint64_t seq);
  void cut(std::uint32_t slot, Member& member, std::string const& reason);
  void delivered(Payload const& framed);

  std::size_t const send_buffer_;
  std::size_t const loop_;
  LoopCounters& counters_;
  RoomMembers& members_;
  std::function<Member*(std::uint32_t)> member_at_;
  std::vector<std::unique_ptr<Lag>> lags_;  // by slot
  std::vector<std::uint32_t> pending_slots_;
};

}  // namespace wspush
