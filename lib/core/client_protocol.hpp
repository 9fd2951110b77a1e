// What a session's frame asks for (SPEC §3), decided in this one place, on the session's
// own loop and without the Hub: most answers concern only the sender (pong, 400, 403,
// an echo) and are sent from its loop; a relay publish and a publish stream's frame need
// the Hub (seq, history), a bye needs it to leave the room.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/duration.hpp"
#include "common/timefmt.hpp"
#include "core/room.hpp"

namespace wspush {

// What a session is to the protocol, as its loop knows it.
enum class SessionRole : std::uint8_t {
  waiting,    // joined a room whose stream is not ready yet: its frames are not read
  member,     // in its room (of `kind`)
  publisher,  // a publish stream (/api/publish): every text frame is an event
  leaving,    // said bye: the next frame from the client ends the linger
};

struct ClientAction {
  enum class Kind {
    reply,       // send `text` (a text frame) back to the sender; nothing else changes
    echo,        // send the frame back unchanged (echo rooms)
    publish,     // broadcast `text` (the publish's data, compact JSON) to the member's room
    stream,      // a publish stream's frame: `text` is the event's data, for the Hub
    bye,         // leave the room, say bye, close 1000 after kByeLinger
    end_linger,  // close 1000 now (the client spoke after the bye)
    ignore,
  };
  Kind kind = Kind::ignore;
  std::string text;
};

// For a session in `role`; a member's room is `kind` at `room_path`.
ClientAction decide_client_text(SessionRole role, RoomKind kind, std::string const& room_path,
                                std::string_view text, WallClock const& clock);
ClientAction decide_client_binary(SessionRole role, RoomKind kind);

// Close codes and timing of the bye (RFC 6455 §7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
// After the bye, how long the server waits before its close frame unless the client
// sends anything first. The reference async client answers the bye with a second
// {"event":"close"}; closing at once made that send fail and the client exit 1.
inline constexpr Duration kByeLinger = std::chrono::milliseconds(250);

// {"status":200,"event":"bye","data":"bye"}.
std::string bye_event();

}  // namespace wspush
