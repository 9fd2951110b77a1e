#include "server/loop/room_members.hpp"

namespace wspush {

RoomMembers::Entry& RoomMembers::join(std::uint32_t slot, RoomJoin const& join,
                                      std::uint64_t last_seq) {
  if (Entry* known = entry(slot, join.room)) return *known;
  auto [it, inserted] = rooms_.try_emplace(join.room);
  Room& room = it->second;
  if (inserted) {
    room = Room{join.room,   join.kind,     std::make_shared<std::string const>(join.path),
                join.policy, join.counters, {}};
  }
  Place const p{&room, static_cast<std::uint32_t>(room.members.size())};
  room.members.push_back(Entry{slot, join.tagged, join.deflate, last_seq});
  if (slot >= places_.size()) places_.resize(slot + 1);
  Places& places = places_[slot];
  if (!places.first.room) {
    places.first = p;
  } else {
    if (!places.more) places.more = std::make_unique<std::vector<Place>>();
    places.more->push_back(p);
  }
  return room.members.back();
}

RoomMembers::Place* RoomMembers::place(std::uint32_t slot, RoomId room) {
  if (slot >= places_.size()) return nullptr;
  Places& places = places_[slot];
  if (places.first.room && places.first.room->id == room) return &places.first;
  if (places.more) {
    for (Place& p : *places.more) {
      if (p.room->id == room) return &p;
    }
  }
  return nullptr;
}

RoomMembers::Entry* RoomMembers::entry(std::uint32_t slot, RoomId room) {
  Place const* p = place(slot, room);
  return p ? &p->room->members[p->index] : nullptr;
}

RoomMembers::Room* RoomMembers::find(RoomId room) {
  auto const it = rooms_.find(room);
  return it == rooms_.end() ? nullptr : &it->second;
}

bool RoomMembers::leave(std::uint32_t slot, RoomId room_id) {
  Place* p = place(slot, room_id);
  if (!p) return false;
  Room* room = p->room;
  // Swap with the last member: O(1), the order of members does not matter.
  std::uint32_t const index = p->index;
  Entry const last = room->members.back();
  room->members[index] = last;
  room->members.pop_back();
  if (last.slot != slot) place(last.slot, room_id)->index = index;
  remove_place(slot, room);
  if (room->members.empty()) rooms_.erase(room_id);
  return true;
}

// Drops `slot`'s place in `room`; the first place is refilled from the others.
void RoomMembers::remove_place(std::uint32_t slot, Room* room) {
  Places& places = places_[slot];
  if (places.first.room == room) {
    places.first = Place{};
    if (places.more && !places.more->empty()) {
      places.first = places.more->front();
      places.more->erase(places.more->begin());
    }
  } else if (places.more) {
    for (auto it = places.more->begin(); it != places.more->end(); ++it) {
      if (it->room == room) {
        places.more->erase(it);
        break;
      }
    }
  }
  if (places.more && places.more->empty()) places.more.reset();
}

void RoomMembers::leave_all(std::uint32_t slot) {
  while (slot < places_.size() && places_[slot].first.room) {
    leave(slot, places_[slot].first.room->id);
  }
}

std::vector<RoomMembers::Room*> RoomMembers::rooms_of(std::uint32_t slot) const {
  std::vector<Room*> out;
  if (slot >= places_.size() || !places_[slot].first.room) return out;
  out.push_back(places_[slot].first.room);
  if (places_[slot].more) {
    for (Place const& p : *places_[slot].more) out.push_back(p.room);
  }
  return out;
}

bool RoomMembers::in_any(std::uint32_t slot) const {
  return slot < places_.size() && places_[slot].first.room != nullptr;
}

}  // namespace wspush
