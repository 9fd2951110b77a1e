// Which of a loop's sessions are in which rooms: a broadcast walks only the room's
// members on this loop, and a session that goes leaves every room it is in. Sessions are
// named by their slot on the loop (session_table.hpp). A member's entry keeps the last
// seq queued to it (the slow-consumer close names it). Bookkeeping only: no session, no
// I/O.
//
// Threading: the loop's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/metrics.hpp"
#include "core/outbox.hpp"
#include "core/room.hpp"

namespace wspush {

class RoomMembers {
 public:
  struct Entry {
    std::uint32_t slot;
    bool tagged;             // by a subscription: its messages name the room
    bool deflate;            // it takes compressed messages (permessage-deflate)
    std::uint64_t last_seq;  // the last room seq queued to the member
  };
  // A room with members on this loop.
  struct Room {
    RoomId id = 0;
    RoomKind kind = RoomKind::feed;
    std::shared_ptr<std::string const> path;
    SlowConsumerPolicy policy = SlowConsumerPolicy::disconnect;
    std::shared_ptr<RoomCounters> counters;
    std::vector<Entry> members;  // in no order
  };

  // `slot` receives the room's broadcasts from now on (once, however often it joins),
  // up to date to `last_seq`. Returns its entry, valid until the room's members change.
  Entry& join(std::uint32_t slot, RoomJoin const& join, std::uint64_t last_seq);
  // `slot` receives no more of `room`; false when it was not a member.
  bool leave(std::uint32_t slot, RoomId room);
  // `slot` leaves every room it is in.
  void leave_all(std::uint32_t slot);

  Room* find(RoomId room);
  Entry* entry(std::uint32_t slot, RoomId room);
  // The rooms `slot` is in (the first it joined first, while it stays).
  std::vector<Room*> rooms_of(std::uint32_t slot) const;
  bool in_any(std::uint32_t slot) const;
  std::size_t room_count() const { return rooms_.size(); }

 private:
  struct Place {
    Room* room = nullptr;
    std::uint32_t index = 0;  // in room->members
  };
  // A slot's places; most sessions are in one room, held without an allocation.
  struct Places {
    Place first;
    std::unique_ptr<std::vector<Place>> more;
  };
  Place* place(std::uint32_t slot, RoomId room);
  void remove_place(std::uint32_t slot, Room* room);

  std::unordered_map<RoomId, Room> rooms_;  // nodes: a Room's address is stable
  std::vector<Places> places_;              // by slot
};

}  // namespace wspush
