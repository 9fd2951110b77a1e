// What a room member's text frame asks for (SPEC §3), decided without the Hub: most
// answers concern only the sender (pong, 400, 403) and are sent from the sender's own
// event loop; only a relay publish and a close need the Hub (seq, membership).
#pragma once

#include <string>
#include <string_view>

#include "common/timefmt.hpp"
#include "core/room.hpp"

namespace wspush {

struct ClientAction {
  enum class Kind {
    reply,    // send `text` back to the sender; nothing else changes
    publish,  // broadcast `text` (the publish's data, compact JSON) to the room
    close,    // stop room traffic, say bye, close 1000
  };
  Kind kind = Kind::reply;
  std::string text;
};

// For a member of a room of `kind` at `room_path` (not echo: echo rooms send frames
// back unread).
ClientAction decide_client_text(RoomKind kind, std::string const& room_path, std::string_view text,
                                WallClock const& clock);

// The 400 a non-echo room answers to a binary frame.
std::string binary_refusal();

}  // namespace wspush
