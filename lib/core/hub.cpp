#include "core/hub.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <variant>

#include "common/codec.hpp"
#include "common/frame.hpp"
#include "common/url.hpp"
#include "core/client_protocol.hpp"

namespace wspush {

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

Refusal Hub::room_limit(std::string_view path) const {
  return Refusal{503,
                 encode_text_event(503, "error",
                                   "room limit reached: its family has " +
                                       std::to_string(options_.max_rooms_per_family) + " rooms; " +
                                       std::string(path) + " would be one more"),
                 {{"Retry-After", "5"}},
                 "room_limit"};
}

Hub::Hub(RoomRegistry& rooms, Broker& broker, Outbox& outbox, Timers& timers,
         WallClock const& clock, HubOptions options)
    : rooms_(rooms),
      broker_(broker),
      outbox_(outbox),
      timers_(timers),
      clock_(clock),
      options_(options) {
  broker_.set_sink(*this);
}

void Hub::start() {
  rooms_.for_each([this](Room& room) {
    broker_.open_stream(room.path(), room.history_capacity());
    if (room.kind() == RoomKind::ticker) timers_.start_ticker(room.path(), options_.tick_interval);
  });
}

std::optional<Refusal> Hub::admit(std::string_view resource) const {
  auto const path = room_path_of(resource);
  if (!rooms_.resolve(path)) {
    return Refusal{404,
                   encode_text_event(404, "error", "unknown room: " + std::string(path)),
                   {},
                   "unknown_room"};
  }
  if (rooms_.family_full(path, options_.max_rooms_per_family)) {
    return room_limit(path);
  }
  if (auto const since = query_param(resource, "since"); since && !parse_seq(*since)) {
    return Refusal{400,
                   encode_text_event(400, "error",
                                     "invalid since '" + std::string(*since) +
                                         "': expected a seq, a whole number >= 0"),
                   {},
                   "bad_since"};
  }
  return std::nullopt;
}

// The room at `path`, created from its family if need be (with its ticker), its
// stream open.
Room* Hub::room_for(std::string_view path) {
  bool created = false;
  Room* room = rooms_.get_or_create(path, &created);
  if (!room) return nullptr;
  broker_.open_stream(room->path(), room->history_capacity());  // idempotent
  if (created && room->kind() == RoomKind::ticker) {
    timers_.start_ticker(room->path(), options_.tick_interval);
  }
  return room;
}

void Hub::join(SessionId id, std::string_view resource) {
  Room* room = room_for(room_path_of(resource));
  if (!room) {  // admit() was bypassed: refuse politely rather than crash
    reply_error(id, 404, "unknown room: " + std::string(room_path_of(resource)));
    outbox_.close(id, 1008, "unknown room");
    return;
  }
  Session& session = sessions_[id];
  session.room = room;
  room->add_member();
  RoomJoin join{room->id(), room->kind(), room->path(), room->slow_consumer(), room->counters(), {},
                0};
  StreamState const stream = broker_.state(room->path());
  join.last_seq = stream.last_seq;
  // Echo rooms speak no protocol of their own: conformance suites and proxies see
  // exactly the frames they sent, nothing else.
  if (room->kind() != RoomKind::echo) {
    send(id, encode_text_event(200, "notification", "Welcome"));
    if (room->kind() == RoomKind::ticker) {
      // Not a room broadcast, so no seq: the client's seq accounting stays exact.
      send(id, encode_text_event(200, room->tick_event(), iso8601_utc(clock_.now())));
    }
    auto const since = query_param(resource, "since");
    if (auto const seq = since ? parse_seq(*since) : std::nullopt) {
      History::Replay r = broker_.replay_after(room->path(), *seq);
      ++(r.complete ? counts_.replays_recovered : counts_.replays_not_recovered);
      JsonScalar first_seq = nullptr;
      if (stream.first_seq) first_seq = *stream.first_seq;
      // Told before the replay, so a client knows at once whether it missed anything.
      send(id, encode_json_event(200, "recovery",
                                 encode_object({{"recovered", r.complete},
                                                {"since", *seq},
                                                {"first_seq", first_seq},
                                                {"last_seq", stream.last_seq},
                                                {"replayed", std::uint64_t{r.messages.size()}}})));
      join.replay = std::move(r.messages);
    }
  }
  outbox_.join(id, std::move(join));
}

void Hub::detach(SessionId id, Session& session) {
  Room* room = session.room;
  if (!room) return;
  session.room = nullptr;
  room->remove_member();
  outbox_.leave(id, room->id());
  drop_if_unused(*room);
}

// A family room with no members and no history goes, with its stream and ticker.
void Hub::drop_if_unused(Room const& room) {
  bool const ticker = room.kind() == RoomKind::ticker;
  std::string const path = room.path();
  if (rooms_.drop_if_unused(room, broker_.state(path).size > 0)) {
    broker_.drop_stream(path);
    if (ticker) timers_.stop_ticker(path);
  }
}

std::optional<Refusal> Hub::admit_publisher(std::string_view resource) const {
  auto const target = publisher_target(resource);
  if (auto const* error = std::get_if<std::string>(&target)) {
    return Refusal{400, encode_text_event(400, "error", *error), {}, "publish_target"};
  }
  auto const& room = std::get<PublisherTarget>(target).room;
  auto const kind = rooms_.resolve(room);
  if (!kind) {
    return Refusal{
        404, encode_text_event(404, "error", "unknown room: " + room), {}, "unknown_room"};
  }
  if (*kind == RoomKind::ticker || *kind == RoomKind::echo) {
    return Refusal{403,
                   encode_text_event(403, "error",
                                     "room " + room + " is a " + std::string(to_string(*kind)) +
                                         " room: publish into feed or relay rooms"),
                   {},
                   "publish_forbidden"};
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

void Hub::http_publish(std::string_view resource, std::string_view body,
                       std::function<void(Refusal const&)> done) {
  auto const target = publisher_target(resource);
  if (auto const* error = std::get_if<std::string>(&target)) {
    return done(Refusal{400, encode_text_event(400, "error", *error)});
  }
  std::string error;
  auto const json = compact_json(body, &error);
  if (!json) return done(Refusal{400, encode_text_event(400, "error", error)});
  auto const& t = std::get<PublisherTarget>(target);
  publish(t.room, t.event, *json, [done = std::move(done)](PublishResult const& r) {
    if (r.status != 200)
      return done(Refusal{r.status, encode_text_event(r.status, "error", r.error)});
    done(Refusal{200, encode_object({{"delivered", std::uint64_t{r.delivered}}, {"seq", r.seq}})});
  });
}

void Hub::on_publisher_text(SessionId id, Session const& session, std::string_view text) {
  std::string error;
  auto const json = compact_json(text, &error);
  if (!json) return reply_error(id, 400, error);
  publish(session.publish_room, session.publish_event, *json, [this, id](PublishResult const& r) {
    if (sessions_.find(id) == sessions_.end()) return;  // gone before the broker answered
    if (r.status != 200) return reply_error(id, r.status, r.error);
    send(id, encode_json_event(
                 200, "published",
                 encode_object({{"delivered", std::uint64_t{r.delivered}}, {"seq", r.seq}})));
  });
}

void Hub::leave(SessionId id) {
  auto const it = sessions_.find(id);
  if (it == sessions_.end()) return;
  detach(id, it->second);
  sessions_.erase(it);
}

void Hub::on_text(SessionId id, std::string_view text) {
  auto const it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (!it->second.publish_room.empty()) return on_publisher_text(id, it->second, text);
  if (!it->second.room) return end_linger(id, it->second);  // closing: ignore the rest
  Room& room = *it->second.room;
  if (room.kind() == RoomKind::echo) return outbox_.send(id, framed_message(Opcode::text, text));
  ClientAction const action = decide_client_text(room.kind(), room.path(), text, clock_);
  switch (action.kind) {
    case ClientAction::Kind::reply:
      return send(id, action.text);
    case ClientAction::Kind::publish:
      return on_client_publish(id, action.text);
    case ClientAction::Kind::close:
      return on_client_close(id);
  }
}

void Hub::on_client_publish(SessionId id, std::string_view data_json) {
  auto const it = sessions_.find(id);
  if (it == sessions_.end() || !it->second.room) return;
  Room const& room = *it->second.room;
  if (room.kind() != RoomKind::relay) return;  // the loop decided on a stale view
  broker_.publish(room.path(), "message", data_json, [this, id](PublishAck const& ack) {
    if (ack.status != 200) reply_error(id, ack.status, ack.error);
  });
}

void Hub::on_client_close(SessionId id) {
  auto const it = sessions_.find(id);
  if (it == sessions_.end() || !it->second.room) return;
  detach(id, it->second);
  send(id, encode_text_event(200, "bye", "bye"));
  it->second.bye_sent = true;
  outbox_.close(id, kCloseNormal, "bye", kByeLinger);
}

void Hub::on_binary(SessionId id, std::string_view data) {
  auto const it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (!it->second.publish_room.empty()) {
    return reply_error(id, 400, "a publish stream takes JSON text frames");
  }
  if (!it->second.room) return end_linger(id, it->second);
  if (it->second.room->kind() == RoomKind::echo) {
    return outbox_.send(id, framed_message(Opcode::binary, data));
  }
  send(id, binary_refusal());
}

void Hub::end_linger(SessionId id, Session& session) {
  if (!session.bye_sent) return;
  session.bye_sent = false;
  outbox_.close(id, kCloseNormal, "bye");
}

void Hub::tick(std::string const& room_path) {
  Room* room = rooms_.find(room_path);
  if (!room || room->empty()) return;  // nobody listens: no encoding, no seq consumed
  broker_.publish(room->path(), room->tick_event(), encode_json_string(iso8601_utc(clock_.now())),
                  nullptr);
}

// What the broker numbered: to this node's members of the room (if it has the room).
void Hub::on_published(std::string const& room_path, std::uint64_t seq, Payload const& framed) {
  if (Room* room = rooms_.find(room_path)) {
    ++counts_.broadcasts;
    outbox_.broadcast(room->id(), framed, seq);
  }
}

void Hub::publish(std::string_view path, std::string_view event, std::string_view json,
                  PublishDone done) {
  if (rooms_.family_full(path, options_.max_rooms_per_family)) {
    return done(PublishResult{503, "room limit reached: " + std::string(path), 0, 0});
  }
  Room* room = room_for(path);
  if (!room) return done(PublishResult{404, "unknown room: " + std::string(path), 0, 0});
  if (room->kind() == RoomKind::ticker || room->kind() == RoomKind::echo) {
    PublishResult r{403,
                    "room " + room->path() + " is a " + std::string(to_string(room->kind())) +
                        " room: publish into feed or relay rooms",
                    0, 0};
    drop_if_unused(*room);
    return done(r);
  }
  std::size_t const delivered = room->members();
  broker_.publish(room->path(), event, json,
                  [delivered, done = std::move(done)](PublishAck const& ack) {
                    done(PublishResult{ack.status, ack.error, delivered, ack.seq});
                  });
}

std::vector<RoomInfo> Hub::rooms() const {
  std::vector<RoomInfo> out;
  rooms_.for_each([this, &out](Room const& room) {
    StreamState const st = broker_.state(room.path());
    out.push_back(RoomInfo{room.path(), room.kind(), false, room.members(), st.last_seq, st.size,
                           st.capacity, room.slow_consumer(), room.counters()->dropped(),
                           room.counters()->disconnected()});
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

void Hub::send(SessionId id, std::string const& message) {
  outbox_.send(id, framed_message(Opcode::text, message));
}

}  // namespace wspush
