#include "core/admission.hpp"

#include "common/codec.hpp"
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
  return Refusal{503, encode_text_event(503, "error", "server is shutting down"), {}, "draining"};
}

}  // namespace wspush
