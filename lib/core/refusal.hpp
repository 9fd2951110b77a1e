// Why something is refused, in the core's own words: a Reason, a sentence for the
// client, and when to come back. The HTTP layer (http/answers.hpp) says a refusal as an
// HTTP answer; the protocol says it as an error event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/duration.hpp"

namespace wspush {

enum class Reason : std::uint8_t {
  // The request itself (RFC 6455 §4.2, HTTP/1.1).
  method,
  http_version,
  host,
  connection,
  version,
  key,
  bad_request,
  headers_too_large,
  body_too_large,
  handshake_timeout,
  // The admission step (admission.hpp, limits.hpp, jwt_check.hpp, api_access.hpp).
  draining,
  path_too_long,
  handshake_rate,
  max_connections,
  max_connections_per_ip,
  origin,
  token_missing,
  token_invalid,
  token_expired,
  token_not_yet_valid,
  token_room,
  api_forbidden,
  api_unauthorized,
  // Rooms, client messages and publishing (hub.hpp, client_protocol.hpp, broker.hpp).
  unknown_room,
  bad_since,
  room_limit,
  publish_target,
  publish_forbidden,
  bad_message,
  binary_message,
  // Subscriptions (SPEC §3.1, hub_subscribe.cpp).
  already_subscribed,
  subscription_limit,
  not_subscribed,
  echo_room,
  broker_unavailable,  // last: refusal.cpp counts the reasons up to it
};

struct Refusal {
  Reason reason;
  std::string detail;                       // for the client: what went wrong, and what to do
  Duration retry_after = Duration::zero();  // zero: no advice on when to try again
};

// The reason as a word: the metrics' label and the logs' ("unknown_room").
std::string_view to_string(Reason reason);

// The protocol's status for a reason (SPEC §3): the `status` of its error event, which a
// refused handshake also answers as its HTTP status (its body is that event).
int status_of(Reason reason);

// {"status":S,"event":"error","data":DETAIL}.
std::string error_event(Refusal const& refusal);

}  // namespace wspush
