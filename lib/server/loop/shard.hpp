// One event loop and the sessions it owns: SessionId k lives on shard k % shards.
// The Hub's decisions for these sessions arrive as typed Deliveries in an inbox,
// queued in Hub order from any thread and carried out here in that order. The shard
// knows its own members of each room (a broadcast walks only them), applies the
// room's slow-consumer policy, counts into its own metrics block, and answers what
// concerns only the sender (echo, pong, 400, 403) without the Hub.
//
// Threading: everything here runs on the shard's thread, except enqueue() and
// allocate_id()/free ids (under the SharedHub's mutex).
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/timefmt.hpp"
#include "core/metrics.hpp"
#include "core/outbox.hpp"
#include "server/loop/shared_hub.hpp"
#include "server/ws/ws_session.hpp"

namespace wspush {

namespace delivery {
struct Adopt {  // a socket that finished its handshake becomes a session here
  SessionId id;
  StreamHandoff stream;
  std::string response;               // the 101, sent before anything else
  std::string early;                  // bytes the client sent right behind its handshake
  std::string const* peer = nullptr;  // its address, as ConnectionCounts keeps it
  std::int64_t expires_at = 0;        // Unix seconds its token expires; 0: never
};
struct Send {
  SessionId id;
  Payload framed;
};
struct Join {
  SessionId id;
  RoomJoin join;
};
struct Leave {
  SessionId id;
  RoomId room;
};
struct Broadcast {
  RoomId room;
  Payload framed;
  std::uint64_t seq;
};
struct Close {
  SessionId id;
  std::uint16_t code;
  std::string reason;
  Duration linger;
};
}  // namespace delivery
using Delivery = std::variant<delivery::Adopt, delivery::Send, delivery::Join, delivery::Leave,
                              delivery::Broadcast, delivery::Close>;

// What a shard tells the server about its sessions' lives.
class ShardOwner {
 public:
  virtual ~ShardOwner() = default;
  virtual void on_session_closed(std::string const* peer) = 0;
};

class Shard final : public SessionEvents {
 public:
  Shard(std::size_t index, std::size_t count, SharedHub& hub, ConnectionLimits const& limits,
        SendPath send_path, LoopCounters& counters, ShardOwner& owner);
  ~Shard() override;

  asio::io_context& io() { return io_; }
  std::size_t index() const { return index_; }
  // Runs the loop (and its keepalive sweep) until stopped.
  void run();

  // Any thread.
  void enqueue(Delivery delivery);
  // Deliveries waiting in the inbox now (for /metrics).
  std::size_t inbox_depth();
  // Under the SharedHub's mutex.
  SessionId allocate_id();

  // Closes every session with `code` (shutdown), in batches spread evenly over
  // `spread`, so that clients do not all come back at the same moment. The shard's
  // thread.
  void close_all(std::uint16_t code, std::string const& reason, Duration spread);

 private:
  struct LocalRoom {
    RoomId id;
    RoomKind kind;
    std::shared_ptr<std::string const> path;  // shared with its members' slots
    SlowConsumerPolicy policy;
    std::shared_ptr<RoomCounters> counters;
    std::vector<std::size_t> members;  // slots
  };
  // What a member that fell behind needs; allocated only while it is behind, so an
  // idle member costs none of it.
  struct Lag {
    Payload pending;  // `latest`: the newest message it could not take yet
    std::uint64_t pending_seq = 0;
    // A ?since= replay still going out: backlog[next..] follows as the queue drains,
    // and live messages wait behind it (live_bytes of them, at most --send-buffer).
    std::vector<Payload> backlog;
    std::size_t backlog_next = 0;
    std::size_t live_bytes = 0;
    std::size_t live_from = 0;  // index of the first live message in backlog
    bool replaying() const { return backlog_next < backlog.size(); }
  };
  struct Slot {
    std::shared_ptr<WsSession> session;
    LocalRoom* room = nullptr;     // the room whose traffic it receives, if any
    std::uint32_t room_index = 0;  // its place in room->members
    std::uint32_t opened_ms = 0;   // loop time it was adopted (the close log line)
    std::uint64_t last_seq = 0;    // the last room seq queued to it
    std::unique_ptr<Lag> lag;
    std::string const* peer = nullptr;             // for the per-address connection count
    std::int64_t expires_at = 0;                   // its token's exp (close 1008 then); 0: never
    std::shared_ptr<std::string const> room_path;  // the last room it joined (the same)
    bool replaying() const { return lag && lag->replaying(); }
    bool pending() const { return lag && lag->pending; }
    Lag& lagging() {
      if (!lag) lag = std::make_unique<Lag>();
      return *lag;
    }
    void caught_up() {  // drops the Lag once nothing in it is left
      if (lag && !lag->pending && !lag->replaying()) lag.reset();
    }
  };

  void drain();
  // Runs `walk` with session releases held back until it is done (a walk over members
  // must not see them move), then releases those that ended meanwhile.
  template <typename Walk>
  void walking(Walk&& walk) {
    in_drain_ = true;
    walk();
    in_drain_ = false;
    while (!closed_in_drain_.empty()) {
      SessionId const id = closed_in_drain_.back();
      closed_in_drain_.pop_back();
      release(id);
    }
  }
  void carry_out(Delivery& d);
  void adopt(delivery::Adopt& a);
  void join(SessionId id, RoomJoin& join);
  void leave(SessionId id);
  void broadcast(delivery::Broadcast const& b);
  bool offer(std::size_t slot, Payload const& framed, std::uint64_t seq);
  bool apply_policy(std::size_t slot, Payload const& framed, std::uint64_t seq);
  void pump(std::size_t slot, bool may_write);
  void reply(SessionId id, Payload const& framed);
  void cut(std::size_t slot, std::string const& reason);
  void arm_pending();
  void arm_keepalive();
  void close_batch(std::uint16_t code, std::string const& reason, std::size_t from,
                   std::size_t per_batch);
  void release(SessionId id);
  void log_close(Slot const& slot);
  WsSession* live(SessionId id) const;

  void on_text(std::uint64_t id, std::string_view text) override;
  void on_binary(std::uint64_t id, std::string_view data) override;
  void on_closed(std::uint64_t id) override;
  void on_drained(std::uint64_t id) override;

  std::size_t const index_;
  std::size_t const count_;
  SharedHub& hub_;
  ConnectionLimits const& limits_;
  LoopCounters& counters_;
  ShardOwner& owner_;
  SystemWallClock clock_;
  // One thread runs it: what the loop posts to itself goes on that thread's own queue,
  // without the scheduler's lock and without waking its reactor (epoll_ctl on Asio's
  // interrupter — half a system call per connection before, perf stat). Other threads'
  // posts still lock and wake it.
  asio::io_context io_{1};
  Poller& poller_ = asio::use_service<Poller>(io_);
  SessionLoop loop_;
  // Open sessions by id / count: an array index on the broadcast path.
  std::vector<Slot> slots_;
  std::unordered_map<RoomId, LocalRoom> rooms_;
  std::vector<SessionId> free_ids_;         // guarded by the SharedHub's mutex
  std::size_t next_slot_ = 0;               // guarded by the SharedHub's mutex
  std::vector<std::size_t> pending_slots_;  // `latest` members with a pending message
  asio::steady_timer pending_timer_{io_};
  bool pending_armed_ = false;
  asio::steady_timer keepalive_timer_{io_};
  asio::steady_timer close_timer_{io_};
  // The inbox: filled from any thread, swapped out and carried out here.
  std::mutex inbox_mutex_;
  std::vector<Delivery> inbox_, draining_;
  bool drain_posted_ = false;
  bool in_drain_ = false;
  std::vector<SessionId> closed_in_drain_;  // released once the drain is done
};

}  // namespace wspush
