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

namespace {

// ",history=N,history_ttl=D,slow_consumer=P" after the path and kind; "" or what is wrong.
std::string parse_room_options(std::string_view options, RoomSpec& spec) {
  while (!options.empty()) {
    std::size_t const comma = options.find(',');
    std::string_view const option = options.substr(0, comma);
    options = comma == std::string_view::npos ? std::string_view() : options.substr(comma + 1);
    std::size_t const equals = option.find('=');
    std::string_view const name = option.substr(0, equals);
    std::string_view const value =
        equals == std::string_view::npos ? std::string_view() : option.substr(equals + 1);
    if (name == "history") {
      std::uint64_t n = 0;
      bool ok = !value.empty() && value.size() <= 7;
      for (char c : value) {
        ok = ok && c >= '0' && c <= '9';
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (!ok || n > 1000000) return "history: expected a whole number from 0 to 1000000";
      spec.history = static_cast<std::size_t>(n);
    } else if (name == "history_ttl") {
      DurationParse const ttl = parse_duration(value);
      if (!ttl.value) return "history_ttl: " + ttl.error;
      spec.history_ttl = *ttl.value;
    } else if (name == "slow_consumer") {
      spec.slow_consumer = parse_slow_consumer_policy(value);
      if (!spec.slow_consumer) {
        return "unknown slow_consumer policy '" + std::string(value) +
               "' (use disconnect or latest)";
      }
    } else {
      return "unknown option '" + std::string(name) +
             "' (use history=N, history_ttl=DURATION or slow_consumer=POLICY)";
    }
  }
  return {};
}

}  // namespace

RoomSpecParse parse_room_spec(std::string_view text) {
  RoomSpecParse out;
  RoomSpec spec;
  std::string_view path = text.substr(0, text.find(','));
  if (path.size() < text.size()) {
    if (std::string error = parse_room_options(text.substr(path.size() + 1), spec);
        !error.empty()) {
      out.error = "invalid room '" + std::string(text) + "': " + error;
      return out;
    }
  }
  auto const colon = path.rfind(':');
  if (colon != std::string_view::npos) {
    auto const kind_name = path.substr(colon + 1);
    path = path.substr(0, colon);
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
  if (path == "/" || path == "/events") {
    out.error = "invalid room '" + std::string(text) +
                "': / and /events are the connections that name their rooms (SPEC 3.1)";
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
