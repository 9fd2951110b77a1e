// The Outbox the Hub delivers through: each call becomes one typed Delivery in the
// inbox of the shard that owns the session (SessionId k lives on shard k % shards);
// a broadcast goes to every shard, and each walks only its own members of the room.
//
// Threading: called by the Hub with the SharedHub's mutex held, so inboxes fill in
// Hub order; it only queues.
#pragma once

#include <memory>
#include <vector>

#include "core/outbox.hpp"
#include "server/loop/shard.hpp"

namespace wspush {

class Fanout final : public Outbox {
 public:
  explicit Fanout(std::vector<std::unique_ptr<Shard>>& shards) : shards_(shards) {}

  void send(SessionId to, Payload const& framed) override {
    shard_of(to).enqueue(delivery::Send{to, framed});
  }
  void join(SessionId to, RoomJoin join) override {
    shard_of(to).enqueue(delivery::Join{to, std::move(join)});
  }
  void leave(SessionId id, RoomId room) override {
    shard_of(id).enqueue(delivery::Leave{id, room});
  }
  void broadcast(RoomId room, RoomMessage const& message, std::uint64_t seq) override {
    for (auto& shard : shards_) shard->enqueue(delivery::Broadcast{room, message, seq});
  }
  void close(SessionId id, std::uint16_t code, std::string_view reason, Duration linger) override {
    shard_of(id).enqueue(delivery::Close{id, code, std::string(reason), linger});
  }

  Shard& shard_of(SessionId id) { return *shards_[id % shards_.size()]; }

 private:
  std::vector<std::unique_ptr<Shard>>& shards_;
};

}  // namespace wspush
