#include "core/hub.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <variant>

#include "core/codec.hpp"

namespace wspush {

std::string_view room_path_of(std::string_view resource) {
  return resource.substr(0, resource.find_first_of("?#"));
}

std::optional<std::string_view> query_param(std::string_view resource, std::string_view name) {
  auto const q = resource.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = resource.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    auto const amp = query.find('&');
    std::string_view const pair = query.substr(0, amp);
    auto const eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string encode_rooms(std::vector<RoomInfo> const& rooms) {
  std::string out = R"({"rooms":[)";
  for (RoomInfo const& r : rooms) {
    if (out.back() != '[') out.push_back(',');
    out += encode_object({{"path", std::string_view(r.path)},
                          {"kind", to_string(r.kind)},
                          {"family", r.family},
                          {"members", std::uint64_t{r.members}},
                          {"last_seq", r.last_seq},
                          {"history", std::uint64_t{r.history}},
                          {"history_capacity", std::uint64_t{r.history_capacity}},
                          {"slow_consumer", to_string(r.slow_consumer)},
                          {"dropped", r.dropped},
                          {"disconnected", r.disconnected}});
  }
  return out + "]}";
}

std::optional<std::string> percent_decode(std::string_view text) {
  auto const hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] != '%') {
      out.push_back(text[i]);
    } else {
      int const hi = i + 1 < text.size() ? hex(text[i + 1]) : -1;
      int const lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

namespace {

struct PublisherTarget {
  std::string room;
  std::string event;
};

// room= and event= of a publish request, decoded; event defaults to "message".
std::variant<PublisherTarget, std::string> publisher_target(std::string_view resource) {
  auto const room = query_param(resource, "room");
  if (!room || room->empty()) return std::string("missing query parameter: room");
  auto decoded_room = percent_decode(*room);
  if (!decoded_room) return std::string("malformed query parameter: room");
  PublisherTarget t{std::move(*decoded_room), "message"};
  if (auto const event = query_param(resource, "event"); event && !event->empty()) {
    auto decoded = percent_decode(*event);
    if (!decoded) return std::string("malformed query parameter: event");
    t.event = std::move(*decoded);
  }
  return t;
}

}  // namespace

std::optional<std::uint64_t> parse_seq(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (char const c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t const digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
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
  if (!rooms_.resolve(path)) {
    return Refusal{404, encode_text_event(404, "error", "unknown room: " + std::string(path))};
  }
  if (auto const since = query_param(resource, "since"); since && !parse_seq(*since)) {
    return Refusal{400, encode_text_event(400, "error",
                                          "invalid since '" + std::string(*since) +
                                              "': expected a seq, a whole number >= 0")};
  }
  return std::nullopt;
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
  Session& session = sessions_[id];
  session.room = room;
  session.index = room->add(id);
  // Echo rooms speak no protocol of their own: conformance suites and proxies see
  // exactly the frames they sent, nothing else.
  if (room->kind() == RoomKind::echo) return;
  send(id, encode_text_event(200, "notification", "Welcome"));
  if (room->kind() == RoomKind::ticker) {
    // Not a room broadcast, so no seq: the client's seq accounting stays exact.
    send(id, encode_text_event(200, room->tick_event(), iso8601_utc(clock_.now())));
  }
  auto const since = query_param(resource, "since");
  if (auto const seq = since ? parse_seq(*since) : std::nullopt) {
    replay(id, *room, *seq);
  } else {
    outbox_.send_replay(id, {}, room->last_seq());  // the member starts from here
  }
}

void Hub::replay(SessionId id, Room const& room, std::uint64_t since) {
  History::Replay const r = room.history().after(since, room.last_seq());
  auto const first = room.history().first_seq();
  JsonScalar first_seq = nullptr;
  if (first) first_seq = *first;
  // Told before the replay, so a client knows at once whether it missed anything.
  send(id, encode_json_event(200, "recovery",
                             encode_object({{"recovered", r.complete},
                                            {"since", since},
                                            {"first_seq", first_seq},
                                            {"last_seq", room.last_seq()},
                                            {"replayed", std::uint64_t{r.messages.size()}}})));
  outbox_.send_replay(id, r.messages, room.last_seq());
}

void Hub::detach(Session& session) {
  Room* room = session.room;
  if (!room) return;
  if (auto moved = room->remove_at(session.index)) sessions_[*moved].index = session.index;
  session.room = nullptr;
  bool const ticker = room->kind() == RoomKind::ticker;
  std::string const path = room->path();
  if (rooms_.drop_if_unused(*room) && ticker) timers_.stop_ticker(path);
}

std::optional<Refusal> Hub::admit_publisher(std::string_view resource) const {
  auto const target = publisher_target(resource);
  if (auto const* error = std::get_if<std::string>(&target)) {
    return Refusal{400, encode_text_event(400, "error", *error)};
  }
  auto const& room = std::get<PublisherTarget>(target).room;
  auto const kind = rooms_.resolve(room);
  if (!kind) return Refusal{404, encode_text_event(404, "error", "unknown room: " + room)};
  if (*kind == RoomKind::ticker || *kind == RoomKind::echo) {
    return Refusal{403,
                   encode_text_event(403, "error",
                                     "room " + room + " is a " + std::string(to_string(*kind)) +
                                         " room: publish into feed or relay rooms")};
  }
  return std::nullopt;
}

void Hub::join_publisher(SessionId id, std::string_view resource) {
  auto const target = publisher_target(resource);
  Session session;
  if (auto const* t = std::get_if<PublisherTarget>(&target)) {
    session.publish_room = t->room;
    session.publish_event = t->event;
  }
  sessions_[id] = std::move(session);
}

Refusal Hub::http_publish(std::string_view resource, std::string_view body) {
  auto const target = publisher_target(resource);
  if (auto const* error = std::get_if<std::string>(&target)) {
    return Refusal{400, encode_text_event(400, "error", *error)};
  }
  std::string error;
  auto const json = compact_json(body, &error);
  if (!json) return Refusal{400, encode_text_event(400, "error", error)};
  auto const& t = std::get<PublisherTarget>(target);
  PublishResult const r = publish(t.room, t.event, *json);
  if (r.status != 200) return Refusal{r.status, encode_text_event(r.status, "error", r.error)};
  return Refusal{200, encode_object({{"delivered", std::uint64_t{r.delivered}}, {"seq", r.seq}})};
}

void Hub::on_publisher_text(SessionId id, Session const& session, std::string_view text) {
  std::string error;
  auto const json = compact_json(text, &error);
  if (!json) return reply_error(id, 400, error);
  PublishResult const r = publish(session.publish_room, session.publish_event, *json);
  if (r.status != 200) return reply_error(id, r.status, r.error);
  send(id, encode_json_event(
               200, "published",
               encode_object({{"delivered", std::uint64_t{r.delivered}}, {"seq", r.seq}})));
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
  if (!it->second.publish_room.empty()) return on_publisher_text(id, it->second, text);
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
      broadcast(room, encode_json_event(200, "message", msg.data, room.next_seq()));
      return;
  }
}

void Hub::on_binary(SessionId id, std::string_view data) {
  auto const it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (!it->second.publish_room.empty()) {
    return reply_error(id, 400, "a publish stream takes JSON text frames");
  }
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
  broadcast(*room, encode_text_event(200, room->tick_event(), iso8601_utc(clock_.now()),
                                     room->next_seq()));
}

std::uint64_t Hub::broadcast(Room& room, std::string message) {
  auto const payload = std::make_shared<const std::string>(std::move(message));
  room.history().append(room.last_seq(), payload);  // the same bytes, not a copy
  outbox_.broadcast(room.path(), room.members(), payload, room.last_seq(), room.slow_consumer());
  return room.last_seq();
}

void Hub::count_slow(std::string_view room_path, std::uint64_t dropped,
                     std::uint64_t disconnected) {
  if (Room* room = rooms_.find(room_path)) room->count_slow(dropped, disconnected);
}

PublishResult Hub::publish(std::string_view path, std::string_view event, std::string_view json) {
  PublishResult result;
  bool created = false;
  Room* room = rooms_.get_or_create(path, &created);
  if (!room) {
    result.status = 404;
    result.error = "unknown room: " + std::string(path);
    return result;
  }
  if (room->kind() == RoomKind::ticker || room->kind() == RoomKind::echo) {
    result.status = 403;
    result.error = "room " + room->path() + " is a " + std::string(to_string(room->kind())) +
                   " room: publish into feed or relay rooms";
    if (created) rooms_.drop_if_unused(*room);
    return result;
  }
  result.delivered = room->members().size();
  result.seq = broadcast(*room, encode_json_event(200, event, json, room->next_seq()));
  return result;
}

std::vector<RoomInfo> Hub::rooms() const {
  std::vector<RoomInfo> out;
  rooms_.for_each([&out](Room const& room) {
    out.push_back(RoomInfo{room.path(), room.kind(), false, room.members().size(), room.last_seq(),
                           room.history().size(), room.history().capacity(), room.slow_consumer(),
                           room.dropped(), room.disconnected()});
  });
  for (auto const& family : rooms_.families()) {
    RoomInfo info{family.pattern, family.kind, true, 0, 0, 0, 0};
    info.slow_consumer = family.slow_consumer;
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](RoomInfo const& a, RoomInfo const& b) { return a.path < b.path; });
  return out;
}

void Hub::reply_error(SessionId id, int status, std::string_view reason) {
  send(id, encode_text_event(status, "error", reason));
}

void Hub::send(SessionId id, std::string message) {
  outbox_.send(id, Opcode::text, std::make_shared<const std::string>(std::move(message)));
}

}  // namespace wspush
