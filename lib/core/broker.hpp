// The broker: where a room's messages are numbered, kept and fanned out from. The Hub
// publishes into it and receives what each room publishes (BrokerSink); the history
// for ?since= and the last seq come from it. InMemoryBroker is the one-process
// implementation (no --broker); SPEC §8's Redis broker is another implementation of
// the same interface, so the Hub, the shards and the sessions do not change with it.
//
// Threading: like the Hub, a broker holds no lock; the Hub's user serialises calls.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/payload.hpp"
#include "core/history.hpp"
#include "core/idempotency.hpp"
#include "core/journal.hpp"
#include "core/refusal.hpp"

namespace wspush {

// Where a room's stream stands.
struct StreamState {
  std::uint64_t last_seq = 0;              // 0: nothing published yet
  std::uint64_t epoch = 0;                 // changes when the stream's history is lost
  std::optional<std::uint64_t> first_seq;  // the oldest message held
  std::size_t size = 0;                    // messages held
  std::size_t capacity = 0;
  bool shared = false;            // the cluster's stream (--broker), not only this node's
  std::size_t other_members = 0;  // shared: members on the other nodes, as they last said
};

// The answer to one publish: its seq, or why it was refused (broker_unavailable: the
// broker cannot take it now). Nothing is acknowledged that was not kept.
struct PublishAck {
  std::optional<Refusal> refusal;
  std::uint64_t seq = 0;
  bool duplicate = false;  // its idempotency key was seen: `seq` is the first publish's
};

// Where a room's stream lives: in this process only (ticker rooms: each node ticks its
// own), or shared by every node of the cluster (with --broker).
enum class StreamScope { node, cluster };

class BrokerSink {
 public:
  virtual ~BrokerSink() = default;
  // One message of `room`, numbered `seq`, as a framed text frame (the envelope with its
  // seq). Called once per message, in seq order per room.
  virtual void on_published(std::string const& room, std::uint64_t seq, Payload const& framed) = 0;
  // A stream that was not ready() is now: its state and history can be read.
  virtual void on_stream_ready(std::string const& room) = 0;
  // A room of a watched family (Broker::watch_family) that this node has no stream of
  // got a message elsewhere: open its stream now to follow it.
  virtual void on_room_seen(std::string const& /*room*/) {}
  // The room was deleted (here or, with --broker, on any node): its stream starts again
  // at seq 0 in a new epoch; its members are to be told.
  virtual void on_stream_deleted(std::string const& /*room*/) {}
};

class Broker {
 public:
  virtual ~Broker() = default;
  // Where every room's messages go; set once, before the first publish.
  virtual void set_sink(BrokerSink& sink) = 0;
  // A room's stream keeps its last `history` messages. Idempotent.
  virtual void open_stream(std::string const& room, std::size_t history, StreamScope scope) = 0;
  // Whether the stream's state and history are known here (a shared stream is read from
  // the broker first). When it becomes so, the sink hears on_stream_ready.
  virtual bool ready(std::string const& room) const = 0;
  // The room is gone (a family room dropped when empty and without history).
  virtual void drop_stream(std::string const& room) = 0;
  // DELETE /api/rooms: the room's seq and history are gone; its stream (now, if open,
  // or when opened again) starts at seq 0 in a new epoch, and the sink hears
  // on_stream_deleted (with --broker, on every node). `done` says whether it was done.
  virtual void delete_stream(std::string const& room,
                             std::function<void(std::optional<Refusal> const&)> done) = 0;
  // Publishes {"status":200,"event":EVENT,"data":DATA,"seq":N} into `room`: numbers it,
  // frames it once, keeps it, hands it to the sink, then calls `done` (possibly later,
  // from the thread the Hub runs on). With a `key` seen in the room within the
  // idempotency window: nothing is published, `done` gets the first one's seq.
  virtual void publish(std::string const& room, std::string_view event, std::string_view data_json,
                       std::function<void(PublishAck const&)> done,
                       std::string const& key = {}) = 0;
  // What a client that last saw `since` missed (framed messages, oldest first).
  virtual History::Replay replay_after(std::string const& room, std::uint64_t since) const = 0;
  // The compressed twin of the message `seq` the Hub made, kept with it for replays.
  virtual void keep_deflated(std::string const& room, std::uint64_t seq, Payload deflated) = 0;
  virtual StreamState state(std::string const& room) const = 0;
  // --history-ttl: the room's messages older than `ttl_ms` leave its history here and
  // wherever the broker keeps them (the data dir, the Redis stream). `now_ms`: this
  // node's wall clock.
  virtual void expire(std::string const& room, std::int64_t ttl_ms, std::int64_t now_ms) = 0;
  // Rooms of the family "/chat/*" made on other nodes are to be heard of (the sink's
  // on_room_seen), while some connection here follows the family. Nothing to do in one
  // process: every room is made here.
  virtual void watch_family(std::string const& /*pattern*/) {}
  virtual void unwatch_family(std::string const& /*pattern*/) {}
};

class InMemoryBroker final : public Broker {
 public:
  // `epoch` identifies this process's streams (a new one at each start).
  explicit InMemoryBroker(std::uint64_t epoch) : epoch_(epoch) {}
  // With --data-dir: every stream starts from what `journal` holds, and a message is
  // published once the journal has kept it; the epoch is the journal's.
  explicit InMemoryBroker(Journal& journal) : epoch_(journal.epoch()), journal_(&journal) {}

  void set_sink(BrokerSink& sink) override { sink_ = &sink; }
  void open_stream(std::string const& room, std::size_t history, StreamScope scope) override;
  bool ready(std::string const&) const override { return true; }
  void drop_stream(std::string const& room) override;
  void delete_stream(std::string const& room,
                     std::function<void(std::optional<Refusal> const&)> done) override;
  void publish(std::string const& room, std::string_view event, std::string_view data_json,
               std::function<void(PublishAck const&)> done, std::string const& key = {}) override;
  History::Replay replay_after(std::string const& room, std::uint64_t since) const override;
  void keep_deflated(std::string const& room, std::uint64_t seq, Payload deflated) override;
  StreamState state(std::string const& room) const override;
  void expire(std::string const& room, std::int64_t ttl_ms, std::int64_t now_ms) override;
  // Idempotency keys are kept `window_ms` (at most `max_keys`); with a journal, those it
  // kept within the window are read back. Without this call, keys are ignored.
  void keep_keys(std::int64_t window_ms, std::size_t max_keys);

 private:
  struct Stream {
    Stream(std::size_t history, std::uint64_t stream_epoch, std::uint64_t stream_id)
        : messages(history), epoch(stream_epoch), id(stream_id) {}
    std::uint64_t seq = 0;        // the last numbered
    std::uint64_t published = 0;  // the last kept and published (seq, without a journal)
    History messages;
    std::uint64_t epoch;  // epoch_, or the room's own since a DELETE
    std::uint64_t id;     // which stream of the room (a DELETE makes another)
  };
  std::uint64_t epoch_of(std::string const& room, std::uint64_t stored) const;
  // Message `seq` of stream `id` of `room` is kept: to the history, the members and its
  // publisher (only the publisher, if the stream was deleted meanwhile).
  void published(std::string const& room, std::uint64_t id, std::uint64_t seq, std::int64_t ms,
                 Payload const& framed, std::function<void(PublishAck const&)> const& done);

  void publish_new(std::string const& room, std::string_view event, std::string_view data_json,
                   std::function<void(PublishAck const&)> done, std::string const& key);

  std::uint64_t epoch_;
  Journal* journal_ = nullptr;
  std::unique_ptr<IdempotencyKeys> keys_;
  std::unordered_map<std::string, std::uint64_t> room_epochs_;  // rooms deleted in this run
  std::uint64_t next_stream_id_ = 1;
  BrokerSink* sink_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Stream>> streams_;
};

}  // namespace wspush
