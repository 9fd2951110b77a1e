#include "core/api_access.hpp"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include <cstring>

namespace wspush {

bool is_loopback_address(std::string_view address) {
  std::string const text(address);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return bytes[0] == 127;
  if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) return false;
  static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr unsigned char kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kLoopback, 16) == 0) return true;
  return std::memcmp(bytes, kV4Mapped, 12) == 0 && bytes[12] == 127;
}

std::optional<Refusal> api_refusal(std::string const& api_key, std::string_view peer_address,
                                   std::string_view authorization) {
  if (api_key.empty()) {
    if (is_loopback_address(peer_address)) return std::nullopt;
    return Refusal{Reason::api_forbidden,
                   "the API answers loopback peers only; start the server with --api-key to "
                   "open it"};
  }
  std::string const expected = "Bearer " + api_key;
  if (authorization.size() == expected.size() &&
      CRYPTO_memcmp(authorization.data(), expected.data(), expected.size()) == 0) {
    return std::nullopt;
  }
  return Refusal{Reason::api_unauthorized, "missing or wrong API key"};
}

}  // namespace wspush
