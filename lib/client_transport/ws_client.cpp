#include "client_transport/ws_client.hpp"

#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <map>
#include <stdexcept>
#include <websocketpp/common/asio.hpp>

#include "client_transport/link.hpp"
#include "process/line_reader.hpp"

namespace wspush {
namespace asio = websocketpp::lib::asio;

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
      : work_(asio::make_work_guard(io_)),
        link_(Link::open(io_, frame_by_frame(options),
                         [this](ClientEvent& e) { events_.push_back(std::move(e)); })) {}

  // Its caller answers a frame (--echo) only once receive() has returned it: each frame
  // must come through the loop on its own, or a violation right behind it would fail the
  // connection before the answer is sent (Autobahn 3.2, 5.15, ...).
  static ConnectOptions frame_by_frame(ConnectOptions options) {
    options.one_frame_per_read = true;
    return options;
  }

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
