// An encoded server message, shared by every member and the room's history:
// encoded once, never copied per member.
#pragma once

#include <memory>
#include <string>

namespace wspush {

using Payload = std::shared_ptr<const std::string>;

}  // namespace wspush
