// The protocol of SPEC §2–§3 without sockets: admits handshakes, joins sessions
// to rooms, answers client events, broadcasts ticks and relayed messages.
//
// Threading: a Hub and everything it owns is used by one thread only (the event
// loop that owns the connections); it holds no locks. Delivery goes through the
// injected Outbox and Timers, so tests drive it with fakes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/outbox.hpp"
#include "core/room_registry.hpp"
#include "core/timefmt.hpp"

namespace wspush {

struct HubOptions {
  Duration tick_interval = std::chrono::seconds(1);
};

// Why a handshake is refused: HTTP status and a JSON envelope for the body.
struct Refusal {
  int http_status;
  std::string body;
};

// Close codes the Hub uses (RFC 6455 §7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;

// After the bye, how long the server waits before its close frame unless the client
// sends anything first. The reference async client answers the bye with a second
// {"event":"close"}; closing at once made that send fail and the client exit 1.
inline constexpr Duration kByeLinger = std::chrono::milliseconds(250);

class Hub {
 public:
  Hub(RoomRegistry& rooms, Outbox& outbox, Timers& timers, WallClock const& clock,
      HubOptions options);

  // Starts the tickers of the declared ticker rooms.
  void start();

  // At the handshake: nullopt to accept `resource` (path and query), or a refusal.
  std::optional<Refusal> admit(std::string_view resource) const;
  // After the handshake: joins the room (admit() must have accepted), sends the
  // welcome and, in a ticker room, the current time.
  void join(SessionId id, std::string_view resource);
  // The connection is gone; idempotent.
  void leave(SessionId id);

  void on_text(SessionId id, std::string_view text);
  void on_binary(SessionId id, std::string_view data);

  // A ticker room's timer fired.
  void tick(std::string const& room_path);

  std::size_t sessions() const { return sessions_.size(); }

 private:
  struct Session {
    Room* room = nullptr;   // nullptr once it stopped receiving room traffic
    std::size_t index = 0;  // position in room->members()
    bool bye_sent = false;  // said bye; the next frame from the client ends the linger
  };

  void reply_error(SessionId id, int status, std::string_view reason);
  void detach(Session& session);
  void end_linger(SessionId id, Session& session);
  void publish(Room& room, std::string_view event, std::string_view json);
  void send(SessionId id, std::string message);

  RoomRegistry& rooms_;
  Outbox& outbox_;
  Timers& timers_;
  WallClock const& clock_;
  HubOptions options_;
  std::unordered_map<SessionId, Session> sessions_;
};

// The room part of a request target: "/chat?since=3" -> "/chat".
std::string_view room_path_of(std::string_view resource);

}  // namespace wspush
