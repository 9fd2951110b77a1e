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
  // One message to one session.
  virtual void send(SessionId to, Opcode opcode, Payload const& message) = 0;
  // One text message to many sessions: the transport frames it once for all of them.
  virtual void broadcast(std::vector<SessionId> const& to, Payload const& message) = 0;
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
