// What the core asks of a transport. The Hub decides; the transport delivers.
// Implementations: the server's shards (lib/server) and a fake in tests/unit.
//
// Every message handed over is already framed (common/frame.hpp): server frames are
// unmasked, so one buffer serves every member and the history. Room membership for
// fan-out lives with the transport (join/leave), so that each event loop walks only
// its own members of a room.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"
#include "common/payload.hpp"
#include "core/metrics.hpp"
#include "core/room.hpp"

namespace wspush {

// A session starts receiving a room's traffic: first `greeting` (the welcome, a ticker's
// time, the recovery event), then `replay`, then the room's broadcasts after last_seq.
struct RoomJoin {
  RoomId room = 0;
  RoomKind kind = RoomKind::feed;
  std::string path;
  SlowConsumerPolicy policy = SlowConsumerPolicy::disconnect;
  std::shared_ptr<RoomCounters> counters;  // where its slow-consumer events are counted
  std::vector<Payload> greeting;           // framed, sent first
  std::vector<Payload> replay;             // ?since=: framed, oldest first, before live traffic
  std::uint64_t last_seq = 0;              // after the replay, the member is up to here
  bool tagged = false;   // by a subscription: it gets the broadcasts that name the room
  bool deflate = false;  // it takes compressed messages (permessage-deflate)
};

// One room message in the forms its members take, each made once for all of them:
// `framed` for the members by the room's URL, `tagged` (naming the room; null when the
// room has no such member) for those by a subscription, and each compressed for the
// members that agreed to permessage-deflate (null when none needs it, compression is
// off or the message is under --compression-min-size: those members get it plain).
struct RoomMessage {
  Payload framed, tagged, framed_deflated, tagged_deflated;

  Payload const& for_member(bool by_subscription, bool deflate) const {
    if (by_subscription && tagged) return deflate && tagged_deflated ? tagged_deflated : tagged;
    return deflate && framed_deflated ? framed_deflated : framed;
  }
};

class Outbox {
 public:
  virtual ~Outbox() = default;
  // One message to one session. Counts against its send queue like everything else.
  virtual void send(SessionId to, Payload const& framed) = 0;
  // `to` gets `join.greeting` and `join.replay`, and `join.room`'s broadcasts from then on
  // (the replay counts against its send queue: the room's policy applies to it as to a
  // broadcast). For a session whose join waited (Hub::join), not at the handshake.
  virtual void join(SessionId to, RoomJoin join) = 0;
  // `id` receives no more of `room`'s traffic.
  virtual void leave(SessionId id, RoomId room) = 0;
  // One room broadcast numbered `seq` to the room's members, each in its form
  // (RoomMessage::for_member). A member whose send queue cannot take it is handled by
  // the room's policy and counted in its RoomCounters.
  virtual void broadcast(RoomId room, RoomMessage const& message, std::uint64_t seq) = 0;
  // Starts the closing handshake with `code` and `reason`, after `linger` unless a
  // second call without linger comes first (messages already sent still go out).
  virtual void close(SessionId id, std::uint16_t code, std::string_view reason,
                     Duration linger = Duration::zero()) = 0;
};

// One periodic timer per ticker room; on expiry the transport calls Hub::tick(path).
class Timers {
 public:
  virtual ~Timers() = default;
  virtual void start_ticker(std::string const& room_path, Duration interval) = 0;
  virtual void stop_ticker(std::string const& room_path) = 0;
};

}  // namespace wspush
