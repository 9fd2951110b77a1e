#include "net/ws_client.hpp"

#include <openssl/ssl.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <map>
#include <stdexcept>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>

#include "net/line_reader.hpp"

namespace wspush {
namespace asio = websocketpp::lib::asio;

namespace {

std::string one_line(std::string text, std::size_t limit = 300) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.size() > limit) text = text.substr(0, limit) + "…";
  return text;
}

bool is_tls_error(std::error_code const& ec) {
  return ec.category() == asio::error::get_ssl_category() ||
         ec.category() == websocketpp::transport::asio::socket::get_socket_category() ||
         ec == websocketpp::transport::error::tls_error ||
         ec == websocketpp::transport::error::tls_short_read;
}

template <typename ConnectionPtr>
ClientFailure classify(ConnectionPtr const& con) {
  std::error_code const ec = con->get_ec();
  int const status = con->get_response_code();
  if (status != 0 && status != 101) {
    std::string reason =
        "handshake refused: HTTP " + std::to_string(status) + " " + con->get_response_msg();
    std::string const body = one_line(con->get_response().get_body());
    if (!body.empty()) reason += ": " + body;
    return {ExitCode::handshake, reason, status};
  }
  if (ec == websocketpp::error::open_handshake_timeout) {
    return {ExitCode::timeout, "timed out waiting for the handshake answer"};
  }
  if (is_tls_error(ec)) return {ExitCode::tls, "TLS failure: " + ec.message()};
  if (ec == websocketpp::transport::asio::error::proxy_failed ||
      ec == websocketpp::transport::asio::error::proxy_invalid) {
    return {ExitCode::connect, "cannot connect through the proxy: " + ec.message()};
  }
  if (ec.category() == std::system_category() ||
      ec.category() == asio::error::get_system_category() ||
      ec.category() == asio::error::get_netdb_category() ||
      ec.category() == asio::error::get_addrinfo_category() ||
      ec.category() == asio::error::get_misc_category() ||
      ec == websocketpp::transport::error::timeout) {
    return {ExitCode::connect, "cannot connect: " + ec.message()};
  }
  return {ExitCode::protocol, "handshake failed: " + ec.message()};
}

}  // namespace

std::string check_connect_options(ConnectOptions const& options) {
  websocketpp::uri const uri(options.url);
  if (!uri.get_valid() || (uri.get_scheme() != "ws" && uri.get_scheme() != "wss")) {
    return "invalid URL '" + options.url + "': expected ws://HOST[:PORT]/PATH or wss://…";
  }
  for (std::string const& header : options.headers) {
    auto const colon = header.find(':');
    if (colon == std::string::npos || colon == 0) {
      return "invalid header '" + header + "': expected 'Name: value'";
    }
  }
  std::string const proxy = proxy_for(options.url, options.proxy);
  if (!proxy.empty()) {
    websocketpp::uri const p(proxy);
    if (!p.get_valid() || p.get_scheme() != "http") {
      return "invalid proxy '" + proxy + "': expected http://HOST:PORT";
    }
  }
  return {};
}

// One connection, plain or TLS. Events go to the sink on the loop's thread.
class Link {
 public:
  using Sink = std::function<void(ClientEvent&)>;
  virtual ~Link() = default;
  virtual void send(Opcode opcode, std::string_view payload) = 0;
  virtual void close(std::uint16_t code, std::string const& reason) = 0;
  virtual std::size_t buffered() const = 0;

  static std::unique_ptr<Link> open(asio::io_context& io, ConnectOptions const& options, Sink sink);
};

namespace {

template <typename Config, bool kTls>
class LinkImpl final : public Link {
  using Client = websocketpp::client<Config>;
  using ConnectionPtr = typename Client::connection_ptr;

 public:
  LinkImpl(asio::io_context& io, ConnectOptions const& options, Sink sink)
      : sink_(std::move(sink)) {
    client_.clear_access_channels(websocketpp::log::alevel::all);
    client_.clear_error_channels(websocketpp::log::elevel::all);
    std::error_code ec;
    client_.init_asio(&io, ec);
    if (ec) throw std::runtime_error("cannot initialise the network: " + ec.message());
    client_.set_max_message_size(options.max_message_size);
    client_.set_open_handshake_timeout(whole_millis(options.handshake_timeout));
    client_.set_close_handshake_timeout(5000);
    if constexpr (kTls) set_up_tls(options);

    client_.set_open_handler([this](websocketpp::connection_hdl) {
      ClientEvent e;
      e.kind = ClientEvent::Kind::open;
      sink_(e);
    });
    client_.set_fail_handler([this](websocketpp::connection_hdl) {
      ClientEvent e;
      e.kind = ClientEvent::Kind::failed;
      e.failure = classify(con_);
      sink_(e);
    });
    client_.set_message_handler(
        [this](websocketpp::connection_hdl, typename Client::message_ptr msg) {
          ClientEvent e;
          e.kind = ClientEvent::Kind::frame;
          e.opcode = msg->get_opcode() == websocketpp::frame::opcode::binary ? Opcode::binary
                                                                             : Opcode::text;
          e.payload = std::move(msg->get_raw_payload());
          sink_(e);
        });
    client_.set_close_handler([this](websocketpp::connection_hdl) {
      ClientEvent e;
      e.kind = ClientEvent::Kind::closed;
      e.close_code = con_->get_remote_close_code();
      e.close_reason = con_->get_remote_close_reason();
      // No close frame from the server, but we closed for a reason of our own (a
      // protocol error, invalid UTF-8, a message too big): say which.
      auto const local = con_->get_local_close_code();
      if (e.close_code == 1006 && local != 0 && local != 1000 && local != 1006) {
        e.close_reason = "we closed with " + std::to_string(local);
        if (!con_->get_local_close_reason().empty()) {
          e.close_reason += " (" + con_->get_local_close_reason() + ")";
        }
      }
      sink_(e);
    });

    con_ = client_.get_connection(options.url, ec);
    if (ec) throw std::invalid_argument("invalid URL '" + options.url + "': " + ec.message());
    for (std::string const& header : options.headers) {
      auto const colon = header.find(':');
      std::string value = header.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      con_->append_header(header.substr(0, colon), value);
    }
    if (!options.origin.empty()) con_->replace_header("Origin", options.origin);
    if (!options.token.empty()) con_->replace_header("Authorization", "Bearer " + options.token);
    std::string const proxy = proxy_for(options.url, options.proxy);
    if (!proxy.empty()) {
      con_->set_proxy(proxy, ec);
      if (ec) throw std::invalid_argument("invalid proxy '" + proxy + "': " + ec.message());
    }
    client_.connect(con_);
  }

  ~LinkImpl() override {
    // Handlers capture `this`; make sure none can run once we are gone.
    if (con_) {
      std::error_code ec;
      con_->terminate(ec);
    }
  }

  void send(Opcode opcode, std::string_view payload) override {
    auto const op = opcode == Opcode::binary ? websocketpp::frame::opcode::binary
                                             : websocketpp::frame::opcode::text;
    con_->send(payload.data(), payload.size(), op);  // error_code overload: returns it
  }

  void close(std::uint16_t code, std::string const& reason) override {
    std::error_code ec;
    con_->close(code, reason, ec);
  }

  std::size_t buffered() const override { return con_->get_buffered_amount(); }

 private:
  void set_up_tls(ConnectOptions const& options) {
    std::string const host = websocketpp::uri(options.url).get_host();
    client_.set_tls_init_handler([options, host](websocketpp::connection_hdl) {
      auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
      ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
      std::error_code ec;
      if (options.insecure) {
        ctx->set_verify_mode(asio::ssl::verify_none, ec);
      } else {
        ctx->set_verify_mode(asio::ssl::verify_peer, ec);
        if (!options.cacert.empty()) {
          ctx->load_verify_file(options.cacert, ec);
        } else {
          ctx->set_default_verify_paths(ec);
        }
        ctx->set_verify_callback(asio::ssl::host_name_verification(host), ec);
      }
      return ctx;
    });
    client_.set_socket_init_handler(
        [host](websocketpp::connection_hdl, asio::ssl::stream<asio::ip::tcp::socket>& s) {
          SSL_set_tlsext_host_name(s.native_handle(), host.c_str());  // SNI
        });
  }

  Client client_;
  ConnectionPtr con_;
  Sink sink_;
};

}  // namespace

std::unique_ptr<Link> Link::open(asio::io_context& io, ConnectOptions const& options, Sink sink) {
  if (websocketpp::uri(options.url).get_secure()) {
    return std::make_unique<LinkImpl<websocketpp::config::asio_tls_client, true>>(io, options,
                                                                                  std::move(sink));
  }
  return std::make_unique<LinkImpl<websocketpp::config::asio_client, false>>(io, options,
                                                                             std::move(sink));
}

// AsyncClient ---------------------------------------------------------------

class AsyncClient::Impl {
 public:
  Impl(ConnectOptions const& options, EventHandler on_event)
      : options_(options), sink_(std::move(on_event)), link_(Link::open(io_, options_, sink_)) {}

  void reconnect(std::string const& url) {
    options_.url = url;
    link_ = Link::open(io_, options_, sink_);
  }

  ~Impl() {
    link_.reset();
    timers_.clear();
  }

  void arm(TimerSlot slot, Duration delay, std::function<void()> fn) {
    auto& timer = timers_[slot];
    if (!timer) timer = std::make_unique<asio::steady_timer>(io_);
    timer->expires_after(delay);
    timer->async_wait([fn = std::move(fn)](std::error_code const& ec) {
      if (!ec) fn();
    });
  }

  void read_lines(int fd, std::function<void(std::string)> on_line, std::function<void()> on_eof) {
    input_ = std::make_unique<LineReader>(io_, fd, std::move(on_line), std::move(on_eof));
  }

  void stop() {
    timers_.clear();
    input_.reset();
    io_.stop();
  }

  asio::io_context io_;
  ConnectOptions options_;
  EventHandler sink_;
  std::unique_ptr<Link> link_;
  std::map<TimerSlot, std::unique_ptr<asio::steady_timer>> timers_;
  std::unique_ptr<LineReader> input_;
};

AsyncClient::AsyncClient(ConnectOptions const& options, EventHandler on_event)
    : impl_(std::make_unique<Impl>(options, std::move(on_event))) {}
AsyncClient::~AsyncClient() = default;
void AsyncClient::send(Opcode opcode, std::string_view payload) {
  impl_->link_->send(opcode, payload);
}
void AsyncClient::close(std::uint16_t code, std::string_view reason) {
  impl_->link_->close(code, std::string(reason));
}
void AsyncClient::arm(TimerSlot slot, Duration delay, std::function<void()> fn) {
  impl_->arm(slot, delay, std::move(fn));
}
void AsyncClient::read_lines(int fd, std::function<void(std::string)> on_line,
                             std::function<void()> on_eof) {
  impl_->read_lines(fd, std::move(on_line), std::move(on_eof));
}
void AsyncClient::pause_reading() {
  if (impl_->input_) impl_->input_->pause();
}
void AsyncClient::resume_reading() {
  if (impl_->input_) impl_->input_->resume();
}
void AsyncClient::reconnect(std::string const& url) {
  impl_->reconnect(url);
}
void AsyncClient::run() {
  impl_->io_.run();
}
void AsyncClient::stop() {
  impl_->stop();
}

// BlockingClient -------------------------------------------------------------

// The io_context is run only inside the calls below, on the caller's thread, and
// only until what the call waits for has happened: a blocking API over the same
// connection code as the event-driven client, with no thread of its own.
class BlockingClient::Impl {
 public:
  explicit Impl(ConnectOptions const& options)
      : work_(asio::make_work_guard(io_)), link_(Link::open(io_, options, [this](ClientEvent& e) {
          events_.push_back(std::move(e));
        })) {}

  ~Impl() {
    link_.reset();
    watch_.reset();
  }

  // Runs the loop until `done()` or the deadline; returns done().
  template <typename Done>
  bool run_until(SteadyTime deadline, Done done) {
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.run_one_until(deadline);
    }
    return true;
  }

  void watch(int fd) {
    if (fd < 0 || fd_ready_ || watching_) return;
    if (!watch_ || watched_fd_ != fd) {
      watch_ = std::make_unique<asio::posix::stream_descriptor>(io_, ::dup(fd));
      watched_fd_ = fd;
    }
    watching_ = true;
    watch_->async_wait(asio::posix::stream_descriptor::wait_read, [this](std::error_code const&) {
      // An error (e.g. a regular file, which epoll cannot watch) also means "go read".
      watching_ = false;
      fd_ready_ = true;
    });
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::deque<ClientEvent> events_;
  std::unique_ptr<Link> link_;
  std::unique_ptr<asio::posix::stream_descriptor> watch_;
  int watched_fd_ = -1;
  bool watching_ = false;
  bool fd_ready_ = false;
};

BlockingClient::BlockingClient(ConnectOptions const& options)
    : impl_(std::make_unique<Impl>(options)) {}
BlockingClient::~BlockingClient() = default;

std::optional<ClientFailure> BlockingClient::connect(SteadyTime deadline) {
  auto& q = impl_->events_;
  auto const settled = [&q] {
    for (auto const& e : q) {
      if (e.kind != ClientEvent::Kind::frame) return true;
    }
    return false;
  };
  if (!impl_->run_until(deadline, settled)) {
    return ClientFailure{ExitCode::timeout, "timed out connecting"};
  }
  for (auto it = q.begin(); it != q.end(); ++it) {
    if (it->kind == ClientEvent::Kind::open) {
      q.erase(it);
      return std::nullopt;
    }
    if (it->kind == ClientEvent::Kind::failed) return it->failure;
  }
  return ClientFailure{ExitCode::protocol, "the connection closed during the handshake"};
}

bool BlockingClient::send(Opcode opcode, std::string_view payload, SteadyTime deadline) {
  impl_->link_->send(opcode, payload);
  return impl_->run_until(deadline, [this] { return impl_->link_->buffered() == 0; });
}

BlockingClient::Wait BlockingClient::receive(ClientEvent* event, SteadyTime deadline,
                                             int watch_fd) {
  impl_->watch(watch_fd);
  impl_->run_until(deadline, [this] { return !impl_->events_.empty() || impl_->fd_ready_; });
  if (!impl_->events_.empty()) {
    *event = std::move(impl_->events_.front());
    impl_->events_.pop_front();
    return Wait::event;
  }
  if (impl_->fd_ready_) {
    impl_->fd_ready_ = false;
    return Wait::fd_readable;
  }
  return Wait::timeout;
}

std::optional<ClientEvent> BlockingClient::close(std::uint16_t code, std::string_view reason,
                                                 SteadyTime deadline) {
  impl_->link_->close(code, std::string(reason));
  auto& q = impl_->events_;
  auto const closed = [&q] {
    for (auto const& e : q) {
      if (e.kind == ClientEvent::Kind::closed) return true;
    }
    return false;
  };
  if (!impl_->run_until(deadline, closed)) return std::nullopt;
  for (auto& e : q) {
    if (e.kind == ClientEvent::Kind::closed) return std::move(e);
  }
  return std::nullopt;
}

}  // namespace wspush
