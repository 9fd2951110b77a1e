#include "server/loop/shard.hpp"

#include <unistd.h>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include "common/frame.hpp"
#include "core/client_protocol.hpp"
#include "process/log.hpp"
#include "server/stream/sse_stream.hpp"

namespace wspush {
Shard::Shard(std::size_t index, std::size_t count, SharedHub& hub, ConnectionLimits const& limits,
             SendPath send_path, LoopCounters& counters, ShardOwner& owner)
    : index_(index),
      count_(count),
      hub_(hub),
      limits_(limits),
      counters_(counters),
      owner_(owner),
      loop_(io_, send_path) {}

// Sessions hold handlers that point here; they go before the loop does.
Shard::~Shard() {
  for (Slot& s : slots_) s.session.reset();
}

void Shard::run() {
  auto work = asio::make_work_guard(io_);
  loop_.start();
  arm_keepalive();
  io_.run();
}

SessionId Shard::allocate_id() {
  if (!free_ids_.empty()) {
    SessionId const id = free_ids_.back();
    free_ids_.pop_back();
    return id;
  }
  return next_slot_++ * count_ + index_;
}

void Shard::enqueue(Delivery delivery) {
  std::lock_guard<std::mutex> lock(inbox_mutex_);
  inbox_.push_back(std::move(delivery));
  if (drain_posted_) return;
  drain_posted_ = true;
  asio::post(io_, [this] { drain(); });
}

std::size_t Shard::inbox_depth() {
  std::lock_guard<std::mutex> lock(inbox_mutex_);
  return inbox_.size();
}

void Shard::drain() {
  if (in_drain_) return;  // carried out by the drain in progress
  walking([this] {
    {
      std::lock_guard<std::mutex> lock(inbox_mutex_);
      draining_.swap(inbox_);
      drain_posted_ = false;
    }
    for (Delivery& d : draining_) carry_out(d);
    draining_.clear();
  });
}

void Shard::carry_out(Delivery& d) {
  std::visit(
      [this](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, delivery::Adopt>) {
          adopt(x);
        } else if constexpr (std::is_same_v<T, delivery::Send>) {
          reply(x.id, x.framed);
        } else if constexpr (std::is_same_v<T, delivery::Join>) {
          join(x.id, x.join);
        } else if constexpr (std::is_same_v<T, delivery::Leave>) {
          std::size_t const slot = x.id / count_;
          if (slot < slots_.size() && slots_[slot].room && slots_[slot].room->id == x.room) {
            leave(x.id);
          }
        } else if constexpr (std::is_same_v<T, delivery::Broadcast>) {
          broadcast(x);
        } else if constexpr (std::is_same_v<T, delivery::Close>) {
          if (WsSession* session = live(x.id)) session->close(x.code, x.reason, x.linger);
        }
      },
      d);
}

void Shard::adopt(delivery::Adopt& a) {
  bool const event_stream = a.stream.event_stream;
  std::unique_ptr<ByteStream> stream = resume_stream(poller_, std::move(a.stream));
  if (event_stream) {  // the same session, its frames written as SSE
    stream = std::make_unique<SseStream>(io_, std::move(stream), a.response.size());
  }
  std::size_t const slot = a.id / count_;
  if (slot >= slots_.size()) slots_.resize(slot + 1);
  slots_[slot] = Slot{};
  slots_[slot].peer = a.peer;
  slots_[slot].expires_at = a.expires_at;
  slots_[slot].opened_ms = loop_.now_ms();
  slots_[slot].session =
      std::make_shared<WsSession>(loop_, std::move(stream), a.id, *this, limits_);
  counters_.sessions_opened.add();
  slots_[slot].session->start(a.early, std::make_shared<std::string const>(std::move(a.response)));
}

void Shard::join(SessionId id, RoomJoin& j) {
  if (!live(id)) return;
  auto [it, inserted] = rooms_.try_emplace(j.room);
  LocalRoom& room = it->second;
  if (inserted) {
    room = LocalRoom{j.room,   j.kind,     std::make_shared<std::string const>(j.path),
                     j.policy, j.counters, {}};
  }
  std::size_t const slot = id / count_;
  Slot& s = slots_[slot];
  s.room = &room;
  s.room_path = room.path;
  s.room_index = static_cast<std::uint32_t>(room.members.size());
  room.members.push_back(slot);
  // The replay holds the messages just before last_seq, in order. It fills the send
  // queue up to --send-buffer like anything else; the rest follows as the client
  // reads, so a client that reads gets all of it and one that does not pins no more.
  s.last_seq = j.last_seq - j.replay.size();
  if (j.replay.empty()) return;
  Lag& lag = s.lagging();
  lag.backlog = std::move(j.replay);
  lag.live_from = lag.backlog.size();
  pump(slot, /*may_write=*/true);
}

void Shard::leave(SessionId id) {
  Slot& s = slots_[id / count_];
  LocalRoom* room = s.room;
  if (!room) return;
  // Swap with the last member: O(1), the order of members does not matter.
  std::size_t const last = room->members.back();
  room->members[s.room_index] = last;
  slots_[last].room_index = s.room_index;
  room->members.pop_back();
  s.room = nullptr;
  s.lag.reset();
  if (room->members.empty()) rooms_.erase(room->id);
}

// The rest of the room never waits for a member that cannot keep up: its queue is
// bounded by --send-buffer, and the room's policy says what happens beyond.
void Shard::broadcast(delivery::Broadcast const& b) {
  auto const it = rooms_.find(b.room);
  if (it == rooms_.end()) return;  // no member of it on this loop
  std::vector<std::size_t> const& members = it->second.members;
  // With several loops, each takes its own copy of the frame: every member's queue
  // counts references to it, and one count shared by loops on different cores would
  // move its cache line between them twice a delivery.
  Payload const framed =
      count_ > 1 && members.size() > 1 ? std::make_shared<std::string const>(*b.framed) : b.framed;
  for (std::size_t const slot : members) offer(slot, framed, b.seq);
}

// A message for one session (a reply, the welcome): bounded by the same queue.
void Shard::reply(SessionId id, Payload const& framed) {
  WsSession* session = live(id);
  if (!session) return;
  if (!session->make_room_for(framed->size())) {
    return cut(id / count_, "slow consumer: sends faster than it reads");
  }
  session->push(framed);
  counters_.deliveries.add();
  counters_.bytes_queued.add(framed->size());
}

// The session behind an id if it is open (not closing), or nullptr.
WsSession* Shard::live(SessionId id) const {
  std::size_t const slot = id / count_;
  if (slot >= slots_.size() || !slots_[slot].session || !slots_[slot].session->open()) {
    return nullptr;
  }
  return slots_[slot].session.get();
}

// SessionEvents: what a member says is answered here when it concerns only the
// sender; a publish, a close and everything from sessions outside a room (publisher
// streams, members saying bye) go to the Hub.
void Shard::on_text(std::uint64_t id, std::string_view text) {
  counters_.frames_received.add();
  LocalRoom const* room = slots_[id / count_].room;
  if (!room) {
    hub_.run([&](Hub& hub) { hub.on_text(id, text); });
    return;
  }
  if (room->kind == RoomKind::echo) return reply(id, framed_message(Opcode::text, text));
  ClientAction const action = decide_client_text(room->kind, *room->path, text, clock_);
  switch (action.kind) {
    case ClientAction::Kind::reply:
      return reply(id, framed_message(Opcode::text, action.text));
    case ClientAction::Kind::publish:
      hub_.run([&](Hub& hub) { hub.on_client_publish(id, action.text); });
      return;
    case ClientAction::Kind::close:
      hub_.run([&](Hub& hub) { hub.on_client_close(id); });
      return;
  }
}

void Shard::on_binary(std::uint64_t id, std::string_view data) {
  counters_.frames_received.add();
  LocalRoom const* room = slots_[id / count_].room;
  if (!room) {
    hub_.run([&](Hub& hub) { hub.on_binary(id, data); });
    return;
  }
  if (room->kind == RoomKind::echo) return reply(id, framed_message(Opcode::binary, data));
  reply(id, framed_message(Opcode::text, binary_refusal()));
}

void Shard::on_closed(std::uint64_t id) {
  if (in_drain_) {
    closed_in_drain_.push_back(id);
    return;
  }
  release(id);
}

// The session is gone: it leaves its room here and in the Hub; what was queued for it
// goes nowhere; only then may its id (and slot) serve a new session.
// One line per connection: who, which room, how long, how much, and how it ended.
void Shard::log_close(Slot const& s) {
  if (!s.session) return;
  WsSession const& session = *s.session;
  double const seconds = (loop_.now_ms() - s.opened_ms) / 1000.0;
  log_event(spdlog::level::info, "connection closed",
            {{"remote", s.peer ? std::string_view(*s.peer) : std::string_view("?")},
             {"room", s.room_path ? std::string_view(*s.room_path) : std::string_view()},
             {"duration_s", seconds},
             {"messages_out", std::uint64_t{session.messages_out()}},
             {"messages_in", std::uint64_t{session.messages_in()}},
             {"code", std::uint64_t{session.close_code()}},
             {"reason", session.close_reason()},
             {"by", std::string_view(session.closed_by_server() ? "server" : "client")}});
}

void Shard::release(SessionId id) {
  log_close(slots_[id / count_]);
  leave(id);
  hub_.run([id](Hub& hub) { hub.leave(id); });
  drain();
  std::size_t const slot = id / count_;
  std::string const* peer = slots_[slot].peer;
  slots_[slot] = Slot{};
  counters_.sessions_closed.add();
  {
    std::lock_guard<std::mutex> lock(hub_.mutex());
    free_ids_.push_back(id);
  }
  owner_.on_session_closed(peer);
}

}  // namespace wspush
