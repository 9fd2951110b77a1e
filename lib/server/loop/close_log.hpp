// One log line per connection when it ends: who, which room, how long, how much, and how
// it ended (which close frame came first, and from whom).
#pragma once

#include <string>

#include "server/ws/ws_session.hpp"

namespace wspush {

void log_session_closed(WsSession const& session, std::string const* peer, std::string const* room,
                        double seconds);

}  // namespace wspush
