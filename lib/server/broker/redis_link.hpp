// The node's link to Redis: a command connection (pipelined scripts and reads) and a
// subscription connection (pub/sub), up only when both are connected and
// authenticated. When either is lost both are closed, every outstanding command hears
// nullptr, and the link reconnects with backoff (100 ms doubling to 5 s, jittered).
// With sentinels (redis-sentinel://) every connect first asks them, in order, which
// server is the primary, and checks that it says it is (ROLE); a primary that turns
// read-only (demoted) is left as if lost, so the link follows a failover.
//
// Threading: one loop, like RedisConnection.
#pragma once

#include <asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/client_session.hpp"
#include "server/broker/redis_connection.hpp"
#include "server/broker/redis_scripts.hpp"

namespace wspush {

class RedisLinkEvents {
 public:
  virtual ~RedisLinkEvents() = default;
  virtual void on_link_up() = 0;
  virtual void on_link_down(std::string const& why) = 0;
  // The subscription to `channel` is active: what is published there from now on comes.
  virtual void on_subscribed(std::string_view channel) = 0;
  virtual void on_message(std::string_view channel, std::string_view payload) = 0;
  // A message on a channel that matches a pattern subscription (psubscribe).
  virtual void on_pattern_message(std::string_view channel, std::string_view payload) = 0;
};

class RedisLink {
 public:
  RedisLink(asio::io_context& io, RedisAddress address, RedisLinkEvents& events);

  void start();
  bool up() const { return up_; }
  std::uint64_t connects() const { return connects_; }
  std::string const& last_error() const { return last_error_; }

  // On the command connection; `done(nullptr)` when the link is down or goes down.
  void command(std::vector<std::string> const& argv, RedisConnection::Callback done);
  // EVALSHA of `script` with `args` (numkeys, keys, arguments). Every script is loaded
  // (SCRIPT LOAD) when the link comes up, before any command; a NOSCRIPT answer (someone
  // flushed the cache) takes the link down, to come back with them loaded.
  void script(LuaScript const& script, std::vector<std::string> args,
              RedisConnection::Callback done);
  // Kept across reconnections: the link subscribes again each time it comes up.
  void subscribe(std::string const& channel);
  void unsubscribe(std::string const& channel);
  // The same for a channel pattern (Redis glob: PSUBSCRIBE).
  void psubscribe(std::string const& pattern);
  void punsubscribe(std::string const& pattern);

 private:
  void connect();
  // Sentinel `k` is asked for the primary's address; the next one if it cannot say.
  void ask_sentinel(std::size_t k, std::string errors);
  void connect_primary();
  void greet(RedisConnection& connection, bool select);
  void authenticated();
  void lost(std::string const& why);

  asio::io_context& io_;
  RedisAddress address_;
  RedisLinkEvents& events_;
  std::unique_ptr<RedisConnection> commands_;
  std::unique_ptr<RedisConnection> pubsub_;
  std::unique_ptr<RedisConnection> sentinel_;  // while asking one
  std::uint64_t asking_ = 0;                   // which ask the sentinel's callbacks belong to
  asio::steady_timer retry_;
  asio::steady_timer deadline_;  // a connect that neither succeeds nor fails
  Backoff backoff_{std::chrono::milliseconds(100), std::chrono::seconds(5)};
  std::mt19937 random_{std::random_device{}()};
  std::set<std::string> channels_;
  std::set<std::string> patterns_;
  int ready_ = 0;  // connections authenticated (of 2)
  bool up_ = false;
  bool down_said_ = false;
  std::uint64_t connects_ = 0;
  std::string last_error_;
};

}  // namespace wspush
