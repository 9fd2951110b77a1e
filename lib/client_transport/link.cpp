#include "client_transport/link.hpp"

#include <openssl/ssl.h>

#include <stdexcept>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>

#include "client_transport/capped_socket.hpp"
#include "client_transport/client_deflate.hpp"
#include "client_transport/client_tls.hpp"
#include "client_transport/failure.hpp"
#include "common/frame_reader.hpp"

namespace wspush {
namespace asio = websocketpp::lib::asio;

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

namespace {

using PlainConfig = CappedClientConfig<websocketpp::config::asio_client, CappedPlainSocket>;
using TlsConfig = CappedClientConfig<websocketpp::config::asio_tls_client, CappedTlsSocket>;

template <typename Config, bool kTls>
class LinkImpl final : public Link {
  using Client = websocketpp::client<Config>;
  using ConnectionPtr = typename Client::connection_ptr;

 public:
  LinkImpl(asio::io_context& io, ConnectOptions const& options, Sink sink)
      : sink_(std::move(sink)), compress_(options.compress) {
    client_.clear_access_channels(websocketpp::log::alevel::all);
    client_.clear_error_channels(websocketpp::log::elevel::all);
    std::error_code ec;
    client_.init_asio(&io, ec);
    if (ec) throw std::runtime_error("cannot initialise the network: " + ec.message());
    client_.set_max_message_size(options.max_message_size);
    if (compress_) client_inflate_limit().store(options.max_message_size);
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
      e.failure = classify_failure(con_);
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
    con_->on_too_many_fragments([this] { close(kClosePolicy, kTooManyFragments); });
    if (options.one_frame_per_read) con_->one_frame_per_read();
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
    if (!compress_ || payload.size() < kClientCompressFrom) {
      con_->send(payload.data(), payload.size(), op);  // error_code overload: returns it
      return;
    }
    // Marked compressed: websocketpp compresses it if the server agreed, else sends it plain.
    auto message = con_->get_message(op, payload.size());
    if (!message) return;  // the connection is going away
    message->set_compressed(true);
    message->append_payload(payload.data(), payload.size());
    con_->send(message);
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
      return client_tls_context(options.cacert, options.insecure, host);
    });
    client_.set_socket_init_handler(
        [host](websocketpp::connection_hdl, asio::ssl::stream<asio::ip::tcp::socket>& s) {
          SSL_set_tlsext_host_name(s.native_handle(), host.c_str());  // SNI
        });
  }

  Client client_;
  ConnectionPtr con_;
  Sink sink_;
  bool compress_;
};

}  // namespace

std::unique_ptr<Link> Link::open(asio::io_context& io, ConnectOptions const& options, Sink sink) {
  bool const tls = websocketpp::uri(options.url).get_secure();
  if (options.compress) {
    if (tls) {
      return std::make_unique<LinkImpl<Compressing<TlsConfig>, true>>(io, options, std::move(sink));
    }
    return std::make_unique<LinkImpl<Compressing<PlainConfig>, false>>(io, options,
                                                                       std::move(sink));
  }
  if (tls) return std::make_unique<LinkImpl<TlsConfig, true>>(io, options, std::move(sink));
  return std::make_unique<LinkImpl<PlainConfig, false>>(io, options, std::move(sink));
}

}  // namespace wspush
