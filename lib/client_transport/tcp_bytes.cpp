// Its own file: <linux/tcp.h> (which has the field) and glibc's <netinet/tcp.h> (which
// Asio includes, and which does not) cannot be in one translation unit.
#include "client_transport/tcp_bytes.hpp"

#include <linux/in.h>
#include <linux/tcp.h>
#include <sys/socket.h>

#include <cstddef>

namespace wspush {

std::uint64_t tcp_bytes_received(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
  if (len < offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) return 0;
  return info.tcpi_bytes_received;
}

}  // namespace wspush
