// One hiredis asynchronous connection driven by an Asio loop: hiredis parses and
// pipelines, Asio waits for the socket. Commands are written as they are issued, many
// in flight at once; each answer comes back to its callback in order.
//
// Why hiredis's async API with a small adapter of our own: Debian's hiredis (0.14)
// ships adapters for libevent, libuv and others, none for Asio; the adapter is the five
// hooks of redisAsyncContext::ev (about 60 lines here).
//
// Threading: one loop. Every call and callback runs on the loop's thread. Callbacks
// run inside hiredis: they may issue commands but must not destroy the connection
// (on_closed is posted, so it may).
#pragma once

#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/redis_url.hpp"

struct redisAsyncContext;
struct redisReply;

namespace wspush {

class RedisConnection {
 public:
  // nullptr: no answer will come (the connection is gone).
  using Callback = std::function<void(redisReply const*)>;

  // `on_closed(why)` once, after a failed connect or a lost connection; posted.
  RedisConnection(asio::io_context& io, std::function<void(std::string)> on_closed);
  ~RedisConnection();
  RedisConnection(RedisConnection const&) = delete;
  RedisConnection& operator=(RedisConnection const&) = delete;

  // Starts connecting; false (and `error`) when that cannot even start.
  bool connect(RedisAddress const& address, std::string* error);
  bool connected() const { return connected_; }
  // `on_connected` runs when the TCP connection is up.
  void on_connected(std::function<void()> fn) { on_connected_ = std::move(fn); }

  void command(std::vector<std::string> const& argv, Callback done);
  // SUBSCRIBE/UNSUBSCRIBE: their confirmations and every message go to `push`.
  void subscription(std::vector<std::string> const& argv);
  void on_push(Callback push) { push_ = std::move(push); }

  // Ends it now: outstanding callbacks hear nullptr; on_closed follows.
  void close(std::string const& why);

 private:
  struct Watch;
  struct Pending {
    Callback fn;
    bool persistent = false;
  };
  static void on_reply(redisAsyncContext* ctx, void* reply, void* privdata);
  static void on_connect(redisAsyncContext const* ctx, int status);
  static void on_disconnect(redisAsyncContext const* ctx, int status);
  void closed(std::string why);
  void send(std::vector<std::string> const& argv, Pending* pending);

  asio::io_context& io_;
  std::function<void(std::string)> on_closed_;
  std::function<void()> on_connected_;
  Callback push_;
  Pending push_pending_{nullptr, true};
  redisAsyncContext* ctx_ = nullptr;
  std::shared_ptr<Watch> watch_;
  bool connected_ = false;
  bool closed_ = false;
  std::string close_reason_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace wspush
