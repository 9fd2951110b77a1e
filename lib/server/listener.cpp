#include "server/listener.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
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
// again: re-arming at once would spin a core while the limit lasts.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

bool out_of_resources(asio::error_code const& ec) {
  int const e = ec.value();
  return ec.category() == asio::system_category() &&
         (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM);
}
}  // namespace

class Listener::Impl {
 public:
  Impl(asio::io_context& io, ListenerOptions const& options, ListenerEvents& events)
      : io_(io), options_(options), events_(events) {}

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
    asio::ip::tcp::endpoint peer;  // filled by the accept in progress
    asio::steady_timer backoff;
    bool warned = false;
  };

  static bool open(asio::ip::tcp::acceptor& a, asio::ip::tcp::endpoint const& at,
                   asio::error_code& ec) {
    a.open(at.protocol(), ec);
    if (ec) return false;
    a.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (at.protocol() == asio::ip::tcp::v6()) a.set_option(asio::ip::v6_only(true), ec);
    a.bind(at, ec);
    if (ec) return false;
    a.listen(1024, ec);
    return !ec;
  }

  void accept(Acceptor& acceptor) {
    if (stopped_) return;
    acceptor.socket.async_accept(
        io_, acceptor.peer,
        [this, &acceptor](asio::error_code const& ec, asio::ip::tcp::socket socket) {
          if (stopped_ || ec == asio::error::operation_aborted) return;
          if (ec) return on_accept_error(acceptor, ec);
          if (acceptor.warned) {
            spdlog::info("accepting connections again");
            acceptor.warned = false;
          }
          serve(std::move(socket), acceptor.peer);
          accept(acceptor);
        });
  }

  void on_accept_error(Acceptor& acceptor, asio::error_code const& ec) {
    if (!out_of_resources(ec)) return accept(acceptor);  // e.g. the peer gave up: next one
    if (!acceptor.warned) {
      spdlog::warn("cannot accept connections: {}; retrying every {} ms until it passes",
                   ec.message(), kAcceptBackoff.count());
      acceptor.warned = true;
    }
    acceptor.backoff.expires_after(kAcceptBackoff);
    acceptor.backoff.async_wait([this, &acceptor](asio::error_code const& wait_ec) {
      if (!wait_ec) accept(acceptor);
    });
  }

  void serve(asio::ip::tcp::socket socket, asio::ip::tcp::endpoint const& peer) {
    std::unique_ptr<ByteStream> stream;
    if (options_.tls != nullptr) {
      stream = std::make_unique<TlsStream>(std::move(socket), peer, options_.tls->session());
    } else {
      stream = std::make_unique<TcpStream>(std::move(socket), peer);
    }
    auto connection =
        std::make_shared<HttpConnection>(io_, std::move(stream), events_, options_,
                                         [this](HttpConnection* c) { connections_.erase(c); });
    connections_.insert(connection.get());
    connection->start();
  }

  asio::io_context& io_;
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
