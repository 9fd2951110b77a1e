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
#include "settings/settings.hpp"

namespace wspush::cmd {

// Its settings; their defaults, flags and help are client.cpp's table.
struct ClientFlags {
  bool sync = false;
  bool async = false;
  std::optional<std::uint64_t> count;
  std::vector<std::string> sends;
  std::vector<std::string> subscriptions;  // --subscribe: rooms and patterns to follow
  bool send_stdin = false;
  std::optional<Duration> timeout;
  std::optional<Duration> idle_timeout;
  bool echo = false;
  bool stats = false;
  bool reconnect = false;
  Duration reconnect_max{};
  ConnectOptions connect;  // the URL, headers, TLS, proxy, limits
};

SettingsTable<ClientFlags> client_settings();
inline constexpr char const* kClientEnvPrefix = "WSPUSH_CLIENT_";

// Checks the flags (a usage error is exit 2), then runs the chosen mode.
int run_client(ClientFlags& flags);

}  // namespace wspush::cmd
