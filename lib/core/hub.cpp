#include "core/hub.hpp"

#include "core/codec.hpp"

namespace wspush {

std::string_view room_path_of(std::string_view resource) {
  return resource.substr(0, resource.find_first_of("?#"));
}

Hub::Hub(RoomRegistry& rooms, Outbox& outbox, Timers& timers, WallClock const& clock,
         HubOptions options)
    : rooms_(rooms), outbox_(outbox), timers_(timers), clock_(clock), options_(options) {}

void Hub::start() {
  rooms_.for_each([this](Room& room) {
    if (room.kind() == RoomKind::ticker) timers_.start_ticker(room.path(), options_.tick_interval);
  });
}

std::optional<Refusal> Hub::admit(std::string_view resource) const {
  auto const path = room_path_of(resource);
  if (rooms_.resolve(path)) return std::nullopt;
  return Refusal{404, encode_text_event(404, "error", "unknown room: " + std::string(path))};
}

void Hub::join(SessionId id, std::string_view resource) {
  bool created = false;
  Room* room = rooms_.get_or_create(room_path_of(resource), &created);
  if (!room) {  // admit() was bypassed: refuse politely rather than crash
    reply_error(id, 404, "unknown room: " + std::string(room_path_of(resource)));
    outbox_.close(id, 1008, "unknown room");
    return;
  }
  if (created && room->kind() == RoomKind::ticker) {
    timers_.start_ticker(room->path(), options_.tick_interval);
  }
  sessions_[id] = Session{room, room->add(id)};
  // Echo rooms speak no protocol of their own: conformance suites and proxies see
  // exactly the frames they sent, nothing else.
  if (room->kind() == RoomKind::echo) return;
  send(id, encode_text_event(200, "notification", "Welcome"));
  if (room->kind() == RoomKind::ticker) {
    // Not a room broadcast, so no seq: the client's seq accounting stays exact.
    send(id, encode_text_event(200, room->tick_event(), iso8601_utc(clock_.now())));
  }
}

void Hub::detach(Session& session) {
  Room* room = session.room;
  if (!room) return;
  if (auto moved = room->remove_at(session.index)) sessions_[*moved].index = session.index;
  session.room = nullptr;
  if (room->dynamic() && room->empty()) {
    bool const ticker = room->kind() == RoomKind::ticker;
    std::string const path = room->path();
    if (rooms_.drop_if_unused(*room) && ticker) timers_.stop_ticker(path);
  }
}

void Hub::leave(SessionId id) {
  auto const it = sessions_.find(id);
  if (it == sessions_.end()) return;
  detach(it->second);
  sessions_.erase(id);
}

void Hub::on_text(SessionId id, std::string_view text) {
  auto const it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (!it->second.room) return end_linger(id, it->second);  // closing: ignore the rest
  Room& room = *it->second.room;
  if (room.kind() == RoomKind::echo) {
    outbox_.send(id, Opcode::text, std::make_shared<const std::string>(text));
    return;
  }
  ClientMessage const msg = decode_client_message(text);
  switch (msg.kind) {
    case ClientMessage::Kind::invalid:
      reply_error(id, 400, msg.error);
      return;
    case ClientMessage::Kind::ping:
      send(id, encode_text_event(200, "pong", iso8601_utc(clock_.now())));
      return;
    case ClientMessage::Kind::close:
      detach(it->second);
      send(id, encode_text_event(200, "bye", "bye"));
      it->second.bye_sent = true;
      outbox_.close(id, kCloseNormal, "bye", kByeLinger);
      return;
    case ClientMessage::Kind::publish:
      if (room.kind() != RoomKind::relay) {
        reply_error(id, 403,
                    "room " + room.path() + " is a " + std::string(to_string(room.kind())) +
                        " room: clients may publish only in relay rooms");
        return;
      }
      publish(room, "message", msg.data);
      return;
  }
}

void Hub::on_binary(SessionId id, std::string_view data) {
  auto const it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (!it->second.room) return end_linger(id, it->second);
  if (it->second.room->kind() == RoomKind::echo) {
    outbox_.send(id, Opcode::binary, std::make_shared<const std::string>(data));
    return;
  }
  reply_error(id, 400, "binary frames are not accepted here: send JSON text frames");
}

void Hub::end_linger(SessionId id, Session& session) {
  if (!session.bye_sent) return;
  session.bye_sent = false;
  outbox_.close(id, kCloseNormal, "bye");
}

void Hub::tick(std::string const& room_path) {
  Room* room = rooms_.find(room_path);
  if (!room || room->empty()) return;  // nobody listens: no encoding, no seq consumed
  auto const message = std::make_shared<const std::string>(
      encode_text_event(200, room->tick_event(), iso8601_utc(clock_.now()), room->next_seq()));
  outbox_.broadcast(room->members(), message);
}

void Hub::publish(Room& room, std::string_view event, std::string_view json) {
  auto const message =
      std::make_shared<const std::string>(encode_json_event(200, event, json, room.next_seq()));
  outbox_.broadcast(room.members(), message);
}

void Hub::reply_error(SessionId id, int status, std::string_view reason) {
  send(id, encode_text_event(status, "error", reason));
}

void Hub::send(SessionId id, std::string message) {
  outbox_.send(id, Opcode::text, std::make_shared<const std::string>(std::move(message)));
}

}  // namespace wspush
