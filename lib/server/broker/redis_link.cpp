#include "server/broker/redis_link.hpp"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <asio/post.hpp>
#include <cstdlib>

#include "process/log.hpp"

namespace wspush {
namespace {

constexpr auto kConnectDeadline = std::chrono::seconds(3);

std::string error_of(redisReply const* reply) {
  if (!reply) return "connection lost";
  if (reply->type == REDIS_REPLY_ERROR) return std::string(reply->str, reply->len);
  return {};
}

}  // namespace

RedisLink::RedisLink(asio::io_context& io, RedisAddress address, RedisLinkEvents& events)
    : io_(io), address_(std::move(address)), events_(events), retry_(io), deadline_(io) {}

void RedisLink::start() {
  connect();
}

void RedisLink::connect() {
  deadline_.expires_after(kConnectDeadline * (1 + address_.sentinels.size()));
  deadline_.async_wait([this](asio::error_code const& ec) {
    if (!ec && !up_) lost("no answer within " + std::to_string(kConnectDeadline.count()) + " s");
  });
  if (address_.sentinels.empty()) return connect_primary();
  ask_sentinel(0, {});
}

void RedisLink::ask_sentinel(std::size_t k, std::string errors) {
  if (k == address_.sentinels.size()) {
    return lost("no sentinel named the primary '" + address_.master + "' (" + errors + ")");
  }
  RedisEndpoint const& s = address_.sentinels[k];
  std::string const where = s.host + ":" + std::to_string(s.port);
  std::uint64_t const ask = ++asking_;
  // Posted: never inside the callbacks of the connection the next ask replaces.
  auto next = [this, k, ask, errors, where](std::string const& why) {
    if (ask != asking_) return;  // an answer came, or this ask was given up
    ++asking_;
    asio::post(io_, [this, k, errors = errors + (errors.empty() ? "" : "; ") + where + ": " + why] {
      if (!up_ && retry_.expiry() <= std::chrono::steady_clock::now()) ask_sentinel(k + 1, errors);
    });
  };
  sentinel_ = std::make_unique<RedisConnection>(io_, next);
  RedisAddress at;
  at.host = s.host;
  at.port = s.port;
  std::string error;
  if (!sentinel_->connect(at, &error)) return next(error);
  sentinel_->command(
      {"SENTINEL", "get-master-addr-by-name", address_.master},
      [this, ask, next](redisReply const* r) {
        if (ask != asking_) return;
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
          return next(r ? (error_of(r).empty() ? "does not know it" : error_of(r))
                        : "connection lost");
        }
        ++asking_;  // answered: this connection's close is not a failure
        address_.host.assign(r->element[0]->str, r->element[0]->len);
        address_.port = static_cast<std::uint16_t>(
            std::strtoul(std::string(r->element[1]->str, r->element[1]->len).c_str(), nullptr, 10));
        sentinel_->close("asked");
        asio::post(io_, [this] {
          if (!up_ && retry_.expiry() <= std::chrono::steady_clock::now()) connect_primary();
        });
      });
}

void RedisLink::connect_primary() {
  ready_ = 0;
  auto on_closed = [this](std::string const& why) { lost(why); };
  commands_ = std::make_unique<RedisConnection>(io_, on_closed);
  pubsub_ = std::make_unique<RedisConnection>(io_, on_closed);
  pubsub_->on_push([this](redisReply const* r) {
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
    std::string_view const kind(r->element[0]->str, r->element[0]->len);
    if (kind == "pmessage" && r->elements == 4 && r->element[3]->type == REDIS_REPLY_STRING) {
      return events_.on_pattern_message(std::string_view(r->element[2]->str, r->element[2]->len),
                                        std::string_view(r->element[3]->str, r->element[3]->len));
    }
    std::string_view const channel(r->element[1]->str, r->element[1]->len);
    if (kind == "message" && r->element[2]->type == REDIS_REPLY_STRING) {
      events_.on_message(channel, std::string_view(r->element[2]->str, r->element[2]->len));
    } else if (kind == "subscribe") {
      events_.on_subscribed(channel);
    }
  });
  std::string error;
  if (!commands_->connect(address_, &error) || !pubsub_->connect(address_, &error)) {
    return lost(error);
  }
  greet(*commands_, true);
  greet(*pubsub_, false);
}

// AUTH (when there is a password), SELECT on the command connection, CLIENT SETNAME,
// then PING: the connection counts once Redis answered all of them.
void RedisLink::greet(RedisConnection& connection, bool select) {
  std::vector<std::vector<std::string>> hello;
  if (!address_.password.empty()) hello.push_back({"AUTH", address_.password});
  if (select && address_.db != 0) hello.push_back({"SELECT", std::to_string(address_.db)});
  // Named for CLIENT LIST: which process, which of its two connections.
  hello.push_back({"CLIENT", "SETNAME",
                   "wspush-" + std::to_string(::getpid()) + (select ? "-commands" : "-pubsub")});
  // A sentinel's answer can be stale (a failover under way): the primary says it is.
  if (select && !address_.sentinels.empty()) hello.push_back({"ROLE"});
  // Every script is in this Redis's cache before the first EVALSHA (a primary promoted
  // by a failover has an empty one): loading one on demand, after a NOSCRIPT, would let
  // a later publish run before an earlier one and take the lower seq.
  if (select) {
    for (LuaScript const* s : all_scripts()) hello.push_back({"SCRIPT", "LOAD", s->text});
  }
  hello.push_back({"PING"});
  for (std::size_t k = 0; k < hello.size(); ++k) {
    bool const last = k + 1 == hello.size();
    bool const role = hello[k][0] == "ROLE";
    connection.command(hello[k], [this, last, role, &connection](redisReply const* r) {
      std::string const error = error_of(r);
      if (!error.empty()) return connection.close(error);
      if (role && !(r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                    std::string_view(r->element[0]->str, r->element[0]->len) == "master")) {
        return connection.close("the sentinels' primary is not one (ROLE)");
      }
      if (last) authenticated();
    });
  }
}

void RedisLink::authenticated() {
  if (++ready_ < 2) return;
  deadline_.cancel();
  up_ = true;
  down_said_ = false;
  ++connects_;
  backoff_.reset();
  last_error_.clear();
  spdlog::info("broker: connected to redis {}:{}", address_.host, address_.port);
  for (std::string const& channel : channels_) pubsub_->subscription({"SUBSCRIBE", channel});
  for (std::string const& pattern : patterns_) pubsub_->subscription({"PSUBSCRIBE", pattern});
  events_.on_link_up();
}

void RedisLink::lost(std::string const& why) {
  if (retry_.expiry() > std::chrono::steady_clock::now()) return;  // a retry is set already
  deadline_.cancel();
  bool const was_up = up_;
  up_ = false;
  last_error_ = why;
  // Both go: a half link (commands without the subscription) would deliver nothing.
  if (commands_) commands_->close(why);
  if (pubsub_) pubsub_->close(why);
  ++asking_;
  if (sentinel_) sentinel_->close(why);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Duration const delay = backoff_.next(unit(random_));
  if (was_up || !down_said_) {
    spdlog::warn("broker: redis {}:{} unavailable ({}); retrying in {} ms", address_.host,
                 address_.port, why,
                 std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
    down_said_ = true;
  }
  events_.on_link_down(why);
  retry_.expires_after(delay);
  retry_.async_wait([this](asio::error_code const& ec) {
    if (ec) return;
    // The old connections are closed by now (their close was posted before this timer).
    retry_.expires_at(std::chrono::steady_clock::time_point{});
    connect();
  });
}

void RedisLink::command(std::vector<std::string> const& argv, RedisConnection::Callback done) {
  if (!up_ || !commands_) {
    if (done) done(nullptr);
    return;
  }
  commands_->command(argv, [this, done = std::move(done)](redisReply const* r) {
    // A primary demoted under us (a failover while we were connected) refuses writes:
    // the link goes, and comes back to the one the sentinels name now.
    if (r && r->type == REDIS_REPLY_ERROR &&
        std::string_view(r->str, r->len).rfind("READONLY", 0) == 0 && commands_) {
      commands_->close(std::string(r->str, r->len));
    }
    if (done) done(r);
  });
}

void RedisLink::script(LuaScript const& script, std::vector<std::string> args,
                       RedisConnection::Callback done) {
  std::vector<std::string> argv{"EVALSHA", script.sha};
  argv.insert(argv.end(), args.begin(), args.end());
  command(argv, [this, done = std::move(done)](redisReply const* r) {
    // The cache was flushed under us (SCRIPT FLUSH): the link starts again, loading them
    // first; what was in flight is refused (503), never run out of order.
    if (r && r->type == REDIS_REPLY_ERROR &&
        std::string_view(r->str, r->len).rfind("NOSCRIPT", 0) == 0 && commands_) {
      commands_->close("the script cache was flushed (NOSCRIPT)");
    }
    if (done) done(r);
  });
}

void RedisLink::subscribe(std::string const& channel) {
  if (channels_.insert(channel).second && up_) pubsub_->subscription({"SUBSCRIBE", channel});
}

void RedisLink::unsubscribe(std::string const& channel) {
  if (channels_.erase(channel) && up_) pubsub_->subscription({"UNSUBSCRIBE", channel});
}

void RedisLink::psubscribe(std::string const& pattern) {
  if (patterns_.insert(pattern).second && up_) pubsub_->subscription({"PSUBSCRIBE", pattern});
}

void RedisLink::punsubscribe(std::string const& pattern) {
  if (patterns_.erase(pattern) && up_) pubsub_->subscription({"PUNSUBSCRIBE", pattern});
}

}  // namespace wspush
