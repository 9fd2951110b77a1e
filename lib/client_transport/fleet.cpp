#include "client_transport/fleet.hpp"

#include <deque>
#include <stdexcept>
#include <unordered_map>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>

#include "client_transport/client_deflate.hpp"
#include "client_transport/client_tls.hpp"
#include "client_transport/failure.hpp"
#include "client_transport/tcp_bytes.hpp"

namespace wspush {

namespace asio = websocketpp::lib::asio;

// What the fleet does, whatever its transport.
class ConnectionFleet::Impl {
 public:
  virtual ~Impl() = default;
  virtual std::size_t open(std::size_t count, std::string const& url, std::size_t concurrent) = 0;
  virtual void send(std::size_t conn, std::string_view text) = 0;
  virtual std::uint64_t bytes_received(std::size_t first, std::size_t count) = 0;
  virtual void close_all() = 0;

  void after(Duration delay, std::function<void()> fn) {
    auto timer = std::make_unique<asio::steady_timer>(io_, delay);
    timer->async_wait([fn = std::move(fn)](std::error_code const& ec) {
      if (!ec) fn();
    });
    timers_.push_back(std::move(timer));
  }
  void post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }
  void run() { io_.run(); }
  void stop() { io_.stop(); }

 protected:
  asio::io_context io_;
  std::vector<std::unique_ptr<asio::steady_timer>> timers_;
};

// One thread runs the loop and owns every connection.
template <typename Config>
class ConnectionFleet::ImplOf final : public ConnectionFleet::Impl {
  using Client = websocketpp::client<Config>;

 public:
  ImplOf(Handlers handlers, Tls const& tls) : handlers_(std::move(handlers)) {
    client_.clear_access_channels(websocketpp::log::alevel::all);
    client_.clear_error_channels(websocketpp::log::elevel::all);
    std::error_code ec;
    client_.init_asio(&io_, ec);
    if (ec) throw std::runtime_error("cannot initialise the network: " + ec.message());
    if constexpr (std::is_base_of_v<websocketpp::config::asio_tls_client, Config>) {
      auto const ctx = client_tls_context(tls.cacert, tls.insecure, tls.host);
      client_.set_tls_init_handler([ctx](websocketpp::connection_hdl) { return ctx; });
    }
    // As large as websocketpp's own cap on what arrives (32 MB), once inflated.
    client_inflate_limit().store(client_.get_max_message_size());
    client_.set_open_handler([this](websocketpp::connection_hdl hdl) {
      --handshaking_;
      open_more();
      if (auto conn = index_of(hdl)) handlers_.on_open(*conn);
    });
    client_.set_fail_handler([this](websocketpp::connection_hdl hdl) {
      --handshaking_;
      open_more();
      std::error_code ignored;
      auto const con = client_.get_con_from_hdl(hdl, ignored);
      if (auto conn = index_of(hdl)) {
        handlers_.on_lost(*conn, con ? classify_failure(con).reason : std::string("failed"));
      }
    });
    client_.set_close_handler([this](websocketpp::connection_hdl hdl) {
      if (auto conn = index_of(hdl)) handlers_.on_lost(*conn, "closed");
    });
    client_.set_message_handler(
        [this](websocketpp::connection_hdl hdl, typename Client::message_ptr msg) {
          if (auto conn = index_of(hdl)) handlers_.on_message(*conn, msg->get_payload());
        });
  }

  std::size_t open(std::size_t count, std::string const& url, std::size_t concurrent) override {
    std::size_t const first = connections_.size();
    concurrent_ = concurrent;
    for (std::size_t i = 0; i < count; ++i) {
      std::error_code ec;
      auto con = client_.get_connection(url, ec);
      if (ec) throw std::invalid_argument("invalid URL '" + url + "': " + ec.message());
      index_[con.get()] = connections_.size();
      connections_.push_back(con);
      waiting_.push_back(con);
    }
    open_more();
    return first;
  }

  void send(std::size_t conn, std::string_view text) override {
    auto const& con = connections_.at(conn);
    // Marked compressed: deflated if the server agreed to it (publishers' messages).
    auto message = con->get_message(websocketpp::frame::opcode::text, text.size());
    if (!message) return;
    message->set_compressed(text.size() >= kClientCompressFrom);
    message->append_payload(text.data(), text.size());
    con->send(message);
  }

  std::uint64_t bytes_received(std::size_t first, std::size_t count) override {
    std::uint64_t sum = 0;
    for (std::size_t i = first; i < first + count && i < connections_.size(); ++i) {
      sum += tcp_bytes_received(connections_[i]->get_raw_socket().native_handle());
    }
    return sum;
  }

  void close_all() override {
    for (auto const& con : connections_) {
      std::error_code ec;
      con->close(websocketpp::close::status::normal, "bench done", ec);
    }
  }

 private:
  void open_more() {
    while (!waiting_.empty() && handshaking_ < concurrent_) {
      client_.connect(waiting_.front());
      waiting_.pop_front();
      ++handshaking_;
    }
  }

  std::optional<std::size_t> index_of(websocketpp::connection_hdl const& hdl) const {
    auto const locked = hdl.lock();
    auto const it = index_.find(locked.get());
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

  Client client_;
  Handlers handlers_;
  std::vector<typename Client::connection_ptr> connections_;
  std::unordered_map<void const*, std::size_t> index_;
  std::deque<typename Client::connection_ptr> waiting_;
  std::size_t handshaking_ = 0;
  std::size_t concurrent_ = 256;
};

ConnectionFleet::ConnectionFleet(Handlers handlers, Tls const& tls, bool compress) {
  using websocketpp::config::asio_client;
  using websocketpp::config::asio_tls_client;
  if (tls.enabled && compress) {
    impl_ = std::make_unique<ImplOf<Compressing<asio_tls_client>>>(std::move(handlers), tls);
  } else if (tls.enabled) {
    impl_ = std::make_unique<ImplOf<asio_tls_client>>(std::move(handlers), tls);
  } else if (compress) {
    impl_ = std::make_unique<ImplOf<Compressing<asio_client>>>(std::move(handlers), tls);
  } else {
    impl_ = std::make_unique<ImplOf<asio_client>>(std::move(handlers), tls);
  }
}
ConnectionFleet::~ConnectionFleet() = default;

std::size_t ConnectionFleet::open(std::size_t count, std::string const& url,
                                  std::size_t concurrent) {
  return impl_->open(count, url, concurrent);
}
void ConnectionFleet::send(std::size_t conn, std::string_view text) {
  impl_->send(conn, text);
}
std::uint64_t ConnectionFleet::bytes_received(std::size_t first, std::size_t count) {
  return impl_->bytes_received(first, count);
}
void ConnectionFleet::close_all() {
  impl_->close_all();
}
void ConnectionFleet::after(Duration delay, std::function<void()> fn) {
  impl_->after(delay, std::move(fn));
}
void ConnectionFleet::post(std::function<void()> fn) {
  impl_->post(std::move(fn));
}
void ConnectionFleet::run() {
  impl_->run();
}
void ConnectionFleet::stop() {
  impl_->stop();
}

}  // namespace wspush
