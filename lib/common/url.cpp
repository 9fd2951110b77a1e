#include "common/url.hpp"

#include <climits>

namespace wspush {

std::string_view room_path_of(std::string_view resource) {
  // A plain loop: find_first_of("?#") searches the set for every character, and this
  // runs several times per handshake.
  std::size_t end = 0;
  while (end < resource.size() && resource[end] != '?' && resource[end] != '#') ++end;
  return resource.substr(0, end);
}

std::optional<std::string_view> query_param(std::string_view resource, std::string_view name) {
  std::vector<std::string_view> const all = query_params(resource, name);
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::vector<std::string_view> query_params(std::string_view resource, std::string_view name) {
  std::vector<std::string_view> out;
  auto const q = resource.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view query = resource.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    auto const amp = query.find('&');
    std::string_view const pair = query.substr(0, amp);
    auto const eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      out.push_back(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char const c : text) {
    bool const plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view text) {
  auto const hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] != '%') {
      out.push_back(text[i]);
    } else {
      int const hi = i + 1 < text.size() ? hex(text[i + 1]) : -1;
      int const lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

std::optional<std::uint64_t> parse_seq(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (char const c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t const digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string with_query(std::string_view target, std::initializer_list<std::string_view> names,
                       std::initializer_list<std::pair<std::string_view, std::string>> append) {
  target = target.substr(0, target.find('#'));
  auto const q = target.find('?');
  std::string out(target.substr(0, q));
  std::string query;
  auto const add = [&query](std::string_view pair) {
    query.append(query.empty() ? "" : "&").append(pair);
  };
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      auto const amp = rest.find('&');
      std::string_view const pair = rest.substr(0, amp);
      std::string_view const key = pair.substr(0, pair.find('='));
      bool dropped = pair.empty();
      for (std::string_view name : names) dropped = dropped || key == name;
      if (!dropped) add(pair);
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  for (auto const& [name, value] : append) add(std::string(name) + "=" + value);
  return query.empty() ? out : out + "?" + query;
}

}  // namespace wspush
