#include "core/client_protocol.hpp"

#include "common/codec.hpp"
#include "core/refusal.hpp"

namespace wspush {
namespace {

ClientAction act_as(ClientAction::Kind kind, std::string text = {}) {
  ClientAction a;
  a.kind = kind;
  a.text = std::move(text);
  return a;
}

ClientAction reply(Reason reason, std::string detail) {
  return act_as(ClientAction::Kind::reply, error_event(Refusal{reason, std::move(detail)}));
}

ClientAction member_text(FrameContext const& session, std::string_view text,
                         WallClock const& clock) {
  if (session.room_path && session.kind == RoomKind::echo) return act_as(ClientAction::Kind::echo);
  ClientMessage msg = decode_client_message(text);
  ClientAction action;
  action.room = std::move(msg.room);
  switch (msg.kind) {
    case ClientMessage::Kind::invalid:
      return reply(Reason::bad_message, msg.error);
    case ClientMessage::Kind::ping:
      return act_as(ClientAction::Kind::reply,
                    encode_text_event(200, "pong", iso8601_utc(clock.now())));
    case ClientMessage::Kind::close:
      return act_as(ClientAction::Kind::bye);
    case ClientMessage::Kind::subscribe:
      action.kind = ClientAction::Kind::subscribe;
      action.since = msg.since;
      action.epoch = msg.epoch;
      return action;
    case ClientMessage::Kind::unsubscribe:
      action.kind = ClientAction::Kind::unsubscribe;
      return action;
    case ClientMessage::Kind::publish:
      action.kind = ClientAction::Kind::publish;
      action.text = std::move(msg.data);
      // A named room is the Hub's to check (the session may follow it); the URL's room is
      // checked here.
      if (action.room && (!session.room_path || *action.room != *session.room_path)) {
        return action;
      }
      if (!session.room_path) {
        return reply(Reason::bad_message,
                     "publish into which room? name it: {\"event\":\"publish\",\"room\":PATH,"
                     "\"data\":…}");
      }
      if (session.kind != RoomKind::relay) {
        return reply(Reason::publish_forbidden,
                     "room " + *session.room_path + " is a " +
                         std::string(to_string(session.kind)) +
                         " room: clients may publish only in relay rooms");
      }
      action.room.reset();  // the URL's room
      return action;
  }
  return reply(Reason::bad_message, "unreadable message");
}

// Whatever a waiting or leaving session sends, text or binary, does the same.
bool decided_by_role(SessionRole role, ClientAction& out) {
  if (role == SessionRole::waiting) out = act_as(ClientAction::Kind::ignore);
  if (role == SessionRole::leaving) out = act_as(ClientAction::Kind::end_linger);
  return role == SessionRole::waiting || role == SessionRole::leaving;
}

}  // namespace

ClientAction decide_client_text(FrameContext const& session, std::string_view text,
                                WallClock const& clock) {
  ClientAction action;
  if (decided_by_role(session.role, action)) return action;
  if (session.role == SessionRole::publisher) {
    return act_as(ClientAction::Kind::stream, std::string(text));
  }
  return member_text(session, text, clock);
}

ClientAction decide_client_binary(FrameContext const& session) {
  ClientAction action;
  if (decided_by_role(session.role, action)) return action;
  if (session.role == SessionRole::publisher) {
    return reply(Reason::bad_message, "a publish stream takes JSON text frames");
  }
  if (session.room_path && session.kind == RoomKind::echo) return act_as(ClientAction::Kind::echo);
  return reply(Reason::binary_message,
               "binary frames are not accepted here: send JSON text frames");
}

std::string bye_event() {
  return encode_text_event(200, "bye", "bye");
}

}  // namespace wspush
