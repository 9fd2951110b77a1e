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

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "server/loop/member.hpp"
#include "server/loop/room_members.hpp"

namespace wspush {

// `Session` is what member.hpp describes (WsSession; a fake in tests), called directly:
// the pacer is on every delivery's path. `Sessions` finds the open session of a slot
// (`Session* operator()(std::uint32_t slot)`, nullptr when there is none).
template <typename Session, typename Sessions>
class Pacer {
 public:
  Pacer(std::size_t send_buffer, std::size_t loop_index, LoopCounters& counters,
        RoomMembers& members, Sessions sessions)
      : send_buffer_(send_buffer),
        loop_(loop_index),
        counters_(counters),
        members_(members),
        member_at_(std::move(sessions)) {}

  // One room message (numbered `seq`) for `session`, the member `entry` of `room`:
  // queued, held behind its replay, or the room's policy applied. Returns whether it
  // still receives.
  bool offer(RoomMembers::Room& room, RoomMembers::Entry& entry, Session& session,
             Payload const& framed, std::uint64_t seq);
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
  void pump(std::uint32_t slot, Session& member, bool may_write);
  bool apply_policy(RoomMembers::Room& room, RoomMembers::Entry& entry, Payload const& framed,
                    std::uint64_t seq);
  void set_last_seq(std::uint32_t slot, RoomId room, std::uint64_t seq);
  void cut(std::uint32_t slot, Session& member, std::string const& reason);
  void delivered(Payload const& framed);

  std::size_t const send_buffer_;
  std::size_t const loop_;
  LoopCounters& counters_;
  RoomMembers& members_;
  Sessions member_at_;
  std::vector<std::unique_ptr<Lag>> lags_;  // by slot
  std::vector<std::uint32_t> pending_slots_;
};

template <typename Session, typename Sessions>
typename Pacer<Session, Sessions>::Lag& Pacer<Session, Sessions>::lag(std::uint32_t slot) {
  if (slot >= lags_.size()) lags_.resize(slot + 1);
  if (!lags_[slot]) lags_[slot] = std::make_unique<Lag>();
  return *lags_[slot];
}

template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::caught_up(std::uint32_t slot) {
  if (slot < lags_.size() && lags_[slot] && lags_[slot]->idle()) lags_[slot].reset();
}

template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::delivered(Payload const& framed) {
  counters_.deliveries.add();
  counters_.bytes_queued.add(framed->size());
}

template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::set_last_seq(std::uint32_t slot, RoomId room, std::uint64_t seq) {
  if (RoomMembers::Entry* e = members_.entry(slot, room)) e->last_seq = seq;
}

template <typename Session, typename Sessions>
bool Pacer<Session, Sessions>::offer(RoomMembers::Room& room, RoomMembers::Entry& entry,
                                     Session& session, Payload const& framed, std::uint64_t seq) {
  std::uint32_t const slot = entry.slot;
  Session* member = &session;
  if (!member->open()) return false;
  Lag* l = slot < lags_.size() ? lags_[slot].get() : nullptr;
  if (l && l->replaying()) {
    // Behind the replay, within one more --send-buffer of live messages.
    if (l->live_bytes + framed->size() > send_buffer_) {
      return apply_policy(room, entry, framed, seq);
    }
    l->backlog.push_back(Queued{framed, room.id, seq, true});
    l->live_bytes += framed->size();
    return true;
  }
  if (!member->make_room_for(framed->size())) return apply_policy(room, entry, framed, seq);
  if (l) {
    auto const superseded = std::find_if(l->pending.begin(), l->pending.end(),
                                         [&](Pending const& p) { return p.room == room.id; });
    if (superseded != l->pending.end()) {  // this newer message supersedes it
      room.counters->loop(loop_).dropped.add();
      counters_.slow_dropped.add();
      l->pending.erase(superseded);
      caught_up(slot);
    }
  }
  member->push(framed);
  entry.last_seq = seq;
  delivered(framed);
  return true;
}

// A member that cannot take `framed`: cut (`disconnect`) or keep only the newest
// (`latest`). Returns whether it is still receiving.
template <typename Session, typename Sessions>
bool Pacer<Session, Sessions>::apply_policy(RoomMembers::Room& room, RoomMembers::Entry& entry,
                                            Payload const& framed, std::uint64_t seq) {
  std::uint32_t const slot = entry.slot;
  if (room.policy == SlowConsumerPolicy::disconnect) {
    room.counters->loop(loop_).disconnected.add();
    counters_.slow_disconnected.add();
    if (Session* member = member_at_(slot)) {
      cut(slot, *member, "slow consumer: last seq " + std::to_string(entry.last_seq));
    }
    return false;
  }
  Lag& l = lag(slot);
  auto const older = std::find_if(l.pending.begin(), l.pending.end(),
                                  [&](Pending const& p) { return p.room == room.id; });
  if (older != l.pending.end()) {
    room.counters->loop(loop_).dropped.add();  // superseded by this newer one
    counters_.slow_dropped.add();
    older->framed = framed;
    older->seq = seq;
    return true;
  }
  if (l.pending.empty()) pending_slots_.push_back(slot);
  l.pending.push_back(Pending{room.id, framed, seq});
  return true;
}

template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::replay(std::uint32_t slot, RoomMembers::Room& room,
                                      std::vector<Payload> messages) {
  RoomMembers::Entry* e = members_.entry(slot, room.id);
  Session* member = member_at_(slot);
  if (!e || !member || messages.empty()) return;
  Lag& l = lag(slot);
  std::uint64_t seq = e->last_seq;
  for (Payload& m : messages) l.backlog.push_back(Queued{std::move(m), room.id, ++seq, false});
  pump(slot, *member, /*may_write=*/true);
}

// Moves what fits of a replay into the session's queue (`may_write`: hand the queue to
// the stream first if it is full), then asks to hear when the queue is empty.
template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::pump(std::uint32_t slot, Session& member, bool may_write) {
  if (!member.open() || slot >= lags_.size() || !lags_[slot]) return;
  Lag& l = *lags_[slot];
  while (l.replaying()) {
    Queued const& q = l.backlog[l.next];
    bool const fits =
        may_write ? member.make_room_for(q.framed->size()) : member.has_room_for(q.framed->size());
    if (!fits) {
      if (member.open()) member.notify_when_empty();
      return;
    }
    member.push(q.framed);
    if (q.live) l.live_bytes -= q.framed->size();
    ++l.next;
    set_last_seq(slot, q.room, q.seq);
    delivered(q.framed);
  }
  l.backlog = {};
  l.next = l.live_bytes = 0;
  caught_up(slot);
}

template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::on_queue_empty(std::uint32_t slot) {
  if (slot >= lags_.size() || !lags_[slot] || !lags_[slot]->replaying()) return;
  if (Session* member = member_at_(slot)) pump(slot, *member, /*may_write=*/false);
}

template <typename Session, typename Sessions>
bool Pacer<Session, Sessions>::send(std::uint32_t slot, Payload const& framed) {
  Session* member = member_at_(slot);
  if (!member || !member->open()) return false;
  if (!member->make_room_for(framed->size())) {
    cut(slot, *member, "slow consumer: sends faster than it reads");
    return false;
  }
  member->push(framed);
  delivered(framed);
  return true;
}

// `latest` members with a pending message get it once their queue has room.
template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::retry_pending() {
  std::vector<std::uint32_t> still;
  for (std::uint32_t const slot : pending_slots_) {
    Session* member = member_at_(slot);
    Lag* l = slot < lags_.size() ? lags_[slot].get() : nullptr;
    if (!member || !member->open() || !l || l->pending.empty()) continue;
    if (l->replaying()) {
      still.push_back(slot);
      continue;
    }
    std::size_t sent = 0;
    for (Pending const& p : l->pending) {
      if (!member->make_room_for(p.framed->size())) break;
      member->push(p.framed);
      set_last_seq(slot, p.room, p.seq);
      delivered(p.framed);
      ++sent;
    }
    l->pending.erase(l->pending.begin(), l->pending.begin() + static_cast<std::ptrdiff_t>(sent));
    if (!l->pending.empty()) still.push_back(slot);
    caught_up(slot);
  }
  pending_slots_ = std::move(still);
}

// Closes a slow member with 4008; what is queued still goes out before the close.
template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::cut(std::uint32_t slot, Session& member, std::string const& reason) {
  if (!member.open()) return;
  if (slot < lags_.size()) lags_[slot].reset();
  spdlog::info("session in slot {} of loop {} from {}: {}", slot, loop_, member.remote(), reason);
  member.close(kCloseSlowConsumer, reason);
}

template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::forget_room(std::uint32_t slot, RoomId room) {
  if (slot >= lags_.size() || !lags_[slot]) return;
  Lag& l = *lags_[slot];
  l.pending.erase(std::remove_if(l.pending.begin(), l.pending.end(),
                                 [room](Pending const& p) { return p.room == room; }),
                  l.pending.end());
  std::vector<Queued> kept;
  for (std::size_t i = l.next; i < l.backlog.size(); ++i) {
    if (l.backlog[i].room == room) {
      if (l.backlog[i].live) l.live_bytes -= l.backlog[i].framed->size();
      continue;
    }
    kept.push_back(std::move(l.backlog[i]));
  }
  l.backlog = std::move(kept);
  l.next = 0;
  caught_up(slot);
}

template <typename Session, typename Sessions>
void Pacer<Session, Sessions>::forget(std::uint32_t slot) {
  if (slot < lags_.size()) lags_[slot].reset();
}

}  // namespace wspush
