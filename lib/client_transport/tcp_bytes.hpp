// What the kernel counts for one TCP socket, for `wspush bench`'s wire-bytes figure.
#pragma once

#include <cstdint>

namespace wspush {

// The bytes the socket has received (its TCP_INFO tcpi_bytes_received: payload, not
// headers; TLS records as they came), or 0 where the kernel does not say (before 4.1).
std::uint64_t tcp_bytes_received(int fd);

}  // namespace wspush
