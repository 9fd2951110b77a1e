#include "server/loop/close_log.hpp"

#include "process/log.hpp"

namespace wspush {

void log_session_closed(WsSession const& session, std::string const* peer, std::string const* room,
                        double seconds) {
  log_event(spdlog::level::info, "connection closed",
            {{"remote", peer ? std::string_view(*peer) : std::string_view("?")},
             {"room", room ? std::string_view(*room) : std::string_view()},
             {"duration_s", seconds},
             {"messages_out", std::uint64_t{session.messages_out()}},
             {"messages_in", std::uint64_t{session.messages_in()}},
             {"code", std::uint64_t{session.close_code()}},
             {"reason", session.close_reason()},
             {"by", std::string_view(session.closed_by_server() ? "server" : "client")}});
}

}  // namespace wspush
