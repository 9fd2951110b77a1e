#include "core/client_protocol.hpp"

#include "common/codec.hpp"
#include "core/refusal.hpp"

namespace wspush {
namespace {

ClientAction reply(Reason reason, std::string detail) {
  return {ClientAction::Kind::reply, error_event(Refusal{reason, std::move(detail)})};
}

ClientAction member_text(RoomKind kind, std::string const& room_path, std::string_view text,
                         WallClock const& clock) {
  if (kind == RoomKind::echo) return {ClientAction::Kind::echo, {}};
  ClientMessage msg = decode_client_message(text);
  switch (msg.kind) {
    case ClientMessage::Kind::invalid:
      return reply(Reason::bad_message, msg.error);
    case ClientMessage::Kind::ping:
      return {ClientAction::Kind::reply, encode_text_event(200, "pong", iso8601_utc(clock.now()))};
    case ClientMessage::Kind::close:
      return {ClientAction::Kind::bye, {}};
    case ClientMessage::Kind::publish:
      if (kind != RoomKind::relay) {
        return reply(Reason::publish_forbidden,
                     "room " + room_path + " is a " + std::string(to_string(kind)) +
                         " room: clients may publish only in relay rooms");
      }
      return {ClientAction::Kind::publish, std::move(msg.data)};
  }
  return reply(Reason::bad_message, "unreadable message");
}

// Whatever a waiting or leaving session sends, text or binary, does the same.
bool decided_by_role(SessionRole role, ClientAction& out) {
  if (role == SessionRole::waiting) out = {ClientAction::Kind::ignore, {}};
  if (role == SessionRole::leaving) out = {ClientAction::Kind::end_linger, {}};
  return role == SessionRole::waiting || role == SessionRole::leaving;
}

}  // namespace

ClientAction decide_client_text(SessionRole role, RoomKind kind, std::string const& room_path,
                                std::string_view text, WallClock const& clock) {
  ClientAction action;
  if (decided_by_role(role, action)) return action;
  if (role == SessionRole::publisher) return {ClientAction::Kind::stream, std::string(text)};
  return member_text(kind, room_path, text, clock);
}

ClientAction decide_client_binary(SessionRole role, RoomKind kind) {
  ClientAction action;
  if (decided_by_role(role, action)) return action;
  if (role == SessionRole::publisher) {
    return reply(Reason::bad_message, "a publish stream takes JSON text frames");
  }
  if (kind == RoomKind::echo) return {ClientAction::Kind::echo, {}};
  return reply(Reason::binary_message,
               "binary frames are not accepted here: send JSON text frames");
}

std::string bye_event() {
  return encode_text_event(200, "bye", "bye");
}

}  // namespace wspush
