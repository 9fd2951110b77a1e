// --broker redis://[:PASSWORD@]HOST:PORT[/DB] (SPEC §8), parsed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace wspush {

struct RedisAddress {
  std::string host;
  std::uint16_t port = 6379;
  std::string password;  // empty: no AUTH
  unsigned db = 0;
};

// The address, or why the URL is not one.
std::variant<RedisAddress, std::string> parse_redis_url(std::string_view url);

}  // namespace wspush
