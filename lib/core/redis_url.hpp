// --broker redis://[:PASSWORD@]HOST:PORT[/DB] (SPEC §8), or
// redis-sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER[/DB] (SPEC §8.1: the
// primary is asked of the sentinels, again after every lost connection), parsed; both
// take ?wait=N (a publish is acknowledged once N replicas have it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wspush {

struct RedisEndpoint {
  std::string host;
  std::uint16_t port = 6379;
};

struct RedisAddress {
  std::string host;  // redis://; with sentinels, the primary they named last
  std::uint16_t port = 6379;
  std::string password;  // empty: no AUTH (the primary's; sentinels are asked without)
  unsigned db = 0;
  std::vector<RedisEndpoint> sentinels;  // redis-sentinel://: asked in order
  std::string master;                    // the name the sentinels monitor it by
  unsigned wait_replicas = 0;            // WAIT N after each publish (sentinel default 1)
};

// The address, or why the URL is not one.
std::variant<RedisAddress, std::string> parse_redis_url(std::string_view url);

}  // namespace wspush
