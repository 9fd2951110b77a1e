// The server's listening sockets: every address the host resolves to, on one port, and
// one socket per event loop and address. With several loops the sockets of an address
// share the port (SO_REUSEPORT): the kernel spreads new connections over the loops by
// a hash of their addresses and ports, and each loop accepts, reads the handshake and
// keeps the session itself — no hand-off between threads per connection.
//
// SO_REUSEPORT would also let a second server of the same user join the port and take
// half its connections without a word. So the port is first taken by a plain socket
// (which fails, as one server always did, when the port is in use — by another wspush
// too), and let go just before the group binds it.
//
// Every socket: non-blocking, TCP_NODELAY (inherited by accepted sockets), and
// TCP_DEFER_ACCEPT of a second — a connection is reported with its request, so the
// first read finds it; one that sends nothing is reported after a second anyway.
//
// Threading: made on one thread before the loops run; each loop then takes its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wspush {

class ListenSockets {
 public:
  // Throws std::runtime_error naming the address and the reason when none binds; an
  // address that does not bind while another does is a warning in the log.
  ListenSockets(std::string const& host, std::uint16_t port, std::size_t loops);
  ~ListenSockets();  // closes what no loop took
  ListenSockets(ListenSockets const&) = delete;
  ListenSockets& operator=(ListenSockets const&) = delete;

  std::uint16_t port() const { return port_; }
  // Loop `loop`'s sockets (one per address), now the caller's to close.
  std::vector<int> take(std::size_t loop);

 private:
  std::uint16_t port_ = 0;
  std::vector<std::vector<int>> by_loop_;
};

}  // namespace wspush
