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

}  // namespace

std::variant<RedisAddress, std::string> parse_redis_url(std::string_view url) {
  std::string const why = "invalid --broker '" + std::string(url) + "': ";
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return why + "expected redis://[:PASSWORD@]HOST:PORT[/DB]";
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisAddress a;
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
  if (auto const slash = rest.find('/'); slash != std::string_view::npos) {
    if (!parse_number(rest.substr(slash + 1), 15u, &a.db)) {
      return why + "the database is a number from 0 to 15";
    }
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:6379
    auto const close = rest.find(']');
    if (close == std::string_view::npos) return why + "an IPv6 address ends with ']'";
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') return why + "expected ':PORT' after the address";
  } else if (auto const colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    rest.remove_prefix(colon);
  } else {
    rest = {};
  }
  if (!rest.empty()) {
    std::uint16_t port = 0;
    if (!parse_number(rest.substr(1), std::uint16_t{65535}, &port) || port == 0) {
      return why + "the port is a number from 1 to 65535";
    }
    a.port = port;
  }
  if (host.empty()) return why + "no host";
  a.host = std::string(host);
  return a;
}

}  // namespace wspush
