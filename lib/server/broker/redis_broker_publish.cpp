// RedisBroker's publishing side: a publish (with its idempotency key and ?wait=N), the
// TTL's trims and a room's deletion. The stream's reading side is redis_broker.cpp.
#include <hiredis/hiredis.h>

#include "common/codec.hpp"
#include "server/broker/redis_broker.hpp"
#include "server/broker/redis_keys.hpp"
#include "server/broker/redis_scripts.hpp"

namespace wspush {

using namespace redis_keys;

namespace {
constexpr std::chrono::milliseconds kWaitTimeout{1000};
// Publishes of one room numbered by one script call at most: a call runs alone in
// Redis, and 256 of them take about 5 ms.
constexpr std::size_t kMaxBatch = 256;
}  // namespace

void RedisBroker::keep_keys(std::int64_t window_ms, std::size_t max_keys) {
  key_window_ms_ = window_ms;
  local_.keep_keys(window_ms, max_keys);
}

void RedisBroker::publish(std::string const& room, std::string_view event,
                          std::string_view data_json, std::function<void(PublishAck const&)> done,
                          std::string const& key) {
  auto const it = mirrors_.find(room);
  if (it == mirrors_.end()) return local_.publish(room, event, data_json, std::move(done), key);
  if (!health_.up) {
    ++health_.publish_refused;
    if (done) {
      done(PublishAck{
          Refusal{Reason::broker_unavailable, "broker unavailable: " + where_ + ": " + link_error_},
          0});
    }
    return;
  }
  // The envelope up to its seq: the script appends the seq it assigns and the brace.
  std::string prefix = encode_json_event(200, event, data_json, std::uint64_t{0});
  prefix.resize(prefix.size() - 2);  // "0}"
  Outgoing& out = outgoing_[room];
  out.keep = it->second->state().capacity;
  out.items.push_back(OutgoingPublish{std::move(prefix), key_window_ms_ > 0 ? key : std::string(),
                                      std::move(done)});
  if (flush_posted_) return;
  flush_posted_ = true;
  on_io([this] { flush_publishes(); });
}

// The publishes made since the last flush, per room in order, at most kMaxBatch to a
// script call: one EVALSHA numbers, keeps and publishes them all (each still its own
// PUBLISH, so every node delivers as before), and answers each one's seq.
void RedisBroker::flush_publishes() {
  std::unordered_map<std::string, Outgoing> batch;
  {
    std::lock_guard<std::mutex> lock(hub_mutex_);
    batch.swap(outgoing_);
    flush_posted_ = false;
  }
  for (auto& [room, out] : batch) {
    for (std::size_t from = 0; from < out.items.size(); from += kMaxBatch) {
      std::size_t const to = std::min(out.items.size(), from + kMaxBatch);
      std::vector<std::string> keys{meta_key(room), stream_key(room)};
      std::vector<std::string> argv{std::to_string(out.keep), channel_of(room),
                                    std::to_string(key_window_ms_), std::to_string(to - from)};
      auto dones = std::make_shared<std::vector<std::function<void(PublishAck const&)>>>();
      for (std::size_t k = from; k < to; ++k) {
        OutgoingPublish& p = out.items[k];
        std::size_t key_index = 0;
        if (!p.key.empty()) {
          keys.push_back("wspush:{" + room + "}:key:" + p.key);
          key_index = keys.size();
        }
        argv.push_back(std::move(p.prefix));
        argv.push_back(std::to_string(key_index));
        dones->push_back(std::move(p.done));
      }
      std::vector<std::string> args{std::to_string(keys.size())};
      args.insert(args.end(), keys.begin(), keys.end());
      args.insert(args.end(), argv.begin(), argv.end());
      link_.script(publish_script(), std::move(args),
                   [this, alive = alive_, dones](redisReply const* r) {
                     if (*alive) answer(r, *dones);
                   });
    }
  }
}

// The script's answer: {epoch, {seq, duplicate, …}} in the order of `dones`.
void RedisBroker::answer(redisReply const* r,
                         std::vector<std::function<void(PublishAck const&)>>& dones) {
  bool const ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                  r->element[1]->type == REDIS_REPLY_ARRAY &&
                  r->element[1]->elements == 2 * dones.size();
  for (std::size_t k = 0; k < dones.size(); ++k) {
    PublishAck ack;
    if (ok) {
      ack.seq = static_cast<std::uint64_t>(r->element[1]->element[2 * k]->integer);
      ack.duplicate = r->element[1]->element[2 * k + 1]->integer == 1;
      if (wait_replicas_ > 0) {
        wait_for_replicas(ack, std::move(dones[k]));
        continue;
      }
    } else {
      ack.refusal = Refusal{Reason::broker_unavailable,
                            "broker unavailable: " + where_ + ": " +
                                (r ? std::string(text_of(r)) : std::string("connection lost"))};
      ++health_.publish_refused;
    }
    std::lock_guard<std::mutex> lock(hub_mutex_);
    if (dones[k]) dones[k](ack);
  }
}

// ?wait=N (redis-sentinel's default 1): a publish is acknowledged once N replicas have
// it, so a failover cannot take it back; after kWaitTimeout without them, 503 (it may
// be published: a retry with the same idempotency key is answered with its seq). One
// WAIT covers every write before it on the connection, so the publishes answered while
// one is out wait together for the next: one WAIT per round trip, not per publish.
void RedisBroker::wait_for_replicas(PublishAck ack, std::function<void(PublishAck const&)> done) {
  wait_next_.push_back(Waiting{std::move(ack), std::move(done)});
  if (!wait_out_) send_wait();
}

void RedisBroker::send_wait() {
  wait_out_ = true;
  auto batch = std::make_shared<std::vector<Waiting>>(std::move(wait_next_));
  wait_next_.clear();
  link_.command({"WAIT", std::to_string(wait_replicas_), std::to_string(kWaitTimeout.count())},
                [this, alive = alive_, batch](redisReply const* r) {
                  if (!*alive) return;
                  wait_out_ = false;
                  bool const ok = r && r->type == REDIS_REPLY_INTEGER &&
                                  r->integer >= static_cast<long long>(wait_replicas_);
                  {
                    std::lock_guard<std::mutex> lock(hub_mutex_);
                    for (Waiting& w : *batch) {
                      if (!ok) {
                        w.ack.refusal = Refusal{
                            Reason::broker_unavailable,
                            "broker unavailable: " + where_ + ": not on " +
                                std::to_string(wait_replicas_) + " replica(s) within " +
                                std::to_string(kWaitTimeout.count()) +
                                " ms (it may be published: retry with the same Idempotency-Key)"};
                        ++health_.publish_refused;
                      }
                      if (w.done) w.done(w.ack);
                    }
                  }
                  if (!wait_next_.empty()) send_wait();
                });
}

void RedisBroker::expire(std::string const& room, std::int64_t ttl_ms, std::int64_t now_ms) {
  auto const it = mirrors_.find(room);
  if (it == mirrors_.end()) return local_.expire(room, ttl_ms, now_ms);
  it->second->expire(now_ms - ttl_ms);
  // Every node trims the room it follows: the same cut by Redis's clock, cheap when
  // nothing is older than the TTL.
  if (!health_.up) return;
  std::vector<std::string> args{"1", stream_key(room), std::to_string(ttl_ms)};
  on_io([this, args = std::move(args)] {
    link_.script(trim_script(), args, [](redisReply const*) {});
  });
}

void RedisBroker::delete_stream(std::string const& room,
                                std::function<void(std::optional<Refusal> const&)> done) {
  if (mirrors_.find(room) == mirrors_.end()) return local_.delete_stream(room, std::move(done));
  if (!health_.up) {
    if (done) done(Refusal{Reason::broker_unavailable, "broker unavailable: " + where_});
    return;
  }
  std::vector<std::string> args{"2", meta_key(room), stream_key(room), channel_of(room)};
  on_io([this, args = std::move(args), done = std::move(done)]() mutable {
    link_.script(delete_script(), std::move(args),
                 [this, alive = alive_, done = std::move(done)](redisReply const* r) {
                   if (!*alive) return;
                   std::optional<Refusal> refusal;
                   if (!r || r->type == REDIS_REPLY_ERROR) {
                     refusal = Refusal{Reason::broker_unavailable,
                                       "broker unavailable: " + where_ + ": " +
                                           (r ? std::string(text_of(r)) : "connection lost")};
                   }
                   std::lock_guard<std::mutex> lock(hub_mutex_);
                   if (done) done(refusal);
                 });
  });
}

// Every node's copy of the stream starts again, and its members are told.
void RedisBroker::on_deleted(std::string const& room, std::uint64_t epoch) {
  std::lock_guard<std::mutex> lock(hub_mutex_);
  auto const it = mirrors_.find(room);
  if (it == mirrors_.end()) return;
  it->second->reset(epoch);
  if (sink_) sink_->on_stream_deleted(room);
}

}  // namespace wspush
