// Who may use the API (publish, rooms, publish stream), SPEC §4: without an API key
// only loopback peers; with one, every request carries "Authorization: Bearer KEY".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/refusal.hpp"

namespace wspush {

// Whether a textual IPv4/IPv6 address is loopback (127.0.0.0/8, ::1, ::ffff:127.x).
bool is_loopback_address(std::string_view address);

// nullopt when the request may proceed; otherwise 403 (not loopback, no key set) or
// 401 (key set, header missing or wrong; compared in constant time).
std::optional<Refusal> api_refusal(std::string const& api_key, std::string_view peer_address,
                                   std::string_view authorization);

}  // namespace wspush
