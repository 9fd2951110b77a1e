// The admission step: the checks a WebSocket handshake (or an API request) passes
// before it is accepted, in order, the first refusal winning: draining (503), path
// length, handshake rate and connection limits (limits.hpp), origin (403), JWT
// (jwt_check.hpp: 401/403), API access (403/401), the room (404/400/403, the Hub's).
// Each is one AdmissionCheck in the chain; the server does not change when one arrives.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/url.hpp"
#include "core/refusal.hpp"
#include "core/room.hpp"

namespace wspush {

// What an accepted handshake was granted, for the session to honour.
struct Grant {
  std::int64_t expires_at = 0;  // Unix seconds its token expires at (close 1008); 0: never
  std::optional<std::vector<std::string>> rooms;  // its token's `rooms` claim, if any
};

// What a check may look at. `header` answers "" for a header that is absent. A check
// that lets a request through may write to `grant` (when the caller gives one).
struct HandshakeRequest {
  std::string_view resource;  // path and query
  std::string_view peer;      // the peer's address, textual (v4, v6 or v4-mapped)
  std::function<std::string(std::string_view name)> header;
  Grant* grant = nullptr;
  bool api() const;  // a request for the HTTP API (a path under /api/)
};

class AdmissionCheck {
 public:
  virtual ~AdmissionCheck() = default;
  // nullopt to let the request through to the next check; a refusal to stop it.
  virtual std::optional<Refusal> check(HandshakeRequest const& request) const = 0;
};

class Admission {
 public:
  void add(std::unique_ptr<AdmissionCheck> check) { checks_.push_back(std::move(check)); }
  // The first refusal, or nullopt when every check let the request through.
  std::optional<Refusal> check(HandshakeRequest const& request) const;

 private:
  std::vector<std::unique_ptr<AdmissionCheck>> checks_;
};

// A check written as a function (the server's room check, which takes the Hub's lock).
class FunctionCheck final : public AdmissionCheck {
 public:
  explicit FunctionCheck(std::function<std::optional<Refusal>(HandshakeRequest const&)> fn)
      : fn_(std::move(fn)) {}
  std::optional<Refusal> check(HandshakeRequest const& request) const override {
    return fn_(request);
  }

 private:
  std::function<std::optional<Refusal>(HandshakeRequest const&)> fn_;
};

// SPEC §4: API requests need the key (401) or, without one, a loopback peer (403).
class ApiAccessCheck final : public AdmissionCheck {
 public:
  explicit ApiAccessCheck(std::string api_key) : api_key_(std::move(api_key)) {}
  std::optional<Refusal> check(HandshakeRequest const& request) const override;

 private:
  std::string api_key_;
};

// 503 while the server drains: it takes no new connections.
class DrainingCheck final : public AdmissionCheck {
 public:
  explicit DrainingCheck(std::function<bool()> draining) : draining_(std::move(draining)) {}
  std::optional<Refusal> check(HandshakeRequest const& request) const override;

 private:
  std::function<bool()> draining_;
};

}  // namespace wspush

namespace wspush {

// SPEC §7: `--allow-origin` entries, each an exact origin ("https://app.example.com")
// or a host pattern ("*.example.com", any scheme and port; "https://*.example.com",
// that scheme). A handshake with an Origin header that matches none is refused with
// 403; one without an Origin header (not a browser) passes. No entries: no check.
class OriginCheck final : public AdmissionCheck {
 public:
  explicit OriginCheck(std::vector<std::string> allowed);
  std::optional<Refusal> check(HandshakeRequest const& request) const override;
  bool allows(std::string_view origin) const;

 private:
  std::vector<std::string> allowed_;  // lower-cased
};

}  // namespace wspush
