#include "core/hub.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <variant>

#include "common/codec.hpp"
#include "common/frame.hpp"
#include "common/url.hpp"

namespace wspush {
namespace {
// Every member's first message is the same frame: encoded once per process, shared.
Payload const& welcome_frame() {
  static Payload const frame =
      framed_message(Opcode::text, encode_text_event(200, "notification", "Welcome"));
  return frame;
}
}  // namespace

Refusal Hub::room_limit(std::string_view path) const {
  return Refusal{Reason::room_limit,
                 "room limit reached: its family has " +
                     std::to_string(options_.max_rooms_per_family) + " rooms; " +
                     std::string(path) + " would be one more",
                 std::chrono::seconds(5)};
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
    broker_.open_stream(room.path(), room.history_capacity(), scope_of(room));
    if (room.kind() == RoomKind::ticker) timers_.start_ticker(room.path(), options_.tick_interval);
  });
}

// A connection by room names only (no room may have these paths: room.cpp).
bool Hub::bare(std::string_view path) const {
  return path == "/" || path == kEventsPath;
}

std::optional<Refusal> Hub::admit(std::string_view resource) const {
  auto const path = room_path_of(resource);
  if (bare(path)) {
    // Its rooms are checked as it subscribes; /events names them up front (404 here).
    for (std::string_view raw : query_params(resource, "room")) {
      auto const room = percent_decode(raw);
      bool const known = room && (rooms_.resolve(*room) || rooms_.is_family(*room));
      if (!known) {
        return Refusal{Reason::unknown_room, "unknown room: " + room.value_or(std::string(raw))};
      }
    }
    return std::nullopt;
  }
  if (!rooms_.resolve(path)) {
    return Refusal{Reason::unknown_room, "unknown room: " + std::string(path)};
  }
  if (rooms_.family_full(path, options_.max_rooms_per_family)) {
    return room_limit(path);
  }
  for (auto const& [name, expected] : {std::pair{"since", "a seq, a whole number >= 0"},
                                       std::pair{"epoch", "the epoch of a recovery event"}}) {
    if (auto const value = query_param(resource, name); value && !parse_seq(*value)) {
      return Refusal{Reason::bad_since, "invalid " + std::string(name) + " '" +
                                            std::string(*value) + "': expected " + expected};
    }
  }
  return std::nullopt;
}

// The room at `path`, created from its family if need be (with its ticker), its
// stream open.
Room* Hub::room_for(std::string_view path) {
  bool created = false;
  Room* room = rooms_.get_or_create(path, &created);
  if (!room) return nullptr;
  broker_.open_stream(room->path(), room->history_capacity(), scope_of(*room));  // idempotent
  if (created && room->kind() == RoomKind::ticker) {
    timers_.start_ticker(room->path(), options_.tick_interval);
  }
  if (created) on_room_created(*room);
  return room;
}

std::optional<RoomJoin> Hub::join(SessionId id, std::string_view resource,
                                  std::optional<std::vector<std::string>> allowed, bool deflate) {
  if (bare(room_path_of(resource))) {
    Session& session = add_session(id);
    session.deflate = deflate;
    if (allowed) session.rare_part().allowed = std::move(allowed);
    RoomJoin join;  // no room: the welcome, then what it subscribes
    join.greeting.push_back(welcome_frame());
    return join;
  }
  Room* room = room_for(room_path_of(resource));
  if (!room) {  // admit() was bypassed: refuse politely rather than crash
    reply_error(
        id, Refusal{Reason::unknown_room, "unknown room: " + std::string(room_path_of(resource))});
    outbox_.close(id, 1008, "unknown room");
    return std::nullopt;
  }
  Session* known = find_session(id);
  Session& session = known ? *known : add_session(id);
  if (allowed) session.rare_part().allowed = std::move(allowed);
  session.room = room;
  session.deflate = deflate;
  room->add_member(/*tagged=*/false, deflate);
  if (!broker_.ready(room->path())) {
    // Its stream is still being read from the broker: the welcome, the replay and the
    // live traffic wait for it (on_stream_ready), in that order.
    session.rare_part().parked_resource = std::string(resource);
    parked_[room->path()].push_back(id);
    return std::nullopt;
  }
  return enter(*room, resource, deflate);
}

void Hub::on_stream_ready(std::string const& room_path) {
  auto const it = parked_.find(room_path);
  if (it == parked_.end()) return;
  std::vector<SessionId> const ids = std::move(it->second);
  parked_.erase(it);
  for (SessionId id : ids) {
    Session* const s = find_session(id);
    if (!s) continue;
    if (s->room && s->parked() && s->room->path() == room_path) {
      std::string const resource = std::move(s->rare->parked_resource);
      s->rare->parked_resource.clear();
      outbox_.join(id, enter(*s->room, resource, s->deflate));
    } else if (Follow* f = s->rare ? follow_of(*s, room_path) : nullptr; f && f->parked) {
      f->parked = false;
      outbox_.join(id, subscription_join(*f->room, SubscribeRequest{room_path, f->since, f->epoch},
                                         s->deflate));
    }
  }
}

// What a member of `room` starts with: no greeting yet, up to the stream's last seq.
RoomJoin Hub::room_join(Room const& room, StreamState const& stream, bool tagged,
                        bool deflate) const {
  RoomJoin join{room.id(),       room.kind(), room.path(), room.slow_consumer(),
                room.counters(), {},          {},          stream.last_seq,
                tagged,          deflate};
  return join;
}

// The welcome, then with ?since= the recovery event and the replay, then live traffic.
RoomJoin Hub::enter(Room& room, std::string_view resource, bool deflate) {
  StreamState const stream = broker_.state(room.path());
  RoomJoin join = room_join(room, stream, false, deflate);
  // Echo rooms speak no protocol of their own: conformance suites and proxies see
  // exactly the frames they sent, nothing else.
  if (room.kind() != RoomKind::echo) {
    join.greeting.push_back(welcome_frame());
    if (room.kind() == RoomKind::ticker) {
      // Not a room broadcast, so no seq: the client's seq accounting stays exact.
      join.greeting.push_back(framed_message(
          Opcode::text, encode_text_event(200, room.tick_event(), iso8601_utc(clock_.now()))));
    }
    auto const since = query_param(resource, "since");
    if (auto const seq = since ? parse_seq(*since) : std::nullopt) {
      auto const epoch = query_param(resource, "epoch");
      // A malformed epoch was refused at the handshake (admit); none: any epoch.
      replay(join, room, stream, *seq,
             epoch ? std::optional<std::uint64_t>(parse_seq(*epoch).value_or(0)) : std::nullopt);
    }
  }
  return join;
}

// The recovery event, and what the member missed after `since`. A client that names
// another epoch than the stream's saw a stream that is gone: recovered:false, and what
// the stream holds now is new to it.
// A subscription's (join.tagged) names the room in the recovery event and in every
// message of the replay.
void Hub::replay(RoomJoin& join, Room const& room, StreamState const& stream, std::uint64_t since,
                 std::optional<std::uint64_t> epoch) {
  bool const same_epoch = !epoch || *epoch == stream.epoch;
  History::Replay r = broker_.replay_after(room.path(), same_epoch ? since : 0);
  if (!same_epoch) r.complete = false;
  ++(r.complete ? counts_.replays_recovered : counts_.replays_not_recovered);
  JsonScalar first_seq = nullptr;
  if (stream.first_seq) first_seq = *stream.first_seq;
  // Told before the replay, so a client knows at once whether it missed anything.
  std::string const recovery =
      encode_json_event(200, "recovery",
                        encode_object({{"recovered", r.complete},
                                       {"since", since},
                                       {"epoch", stream.epoch},
                                       {"first_seq", first_seq},
                                       {"last_seq", stream.last_seq},
                                       {"replayed", std::uint64_t{r.messages.size()}}}));
  if (!join.tagged) {
    join.greeting.push_back(framed_message(Opcode::text, recovery));
    if (join.deflate) replay_deflated(join, room, r);
    join.replay = std::move(r.messages);
    return;
  }
  join.greeting.push_back(framed_message(Opcode::text, with_room(recovery, room.path())));
  for (Payload const& m : r.messages) {
    join.replay.push_back(framed_message(Opcode::text, with_room(frame_payload(*m), room.path())));
  }
}

void Hub::detach(SessionId id, Session& session) {
  Room* room = session.room;
  if (!room) return;
  session.room = nullptr;
  room->remove_member(/*tagged=*/false, session.deflate);
  if (!session.parked()) outbox_.leave(id, room->id());
  if (session.rare) session.rare->parked_resource.clear();
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

void Hub::leave(SessionId id) {
  Session* const session = find_session(id);
  if (!session) return;
  detach(id, *session);
  drop_subscriptions(id, *session, /*gone=*/true);
  erase_session(id);
}

void Hub::leave_room(SessionId id) {
  Session* const s = find_session(id);
  if (!s) return;
  detach(id, *s);
  drop_subscriptions(id, *s, /*gone=*/false);
}

void Hub::tick(std::string const& room_path) {
  Room* room = rooms_.find(room_path);
  if (!room || room->empty()) return;  // nobody listens: no encoding, no seq consumed
  broker_.publish(room->path(), room->tick_event(), encode_json_string(iso8601_utc(clock_.now())),
                  nullptr);
}

void Hub::reply_error(SessionId id, Refusal const& refusal) {
  send(id, error_event(refusal));
}

void Hub::send(SessionId id, std::string const& message) {
  outbox_.send(id, framed_message(Opcode::text, message));
}

Hub::Session* Hub::find_session(SessionId id) {
  return id < sessions_.size() && sessions_[id].live ? &sessions_[id] : nullptr;
}

Hub::Session& Hub::add_session(SessionId id) {
  if (id >= sessions_.size()) sessions_.resize(id + 1);
  Session& session = sessions_[id];
  if (!session.live) ++session_count_;
  session = Session{};
  session.live = true;
  return session;
}

void Hub::erase_session(SessionId id) {
  if (!find_session(id)) return;
  sessions_[id] = Session{};
  --session_count_;
}

void Hub::expire_history() {
  auto const now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count();
  rooms_.for_each([&](Room const& room) {
    if (room.history_ttl_ms() <= 0 || room.history_capacity() == 0) return;
    broker_.expire(room.path(), room.history_ttl_ms(), now_ms);
  });
}

}  // namespace wspush
