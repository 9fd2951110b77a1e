#include "server/loop/pacer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace wspush {

Pacer::Pacer(std::size_t send_buffer, std::size_t loop_index, LoopCounters& counters,
             RoomMembers& members, std::function<Member*(std::uint32_t slot)> member_at)
    : send_buffer_(send_buffer),
      loop_(loop_index),
      counters_(counters),
      members_(members),
      member_at_(std::move(member_at)) {}

Pacer::Lag& Pacer::lag(std::uint32_t slot) {
  if (slot >= lags_.size()) lags_.resize(slot + 1);
  if (!lags_[slot]) lags_[slot] = std::make_unique<Lag>();
  return *lags_[slot];
}

void Pacer::caught_up(std::uint32_t slot) {
  if (slot < lags_.size() && lags_[slot] && lags_[slot]->idle()) lags_[slot].reset();
}

void Pacer::delivered(Payload const& framed) {
  counters_.deliveries.add();
  counters_.bytes_queued.add(framed->size());
}

void Pacer::set_last_seq(std::uint32_t slot, RoomId room, std::uint64_t seq) {
  if (RoomMembers::Entry* e = members_.entry(slot, room)) e->last_seq = seq;
}

bool Pacer::offer(RoomMembers::Room& room, RoomMembers::Entry& entry, Payload const& framed,
                  std::uint64_t seq) {
  std::uint32_t const slot = entry.slot;
  Member* member = member_at_(slot);
  if (!member || !member->open()) return false;
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
bool Pacer::apply_policy(RoomMembers::Room& room, RoomMembers::Entry& entry, Payload const& framed,
                         std::uint64_t seq) {
  std::uint32_t const slot = entry.slot;
  if (room.policy == SlowConsumerPolicy::disconnect) {
    room.counters->loop(loop_).disconnected.add();
    counters_.slow_disconnected.add();
    if (Member* member = member_at_(slot)) {
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

void Pacer::replay(std::uint32_t slot, RoomMembers::Room& room, std::vector<Payload> messages) {
  RoomMembers::Entry* e = members_.entry(slot, room.id);
  Member* member = member_at_(slot);
  if (!e || !member || messages.empty()) return;
  Lag& l = lag(slot);
  std::uint64_t seq = e->last_seq;
  for (Payload& m : messages) l.backlog.push_back(Queued{std::move(m), room.id, ++seq, false});
  pump(slot, *member, /*may_write=*/true);
}

// Moves what fits of a replay into the session's queue (`may_write`: hand the queue to
// the stream first if it is full), then asks to hear when the queue is empty.
void Pacer::pump(std::uint32_t slot, Member& member, bool may_write) {
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

void Pacer::on_queue_empty(std::uint32_t slot) {
  if (slot >= lags_.size() || !lags_[slot] || !lags_[slot]->replaying()) return;
  if (Member* member = member_at_(slot)) pump(slot, *member, /*may_write=*/false);
}

bool Pacer::send(std::uint32_t slot, Payload const& framed) {
  Member* member = member_at_(slot);
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
void Pacer::retry_pending() {
  std::vector<std::uint32_t> still;
  for (std::uint32_t const slot : pending_slots_) {
    Member* member = member_at_(slot);
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
void Pacer::cut(std::uint32_t slot, Member& member, std::string const& reason) {
  if (!member.open()) return;
  if (slot < lags_.size()) lags_[slot].reset();
  spdlog::info("session in slot {} of loop {} from {}: {}", slot, loop_, member.remote(), reason);
  member.close(kCloseSlowConsumer, reason);
}

void Pacer::forget_room(std::uint32_t slot, RoomId room) {
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

void Pacer::forget(std::uint32_t slot) {
  if (slot < lags_.size()) lags_[slot].reset();
}

}  // namespace wspush
