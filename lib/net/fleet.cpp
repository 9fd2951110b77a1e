#include "net/fleet.hpp"

#include <deque>
#include <stdexcept>
#include <unordered_map>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

namespace wspush {

namespace asio = websocketpp::lib::asio;
using Client = websocketpp::client<websocketpp::config::asio_client>;

// One thread runs the loop and owns every connection.
class ConnectionFleet::Impl {
 public:
  explicit Impl(Handlers handlers) : handlers_(std::move(handlers)) {
    client_.clear_access_channels(websocketpp::log::alevel::all);
    client_.clear_error_channels(websocketpp::log::elevel::all);
    std::error_code ec;
    client_.init_asio(&io_, ec);
    if (ec) throw std::runtime_error("cannot initialise the network: " + ec.message());
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
        handlers_.on_lost(*conn, con ? con->get_ec().message() : std::string("failed"));
      }
    });
    client_.set_close_handler([this](websocketpp::connection_hdl hdl) {
      if (auto conn = index_of(hdl)) handlers_.on_lost(*conn, "closed");
    });
    client_.set_message_handler([this](websocketpp::connection_hdl hdl, Client::message_ptr msg) {
      if (auto conn = index_of(hdl)) handlers_.on_message(*conn, msg->get_payload());
    });
  }

  std::size_t open(std::size_t count, std::string const& url, std::size_t concurrent) {
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

  asio::io_context io_;
  Client client_;
  Handlers handlers_;
  std::vector<Client::connection_ptr> connections_;
  std::unordered_map<void const*, std::size_t> index_;
  std::deque<Client::connection_ptr> waiting_;
  std::size_t handshaking_ = 0;
  std::size_t concurrent_ = 256;
  std::vector<std::unique_ptr<asio::steady_timer>> timers_;
};

ConnectionFleet::ConnectionFleet(Handlers handlers)
    : impl_(std::make_unique<Impl>(std::move(handlers))) {}
ConnectionFleet::~ConnectionFleet() = default;

std::size_t ConnectionFleet::open(std::size_t count, std::string const& url,
                                  std::size_t concurrent) {
  return impl_->open(count, url, concurrent);
}

void ConnectionFleet::send(std::size_t conn, std::string_view text) {
  impl_->connections_.at(conn)->send(text.data(), text.size(), websocketpp::frame::opcode::text);
}

void ConnectionFleet::close_all() {
  for (auto const& con : impl_->connections_) {
    std::error_code ec;
    con->close(websocketpp::close::status::normal, "bench done", ec);
  }
}

void ConnectionFleet::after(Duration delay, std::function<void()> fn) {
  auto timer = std::make_unique<asio::steady_timer>(impl_->io_, delay);
  timer->async_wait([fn = std::move(fn)](std::error_code const& ec) {
    if (!ec) fn();
  });
  impl_->timers_.push_back(std::move(timer));
}

void ConnectionFleet::run() {
  impl_->io_.run();
}
void ConnectionFleet::stop() {
  impl_->io_.stop();
}

}  // namespace wspush
