#include "core/redis_url.hpp"

#include <charconv>

#include "common/url.hpp"

namespace wspush {
namespace {

template <typename T>
bool parse_number(std::string_view text, T max, T* out) {
  unsigned long value = 0;
  auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > max) {
    return false;
  }
  *out = static_cast<T>(value);
  return true;
}

// HOST:PORT or [V6]:PORT (the port optional): into `out`, or why not.
std::string parse_endpoint(std::string_view rest, RedisEndpoint& out) {
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:6379
    auto const close = rest.find(']');
    if (close == std::string_view::npos) return "an IPv6 address ends with ']'";
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') return "expected ':PORT' after the address";
  } else if (auto const colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    rest.remove_prefix(colon);
  } else {
    rest = {};
  }
  if (!rest.empty()) {
    std::uint16_t port = 0;
    if (!parse_number(rest.substr(1), std::uint16_t{65535}, &port) || port == 0) {
      return "the port is a number from 1 to 65535";
    }
    out.port = port;
  }
  if (host.empty()) return "no host";
  out.host = std::string(host);
  return {};
}

}  // namespace

std::variant<RedisAddress, std::string> parse_redis_url(std::string_view url) {
  std::string const why = "invalid --broker '" + std::string(url) + "': ";
  constexpr std::string_view kScheme = "redis://";
  constexpr std::string_view kSentinel = "redis-sentinel://";
  bool const sentinel = url.substr(0, kSentinel.size()) == kSentinel;
  if (!sentinel && url.substr(0, kScheme.size()) != kScheme) {
    return why +
           "expected redis://[:PASSWORD@]HOST:PORT[/DB] or "
           "redis-sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER[/DB]";
  }
  std::string_view rest = url.substr(sentinel ? kSentinel.size() : kScheme.size());
  RedisAddress a;
  a.wait_replicas = sentinel ? 1 : 0;
  if (auto const q = rest.find('?'); q != std::string_view::npos) {
    std::string_view const query = rest.substr(q);
    rest = rest.substr(0, q);
    if (auto const wait = query_param(query, "wait")) {
      if (!parse_number(*wait, 16u, &a.wait_replicas)) {
        return why + "wait is a number of replicas from 0 to 16";
      }
    }
  }
  if (auto const at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    // redis://:PASSWORD@ (Redis 5 style) or redis://USER:PASSWORD@ with USER "default".
    auto const colon = userinfo.find(':');
    if (colon == std::string_view::npos) return why + "the password follows a ':'";
    auto decoded = percent_decode(userinfo.substr(colon + 1));
    if (!decoded) return why + "the password is not percent-encoded correctly";
    a.password = std::move(*decoded);
  }
  std::string_view path;
  if (auto const slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (sentinel) {
    auto const slash = path.find('/');
    a.master = std::string(path.substr(0, slash));
    if (a.master.empty()) return why + "the master's name follows the sentinels: /MASTER";
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  if (!path.empty() || (!sentinel && url.find('/', kScheme.size()) != std::string_view::npos)) {
    if (!parse_number(path, 15u, &a.db)) return why + "the database is a number from 0 to 15";
  }
  while (true) {
    auto const comma = rest.find(',');
    if (!sentinel && comma != std::string_view::npos) return why + "one HOST:PORT (or sentinels)";
    RedisEndpoint e;
    e.port = sentinel ? 26379 : 6379;
    if (std::string const error = parse_endpoint(rest.substr(0, comma), e); !error.empty()) {
      return why + error;
    }
    if (sentinel) {
      a.sentinels.push_back(std::move(e));
    } else {
      a.host = std::move(e.host);
      a.port = e.port;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return a;
}

}  // namespace wspush
