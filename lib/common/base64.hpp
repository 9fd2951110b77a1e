// Standard base64 (RFC 4648, with padding), for printing binary frames as JSON.
#pragma once

#include <string>
#include <string_view>

namespace wspush {

std::string base64_encode(std::string_view bytes);

}  // namespace wspush
