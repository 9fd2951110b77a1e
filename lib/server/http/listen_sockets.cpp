#include "server/http/listen_sockets.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "process/log.hpp"

namespace wspush {
namespace {

constexpr int kBacklog = 1024;
// A port picked by the kernel (--port 0) can be taken by someone else between the probe
// and the group: pick again this many times.
constexpr int kPickAttempts = 3;

struct Opened {
  int fd = -1;
  int error = 0;  // errno when fd < 0
};

void set_flag(int fd, int level, int name) {
  int const one = 1;
  ::setsockopt(fd, level, name, &one, sizeof one);
}

// A socket bound to `at`; with `listen`, listening, with the options every listening
// socket has. `shared`: SO_REUSEPORT (a group, one per loop).
Opened open_socket(asio::ip::tcp::endpoint const& at, bool shared, bool listen) {
  int const fd = ::socket(at.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return {-1, errno};
  set_flag(fd, SOL_SOCKET, SO_REUSEADDR);
  if (shared) set_flag(fd, SOL_SOCKET, SO_REUSEPORT);
  if (at.protocol() == asio::ip::tcp::v6()) set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY);
  if (listen) {
    set_flag(fd, IPPROTO_TCP, TCP_NODELAY);
    int const defer_seconds = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds, sizeof defer_seconds);
  }
  if (::bind(fd, at.data(), static_cast<socklen_t>(at.size())) != 0 ||
      (listen && ::listen(fd, kBacklog) != 0)) {
    int const e = errno;
    ::close(fd);
    return {-1, e};
  }
  return {fd, 0};
}

std::uint16_t bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return 0;
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6 const&>(address).sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in const&>(address).sin_port);
}

// `loops` sockets listening on `at` (port 0: one the kernel picks), or none and the errno.
std::vector<int> open_group(asio::ip::tcp::endpoint at, std::size_t loops, int* error) {
  if (loops == 1) {
    Opened const one = open_socket(at, /*shared=*/false, /*listen=*/true);
    *error = one.error;
    return one.fd < 0 ? std::vector<int>{} : std::vector<int>{one.fd};
  }
  bool const picked = at.port() == 0;
  for (int attempt = 0; attempt < (picked ? kPickAttempts : 1); ++attempt) {
    // The probe holds the port alone: in use (by anyone) is an error here, as it is for
    // one loop's socket.
    Opened const probe = open_socket(at, /*shared=*/false, /*listen=*/false);
    if (probe.fd < 0) {
      *error = probe.error;
      return {};
    }
    if (picked) at.port(bound_port(probe.fd));
    ::close(probe.fd);
    std::vector<int> group;
    for (std::size_t k = 0; k < loops; ++k) {
      Opened const member = open_socket(at, /*shared=*/true, /*listen=*/true);
      if (member.fd < 0) {
        *error = member.error;
        break;
      }
      group.push_back(member.fd);
    }
    if (group.size() == loops) return group;
    for (int fd : group) ::close(fd);
    if (picked) at.port(0);
  }
  return {};
}

}  // namespace

ListenSockets::ListenSockets(std::string const& host, std::uint16_t port, std::size_t loops)
    : by_loop_(loops) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  asio::error_code ec;
  auto const results =
      resolver.resolve(host, std::to_string(port), asio::ip::tcp::resolver::passive, ec);
  if (ec) throw std::runtime_error("cannot resolve host '" + host + "': " + ec.message());
  std::string last_error;
  bool any = false;
  for (auto const& entry : results) {
    asio::ip::tcp::endpoint address = entry.endpoint();
    address.port(port);  // the first address's port, once it has one
    int error = 0;
    std::vector<int> const group = open_group(address, loops, &error);
    if (group.empty()) {
      last_error = address.address().to_string() + " port " + std::to_string(port) + ": " +
                   std::strerror(error);
      spdlog::warn("cannot listen on {}", last_error);
      continue;
    }
    port = bound_port(group.front());
    spdlog::info("listening on {} port {}", address.address().to_string(), port);
    for (std::size_t k = 0; k < loops; ++k) by_loop_[k].push_back(group[k]);
    any = true;
  }
  if (!any) throw std::runtime_error("cannot listen on " + last_error);
  port_ = port;
}

ListenSockets::~ListenSockets() {
  for (auto const& fds : by_loop_) {
    for (int fd : fds) ::close(fd);
  }
}

std::vector<int> ListenSockets::take(std::size_t loop) {
  return std::exchange(by_loop_.at(loop), {});
}

}  // namespace wspush
