// `wspush client`'s two modes behind one entry point: --async (Asio event loop, the
// default) and --sync (a blocking client driven on this thread), with the same
// output and exit codes. client.cpp declares the flags; this runs them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client_transport/ws_client.hpp"
#include "common/duration.hpp"

namespace wspush::cmd {

struct ClientFlags {
  std::string url = "ws://localhost:5000/nowtime";
  bool sync = false;
  bool async = false;
  std::optional<std::uint64_t> count;
  std::vector<std::string> sends;
  bool send_stdin = false;
  std::string timeout;
  std::string idle_timeout;
  bool echo = false;
  bool stats = false;
  bool reconnect = false;
  std::string reconnect_max_text = "10s";
  Duration reconnect_max = std::chrono::seconds(10);
  ConnectOptions connect;
  std::string handshake_timeout = "10s";
};

// Checks the flags (a usage error is exit 2), then runs the chosen mode.
int run_client(ClientFlags& flags);

}  // namespace wspush::cmd
