// One event loop and the sessions it owns: the conductor of its parts. A connection this
// loop accepted becomes a session here, joined to its room, in one pass (accept()); the
// Hub's later decisions for its sessions arrive as typed Deliveries in its Inbox, queued
// in Hub order from any thread and carried out here in that order; what a session says
// is decided by core/client_protocol.hpp and answered here when it concerns only the
// sender. The parts, one job each: SessionTable (ids and slots), RoomMembers (who is in
// which room), Pacer (the slow-consumer policy, paced replays), KeepaliveSweep (pings,
// idle and token expiry), SpreadClose (the shutdown's batches), log_session_closed.
//
// Threading: everything here runs on the loop's thread, except enqueue() and
// inbox_depth() (any thread).
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/frame.hpp"
#include "common/timefmt.hpp"
#include "core/admission.hpp"
#include "core/client_protocol.hpp"
#include "core/metrics.hpp"
#include "core/outbox.hpp"
#include "server/loop/inbox.hpp"
#include "server/loop/keepalive.hpp"
#include "server/loop/pacer.hpp"
#include "server/loop/room_members.hpp"
#include "server/loop/session_table.hpp"
#include "server/loop/shared_hub.hpp"
#include "server/loop/spread_close.hpp"
#include "server/ws/upgrade.hpp"
#include "server/ws/ws_session.hpp"

namespace wspush {

namespace delivery {
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
  RoomMessage message;
  std::uint64_t seq;
};
struct Close {
  SessionId id;
  std::uint16_t code;
  std::string reason;
  Duration linger;
};
}  // namespace delivery
using Delivery = std::variant<delivery::Send, delivery::Join, delivery::Leave, delivery::Broadcast,
                              delivery::Close>;

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
  Poller& poller() { return poller_; }
  std::size_t index() const { return index_; }
  // Runs the loop (and its timers) until stopped.
  void run();

  // Any thread.
  void enqueue(Delivery delivery) { inbox_.push(std::move(delivery)); }
  std::size_t inbox_depth() { return inbox_.depth(); }

  // The session of an accepted connection: made, joined to its room (or made a publish
  // stream, with `publisher`) and started in one pass, with nothing queued to this loop
  // in between. `peer`: its address as ConnectionCounts keeps it.
  void accept(Upgrade upgrade, std::string const* peer, bool publisher);

  // Closes every session with `code` (shutdown), in batches spread evenly over `spread`,
  // so that clients do not all come back at the same moment.
  void close_all(std::uint16_t code, std::string const& reason, Duration spread);

 private:
  struct Entry {
    std::shared_ptr<WsSession> session;
    std::string const* peer = nullptr;             // for the per-address connection count
    std::shared_ptr<std::string const> room_path;  // its room (the close log line)
    std::int64_t expires_at = 0;                   // its token's exp (close 1008 then); 0: never
    std::uint32_t opened_ms = 0;                   // loop time it opened (the close log line)
    SessionRole role = SessionRole::waiting;
    RoomKind kind = RoomKind::feed;  // a member's room's
    bool deflate = false;            // it takes compressed messages (permessage-deflate)
  };
  // The open session of a slot, for the pacer.
  struct Sessions {
    SessionTable<Entry>* table;
    WsSession* operator()(std::uint32_t slot) const {
      Entry* e = table->at(slot);
      return e ? e->session.get() : nullptr;
    }
  };

  void carry_out_inbox();
  // Runs `walk` with session releases held back until it is done (a walk over members
  // must not see them move), then releases those that ended meanwhile.
  template <typename Walk>
  void walking(Walk&& walk) {
    bool const outer = !in_walk_;
    in_walk_ = true;
    walk();
    if (!outer) return;
    in_walk_ = false;
    while (!closed_in_walk_.empty()) {
      std::uint32_t const slot = closed_in_walk_.back();
      closed_in_walk_.pop_back();
      release(slot);
    }
  }
  void carry_out(Delivery& d);
  void join(std::uint32_t slot, RoomJoin& join);
  void leave(std::uint32_t slot, RoomId room);
  void broadcast(delivery::Broadcast const& b);
  void act(std::uint32_t slot, ClientAction const& action, Opcode opcode, std::string_view data);
  void release(std::uint32_t slot);
  void arm_pending();
  void arm_keepalive();

  void on_text(std::uint64_t id, std::string_view text) override;
  void on_binary(std::uint64_t id, std::string_view data) override;
  void on_closed(std::uint64_t id) override;
  void on_queue_empty(std::uint64_t id) override;

  std::size_t const index_;
  std::size_t const count_;
  SharedHub& hub_;
  ConnectionLimits const& limits_;
  LoopCounters& counters_;
  ShardOwner& owner_;
  SystemWallClock clock_;
  // One thread runs it: what the loop posts to itself goes on that thread's own queue,
  // without the scheduler's lock and without waking its reactor.
  asio::io_context io_{1};
  Poller& poller_ = asio::use_service<Poller>(io_);
  SessionLoop loop_;
  SessionTable<Entry> sessions_;
  RoomMembers members_;
  Pacer<WsSession, Sessions> pacer_;
  KeepaliveSweep keepalive_;
  SpreadClose spread_close_{io_};
  Inbox<Delivery> inbox_;
  std::vector<Delivery> carrying_;  // the inbox's items being carried out
  asio::steady_timer pending_timer_{io_};
  bool pending_armed_ = false;
  asio::steady_timer keepalive_timer_{io_};
  bool in_walk_ = false;
  std::vector<std::uint32_t> closed_in_walk_;  // released once the walk is done
};

}  // namespace wspush
