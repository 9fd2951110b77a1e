// SPEC §8's broker: rooms shared by every node through Redis. A publish runs one
// server-side script that numbers the message (HINCRBY on the room's hash), appends it
// to the room's stream (XADD, capped at the room's history) and publishes it (PUBLISH)
// — one seq per room for the whole cluster, in one atomic step. Each node subscribes
// to the rooms it serves and delivers to its own members through a StreamMirror,
// which puts what pub/sub brings in seq order and reads the stream for what pub/sub
// missed (at the start, after a reconnection, when a seq jumps).
//
// Redis keys: wspush:{ROOM}:meta (hash: seq, epoch), wspush:{ROOM}:stream (stream,
// IDs SEQ-1, field m = the envelope); channel wspush:ROOM carries "EPOCH SEQ ENVELOPE".
// The epoch is made when the hash is (again) missing: Redis lost the room's data.
//
// Ticker rooms (StreamScope::node) stay in this process, in an InMemoryBroker.
//
// Threading: the Broker calls come under the Hub's lock from any loop; Redis runs on
// one loop (`io`). Its answers take the Hub's lock (`hub_mutex`) to update the
// mirrors and call the sink; no call into Redis is made with that lock held.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/broker.hpp"
#include "core/stream_mirror.hpp"
#include "server/broker/redis_link.hpp"

namespace wspush {

// The broker's state for /readyz and /metrics; readable from any thread.
struct BrokerHealth {
  std::atomic<bool> up{false};
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> stream_reads{0};     // reads of a stream (start, catch-up, gap)
  std::atomic<std::uint64_t> lost{0};             // seqs no longer in a stream when read
  std::atomic<std::uint64_t> publish_refused{0};  // answered 503: Redis did not take them
};

class RedisBroker final : public Broker, private RedisLinkEvents {
 public:
  RedisBroker(asio::io_context& io, RedisAddress address, std::mutex& hub_mutex,
              std::uint64_t node_epoch);
  ~RedisBroker() override;

  // Connects (and keeps reconnecting); before the loops run or on `io`.
  void start();
  // This node's members per shared room, for the cluster's counts (GET /api/rooms);
  // called on `io` every 2 s, without the Hub's lock (it takes it).
  using MemberCounts = std::vector<std::pair<std::string, std::size_t>>;
  void set_member_source(std::function<MemberCounts()> source) { members_ = std::move(source); }
  BrokerHealth const& health() const { return health_; }

  void set_sink(BrokerSink& sink) override;
  void open_stream(std::string const& room, std::size_t history, StreamScope scope) override;
  bool ready(std::string const& room) const override;
  void drop_stream(std::string const& room) override;
  void delete_stream(std::string const& room,
                     std::function<void(std::optional<Refusal> const&)> done) override;
  void publish(std::string const& room, std::string_view event, std::string_view data_json,
               std::function<void(PublishAck const&)> done, std::string const& key = {}) override;
  // Idempotency keys: kept `window_ms` by the publish script (SET PX) for shared rooms,
  // by this node for its own; 0: keys are ignored.
  void keep_keys(std::int64_t window_ms, std::size_t max_keys);
  History::Replay replay_after(std::string const& room, std::uint64_t since) const override;
  void keep_deflated(std::string const& room, std::uint64_t seq, Payload deflated) override;
  StreamState state(std::string const& room) const override;
  void expire(std::string const& room, std::int64_t ttl_ms, std::int64_t now_ms) override;
  // PSUBSCRIBE wspush:/chat/*: rooms of the family made on other nodes are heard of.
  void watch_family(std::string const& pattern) override;
  void unwatch_family(std::string const& pattern) override;

 private:
  void on_link_up() override;
  void on_link_down(std::string const& why) override;
  void on_subscribed(std::string_view channel) override;
  void on_message(std::string_view channel, std::string_view payload) override;
  void on_pattern_message(std::string_view channel, std::string_view payload) override;
  // A room's deletion heard on its channel (every node, the deleting one too).
  void on_deleted(std::string const& room, std::uint64_t epoch);

  // On `io`, without the Hub's lock.
  void read(std::string const& room, std::uint64_t after, std::uint64_t epoch);
  void on_read(std::string const& room, redisReply const* reply);
  // Under the Hub's lock: hands a step's messages to the sink; the read it asks for is
  // returned, to be made once the lock is released.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> apply(std::string const& room,
                                                               StreamMirror const& mirror,
                                                               StreamMirror::Step step);
  // `fn` on `io`, unless the broker is gone by then.
  template <typename Fn>
  void on_io(Fn&& fn) {
    asio::post(io_, [alive = alive_, fn = std::forward<Fn>(fn)]() mutable {
      if (*alive) fn();
    });
  }
  void wait_for_replicas(PublishAck ack, std::function<void(PublishAck const&)> done);
  void flush_publishes();
  void answer(redisReply const* r, std::vector<std::function<void(PublishAck const&)>>& dones);
  struct OutgoingPublish {
    std::string prefix;  // the envelope up to its seq
    std::string key;     // its idempotency key, if any
    std::function<void(PublishAck const&)> done;
  };
  struct Outgoing {
    std::size_t keep = 0;  // the room's history
    std::vector<OutgoingPublish> items;
  };
  void send_wait();
  struct Waiting {
    PublishAck ack;
    std::function<void(PublishAck const&)> done;
  };
  void report_members();

  asio::io_context& io_;
  std::mutex& hub_mutex_;
  InMemoryBroker local_;
  BrokerSink* sink_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<StreamMirror>> mirrors_;  // the Hub's lock
  RedisLink link_;
  asio::steady_timer presence_;
  std::string node_key_;  // wspush:node:HOST:PID:START
  std::function<MemberCounts()> members_;
  std::unordered_map<std::string, std::size_t> others_;  // members elsewhere (the Hub's lock)
  std::string where_;                                    // "redis HOST:PORT", for errors
  std::string link_error_;                               // why it is down (the Hub's lock)
  std::int64_t key_window_ms_ = 0;
  unsigned wait_replicas_ = 0;      // ?wait=N
  std::vector<Waiting> wait_next_;  // answered by Redis, waiting for the next WAIT (on io)
  bool wait_out_ = false;           // a WAIT is out
  // Publishes made since the last flush, by room (the Hub's lock); a flush is posted.
  std::unordered_map<std::string, Outgoing> outgoing_;
  bool flush_posted_ = false;
  BrokerHealth health_;
  std::atomic<bool> tried_{false};  // the first connect has succeeded or failed
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace wspush
