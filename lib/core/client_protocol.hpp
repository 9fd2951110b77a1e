// What a session's frame asks for (SPEC §3, §3.1), decided in this one place, on the
// session's own loop and without the Hub: most answers concern only the sender (pong,
// 400, 403, an echo) and are sent from its loop; a publish, a publish stream's frame, a
// subscribe and an unsubscribe need the Hub (seq, history, rooms), a bye needs it to
// leave the rooms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/duration.hpp"
#include "common/timefmt.hpp"
#include "core/room.hpp"

namespace wspush {

// What a session is to the protocol, as its loop knows it.
enum class SessionRole : std::uint8_t {
  waiting,    // joined a room whose stream is not ready yet: its frames are not read
  member,     // in its URL's room, if it has one, and in the rooms it subscribed to
  publisher,  // a publish stream (/api/publish): every text frame is an event
  leaving,    // said bye: the next frame from the client ends the linger
};

struct ClientAction {
  enum class Kind {
    reply,        // send `text` (a text frame) back to the sender; nothing else changes
    echo,         // send the frame back unchanged (echo rooms)
    publish,      // broadcast `text` (the data, compact JSON) to `room`, or the URL's room
    stream,       // a publish stream's frame: `text` is the event's data, for the Hub
    subscribe,    // follow `room` (a path or a family pattern), from `since` of `epoch`
    unsubscribe,  // stop following `room`
    bye,          // leave the room, say bye, close 1000 after kByeLinger
    end_linger,   // close 1000 now (the client spoke after the bye)
    ignore,
  };
  Kind kind = Kind::ignore;
  std::string text;
  std::optional<std::string> room;  // publish (when named), subscribe, unsubscribe
  std::optional<std::uint64_t> since;
  std::optional<std::uint64_t> epoch;
};

// What the loop knows of the session a frame comes from.
struct FrameContext {
  SessionRole role = SessionRole::waiting;
  RoomKind kind = RoomKind::feed;          // its URL's room's
  std::string const* room_path = nullptr;  // its URL's room; nullptr: none (a connection to /)
};

ClientAction decide_client_text(FrameContext const& session, std::string_view text,
                                WallClock const& clock);
ClientAction decide_client_binary(FrameContext const& session);

// Close codes and timing of the bye (RFC 6455 §7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
// DELETE /api/rooms of the connection's URL room.
inline constexpr std::uint16_t kCloseRoomDeleted = 4012;
// After the bye, how long the server waits before its close frame unless the client
// sends anything first. The reference async client answers the bye with a second
// {"event":"close"}; closing at once made that send fail and the client exit 1.
inline constexpr Duration kByeLinger = std::chrono::milliseconds(250);

// {"status":200,"event":"bye","data":"bye"}.
std::string bye_event();

}  // namespace wspush
