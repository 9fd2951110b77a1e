// SPEC §7: `--jwt-secret`. A WebSocket handshake to a room carries an HS256 token, in
// `Authorization: Bearer T` or `?token=T` (browsers cannot set headers). libjwt
// (Debian's libjwt-dev) checks the signature; this check then requires alg HS256
// (`none`, HS384/512, RS*/ES* are refused even when they verify), `exp` (required,
// not passed) and `nbf` (passed), and, when the token has a `rooms` claim, that one of
// its entries covers the room: the path itself or a family pattern ("/chat/*" covers
// every path below /chat/). Missing or invalid: 401; a room the token does not cover:
// 403. An accepted token's `exp` goes into the Grant, and the connection is closed with
// 1008 "token expired" when it passes. API requests are not its business (--api-key).
//
// Threading: any loop's listener (it keeps no state); `now` must be safe to call there.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/admission.hpp"

namespace wspush {

class JwtCheck final : public AdmissionCheck {
 public:
  // `now`: the wall clock, in Unix seconds.
  JwtCheck(std::string secret, std::function<std::int64_t()> now);
  std::optional<Refusal> check(HandshakeRequest const& request) const override;

 private:
  std::string secret_;
  std::function<std::int64_t()> now_;
};

// The token a request carries ("" for none): the Bearer header first, then ?token=.
std::string token_of(HandshakeRequest const& request);
// Whether a `rooms` claim entry covers the room `path` (a path, or a family pattern:
// "/chat/*" covers every path below /chat/, and the pattern itself).
bool room_pattern_covers(std::string_view pattern, std::string_view path);
// Whether one of the claim's entries covers `room` (a path or a pattern).
bool rooms_allow(std::vector<std::string> const& claim, std::string_view room);
// `target` with the value of ?token= replaced by "…", for logs: a token is never logged.
std::string redact_token(std::string_view target);

}  // namespace wspush
