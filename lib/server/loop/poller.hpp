// Readiness for the connection sockets of one event loop: an epoll set of its own,
// watched by the loop's Asio reactor as one descriptor. A socket costs a slot here
// (8 bytes) and its registration in the kernel, where Asio's reactor kept a
// descriptor_state and a pending wait operation per socket (~390 bytes between them:
// bench/RESULTS.md, "Where idle memory goes"). A socket that is done before it ever
// waits (a handshake whose request came whole with the first read) is never registered.
//
// Sockets are registered edge-triggered: a wait that begins after the socket became
// ready is woken only by its next change, so every caller reads or writes until EAGAIN
// before it waits (as with Asio's reactor). Writes are watched from the first wait for
// them on (most sockets never wait to write: registering a new, writable socket for
// them would wake the loop once for nothing). A wake-up may be spurious (a slot reused
// within one batch of events); callers then find EAGAIN and wait again.
//
// An Asio service: one per io_context (asio::use_service<Poller>(io)). It is shut down
// before the io_context drops its handlers, and then tells every registered socket to
// let go of its waiting callbacks, which own their sessions.
//
// Threading: the io_context's thread only.
#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <vector>

namespace wspush {

class Poller final : public asio::execution_context::service {
 public:
  // What a registered socket is told.
  class Target {
   public:
    // EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP as epoll reported them.
    virtual void on_events(std::uint32_t events) = 0;
    // The loop is going away: drop every waiting callback (this may destroy the target).
    virtual void on_shutdown() = 0;

   protected:
    ~Target() = default;
  };
  static constexpr std::uint32_t kNoSlot = 0xffffffffu;

  static asio::execution_context::id id;
  explicit Poller(asio::io_context& io);
  ~Poller() override;
  Poller(Poller const&) = delete;
  Poller& operator=(Poller const&) = delete;
  asio::io_context& io() { return io_; }

  // Registers non-blocking `fd` for `target`, for reading and, with `writes`, writing;
  // its slot, or kNoSlot (errno set) when epoll refuses it.
  std::uint32_t add(int fd, Target& target, bool writes = false);
  // Watches a registered socket for writing too; false (errno set) when epoll refuses.
  bool watch_writes(std::uint32_t slot, int fd);
  // Forgets the slot. With `fd` >= 0 the descriptor also leaves the epoll set (it is
  // handed to another loop); a descriptor about to be closed leaves it by itself.
  void remove(std::uint32_t slot, int fd = -1);

 private:
  void shutdown() override;
  void arm();
  void poll();

  asio::io_context& io_;
  asio::posix::stream_descriptor epoll_;
  std::vector<Target*> targets_;  // by slot; null: free
  std::vector<std::uint32_t> free_;
  bool shut_down_ = false;
};

}  // namespace wspush
