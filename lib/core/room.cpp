#include "core/room.hpp"

namespace wspush {

std::optional<RoomKind> parse_room_kind(std::string_view name) {
  if (name == "ticker") return RoomKind::ticker;
  if (name == "relay") return RoomKind::relay;
  if (name == "echo") return RoomKind::echo;
  if (name == "feed") return RoomKind::feed;
  return std::nullopt;
}

std::string_view to_string(RoomKind kind) {
  switch (kind) {
    case RoomKind::ticker:
      return "ticker";
    case RoomKind::relay:
      return "relay";
    case RoomKind::echo:
      return "echo";
    case RoomKind::feed:
      return "feed";
  }
  return "unknown";
}

std::optional<SlowConsumerPolicy> parse_slow_consumer_policy(std::string_view name) {
  if (name == "disconnect") return SlowConsumerPolicy::disconnect;
  if (name == "latest") return SlowConsumerPolicy::latest;
  return std::nullopt;
}

std::string_view to_string(SlowConsumerPolicy policy) {
  return policy == SlowConsumerPolicy::latest ? "latest" : "disconnect";
}

SlowConsumerPolicy default_slow_consumer_policy(RoomKind kind) {
  return kind == RoomKind::ticker ? SlowConsumerPolicy::latest : SlowConsumerPolicy::disconnect;
}

std::size_t default_history(RoomKind kind) {
  return kind == RoomKind::feed || kind == RoomKind::relay ? 100 : 0;
}

RoomSpecParse parse_room_spec(std::string_view text) {
  RoomSpecParse out;
  RoomSpec spec;
  std::string_view path = text;
  auto const colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    path = text.substr(0, colon);
    auto const kind_name = text.substr(colon + 1);
    auto const kind = parse_room_kind(kind_name);
    if (!kind) {
      out.error = "invalid room '" + std::string(text) + "': unknown kind '" +
                  std::string(kind_name) + "' (use ticker, relay, echo or feed)";
      return out;
    }
    spec.kind = *kind;
  }
  if (path.empty() || path.front() != '/') {
    out.error = "invalid room '" + std::string(text) + "': the path must start with '/'";
    return out;
  }
  if (path.find_first_of("?# \t") != std::string_view::npos) {
    out.error =
        "invalid room '" + std::string(text) + "': the path must not contain '?', '#' or spaces";
    return out;
  }
  if (path.substr(0, kApiPrefix.size()) == kApiPrefix || path == "/api") {
    out.error = "invalid room '" + std::string(text) + "': paths under /api/ are the HTTP API's";
    return out;
  }
  if (path.size() >= 2 && path.substr(path.size() - 2) == "/*") {
    spec.family = true;
    path.remove_suffix(1);
  }
  if (path.find('*') != std::string_view::npos) {
    out.error = "invalid room '" + std::string(text) + "': '*' is only allowed as a final '/*'";
    return out;
  }
  spec.path = std::string(path);
  out.spec = std::move(spec);
  return out;
}

Room::Room(RoomId id, std::string path, RoomKind kind, bool dynamic, std::size_t history,
           SlowConsumerPolicy slow_consumer, std::size_t loops)
    : id_(id),
      path_(std::move(path)),
      kind_(kind),
      dynamic_(dynamic),
      history_(history),
      slow_consumer_(slow_consumer),
      counters_(std::make_shared<RoomCounters>(loops)) {
  auto const slash = path_.rfind('/');
  tick_event_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  if (tick_event_.empty()) tick_event_ = "tick";
}

}  // namespace wspush
