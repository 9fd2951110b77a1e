#include "core/client_protocol.hpp"

#include "common/codec.hpp"
#include "core/refusal.hpp"

namespace wspush {

ClientAction decide_client_text(RoomKind kind, std::string const& room_path, std::string_view text,
                                WallClock const& clock) {
  ClientMessage msg = decode_client_message(text);
  switch (msg.kind) {
    case ClientMessage::Kind::invalid:
      return {ClientAction::Kind::reply, error_event(Refusal{Reason::bad_message, msg.error})};
    case ClientMessage::Kind::ping:
      return {ClientAction::Kind::reply, encode_text_event(200, "pong", iso8601_utc(clock.now()))};
    case ClientMessage::Kind::close:
      return {ClientAction::Kind::close, {}};
    case ClientMessage::Kind::publish:
      if (kind != RoomKind::relay) {
        return {ClientAction::Kind::reply,
                error_event(Refusal{Reason::publish_forbidden,
                                    "room " + room_path + " is a " + std::string(to_string(kind)) +
                                        " room: clients may publish only in relay rooms"})};
      }
      return {ClientAction::Kind::publish, std::move(msg.data)};
  }
  return {ClientAction::Kind::reply,
          error_event(Refusal{Reason::bad_message, "unreadable message"})};
}

std::string binary_refusal() {
  return error_event(Refusal{Reason::binary_message,
                             "binary frames are not accepted here: send JSON text frames"});
}

}  // namespace wspush
