#include "core/jwt_check.hpp"

#include <jwt.h>

#include <cmath>
#include <cstdlib>
#include <memory>

#include "common/url.hpp"
#include "rapidjson/document.h"

namespace wspush {
namespace {

constexpr std::string_view kBearer = "Bearer ";

Refusal unauthorized(std::string why, Reason reason) {
  return Refusal{reason, std::move(why)};
}

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};

// A claim's value as JSON, parsed; a Null document when the claim is absent.
rapidjson::Document claim(jwt_t* jwt, char const* name) {
  rapidjson::Document doc;
  char* const text = jwt_get_grants_json(jwt, name);
  if (text == nullptr) return doc;
  doc.Parse(text);
  std::free(text);
  if (doc.HasParseError()) doc.SetNull();
  return doc;
}

// A NumericDate (RFC 7519: seconds, possibly fractional) rounded down.
std::optional<std::int64_t> seconds_of(rapidjson::Value const& v) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsNumber() && std::isfinite(v.GetDouble())) {
    return static_cast<std::int64_t>(std::floor(v.GetDouble()));
  }
  return std::nullopt;
}

}  // namespace

std::string token_of(HandshakeRequest const& request) {
  if (request.header) {
    std::string const authorization = request.header("Authorization");
    if (authorization.compare(0, kBearer.size(), kBearer) == 0) {
      return authorization.substr(kBearer.size());
    }
  }
  return std::string(query_param(request.resource, "token").value_or(std::string_view()));
}

bool room_pattern_covers(std::string_view pattern, std::string_view path) {
  if (pattern == path) return true;
  if (pattern.size() < 2 || pattern.substr(pattern.size() - 2) != "/*") return false;
  std::string_view const prefix = pattern.substr(0, pattern.size() - 1);  // keeps the '/'
  return path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix;
}

std::string redact_token(std::string_view target) {
  std::string out(target);
  for (std::size_t at = out.find("token="); at != std::string::npos;
       at = out.find("token=", at + 1)) {
    if (at == 0 || (out[at - 1] != '?' && out[at - 1] != '&')) continue;
    std::size_t const from = at + 6;
    std::size_t const to = std::min(out.find('&', from), out.size());
    out.replace(from, to - from, "…");
  }
  return out;
}

JwtCheck::JwtCheck(std::string secret, std::function<std::int64_t()> now)
    : secret_(std::move(secret)), now_(std::move(now)) {}

std::optional<Refusal> JwtCheck::check(HandshakeRequest const& request) const {
  if (request.api()) return std::nullopt;
  std::string const token = token_of(request);
  if (token.empty()) {
    return unauthorized("missing token: send 'Authorization: Bearer TOKEN' or ?token=",
                        Reason::token_missing);
  }
  jwt_t* raw = nullptr;
  int const failed =
      jwt_decode(&raw, token.c_str(), reinterpret_cast<unsigned char const*>(secret_.data()),
                 static_cast<int>(secret_.size()));
  std::unique_ptr<jwt_t, JwtFree> const jwt(raw);
  if (failed != 0 || !jwt) return unauthorized("invalid token", Reason::token_invalid);
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) {
    return unauthorized("invalid token: only HS256 is accepted", Reason::token_invalid);
  }
  std::int64_t const now = now_();
  rapidjson::Document const exp = claim(jwt.get(), "exp");
  std::optional<std::int64_t> const expires = seconds_of(exp);
  if (!expires) return unauthorized("invalid token: no exp claim", Reason::token_invalid);
  if (*expires <= now) return unauthorized("token expired", Reason::token_expired);
  rapidjson::Document const nbf = claim(jwt.get(), "nbf");
  if (!nbf.IsNull()) {
    std::optional<std::int64_t> const not_before = seconds_of(nbf);
    if (!not_before) return unauthorized("invalid token: bad nbf claim", Reason::token_invalid);
    if (*not_before > now) return unauthorized("token not valid yet", Reason::token_not_yet_valid);
  }
  rapidjson::Document const rooms = claim(jwt.get(), "rooms");
  std::optional<std::vector<std::string>> allowed;
  if (!rooms.IsNull()) {
    if (!rooms.IsArray()) {
      return unauthorized("invalid token: bad rooms claim", Reason::token_invalid);
    }
    allowed.emplace();
    for (rapidjson::Value const& entry : rooms.GetArray()) {
      if (entry.IsString()) allowed->emplace_back(entry.GetString(), entry.GetStringLength());
    }
    // A connection to / names no room yet (its subscribes are checked as they come);
    // one to /events names its rooms up front.
    std::string_view const path = room_path_of(request.resource);
    std::vector<std::string> named;
    if (path == "/events") {
      for (std::string_view param : query_params(request.resource, "room")) {
        named.push_back(percent_decode(param).value_or(std::string(param)));
      }
    } else if (path != "/") {
      named.emplace_back(path);
    }
    for (std::string const& room : named) {
      if (!rooms_allow(*allowed, room)) {
        return Refusal{Reason::token_room, "the token does not cover " + room};
      }
    }
  }
  if (request.grant) {
    request.grant->expires_at = *expires;
    request.grant->rooms = std::move(allowed);
  }
  return std::nullopt;
}

bool rooms_allow(std::vector<std::string> const& claim, std::string_view room) {
  for (std::string const& entry : claim) {
    if (room_pattern_covers(entry, room)) return true;
  }
  return false;
}

}  // namespace wspush
