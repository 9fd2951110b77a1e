// The Hub's subscriptions (SPEC §3.1): a connection follows more rooms than its URL's,
// by name or by family pattern. A room it receives that way is a Follow of its session:
// one membership per room, however many of its subscriptions cover it, whose messages
// name the room (RoomJoin::tagged). A pattern follows the family's rooms that exist and
// those made later (on_room_created); it is live only.
#include <algorithm>

#include "common/codec.hpp"
#include "common/frame.hpp"
#include "common/positions.hpp"
#include "common/url.hpp"
#include "core/hub.hpp"
#include "core/jwt_check.hpp"

namespace wspush {
namespace {

bool is_pattern(std::string_view path) {
  return path.size() >= 2 && path.substr(path.size() - 2) == "/*";
}

Payload room_event(std::string_view event, std::string_view data_json, std::string_view room) {
  return framed_message(Opcode::text, with_room(encode_json_event(200, event, data_json), room));
}

}  // namespace

void Hub::refuse_subscription(SessionId id, std::string_view room, Refusal const& refusal) {
  outbox_.send(id, framed_message(Opcode::text, with_room(error_event(refusal), room)));
}

Hub::Follow* Hub::follow_of(Session& s, std::string_view path) {
  if (!s.rare) return nullptr;
  for (Follow& f : s.rare->follows) {
    if (f.room->path() == path) return &f;
  }
  return nullptr;
}

void Hub::subscribe(SessionId id, SubscribeRequest const& request) {
  Session* s = find_session(id);
  if (!s || s->publisher()) return;
  std::string const& path = request.room;
  auto const refuse = [&](Reason reason, std::string detail) {
    refuse_subscription(id, path, Refusal{reason, std::move(detail)});
  };
  bool const pattern = is_pattern(path);
  if (pattern && (request.since || request.epoch)) {
    return refuse(Reason::bad_since,
                  "a family pattern follows its rooms live: to resume a room of it, subscribe "
                  "that room with since");
  }
  std::optional<RoomKind> const kind = pattern ? std::nullopt : rooms_.resolve(path);
  if (pattern ? !rooms_.is_family(path) : !kind) {
    return refuse(Reason::unknown_room, (pattern ? "unknown family: " : "unknown room: ") + path);
  }
  if (kind == RoomKind::echo) {
    return refuse(Reason::echo_room,
                  "room " + path + " is an echo room: connect to it, it has nothing to follow");
  }
  if (s->rare && s->rare->allowed && !rooms_allow(*s->rare->allowed, path)) {
    return refuse(Reason::token_room, "the token does not cover " + path);
  }
  std::vector<std::string>* subs = s->rare ? &s->rare->subscriptions : nullptr;
  if ((s->room && s->room->path() == path) ||
      (subs && std::find(subs->begin(), subs->end(), path) != subs->end())) {
    return refuse(Reason::already_subscribed, "already subscribed to " + path);
  }
  if (options_.max_subscriptions && subs && subs->size() >= options_.max_subscriptions) {
    return refuse(Reason::subscription_limit,
                  "at most " + std::to_string(options_.max_subscriptions) +
                      " subscriptions a connection (--max-subscriptions)");
  }
  if (!pattern && rooms_.family_full(path, options_.max_rooms_per_family)) {
    return refuse_subscription(id, path, room_limit(path));
  }
  s->rare_part().subscriptions.push_back(path);
  if (pattern) return follow_family(id, *s, path);
  follow_room(id, *s, path, request);
}

void Hub::follow_room(SessionId id, Session& s, std::string const& path,
                      SubscribeRequest const& request) {
  Room* room = room_for(path);
  if (!room) return;
  if (Follow* f = follow_of(s, path)) {  // a pattern of it brought it already
    f->exact = true;
    if (!request.since) {
      outbox_.send(id, room_event("subscribed", "{}", path));
      return;
    }
    // Its replay goes out before live messages: the membership starts again.
    outbox_.leave(id, room->id());
  } else {
    s.rare_part().follows.push_back(Follow{room, true, false, false, {}, {}});
    room->add_member(/*tagged=*/true, s.deflate);
  }
  Follow& f = *follow_of(s, path);
  if (!broker_.ready(room->path())) {
    f.parked = true;
    f.since = request.since;
    f.epoch = request.epoch;
    parked_[room->path()].push_back(id);
    return;
  }
  outbox_.join(id, subscription_join(*room, request, s.deflate));
}

// `subscribed`, then with since the recovery event and the replay, naming the room.
RoomJoin Hub::subscription_join(Room& room, SubscribeRequest const& request, bool deflate) {
  StreamState const stream = broker_.state(room.path());
  RoomJoin join = room_join(room, stream, /*tagged=*/true, deflate);
  join.greeting.push_back(room_event(
      "subscribed", encode_object({{"epoch", stream.epoch}, {"last_seq", stream.last_seq}}),
      room.path()));
  if (request.since) replay(join, room, stream, *request.since, request.epoch);
  return join;
}

void Hub::follow_family(SessionId id, Session& s, std::string const& pattern) {
  std::vector<SessionId>& followers = followers_[pattern];
  if (followers.empty()) broker_.watch_family(pattern);
  followers.push_back(id);
  outbox_.send(id, room_event("subscribed", "{}", pattern));
  std::vector<Room*> rooms;
  rooms_.for_each([&](Room& room) {
    if (rooms_.family_pattern(room.path()) == pattern) rooms.push_back(&room);
  });
  for (Room* room : rooms) add_follower(id, s, *room);
}

// A followed family covers `room`: its session receives it, unless it does already.
void Hub::add_follower(SessionId id, Session& s, Room& room) {
  if (s.room == &room) return;  // its URL's room
  if (Follow* f = follow_of(s, room.path())) {
    f->pattern = true;
    return;
  }
  s.rare_part().follows.push_back(Follow{&room, false, true, false, {}, {}});
  room.add_member(/*tagged=*/true, s.deflate);
  outbox_.join(id, room_join(room, broker_.state(room.path()), /*tagged=*/true, s.deflate));
}

// Another node made a room of a family followed here: it is made here too, and its
// followers join it (on_room_created).
void Hub::on_room_seen(std::string const& room_path) {
  std::optional<std::string> const pattern = rooms_.family_pattern(room_path);
  if (!pattern || !followers_.count(*pattern) || rooms_.find(room_path)) return;
  if (rooms_.family_full(room_path, options_.max_rooms_per_family)) return;
  room_for(room_path);
}

void Hub::on_room_created(Room& room) {
  std::optional<std::string> const pattern = rooms_.family_pattern(room.path());
  if (!pattern) return;
  auto const it = followers_.find(*pattern);
  if (it == followers_.end()) return;
  for (SessionId id : it->second) {
    if (Session* s = find_session(id)) add_follower(id, *s, room);
  }
}

void Hub::unsubscribe(SessionId id, std::string_view path) {
  Session* s = find_session(id);
  if (!s) return;
  std::vector<std::string>* subs = s->rare ? &s->rare->subscriptions : nullptr;
  auto const it =
      subs ? std::find(subs->begin(), subs->end(), path) : std::vector<std::string>::iterator{};
  if (!subs || it == subs->end()) {
    return refuse_subscription(
        id, path, Refusal{Reason::not_subscribed, "not subscribed to " + std::string(path)});
  }
  subs->erase(it);
  if (is_pattern(path)) {
    forget_follower(id, std::string(path));
    std::vector<Room*> uncovered;
    for (Follow& f : s->rare->follows) {
      if (!f.pattern || rooms_.family_pattern(f.room->path()) != path) continue;
      f.pattern = false;
      if (!f.exact) uncovered.push_back(f.room);
    }
    for (Room* room : uncovered) drop_follow(id, *s, room, /*gone=*/false);
  } else if (Follow* f = follow_of(*s, path)) {
    f->exact = false;
    if (!f->pattern) drop_follow(id, *s, f->room, /*gone=*/false);
  }
  outbox_.send(id, room_event("unsubscribed", "null", path));
}

void Hub::forget_follower(SessionId id, std::string const& pattern) {
  auto const it = followers_.find(pattern);
  if (it == followers_.end()) return;
  it->second.erase(std::remove(it->second.begin(), it->second.end(), id), it->second.end());
  if (!it->second.empty()) return;
  followers_.erase(it);
  broker_.unwatch_family(pattern);
}

// The session stops receiving `room` (`gone`: it is gone itself; nothing to tell).
void Hub::drop_follow(SessionId id, Session& s, Room* room, bool gone) {
  auto& follows = s.rare->follows;
  auto const it = std::find_if(follows.begin(), follows.end(),
                               [room](Follow const& f) { return f.room == room; });
  if (it == follows.end()) return;
  if (it->parked) {
    auto& ids = parked_[room->path()];
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  } else if (!gone) {
    outbox_.leave(id, room->id());
  }
  follows.erase(it);
  room->remove_member(/*tagged=*/true, s.deflate);
  drop_if_unused(*room);
}

void Hub::drop_subscriptions(SessionId id, Session& s, bool gone) {
  if (!s.rare) return;
  for (std::string const& sub : s.rare->subscriptions) {
    if (is_pattern(sub)) forget_follower(id, sub);
  }
  s.rare->subscriptions.clear();
  while (!s.rare->follows.empty()) drop_follow(id, s, s.rare->follows.back().room, gone);
}

void Hub::subscribe_named(SessionId id, std::string_view resource) {
  Positions positions;
  if (auto const resume = query_param(resource, "resume")) {
    positions = parse_positions(percent_decode(*resume).value_or(std::string()));
  }
  for (std::string_view raw : query_params(resource, "room")) {
    auto room = percent_decode(raw);
    if (!room) continue;
    SubscribeRequest request{*room, std::nullopt, std::nullopt};
    if (auto const p = positions.find(*room); p != positions.end() && !is_pattern(*room)) {
      request.since = p->second.seq;
      request.epoch = p->second.epoch;
    }
    subscribe(id, request);
  }
}

void Hub::publish_from_member(SessionId id, std::optional<std::string_view> room_path,
                              std::string_view data_json) {
  Session* const s = find_session(id);
  if (!s) return;
  Room* room = s->room;
  bool const named = room_path && !(room && room->path() == *room_path);
  if (named) {
    Follow* f = follow_of(*s, *room_path);
    if (!f) {
      return refuse_subscription(
          id, *room_path,
          Refusal{Reason::not_subscribed,
                  "subscribe to " + std::string(*room_path) + " to publish into it"});
    }
    room = f->room;
    if (room->kind() != RoomKind::relay) {
      return refuse_subscription(
          id, *room_path,
          Refusal{Reason::publish_forbidden, "room " + room->path() + " is a " +
                                                 std::string(to_string(room->kind())) +
                                                 " room: clients may publish only in relay rooms"});
    }
  }
  if (!room || room->kind() != RoomKind::relay) return;  // the loop decided on a stale view
  std::string const path = room->path();
  broker_.publish(path, "message", data_json, [this, id, path, named](PublishAck const& ack) {
    if (!ack.refusal) return;
    if (named) return refuse_subscription(id, path, *ack.refusal);
    reply_error(id, *ack.refusal);
  });
}

}  // namespace wspush
