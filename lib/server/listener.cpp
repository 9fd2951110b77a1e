#include "server/listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <cerrno>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "net/log.hpp"
#include "server/http_connection.hpp"
#include "server/tls_stream.hpp"

namespace wspush {
namespace {
// When accept fails for want of descriptors or memory, wait this long before trying
// again.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// Connections taken from one listening socket before the loop serves anything else.
constexpr int kAcceptsPerTurn = 64;

bool out_of_resources(asio::error_code const& ec) {
  int const e = ec.value();
  return ec.category() == asio::system_category() &&
         (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM);
}
}  // namespace

class Listener::Impl {
 public:
  Impl(asio::io_context& io, ListenerOptions const& options, ListenerEvents& events)
      : io_(io), poller_(asio::use_service<Poller>(io)), options_(options), events_(events) {}

  ~Impl() { stop(); }

  std::uint16_t bind(std::string const& host, std::uint16_t port) {
    asio::ip::tcp::resolver resolver(io_);
    asio::error_code ec;
    auto const results =
        resolver.resolve(host, std::to_string(port), asio::ip::tcp::resolver::passive, ec);
    if (ec) throw std::runtime_error("cannot resolve host '" + host + "': " + ec.message());
    std::string last_error;
    for (auto const& entry : results) {
      asio::ip::tcp::endpoint address = entry.endpoint();
      address.port(port);
      auto acceptor = std::make_unique<Acceptor>(io_);
      if (!open(acceptor->socket, address, ec)) {
        last_error =
            address.address().to_string() + " port " + std::to_string(port) + ": " + ec.message();
        spdlog::warn("cannot listen on {}", last_error);
        continue;
      }
      port = acceptor->socket.local_endpoint(ec).port();
      spdlog::info("listening on {} port {}", address.address().to_string(), port);
      acceptors_.push_back(std::move(acceptor));
    }
    if (acceptors_.empty()) throw std::runtime_error("cannot listen on " + last_error);
    return port;
  }

  void start() {
    for (auto& acceptor : acceptors_) accept(*acceptor);
  }

  void stop() {
    stopped_ = true;
    for (auto& acceptor : acceptors_) {
      asio::error_code ec;
      acceptor->socket.close(ec);
      acceptor->backoff.cancel();
    }
    drain();
  }

  // Handshakes in flight end: a drain must not wait on them.
  void drain() {
    std::vector<HttpConnection*> open(connections_.begin(), connections_.end());
    for (HttpConnection* c : open) c->abort();
  }

 private:
  struct Acceptor {
    explicit Acceptor(asio::io_context& io) : socket(io), backoff(io) {}
    asio::ip::tcp::acceptor socket;
    asio::steady_timer backoff;
    bool warned = false;
  };

  static bool open(asio::ip::tcp::acceptor& a, asio::ip::tcp::endpoint const& at,
                   asio::error_code& ec) {
    a.open(at.protocol(), ec);
    if (ec) return false;
    a.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (at.protocol() == asio::ip::tcp::v6()) a.set_option(asio::ip::v6_only(true), ec);
    a.set_option(asio::ip::tcp::no_delay(true), ec);  // inherited by every accepted socket
    // Connections are reported when their first bytes (the request) arrive, so that the
    // first read finds them: no read that finds nothing, no epoll registration before the
    // hand-off. One that sends nothing is reported after a second anyway (Linux), and
    // the handshake timeout runs from then.
    int const defer_seconds = 1;
    ::setsockopt(a.native_handle(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds,
                 sizeof defer_seconds);
    a.non_blocking(true, ec);
    a.bind(at, ec);
    if (ec) return false;
    a.listen(1024, ec);
    return !ec;
  }

  // Waits for the listening socket, then takes every connection queued on it, a bounded
  // number a turn: accept4 gives a non-blocking socket and its peer address in one call
  // (TCP_NODELAY it inherits from the listening socket).
  void accept(Acceptor& acceptor) {
    if (stopped_) return;
    acceptor.socket.async_wait(asio::ip::tcp::acceptor::wait_read,
                               [this, &acceptor](asio::error_code const& ec) {
                                 if (stopped_ || ec == asio::error::operation_aborted) return;
                                 if (ec) return back_off(acceptor, ec);
                                 accept_queued(acceptor);
                               });
  }

  void accept_queued(Acceptor& acceptor) {
    for (int n = 0; n < kAcceptsPerTurn && !stopped_; ++n) {
      asio::ip::tcp::endpoint peer;
      socklen_t size = static_cast<socklen_t>(peer.capacity());
      int const fd = ::accept4(acceptor.socket.native_handle(), peer.data(), &size,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        asio::error_code const ec(errno, asio::system_category());
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
          return accept(acceptor);
        }
        if (out_of_resources(ec)) return back_off(acceptor, ec);
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

  // Out of descriptors or memory (or the wait failed): accepting resumes after a pause,
  // since trying again at once would spin a core while the shortage lasts.
  void back_off(Acceptor& acceptor, asio::error_code const& ec) {
    if (!acceptor.warned) {
      spdlog::warn("cannot accept connections: {}; retrying every {} ms until it passes",
                   ec.message(), kAcceptBackoff.count());
      acceptor.warned = true;
    }
    acceptor.backoff.expires_after(kAcceptBackoff);
    acceptor.backoff.async_wait([this, &acceptor](asio::error_code const& wait_ec) {
      if (!wait_ec && !stopped_) accept_queued(acceptor);
    });
  }

  void serve(int fd, asio::ip::tcp::endpoint const& peer) {
    std::unique_ptr<ByteStream> stream;
    if (options_.tls != nullptr) {
      stream = std::make_unique<TlsStream>(poller_, fd, peer, options_.tls->session());
    } else {
      stream = std::make_unique<TcpStream>(poller_, fd, peer);
    }
    auto connection = std::make_shared<HttpConnection>(
        io_, std::move(stream), address_text(peer.address()), events_, options_,
        [this](HttpConnection* c) { connections_.erase(c); });
    connection->start();
    // Kept only while it waits (most handshakes are done within start()).
    if (!connection->finished()) connections_.insert(connection.get());
  }

  asio::io_context& io_;
  Poller& poller_;
  ListenerOptions options_;
  ListenerEvents& events_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::unordered_set<HttpConnection*> connections_;  // not yet handed over or answered
  bool stopped_ = false;
};

Listener::Listener(asio::io_context& io, ListenerOptions const& options, ListenerEvents& events)
    : impl_(std::make_unique<Impl>(io, options, events)) {}
Listener::~Listener() = default;
std::uint16_t Listener::bind(std::string const& host, std::uint16_t port) {
  return impl_->bind(host, port);
}
void Listener::start() {
  impl_->start();
}
void Listener::stop() {
  impl_->stop();
}
void Listener::drain() {
  impl_->drain();
}

}  // namespace wspush
