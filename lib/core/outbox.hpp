// What the core asks of a transport. The Hub decides; the transport delivers.
// Implementations: the websocketpp server (lib/net) and fakes in tests/unit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"
#include "core/frame.hpp"
#include "core/payload.hpp"
#include "core/room.hpp"

namespace wspush {

class Outbox {
 public:
  virtual ~Outbox() = default;
  // One message to one session. A session whose send queue is full (it sends faster
  // than it reads) is cut off rather than queued for without bound.
  virtual void send(SessionId to, Opcode opcode, Payload const& message) = 0;
  // A ?since= replay (possibly empty), queued whatever the send queue holds, since the
  // history bounds it; after it the session is up to `last_seq` of its room.
  virtual void send_replay(SessionId to, std::vector<Payload> const& messages,
                           std::uint64_t last_seq) = 0;
  // One text message (a room broadcast numbered `seq`) to many sessions: the transport
  // frames it once for all of them. A member whose send queue cannot take it is
  // handled by `policy`; the transport reports those members (messages dropped,
  // members cut off) through Hub::count_slow(room, ...) once it has delivered.
  virtual void broadcast(std::string const& room, std::vector<SessionId> const& to,
                         Payload const& message, std::uint64_t seq, SlowConsumerPolicy policy) = 0;
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
