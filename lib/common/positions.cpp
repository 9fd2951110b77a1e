#include "common/positions.hpp"

#include "common/url.hpp"

namespace wspush {
namespace {

std::optional<std::uint64_t> number(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t const next = n * 10 + static_cast<std::uint64_t>(c - '0');
    if (next < n) return std::nullopt;
    n = next;
  }
  return n;
}

std::string encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char const c : path) {
    if (c <= ' ' || c >= 0x7f || c == '%' || c == ':' || c == '+') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

std::string encode_positions(Positions const& positions) {
  std::string out;
  for (auto const& [path, p] : positions) {
    if (!out.empty()) out.push_back(' ');
    out += std::to_string(p.seq);
    if (p.epoch) out += "." + std::to_string(*p.epoch);
    out += ":" + encode_path(path);
  }
  return out;
}

Positions parse_positions(std::string_view token) {
  Positions out;
  while (!token.empty()) {
    std::size_t const space = token.find(' ');
    std::string_view const item = token.substr(0, space);
    token = space == std::string_view::npos ? std::string_view() : token.substr(space + 1);
    std::size_t const colon = item.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view const numbers = item.substr(0, colon);
    std::size_t const dot = numbers.find('.');
    auto const seq = number(numbers.substr(0, dot));
    std::optional<std::uint64_t> epoch;
    if (dot != std::string_view::npos) {
      epoch = number(numbers.substr(dot + 1));
      if (!epoch) continue;
    }
    auto path = percent_decode(item.substr(colon + 1));
    if (!seq || !path || path->empty() || (*path)[0] != '/') continue;
    out[*path] = RoomPosition{*seq, epoch};
  }
  return out;
}

}  // namespace wspush
