#include "server/broker/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <poll.h>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>

namespace wspush {

// The socket as Asio sees it, and what hiredis wants to hear about (read: 0, write: 1).
struct RedisConnection::Watch {
  Watch(asio::io_context& io, redisAsyncContext* c) : descriptor(io, c->c.fd), ctx(c) {}
  asio::posix::stream_descriptor descriptor;
  redisAsyncContext* ctx;
  bool want[2] = {false, false};
  bool armed[2] = {false, false};
  std::weak_ptr<Watch> self;
};

namespace {

bool ready_now(int fd, int dir) {
  short const events = dir == 0 ? POLLIN : POLLOUT;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
}

template <typename W>
void arm(std::shared_ptr<W> const& w, int dir);

// Asio's reactor is edge-triggered and hiredis reads or writes once per call: handle
// while the socket stays ready (a bounded number of times, then yield to the loop).
template <typename W>
void handle(std::shared_ptr<W> const& w, int dir) {
  for (int i = 0; i < 32; ++i) {
    if (!w->ctx || !w->want[dir]) return;
    int const fd = w->ctx->c.fd;
    if (dir == 0) {
      redisAsyncHandleRead(w->ctx);
    } else {
      redisAsyncHandleWrite(w->ctx);
    }
    if (!w->ctx || !w->want[dir]) return;
    if (!ready_now(fd, dir)) return arm(w, dir);
  }
  asio::post(w->descriptor.get_executor(), [w, dir] { handle(w, dir); });
}

template <typename W>
void arm(std::shared_ptr<W> const& w, int dir) {
  if (!w->ctx || !w->want[dir] || w->armed[dir]) return;
  w->armed[dir] = true;
  auto const kind = dir == 0 ? asio::posix::stream_descriptor::wait_read
                             : asio::posix::stream_descriptor::wait_write;
  w->descriptor.async_wait(kind, [w, dir](asio::error_code const& ec) {
    w->armed[dir] = false;
    if (!ec) handle(w, dir);
  });
}

template <typename W>
void want(void* data, int dir, bool on) {
  auto* raw = static_cast<W*>(data);
  raw->want[dir] = on;
  if (on) {
    if (auto w = raw->self.lock()) arm(w, dir);
  }
}

}  // namespace

RedisConnection::RedisConnection(asio::io_context& io, std::function<void(std::string)> on_closed)
    : io_(io), on_closed_(std::move(on_closed)) {}

RedisConnection::~RedisConnection() {
  *alive_ = false;
  if (redisAsyncContext* c = ctx_) {
    ctx_ = nullptr;
    redisAsyncFree(c);  // outstanding callbacks hear nullptr now
  }
}

bool RedisConnection::connect(RedisAddress const& address, std::string* error) {
  redisAsyncContext* c = redisAsyncConnect(address.host.c_str(), address.port);
  if (!c || c->err) {
    *error = c ? c->errstr : "out of memory";
    if (c) redisAsyncFree(c);
    return false;
  }
  ctx_ = c;
  c->data = this;
  watch_ = std::make_shared<Watch>(io_, c);
  watch_->self = watch_;
  c->ev.data = watch_.get();
  c->ev.addRead = [](void* d) { want<Watch>(d, 0, true); };
  c->ev.delRead = [](void* d) { want<Watch>(d, 0, false); };
  c->ev.addWrite = [](void* d) { want<Watch>(d, 1, true); };
  c->ev.delWrite = [](void* d) { want<Watch>(d, 1, false); };
  c->ev.cleanup = [](void* d) {
    auto* w = static_cast<Watch*>(d);
    w->ctx = nullptr;
    w->want[0] = w->want[1] = false;
    asio::error_code ignored;
    w->descriptor.cancel(ignored);
    (void)w->descriptor.release();  // hiredis closes the descriptor itself
  };
  redisAsyncSetConnectCallback(c, &RedisConnection::on_connect);
  redisAsyncSetDisconnectCallback(c, &RedisConnection::on_disconnect);
  return true;
}

void RedisConnection::command(std::vector<std::string> const& argv, Callback done) {
  if (!ctx_) {
    if (done) done(nullptr);
    return;
  }
  send(argv, new Pending{std::move(done), false});
}

void RedisConnection::subscription(std::vector<std::string> const& argv) {
  if (ctx_) send(argv, &push_pending_);
}

void RedisConnection::send(std::vector<std::string> const& argv, Pending* pending) {
  std::vector<char const*> args;
  std::vector<std::size_t> lengths;
  for (std::string const& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  if (redisAsyncCommandArgv(ctx_, &RedisConnection::on_reply, pending,
                            static_cast<int>(args.size()), args.data(),
                            lengths.data()) != REDIS_OK) {
    if (pending->fn) pending->fn(nullptr);
    if (!pending->persistent) delete pending;
  }
}

void RedisConnection::close(std::string const& why) {
  close_reason_ = why;
  // Not from inside a hiredis callback: freed on the next turn of the loop.
  asio::post(io_, [this, alive = alive_] {
    if (!*alive || !ctx_) return;
    redisAsyncContext* c = ctx_;
    ctx_ = nullptr;
    redisAsyncFree(c);
    closed(close_reason_);
  });
}

void RedisConnection::on_reply(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* pending = static_cast<Pending*>(privdata);
  auto* self = static_cast<RedisConnection*>(ctx->data);
  if (pending == &self->push_pending_) {
    if (self->push_) self->push_(static_cast<redisReply const*>(reply));
    return;
  }
  if (pending->fn) pending->fn(static_cast<redisReply const*>(reply));
  delete pending;
}

void RedisConnection::on_connect(redisAsyncContext const* ctx, int status) {
  auto* self = static_cast<RedisConnection*>(ctx->data);
  if (status != REDIS_OK) {  // hiredis frees the context after this
    self->ctx_ = nullptr;
    return self->closed(ctx->errstr[0] ? ctx->errstr : "cannot connect");
  }
  self->connected_ = true;
  if (self->on_connected_) self->on_connected_();
}

void RedisConnection::on_disconnect(redisAsyncContext const* ctx, int status) {
  auto* self = static_cast<RedisConnection*>(ctx->data);
  self->ctx_ = nullptr;
  self->connected_ = false;
  std::string why = self->close_reason_;
  if (why.empty()) why = status == REDIS_OK ? "closed" : (ctx->errstr[0] ? ctx->errstr : "lost");
  self->closed(why);
}

void RedisConnection::closed(std::string why) {
  if (closed_) return;
  closed_ = true;
  connected_ = false;
  asio::post(io_, [this, alive = alive_, why = std::move(why)] {
    if (*alive && on_closed_) on_closed_(why);
  });
}

}  // namespace wspush
