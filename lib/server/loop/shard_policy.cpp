// The Shard's policy for its members (shard.hpp): what happens to a member that cannot
// keep up (slow-consumer policy, `latest` retries), how a ?since= replay is paced, the
// keepalive sweep and the spread closes of a shutdown. shard.cpp has the inbox, the
// sessions and the room membership.
#include <asio/post.hpp>

#include "process/log.hpp"
#include "server/loop/shard.hpp"

namespace wspush {
namespace {
// How often `latest` members with a pending message are offered it again.
constexpr auto kPendingRetry = std::chrono::milliseconds(20);
}  // namespace

// One timer per loop looks at every session a few times per keepalive period: no timer
// per session, so an idle connection costs no more for having a deadline.
void Shard::arm_keepalive() {
  Duration shortest = std::chrono::seconds(1);
  for (Duration d : {limits_.ping_interval, limits_.pong_timeout, limits_.idle_timeout}) {
    if (d > Duration::zero()) shortest = std::min(shortest, d / 4);
  }
  keepalive_timer_.expires_after(std::max<Duration>(shortest, std::chrono::milliseconds(10)));
  keepalive_timer_.async_wait([this](asio::error_code const& ec) {
    if (ec) return;
    walking([this] {
      std::uint32_t const now = loop_.now_ms();
      std::int64_t const unix_now = static_cast<std::int64_t>(std::time(nullptr));
      for (Slot& s : slots_) {
        if (!s.session) continue;
        if (s.expires_at != 0 && s.expires_at <= unix_now) {
          s.expires_at = 0;
          counters_.tokens_expired.add();
          s.session->close(kClosePolicy, "token expired");
          continue;
        }
        switch (s.session->keepalive(now)) {
          case WsSession::Keepalive::nothing:
            break;
          case WsSession::Keepalive::pinged:
            counters_.pings_sent.add();
            break;
          case WsSession::Keepalive::ping_timeout:
            counters_.ping_timeouts.add();
            spdlog::info("session from {}: ping timeout", s.session->remote());
            break;
          case WsSession::Keepalive::idle:
            counters_.idle_timeouts.add();
            break;
        }
      }
    });
    arm_keepalive();
  });
}

// Moves what fits of a replay's backlog into the session's queue (`may_write`: hand the
// queue to the stream first if it is full), then asks to hear when the queue is empty.
void Shard::pump(std::size_t slot, bool may_write) {
  Slot& s = slots_[slot];
  WsSession* session = s.session.get();
  if (!session || !session->open()) return;
  while (s.replaying()) {
    Lag& lag = *s.lag;
    Payload const& framed = lag.backlog[lag.backlog_next];
    bool const fits =
        may_write ? session->make_room_for(framed->size()) : session->has_room_for(framed->size());
    if (!fits) {
      if (session->open()) session->notify_when_drained();
      return;
    }
    session->push(framed);
    if (lag.backlog_next >= lag.live_from) lag.live_bytes -= framed->size();
    ++lag.backlog_next;
    ++s.last_seq;
    counters_.deliveries.add();
    counters_.bytes_queued.add(framed->size());
  }
  if (s.lag) {
    s.lag->backlog = {};
    s.lag->backlog_next = s.lag->live_bytes = s.lag->live_from = 0;
  }
  s.caught_up();
}

void Shard::on_drained(std::uint64_t id) {
  std::size_t const slot = id / count_;
  if (slot < slots_.size() && slots_[slot].replaying()) pump(slot, /*may_write=*/false);
}

// Queues one room message for a member, or applies the room's policy. Returns whether
// the member is still receiving.
bool Shard::offer(std::size_t slot, Payload const& framed, std::uint64_t seq) {
  Slot& s = slots_[slot];
  WsSession* session = s.session.get();
  if (!session || !session->open() || !s.room) return false;
  if (s.replaying()) {
    // Behind the replay, within one more --send-buffer of live messages.
    Lag& lag = *s.lag;
    if (lag.live_bytes + framed->size() > limits_.send_buffer) {
      return apply_policy(slot, framed, seq);
    }
    lag.backlog.push_back(framed);
    lag.live_bytes += framed->size();
    return true;
  }
  if (!session->make_room_for(framed->size())) return apply_policy(slot, framed, seq);
  if (s.pending()) {
    s.room->counters->loop(index_).dropped.add();  // this newer message supersedes it
    counters_.slow_dropped.add();
    s.lag->pending.reset();
    s.caught_up();
  }
  session->push(framed);
  s.last_seq = seq;
  counters_.deliveries.add();
  counters_.bytes_queued.add(framed->size());
  return true;
}

// A member that cannot take `framed`: cut (`disconnect`) or keep only the newest
// (`latest`). Returns whether it is still receiving.
bool Shard::apply_policy(std::size_t slot, Payload const& framed, std::uint64_t seq) {
  Slot& s = slots_[slot];
  LocalRoom& room = *s.room;
  if (room.policy == SlowConsumerPolicy::disconnect) {
    room.counters->loop(index_).disconnected.add();
    counters_.slow_disconnected.add();
    cut(slot, "slow consumer: last seq " + std::to_string(s.last_seq));
    return false;
  }
  if (s.pending()) {
    room.counters->loop(index_).dropped.add();  // superseded by this newer one
    counters_.slow_dropped.add();
  } else {
    pending_slots_.push_back(slot);
    arm_pending();
  }
  Lag& lag = s.lagging();
  lag.pending = framed;
  lag.pending_seq = seq;
  return true;
}

// Closes a slow member with 4008; what is queued still goes out before the close.
void Shard::cut(std::size_t slot, std::string const& reason) {
  Slot& s = slots_[slot];
  if (!s.session || !s.session->open()) return;
  s.lag.reset();
  spdlog::info("session {} from {}: {}", slot * count_ + index_, s.session->remote(), reason);
  s.session->close(kCloseSlowConsumer, reason);
}

// `latest` members with a pending message get it once their queue has room.
void Shard::arm_pending() {
  if (pending_armed_) return;
  pending_armed_ = true;
  pending_timer_.expires_after(kPendingRetry);
  pending_timer_.async_wait([this](asio::error_code const& ec) {
    pending_armed_ = false;
    if (ec) return;
    walking([this] {
      std::vector<std::size_t> still;
      for (std::size_t const slot : pending_slots_) {
        Slot& s = slots_[slot];
        if (!s.session || !s.session->open() || !s.pending()) continue;
        if (s.replaying() || !s.session->make_room_for(s.lag->pending->size())) {
          still.push_back(slot);
          continue;
        }
        s.session->push(s.lag->pending);
        s.last_seq = s.lag->pending_seq;
        s.lag->pending.reset();
        s.caught_up();
        counters_.deliveries.add();
      }
      pending_slots_ = std::move(still);
    });
    if (!pending_slots_.empty()) arm_pending();
  });
}

namespace {
constexpr auto kCloseBatchEvery = std::chrono::milliseconds(10);
}

void Shard::close_all(std::uint16_t code, std::string const& reason, Duration spread) {
  std::size_t const batches = std::max<std::size_t>(1, spread / kCloseBatchEvery);
  std::size_t const per_batch = std::max<std::size_t>(1, (slots_.size() + batches - 1) / batches);
  close_batch(code, reason, 0, per_batch);
}

void Shard::close_batch(std::uint16_t code, std::string const& reason, std::size_t from,
                        std::size_t per_batch) {
  std::size_t const end = std::min(slots_.size(), from + per_batch);
  for (std::size_t i = from; i < end; ++i) {
    if (slots_[i].session) slots_[i].session->close(code, reason);
  }
  if (end >= slots_.size()) return;
  close_timer_.expires_after(kCloseBatchEvery);
  close_timer_.async_wait([this, code, reason, end, per_batch](asio::error_code const& ec) {
    if (!ec) close_batch(code, reason, end, per_batch);
  });
}

}  // namespace wspush
