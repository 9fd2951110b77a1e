#include "core/refusal.hpp"

#include "common/codec.hpp"

namespace wspush {
namespace {

struct ReasonInfo {
  std::string_view name;
  int status;
};

// By Reason, in its order.
constexpr ReasonInfo kReasons[] = {
    {"method", 405},
    {"http_version", 400},
    {"host", 400},
    {"connection", 400},
    {"version", 426},
    {"key", 400},
    {"bad_request", 400},
    {"headers_too_large", 431},
    {"body_too_large", 413},
    {"handshake_timeout", 408},
    {"draining", 503},
    {"path_too_long", 414},
    {"handshake_rate", 503},
    {"max_connections", 503},
    {"max_connections_per_ip", 503},
    {"origin", 403},
    {"token_missing", 401},
    {"token_invalid", 401},
    {"token_expired", 401},
    {"token_not_yet_valid", 401},
    {"token_room", 403},
    {"api_forbidden", 403},
    {"api_unauthorized", 401},
    {"unknown_room", 404},
    {"bad_since", 400},
    {"room_limit", 503},
    {"publish_target", 400},
    {"publish_forbidden", 403},
    {"bad_message", 400},
    {"binary_message", 400},
    {"already_subscribed", 409},
    {"subscription_limit", 429},
    {"not_subscribed", 404},
    {"echo_room", 403},
    {"broker_unavailable", 503},
};
static_assert(sizeof kReasons / sizeof kReasons[0] ==
                  static_cast<std::size_t>(Reason::broker_unavailable) + 1,
              "one row per Reason");

}  // namespace

std::string_view to_string(Reason reason) {
  return kReasons[static_cast<std::size_t>(reason)].name;
}

int status_of(Reason reason) {
  return kReasons[static_cast<std::size_t>(reason)].status;
}

std::string error_event(Refusal const& refusal) {
  return encode_text_event(status_of(refusal.reason), "error", refusal.detail);
}

}  // namespace wspush
