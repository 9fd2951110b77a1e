// The Hub's publishers: the publish stream, POST /api/publish, publishes from inside
// the process (stdin), and the rooms API's listing.
#include <algorithm>
#include <variant>

#include "common/codec.hpp"
#include "common/url.hpp"
#include "core/client_protocol.hpp"
#include "core/hub.hpp"

namespace wspush {

std::string encode_rooms(std::vector<RoomInfo> const& rooms) {
  std::string out = R"({"rooms":[)";
  for (RoomInfo const& r : rooms) {
    if (out.back() != '[') out.push_back(',');
    JsonScalar node_members = nullptr;
    if (r.node_members) node_members = std::uint64_t{*r.node_members};
    out += encode_object({{"path", std::string_view(r.path)},
                          {"kind", to_string(r.kind)},
                          {"family", r.family},
                          {"members", std::uint64_t{r.members}},
                          {"node_members", node_members},
                          {"last_seq", r.last_seq},
                          {"history", std::uint64_t{r.history}},
                          {"history_capacity", std::uint64_t{r.history_capacity}},
                          {"slow_consumer", to_string(r.slow_consumer)},
                          {"dropped", r.dropped},
                          {"disconnected", r.disconnected}});
  }
  return out + "]}";
}

std::string encode_publish_result(PublishResult const& r) {
  if (!r.rooms.empty()) {
    std::string out = R"({"delivered":)" + std::to_string(r.delivered) + R"(,"rooms":{)";
    for (RoomPublish const& p : r.rooms) {
      if (out.back() != '{') out.push_back(',');
      out += encode_json_string(p.room) + ":";
      if (p.refusal) {
        out += encode_object({{"status", std::int64_t{status_of(p.refusal->reason)}},
                              {"error", std::string_view(p.refusal->detail)}});
      } else {
        out +=
            encode_publish_result(PublishResult{std::nullopt, p.delivered, p.seq, p.duplicate, {}});
      }
    }
    return out + "}}";
  }
  std::string out = encode_object({{"delivered", std::uint64_t{r.delivered}}, {"seq", r.seq}});
  if (r.duplicate) out.insert(out.size() - 1, R"(,"duplicate":true)");
  return out;
}

namespace {

struct PublisherTarget {
  std::string room;
  std::string event;
  bool keyed = false;  // a publish stream whose frames carry an idempotency key
};

constexpr std::size_t kMaxKey = 256;
constexpr std::size_t kMaxRoomsPerPublish = 100;

bool publishable(RoomKind kind) {
  return kind != RoomKind::ticker && kind != RoomKind::echo;
}

Refusal not_publishable(std::string const& room, RoomKind kind) {
  return Refusal{Reason::publish_forbidden, "room " + room + " is a " +
                                                std::string(to_string(kind)) +
                                                " room: publish into feed or relay rooms"};
}

// room= and event= of a publish request, decoded; event defaults to "message".
std::variant<PublisherTarget, std::string> publisher_target(std::string_view resource) {
  auto const room = query_param(resource, "room");
  if (!room || room->empty()) return std::string("missing query parameter: room");
  auto decoded_room = percent_decode(*room);
  if (!decoded_room) return std::string("malformed query parameter: room");
  PublisherTarget t{std::move(*decoded_room), "message", false};
  if (auto const keyed = query_param(resource, "keyed")) t.keyed = *keyed == "1";
  if (auto const event = query_param(resource, "event"); event && !event->empty()) {
    auto decoded = percent_decode(*event);
    if (!decoded) return std::string("malformed query parameter: event");
    t.event = std::move(*decoded);
  }
  return t;
}

}  // namespace

std::optional<Refusal> Hub::admit_publisher(std::string_view resource) const {
  auto const target = publisher_target(resource);
  if (auto const* error = std::get_if<std::string>(&target)) {
    return Refusal{Reason::publish_target, *error};
  }
  return publish_refusal(std::get<PublisherTarget>(target).room);
}

std::optional<Refusal> Hub::publish_refusal(std::string const& room) const {
  auto const kind = rooms_.resolve(room);
  if (!kind) return Refusal{Reason::unknown_room, "unknown room: " + room};
  if (!publishable(*kind)) return not_publishable(room, *kind);
  return std::nullopt;
}

void Hub::join_publisher(SessionId id, std::string_view resource) {
  auto const target = publisher_target(resource);
  Session& session = add_session(id);
  if (auto const* t = std::get_if<PublisherTarget>(&target)) {
    session.rare_part().publish_room = t->room;
    session.rare_part().publish_event = t->event;
    session.rare_part().publish_keyed = t->keyed;
  }
}

void Hub::publish_request(std::string_view resource, std::string_view body, PublishDone done,
                          std::string const& key) {
  auto const target = publisher_target(resource);  // the first room= and the event
  if (auto const* error = std::get_if<std::string>(&target)) {
    return done(PublishResult{Refusal{Reason::publish_target, *error}});
  }
  std::string error;
  auto const json = compact_json(body, &error);
  if (!json) return done(PublishResult{Refusal{Reason::bad_message, error}});
  auto const& t = std::get<PublisherTarget>(target);
  auto const raw = query_params(resource, "room");
  if (raw.size() <= 1) return publish(t.room, t.event, *json, std::move(done), key);
  if (raw.size() > kMaxRoomsPerPublish) {
    return done(PublishResult{Refusal{Reason::publish_target, "at most 100 rooms a publish"}});
  }
  std::vector<std::string> rooms;
  for (std::string_view r : raw) {
    auto decoded = percent_decode(r);
    if (!decoded || decoded->empty()) {
      return done(
          PublishResult{Refusal{Reason::publish_target, "malformed query parameter: room"}});
    }
    if (std::find(rooms.begin(), rooms.end(), *decoded) == rooms.end()) {
      rooms.push_back(std::move(*decoded));
    }
  }
  publish_to_rooms(rooms, t.event, *json, std::move(done), key);
}

void Hub::publish_from_stream(SessionId id, std::string_view text) {
  Session const* const session = find_session(id);
  if (!session || !session->publisher()) return;
  std::string error;
  std::string key;
  auto const json =
      session->rare->publish_keyed ? keyed_frame(text, &key, &error) : compact_json(text, &error);
  if (!json) return reply_error(id, Refusal{Reason::bad_message, error});
  publish(
      session->rare->publish_room, session->rare->publish_event, *json,
      [this, id](PublishResult const& r) {
        if (!find_session(id)) return;  // gone before the broker answered
        if (r.refusal) return reply_error(id, *r.refusal);
        send(id, encode_json_event(200, "published", encode_publish_result(r)));
      },
      key);
}

void Hub::publish(std::string_view path, std::string_view event, std::string_view json,
                  PublishDone done, std::string const& key) {
  if (key.size() > kMaxKey) {
    return done(PublishResult{Refusal{Reason::bad_message, "idempotency key over 256 bytes"}});
  }
  if (rooms_.family_full(path, options_.max_rooms_per_family)) {
    return done(PublishResult{room_limit(path)});
  }
  Room* room = room_for(path);
  if (!room)
    return done(PublishResult{Refusal{Reason::unknown_room, "unknown room: " + std::string(path)}});
  if (!publishable(room->kind())) {
    PublishResult r{not_publishable(room->path(), room->kind())};
    drop_if_unused(*room);
    return done(r);
  }
  std::size_t const delivered = room->members();
  broker_.publish(
      room->path(), event, json,
      [delivered, done = std::move(done)](PublishAck const& ack) {
        done(PublishResult{ack.refusal, ack.duplicate ? 0 : delivered, ack.seq, ack.duplicate});
      },
      key);
}

// Every room is checked first, so that one refused room publishes nothing; then each
// gets the message, and the answer waits for them all.
void Hub::publish_to_rooms(std::vector<std::string> const& rooms, std::string const& event,
                           std::string const& json, PublishDone done, std::string const& key) {
  for (std::string const& path : rooms) {
    if (auto refusal = publish_refusal(path)) return done(PublishResult{std::move(*refusal)});
    if (rooms_.family_full(path, options_.max_rooms_per_family)) {
      return done(PublishResult{room_limit(path)});
    }
  }
  struct Gather {
    PublishResult total;
    std::size_t left;
    PublishDone done;
  };
  auto gather = std::make_shared<Gather>();
  gather->left = rooms.size();
  gather->done = std::move(done);
  for (std::string const& path : rooms)
    gather->total.rooms.push_back(RoomPublish{path, {}, 0, 0, false});
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    publish(
        rooms[i], event, json,
        [gather, i](PublishResult const& r) {
          RoomPublish& p = gather->total.rooms[i];
          p.refusal = r.refusal;
          p.delivered = r.delivered;
          p.seq = r.seq;
          p.duplicate = r.duplicate;
          gather->total.delivered += r.delivered;
          if (r.refusal && !gather->total.refusal) gather->total.refusal = r.refusal;
          if (--gather->left == 0) gather->done(gather->total);
        },
        key);
  }
}

std::vector<RoomInfo> Hub::rooms() const {
  std::vector<RoomInfo> out;
  rooms_.for_each([this, &out](Room const& room) {
    StreamState const st = broker_.state(room.path());
    RoomInfo info{room.path(),
                  room.kind(),
                  false,
                  room.members() + st.other_members,
                  std::nullopt,
                  st.last_seq,
                  st.size,
                  st.capacity,
                  room.slow_consumer(),
                  room.counters()->dropped(),
                  room.counters()->disconnected()};
    if (st.shared) info.node_members = room.members();
    out.push_back(std::move(info));
  });
  for (auto const& family : rooms_.families()) {
    RoomInfo info{family.pattern, family.kind, true, 0, std::nullopt, 0, 0, 0};
    info.slow_consumer = family.slow_consumer;
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](RoomInfo const& a, RoomInfo const& b) { return a.path < b.path; });
  return out;
}

// What the broker numbered: to this node's members of the room (if it has the room),
// framed once more, naming the room, when some follow it by a subscription, and each
// form compressed once when some of its members take it so (its URL form is kept with
// the history, for their replays).
void Hub::on_published(std::string const& room_path, std::uint64_t seq, Payload const& framed) {
  Room* room = rooms_.find(room_path);
  if (!room) return;
  ++counts_.broadcasts;
  RoomMessage m{framed, nullptr, nullptr, nullptr};
  if (room->tagged_members() > 0) {
    m.tagged = framed_message(Opcode::text, with_room(frame_payload(*framed), room->path()));
  }
  if (room->deflate_members(false) > 0 && (m.framed_deflated = deflated(framed))) {
    broker_.keep_deflated(room_path, seq, m.framed_deflated);
  }
  if (m.tagged && room->deflate_members(true) > 0) m.tagged_deflated = deflated(m.tagged);
  outbox_.broadcast(room->id(), m, seq);
}

Payload Hub::deflated(Payload const& framed) {
  std::string_view const payload = frame_payload(*framed);
  if (payload.size() < options_.compression_min_size) return nullptr;
  return thread_deflater().frame(
      static_cast<Opcode>(static_cast<unsigned char>((*framed)[0]) & 0x0F), payload);
}

void Hub::replay_deflated(RoomJoin& join, Room const& room, History::Replay& r) {
  std::uint64_t seq = join.last_seq - r.messages.size();
  for (std::size_t i = 0; i < r.messages.size(); ++i) {
    ++seq;
    if (!r.deflated[i] && (r.deflated[i] = deflated(r.messages[i]))) {
      broker_.keep_deflated(room.path(), seq, r.deflated[i]);
    }
    if (r.deflated[i]) r.messages[i] = std::move(r.deflated[i]);
  }
}

void Hub::delete_room(std::string_view resource, std::function<void(std::optional<Refusal>)> done) {
  auto const raw = query_param(resource, "room");
  auto const path = raw ? percent_decode(*raw) : std::nullopt;
  if (!path || path->empty()) {
    return done(Refusal{Reason::publish_target, "missing or malformed query parameter: room"});
  }
  auto const kind = rooms_.resolve(*path);
  if (!kind) return done(Refusal{Reason::unknown_room, "unknown room: " + *path});
  if (*kind == RoomKind::ticker || *kind == RoomKind::echo) {
    return done(Refusal{Reason::publish_forbidden, "room " + *path + " is a " +
                                                       std::string(to_string(*kind)) +
                                                       " room: it keeps no history to delete"});
  }
  broker_.delete_stream(
      *path, [done = std::move(done)](std::optional<Refusal> const& refusal) { done(refusal); });
}

// Its members hear of it: those by URL are closed (4012), those by subscription lose the
// subscription (a pattern that covers it stays).
void Hub::on_stream_deleted(std::string const& path) {
  Room* room = rooms_.find(path);
  if (!room) return;
  for (SessionId id = 0; id < sessions_.size(); ++id) {
    Session& s = sessions_[id];
    if (!s.live) continue;
    if (s.room == room) {
      outbox_.close(id, kCloseRoomDeleted, "room deleted");
    } else if (Follow* f = follow_of(s, path)) {
      bool const exact = f->exact;
      send(id, encode_object({{"status", std::int64_t{410}},
                              {"event", "unsubscribed"},
                              {"data", "room deleted"},
                              {"room", std::string_view(path)}}));
      auto& subs = s.rare->subscriptions;
      if (exact) subs.erase(std::remove(subs.begin(), subs.end(), path), subs.end());
      bool const last = room->members() == 1;
      drop_follow(id, s, room, false);
      if (last) return;  // the room went with its last member
    }
  }
  drop_if_unused(*room);  // a family room nobody is in and that holds nothing now
}

}  // namespace wspush
