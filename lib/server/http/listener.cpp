#include "server/http/listener.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "process/log.hpp"
#include "server/http/http_connection.hpp"
#include "server/stream/tls_stream.hpp"

namespace wspush {
namespace {
// When accept fails for want of descriptors or memory, wait this long before trying
// again.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// Connections taken from one listening socket before the loop serves anything else.
constexpr int kAcceptsPerTurn = 64;

bool out_of_resources(int e) {
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}
}  // namespace

class Listener::Impl {
 public:
  Impl(asio::io_context& io, std::vector<int> sockets, ConnectionLimits const& limits,
       TlsContext const* tls, ListenerEvents& events)
      : io_(io),
        poller_(asio::use_service<Poller>(io)),
        limits_(limits),
        tls_(tls),
        events_(events) {
    for (int fd : sockets) acceptors_.push_back(std::make_unique<Acceptor>(*this, fd));
  }

  ~Impl() { stop(); }

  void start() {
    for (auto& acceptor : acceptors_) {
      acceptor->slot = poller_.add(acceptor->fd, *acceptor);
      if (acceptor->slot == Poller::kNoSlot) {
        throw std::system_error(errno, std::generic_category(), "epoll_ctl (listening socket)");
      }
      // Connections already queued are reported by the registration itself, once the
      // loop runs (not here: the server is not started yet).
    }
  }

  void stop() {
    stopped_ = true;
    for (auto& acceptor : acceptors_) acceptor->close();
    drop_handshakes();
  }

  // Handshakes in flight end: a drain must not wait on them.
  void drop_handshakes() {
    std::vector<HttpConnection*> open(connections_.begin(), connections_.end());
    for (HttpConnection* c : open) c->abort();
  }

  void resume_http(StreamHandoff handoff, HttpRequest request, std::string rest) {
    if (stopped_) {
      ::close(handoff.fd);
      return;
    }
    std::string peer = address_text(handoff.peer.address());
    auto connection = make_connection(resume_stream(poller_, std::move(handoff)), std::move(peer));
    connection->resume(std::move(request), rest);
    keep_if_waiting(connection);
  }

 private:
  // A listening socket, on the loop's Poller: registered once (edge-triggered), so a
  // wait costs no epoll_ctl, where Asio's async_wait re-armed the socket each time.
  struct Acceptor final : Poller::Target {
    Acceptor(Impl& owner, int socket) : impl(owner), fd(socket), backoff(owner.io_) {}
    ~Acceptor() { close(); }
    void on_events(std::uint32_t /*events*/) override { impl.accept_queued(*this); }
    void on_shutdown() override { slot = Poller::kNoSlot; }
    void close() {
      impl.poller_.remove(slot);
      slot = Poller::kNoSlot;
      if (fd >= 0) ::close(std::exchange(fd, -1));
      backoff.cancel();
    }

    Impl& impl;
    int fd;
    std::uint32_t slot = Poller::kNoSlot;
    asio::steady_timer backoff;
    bool warned = false;
    bool paused = false;  // backing off: events wait for the timer
  };

  // Takes every connection queued on the socket, a bounded number a turn: accept4
  // gives a non-blocking socket and its peer address in one call (TCP_NODELAY it
  // inherits from the listening socket). The socket is edge-triggered: accepting goes
  // on until it says EAGAIN.
  void accept_queued(Acceptor& acceptor) {
    if (acceptor.paused) return;
    for (int n = 0; n < kAcceptsPerTurn && !stopped_; ++n) {
      asio::ip::tcp::endpoint peer;
      socklen_t size = static_cast<socklen_t>(peer.capacity());
      int const fd = ::accept4(acceptor.fd, peer.data(), &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        int const e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK) return;
        if (out_of_resources(e)) return back_off(acceptor, e);
        continue;  // e.g. the peer gave up (ECONNABORTED): the next one
      }
      peer.resize(size);
      if (acceptor.warned) {
        spdlog::info("accepting connections again");
        acceptor.warned = false;
      }
      serve(fd, peer);
    }
    if (stopped_) return;
    asio::post(io_, [this, &acceptor] { accept_queued(acceptor); });  // the rest, next turn
  }

  // Out of descriptors or memory: accepting resumes after a pause, since trying again at
  // once would spin a core while the shortage lasts.
  void back_off(Acceptor& acceptor, int error) {
    if (!acceptor.warned) {
      spdlog::warn("cannot accept connections: {}; retrying every {} ms until it passes",
                   std::strerror(error), kAcceptBackoff.count());
      acceptor.warned = true;
    }
    acceptor.paused = true;
    acceptor.backoff.expires_after(kAcceptBackoff);
    acceptor.backoff.async_wait([this, &acceptor](asio::error_code const& wait_ec) {
      if (wait_ec || stopped_) return;
      acceptor.paused = false;
      accept_queued(acceptor);
    });
  }

  void serve(int fd, asio::ip::tcp::endpoint const& peer) {
    std::unique_ptr<ByteStream> stream;
    if (tls_ != nullptr) {
      stream = std::make_unique<TlsStream>(poller_, fd, peer, tls_->session());
    } else {
      stream = std::make_unique<TcpStream>(poller_, fd, peer);
    }
    auto connection = make_connection(std::move(stream), address_text(peer.address()));
    connection->start();
    keep_if_waiting(connection);
  }

  std::shared_ptr<HttpConnection> make_connection(std::unique_ptr<ByteStream> stream,
                                                  std::string peer) {
    return std::make_shared<HttpConnection>(io_, std::move(stream), std::move(peer), events_,
                                            limits_,
                                            [this](HttpConnection* c) { connections_.erase(c); });
  }

  // Kept only while it waits (most handshakes are done within start()).
  void keep_if_waiting(std::shared_ptr<HttpConnection> const& connection) {
    if (!connection->finished()) connections_.insert(connection.get());
  }

  asio::io_context& io_;
  Poller& poller_;
  ConnectionLimits const& limits_;
  TlsContext const* tls_;
  ListenerEvents& events_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::unordered_set<HttpConnection*> connections_;  // not yet handed over or answered
  bool stopped_ = false;
};

Listener::Listener(asio::io_context& io, std::vector<int> sockets, ConnectionLimits const& limits,
                   TlsContext const* tls, ListenerEvents& events)
    : impl_(std::make_unique<Impl>(io, std::move(sockets), limits, tls, events)) {}
Listener::~Listener() = default;
void Listener::start() {
  impl_->start();
}
void Listener::stop() {
  impl_->stop();
}
void Listener::drop_handshakes() {
  impl_->drop_handshakes();
}
void Listener::resume_http(StreamHandoff stream, HttpRequest request, std::string rest) {
  impl_->resume_http(std::move(stream), std::move(request), std::move(rest));
}

}  // namespace wspush
