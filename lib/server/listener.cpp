#include "server/listener.hpp"

#include <asio/ip/tcp.hpp>
#include <stdexcept>
#include <vector>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "net/log.hpp"

namespace wspush {
namespace {

// websocketpp carries a connection through its HTTP handshake only; then a WsSession
// takes the socket over. Every connection is touched by the one thread that runs the
// io_context, so websocketpp's locks are dead weight: concurrency::none removes them.
// Its read buffer is sized for handshakes and API calls, not the 16 KiB default.
struct SessionSlot {
  std::uint64_t session_id = 0;  // id + 1 between the hand-off and websocketpp's last parse
};

struct ServerConfig : websocketpp::config::core {
  using type = ServerConfig;
  using base = websocketpp::config::core;
  using concurrency_type = websocketpp::concurrency::none;
  using request_type = base::request_type;
  using response_type = base::response_type;
  using message_type = base::message_type;
  using con_msg_manager_type = base::con_msg_manager_type;
  using endpoint_msg_manager_type = base::endpoint_msg_manager_type;
  using elog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;
  using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  using rng_type = base::rng_type;
  using connection_base = SessionSlot;
  static bool const enable_multithreading = false;
  static const size_t connection_read_buffer_size = 1024;

  struct transport_config : public base::transport_config {
    using concurrency_type = type::concurrency_type;
    using alog_type = type::alog_type;
    using elog_type = type::elog_type;
    using request_type = type::request_type;
    using response_type = type::response_type;
    using socket_type = websocketpp::transport::asio::basic_socket::endpoint;
    static bool const enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
};

using Endpoint = websocketpp::server<ServerConfig>;
using ConnectionPtr = Endpoint::connection_ptr;

// The connection behind a handle, or nullptr (never an exception) if it is gone.
ConnectionPtr connection_of(Endpoint& ep, websocketpp::connection_hdl const& hdl) {
  asio::error_code ec;
  return ep.get_con_from_hdl(hdl, ec);
}

std::string peer_of(ConnectionPtr const& con) {
  asio::error_code ec;
  auto const peer = con->get_raw_socket().remote_endpoint(ec);
  return ec ? std::string() : peer.address().to_string();
}

// A view of the request for the admission step and the routes.
HandshakeRequest request_of(ConnectionPtr const& con, std::string const& peer) {
  return HandshakeRequest{con->get_resource(), peer, [con](std::string_view name) {
                            return con->get_request_header(std::string(name));
                          }};
}

void respond(ConnectionPtr const& con, HttpAnswer const& answer) {
  // websocketpp 0.8 has no error_code overloads of these; they throw only when called
  // outside a handshake or HTTP handler, which this is not. Catch all the same:
  // nothing may escape a handler.
  try {
    con->set_status(static_cast<websocketpp::http::status_code::value>(answer.status));
    con->set_body(answer.body);
    con->replace_header("Content-Type", "application/json");
    for (auto const& [name, value] : answer.headers) con->replace_header(name, value);
  } catch (websocketpp::exception const& e) {
    spdlog::error("cannot answer {}: {}", con->get_resource(), e.what());
  }
}

}  // namespace

class Listener::Impl {
 public:
  Impl(asio::io_context& io, ListenerOptions const& options, ListenerEvents& events)
      : io_(io), options_(options), events_(events) {}

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
      auto endpoint = make_endpoint();
      endpoint->listen(address, ec);
      if (ec) {
        last_error =
            address.address().to_string() + " port " + std::to_string(port) + ": " + ec.message();
        spdlog::warn("cannot listen on {}", last_error);
        continue;
      }
      port = endpoint->get_local_endpoint(ec).port();
      spdlog::info("listening on {} port {}", address.address().to_string(), port);
      endpoints_.push_back(std::move(endpoint));
    }
    if (endpoints_.empty()) throw std::runtime_error("cannot listen on " + last_error);
    return port;
  }

  void start() {
    for (auto& endpoint : endpoints_) {
      asio::error_code ec;
      endpoint->start_accept(ec);
      if (ec) throw std::runtime_error("cannot accept connections: " + ec.message());
    }
  }

  void stop() {
    for (auto& endpoint : endpoints_) {
      asio::error_code ec;
      endpoint->stop_listening(ec);
    }
  }

 private:
  std::unique_ptr<Endpoint> make_endpoint() {
    auto endpoint = std::make_unique<Endpoint>();
    // websocketpp's own logs would go to stderr unformatted; we log what matters.
    endpoint->clear_access_channels(websocketpp::log::alevel::all);
    endpoint->clear_error_channels(websocketpp::log::elevel::all);
    asio::error_code ec;
    endpoint->init_asio(&io_, ec);
    if (ec) throw std::runtime_error("cannot initialise the network: " + ec.message());
    endpoint->set_reuse_addr(true);
    endpoint->set_listen_backlog(1024);
    endpoint->set_max_message_size(options_.max_message_size);
    endpoint->set_max_http_body_size(options_.max_message_size);  // larger: 413
    endpoint->set_open_handshake_timeout(whole_millis(options_.handshake_timeout));

    Endpoint* ep = endpoint.get();
    endpoint->set_validate_handler([this, ep](websocketpp::connection_hdl hdl) {
      return on_validate(connection_of(*ep, hdl));
    });
    endpoint->set_http_handler(
        [this, ep](websocketpp::connection_hdl hdl) { on_http(connection_of(*ep, hdl)); });
    endpoint->set_open_handler(
        [this, ep](websocketpp::connection_hdl hdl) { on_open(connection_of(*ep, hdl)); });
    endpoint->set_close_handler(
        [ep](websocketpp::connection_hdl hdl) { on_gone(connection_of(*ep, hdl)); });
    endpoint->set_fail_handler([ep](websocketpp::connection_hdl hdl) {
      auto const con = connection_of(*ep, hdl);
      if (!con) return;
      spdlog::debug("handshake failed from {}: {}", con->get_remote_endpoint(),
                    con->get_ec().message());
      on_gone(con);
    });
    endpoint->set_message_handler([this](websocketpp::connection_hdl hdl,
                                         Endpoint::message_ptr msg) { on_message(hdl, msg); });
    return endpoint;
  }

  // Handlers: websocketpp calls them on the io thread. None may throw: every call
  // below uses the error_code overloads, and the core does not throw.

  bool on_validate(ConnectionPtr const& con) {
    if (!con) return false;
    std::string const peer = peer_of(con);
    auto const refusal = events_.admit(request_of(con, peer));
    if (!refusal) return true;
    spdlog::info("refused {} from {}: HTTP {}", con->get_resource(), con->get_remote_endpoint(),
                 refusal->http_status);
    respond(con, answer_of(*refusal));
    return false;
  }

  void on_http(ConnectionPtr const& con) {
    if (!con) return;
    std::string const peer = peer_of(con);
    HttpRequestView const view{con->get_request().get_method(), request_of(con, peer),
                               con->get_request_body()};
    events_.on_http(view, [con](HttpAnswer const& answer) { respond(con, answer); });
  }

  // The handshake is done: the socket leaves websocketpp. Bytes that came with the
  // handshake are still parsed by websocketpp right after this handler and reach
  // on_message under the session's id; its next read fails on the released socket and
  // it drops the connection, which on_gone then ignores.
  void on_open(ConnectionPtr const& con) {
    if (!con) return;
    auto& raw = con->get_raw_socket();
    asio::error_code ec;
    auto const protocol = raw.local_endpoint(ec).protocol();
    if (ec) return;  // already gone: websocketpp reports the close
    int const fd = raw.release(ec);
    if (ec) return;
    std::uint64_t const id =
        events_.on_upgrade(fd, protocol == asio::ip::tcp::v6(), con->get_resource());
    con->session_id = id + 1;  // 0 stays "no session"
    // After websocketpp's own post-handshake parse, this connection speaks for no one.
    asio::post(io_, [con] { con->session_id = 0; });
  }

  // websocketpp's close and fail handlers: a connection that never became a session
  // (a refused handshake, plain HTTP) or the husk of one that did.
  static void on_gone(ConnectionPtr const& con) {
    if (con) con->session_id = 0;
  }

  void on_message(websocketpp::connection_hdl const& hdl, Endpoint::message_ptr const& msg) {
    auto const con = std::static_pointer_cast<Endpoint::connection_type>(hdl.lock());
    if (!con || con->session_id == 0) return;
    events_.on_early_frame(con->session_id - 1,
                           msg->get_opcode() != websocketpp::frame::opcode::text,
                           msg->get_payload());
  }

  asio::io_context& io_;
  ListenerOptions options_;
  ListenerEvents& events_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
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

}  // namespace wspush
