#include "server/loop/shard.hpp"

#include <asio/executor_work_guard.hpp>

#include "common/deflate.hpp"
#include "common/frame.hpp"
#include "common/url.hpp"
#include "server/loop/close_log.hpp"
#include "server/stream/sse_stream.hpp"

namespace wspush {
namespace {
// How often `latest` members with a pending message are offered it again.
constexpr auto kPendingRetry = std::chrono::milliseconds(20);
}  // namespace

Shard::Shard(std::size_t index, std::size_t count, SharedHub& hub, ConnectionLimits const& limits,
             SendPath send_path, LoopCounters& counters, ShardOwner& owner)
    : index_(index),
      count_(count),
      hub_(hub),
      limits_(limits),
      counters_(counters),
      owner_(owner),
      loop_(io_, send_path),
      sessions_(index, count),
      pacer_(limits.send_buffer, index, counters, members_, Sessions{&sessions_}),
      keepalive_(limits, counters),
      inbox_(io_, [this] { carry_out_inbox(); }) {}

// Sessions hold handlers that point here; they go before the loop does.
Shard::~Shard() {
  for (std::uint32_t slot = 0; slot < sessions_.slots(); ++slot) {
    if (Entry* e = sessions_.at(slot)) e->session.reset();
  }
}

void Shard::run() {
  auto work = asio::make_work_guard(io_);
  loop_.start();
  arm_keepalive();
  io_.run();
}

void Shard::accept(Upgrade a, std::string const* peer, bool publisher) {
  std::uint32_t const slot = sessions_.allocate();
  SessionId const id = sessions_.id_of(slot);
  std::unique_ptr<ByteStream> stream = std::move(a.stream);
  if (a.event_stream) {  // the same session, its frames written as SSE
    stream = std::make_unique<SseStream>(io_, std::move(stream), a.response.size(),
                                         room_path_of(a.resource) == kEventsPath);
  }
  auto session = std::make_shared<WsSession>(loop_, std::move(stream), id, *this, limits_);
  {
    Entry& e = *sessions_.at(slot);
    e.session = session;
    e.peer = peer;
    e.expires_at = a.grant.expires_at;
    e.opened_ms = loop_.now_ms();
    e.role = publisher ? SessionRole::publisher : SessionRole::waiting;
    e.deflate = a.deflate;
  }
  session->allow_compressed(a.inflate);
  counters_.sessions_opened.add();
  if (a.inflate) counters_.sessions_deflate.add();
  session->greet(std::make_shared<std::string const>(std::move(a.response)));
  // The join and everything queued to this loop before it are taken under the Hub's lock:
  // what was queued before is carried out first, what comes after it finds the member.
  std::optional<RoomJoin> joined;
  hub_.run([&](Hub& hub) {
    if (publisher) {
      hub.join_publisher(id, a.resource);
    } else {
      joined = hub.join(id, a.resource, std::move(a.grant.rooms), a.deflate);
    }
    inbox_.take(carrying_);
  });
  walking([this] {
    for (Delivery& d : carrying_) carry_out(d);
    carrying_.clear();
  });
  if (!sessions_.used(slot)) return;
  if (joined) join(slot, *joined);
  // A connection to /events names the rooms it follows: subscribed after its welcome.
  if (joined && joined->room == 0 && query_param(a.resource, "room")) {
    hub_.run([&](Hub& hub) { hub.subscribe_named(id, a.resource); });
  }
  if (sessions_.used(slot)) session->start(a.early);
}

void Shard::carry_out_inbox() {
  if (in_walk_) return;  // carried out by the walk in progress
  walking([this] {
    inbox_.take(carrying_);
    for (Delivery& d : carrying_) carry_out(d);
    carrying_.clear();
  });
}

void Shard::carry_out(Delivery& d) {
  std::visit(
      [this](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, delivery::Broadcast>) {
          broadcast(x);
        } else if (!sessions_.find(x.id)) {
          return;  // gone, or another loop's id
        } else if constexpr (std::is_same_v<T, delivery::Send>) {
          pacer_.send(sessions_.slot_of(x.id), x.framed);
        } else if constexpr (std::is_same_v<T, delivery::Join>) {
          join(sessions_.slot_of(x.id), x.join);
        } else if constexpr (std::is_same_v<T, delivery::Leave>) {
          leave(sessions_.slot_of(x.id), x.room);
        } else if constexpr (std::is_same_v<T, delivery::Close>) {
          sessions_.find(x.id)->session->close(x.code, x.reason, x.linger);
        }
      },
      d);
}

// The greeting, then the replay, then the room's broadcasts. A join of no room (a
// connection to /) is its greeting only; a subscription's (tagged) leaves the URL's room
// as it is.
void Shard::join(std::uint32_t slot, RoomJoin& j) {
  Entry& e = *sessions_.at(slot);
  if (!e.session->open()) return;
  for (Payload const& framed : j.greeting) pacer_.send(slot, framed);
  if (!j.tagged && e.role != SessionRole::member) {
    e.role = SessionRole::member;
    e.kind = j.kind;
  }
  if (j.room == 0) return;
  // The replay holds the messages just before last_seq, in order.
  members_.join(slot, j, j.last_seq - j.replay.size());
  RoomMembers::Room& room = *members_.find(j.room);
  if (!j.tagged) e.room_path = room.path;
  if (!j.replay.empty()) pacer_.replay(slot, room, std::move(j.replay));
}

void Shard::leave(std::uint32_t slot, RoomId room) {
  pacer_.forget_room(slot, room);
  members_.leave(slot, room);
}

// The rest of the room never waits for a member that cannot keep up (pacer.hpp).
void Shard::broadcast(delivery::Broadcast const& b) {
  RoomMembers::Room* room = members_.find(b.room);
  if (!room) return;  // no member of it on this loop
  // With several loops, each takes its own copy of the URL members' frames: every
  // member's queue counts references to it, and one count shared by loops on different
  // cores would move its cache line between them twice a delivery.
  RoomMessage message = b.message;
  if (count_ > 1 && room->members.size() > 1) {
    for (Payload* p : {&message.framed, &message.framed_deflated}) {
      if (*p) *p = std::make_shared<std::string const>(**p);
    }
  }
  for (RoomMembers::Entry& member : room->members) {
    if (Entry* e = sessions_.at(member.slot)) {
      pacer_.offer(*room, member, *e->session, message.for_member(member.tagged, member.deflate),
                   b.seq);
    }
  }
  if (pacer_.has_pending()) arm_pending();
}

// SessionEvents: what a session says, decided in one place (core/client_protocol.hpp).
void Shard::on_text(std::uint64_t id, std::string_view text) {
  counters_.frames_received.add();
  std::uint32_t const slot = sessions_.slot_of(id);
  Entry const& e = *sessions_.at(slot);
  act(slot, decide_client_text(FrameContext{e.role, e.kind, e.room_path.get()}, text, clock_),
      Opcode::text, text);
}

void Shard::on_binary(std::uint64_t id, std::string_view data) {
  counters_.frames_received.add();
  std::uint32_t const slot = sessions_.slot_of(id);
  Entry const& e = *sessions_.at(slot);
  act(slot, decide_client_binary(FrameContext{e.role, e.kind, e.room_path.get()}), Opcode::binary,
      data);
}

void Shard::act(std::uint32_t slot, ClientAction const& action, Opcode opcode,
                std::string_view data) {
  SessionId const id = sessions_.id_of(slot);
  Entry& e = *sessions_.at(slot);
  switch (action.kind) {
    case ClientAction::Kind::reply:
      pacer_.send(slot, framed_message(Opcode::text, action.text));
      return;
    case ClientAction::Kind::echo:  // compressed for a client that takes it so
      pacer_.send(slot, e.deflate && data.size() >= limits_.compression_min_size
                            ? thread_deflater().frame(opcode, data)
                            : framed_message(opcode, data));
      return;
    case ClientAction::Kind::publish:
      hub_.run([&](Hub& hub) {
        hub.publish_from_member(
            id, action.room ? std::optional<std::string_view>(*action.room) : std::nullopt,
            action.text);
      });
      return;
    case ClientAction::Kind::subscribe:
      hub_.run([&](Hub& hub) {
        hub.subscribe(id, SubscribeRequest{*action.room, action.since, action.epoch});
      });
      return;
    case ClientAction::Kind::unsubscribe:
      hub_.run([&](Hub& hub) { hub.unsubscribe(id, *action.room); });
      return;
    case ClientAction::Kind::stream:
      hub_.run([&](Hub& hub) { hub.publish_from_stream(id, action.text); });
      return;
    case ClientAction::Kind::bye:
      // No room traffic after the bye: its rooms are left here and in the Hub.
      for (RoomMembers::Room* room : members_.rooms_of(slot)) leave(slot, room->id);
      hub_.run([&](Hub& hub) { hub.leave_room(id); });
      e.role = SessionRole::leaving;
      pacer_.send(slot, framed_message(Opcode::text, bye_event()));
      e.session->close(kCloseNormal, "bye", kByeLinger);
      return;
    case ClientAction::Kind::end_linger:
      e.session->close(kCloseNormal, "bye");
      return;
    case ClientAction::Kind::ignore:
      return;
  }
}

void Shard::on_closed(std::uint64_t id) {
  std::uint32_t const slot = sessions_.slot_of(id);
  if (in_walk_) {
    closed_in_walk_.push_back(slot);
    return;
  }
  release(slot);
}

void Shard::on_queue_empty(std::uint64_t id) {
  pacer_.on_queue_empty(sessions_.slot_of(id));
}

// The session is gone: it leaves its rooms here and in the Hub; what was queued for it
// goes nowhere; only then may its slot (and id) serve a new session.
void Shard::release(std::uint32_t slot) {
  Entry* e = sessions_.at(slot);
  if (!e) return;
  SessionId const id = sessions_.id_of(slot);
  log_session_closed(*e->session, e->peer, e->room_path.get(),
                     (loop_.now_ms() - e->opened_ms) / 1000.0);
  members_.leave_all(slot);
  pacer_.forget(slot);
  hub_.run([id](Hub& hub) { hub.leave(id); });
  carry_out_inbox();
  std::string const* peer = e->peer;
  sessions_.release(slot);
  counters_.sessions_closed.add();
  owner_.on_session_closed(peer);
}

// `latest` members with a pending message get it once their queue has room.
void Shard::arm_pending() {
  if (pending_armed_) return;
  pending_armed_ = true;
  pending_timer_.expires_after(kPendingRetry);
  pending_timer_.async_wait([this](asio::error_code const& ec) {
    pending_armed_ = false;
    if (ec) return;
    walking([this] { pacer_.retry_pending(); });
    if (pacer_.has_pending()) arm_pending();
  });
}

void Shard::arm_keepalive() {
  keepalive_timer_.expires_after(keepalive_.period());
  keepalive_timer_.async_wait([this](asio::error_code const& ec) {
    if (ec) return;
    walking([this] {
      std::uint32_t const now = loop_.now_ms();
      std::int64_t const unix_now = static_cast<std::int64_t>(std::time(nullptr));
      for (std::uint32_t slot = 0; slot < sessions_.slots(); ++slot) {
        if (Entry* e = sessions_.at(slot))
          keepalive_.look(*e->session, e->expires_at, now, unix_now);
      }
    });
    arm_keepalive();
  });
}

void Shard::close_all(std::uint16_t code, std::string const& reason, Duration spread) {
  spread_close_.start(sessions_.slots(), spread, [this, code, reason](std::size_t slot) {
    if (Entry* e = sessions_.at(static_cast<std::uint32_t>(slot))) e->session->close(code, reason);
  });
}

}  // namespace wspush
