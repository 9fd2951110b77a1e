#include "core/admission.hpp"

#include <cctype>

#include "core/api_access.hpp"

namespace wspush {

bool HandshakeRequest::api() const {
  std::string_view const path = room_path_of(resource);
  return path.substr(0, kApiPrefix.size()) == kApiPrefix;
}

std::optional<Refusal> Admission::check(HandshakeRequest const& request) const {
  for (auto const& c : checks_) {
    if (auto refusal = c->check(request)) return refusal;
  }
  return std::nullopt;
}

std::optional<Refusal> ApiAccessCheck::check(HandshakeRequest const& request) const {
  if (!request.api()) return std::nullopt;
  return api_refusal(api_key_, request.peer, request.header ? request.header("Authorization") : "");
}

std::optional<Refusal> DrainingCheck::check(HandshakeRequest const&) const {
  if (!draining_()) return std::nullopt;
  return Refusal{Reason::draining, "server is shutting down"};
}

}  // namespace wspush

namespace wspush {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "https://a.example.com:8443" -> scheme "https", host "a.example.com".
void split_origin(std::string_view origin, std::string_view& scheme, std::string_view& host) {
  auto const sep = origin.find("://");
  scheme = sep == std::string_view::npos ? std::string_view() : origin.substr(0, sep);
  host = sep == std::string_view::npos ? origin : origin.substr(sep + 3);
  host = host.substr(0, host.find_first_of(":/"));
}

}  // namespace

OriginCheck::OriginCheck(std::vector<std::string> allowed) {
  for (auto const& a : allowed) allowed_.push_back(lower(a));
}

bool OriginCheck::allows(std::string_view origin_text) const {
  std::string const origin = lower(origin_text);
  std::string_view scheme, host;
  split_origin(origin, scheme, host);
  for (std::string const& entry : allowed_) {
    if (entry == origin) return true;
    std::string_view entry_scheme, pattern;
    split_origin(entry, entry_scheme, pattern);
    if (pattern.substr(0, 2) != "*.") continue;
    if (!entry_scheme.empty() && entry_scheme != scheme) continue;
    std::string_view const suffix = pattern.substr(1);  // ".example.com"
    if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix) {
      return true;
    }
  }
  return false;
}

std::optional<Refusal> OriginCheck::check(HandshakeRequest const& request) const {
  if (allowed_.empty() || !request.header) return std::nullopt;
  std::string const origin = request.header("Origin");
  if (origin.empty() || allows(origin)) return std::nullopt;
  return Refusal{Reason::origin, "origin " + origin + " is not allowed"};
}

}  // namespace wspush
