// `wspush serve`: the room server.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "common/codec.hpp"
#include "options.hpp"
#include "process/cpu_budget.hpp"
#include "process/log.hpp"
#include "serve_settings.hpp"
#include "server/disk/data_dir.hpp"
#include "server/push_server.hpp"
#include "settings/config_file.hpp"
#include "settings_cli.hpp"

namespace wspush::cmd {
namespace {

// A secret from a file (one line; trailing white space is not part of it).
std::string read_secret(std::string const& file, std::string& secret) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "cannot read the file";
  std::stringstream text;
  text << in.rdbuf();
  secret = text.str();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) return "the file is empty";
  return {};
}

// On a terminal: where to connect, in a few lines (not in logs, not when piped).
void print_banner(ServeSettings const& options, std::uint16_t port) {
  bool const tls = !options.listen.tls_cert.empty();
  std::string const& listen_host = options.listen.host;
  std::string const host =
      listen_host.find(':') != std::string::npos ? "[" + listen_host + "]" : listen_host;
  std::string const base = host + ":" + std::to_string(port);
  std::string const ws = (tls ? "wss://" : "ws://") + base;
  std::string const http = (tls ? "https://" : "http://") + base;
  std::vector<RoomSpec> const& rooms = options.rooms;
  if (rooms.empty()) return;
  std::cerr << "wspush serve on " << http << "\n";
  std::string first_feed;
  for (RoomSpec const& room : rooms) {
    std::string const path = room.path + (room.family ? "*" : "");
    std::cerr << "  room  " << ws << path << "  (" << to_string(room.kind)
              << (room.family ? " family" : "") << ")";
    // A family's members have pages of their own; the family itself has none.
    if (!room.family) std::cerr << "  page " << http << room.path;
    std::cerr << "\n";
    if (first_feed.empty() && !room.family && room.kind != RoomKind::ticker &&
        room.kind != RoomKind::echo) {
      first_feed = room.path;
    }
  }
  // A room to try: the first, or a member of the first family.
  std::string const example = rooms.front().path + (rooms.front().family ? "x" : "");
  std::cerr << "  page  " << http << "/  (the rooms, in a browser)\n";
  std::cerr << "  API   " << http
            << "/api/publish?room=" << (first_feed.empty() ? "/ROOM" : first_feed)
            << (options.admission.api_key.empty() ? "  (loopback peers only)"
                                                  : "  (Bearer API key)")
            << "\n  also  " << http << "/api/rooms  /healthz  /readyz  /metrics\n"
            << "  try   wspush client " << ws << example << " | jq .data\n"
            << "  or    curl -N " << http << example << "\n";
}

// The --config file's values, by setting name ("" and no values without one).
std::string read_config(CliSettings<ServeCommandSettings> const& cli, SourceValues& values) {
  std::optional<std::string> const file = cli.given("config");
  if (!file) return {};
  std::ifstream in(*file, std::ios::binary);
  if (!in) return "--config " + *file + ": cannot read the file";
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, std::string, std::less<>> names_by_key;
  for (auto const& row : cli.table().rows()) {
    if (!row.config_key().empty()) names_by_key[row.config_key()] = row.name();
  }
  ConfigFileParse parsed = parse_config_file(text.str(), names_by_key);
  if (!parsed.error.empty()) return "--config " + *file + ": " + parsed.error;
  for (auto& [name, list] : parsed.values) {
    for (SettingValue& value : list) {
      bool const element = value.where.back() == ']';  // rooms[2]: says where already
      value.where = "--config " + *file + ": " + value.where + (element ? "" : " (--" + name + ")");
    }
  }
  values = std::move(parsed.values);
  return {};
}

int run_serve(CliSettings<ServeCommandSettings> const& cli, CpuBudget const& cpus) {
  SourceValues file;
  if (std::string const error = read_config(cli, file); !error.empty()) {
    return usage_error("serve: " + error);
  }
  ServeCommandSettings settings;
  std::map<std::string, SettingSource, std::less<>> sources;
  if (std::string const error = cli.resolve(settings, file, &sources); !error.empty()) {
    return usage_error("serve: " + error);
  }
  ServeSettings& options = settings.server;
  if (!settings.jwt_secret_file.empty()) {
    if (!options.admission.jwt_secret.empty()) {
      return usage_error("serve: --jwt-secret-file excludes --jwt-secret: give the secret once");
    }
    if (std::string const error =
            read_secret(settings.jwt_secret_file, options.admission.jwt_secret);
        !error.empty()) {
      return usage_error("serve: --jwt-secret-file " + settings.jwt_secret_file + ": " + error);
    }
  }
  init_logging(settings.log_level, *log_format_of(settings.log_format));
  if (sources["threads"] == SettingSource::defaults) {
    spdlog::info("{} event loop(s): one per CPU this process may use ({})", options.loops.threads,
                 cpus.describe());
  }
  try {
    PushServer server(options);  // std::invalid_argument reaches main: a usage error
    std::uint16_t const port = server.bind();
    std::cout << encode_listening(options.listen.host, port) << std::endl;  // a readiness signal
    if (isatty(STDERR_FILENO)) print_banner(options, port);
    server.run();
  } catch (DataDirError const& e) {
    std::cerr << "wspush serve: " << e.what() << '\n';
    return kExitDataDir;
  } catch (std::runtime_error const& e) {
    std::cerr << "wspush serve: " << e.what() << '\n';
    return kExitFailure;
  }
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace

Command serve_command() {
  return {"serve", "Run the WebSocket push server", [](CLI::App& app) {
            auto const cpus = std::make_shared<CpuBudget>(read_cpu_budget());
            auto cli = std::make_shared<CliSettings<ServeCommandSettings>>(serve_settings(*cpus),
                                                                           kServeEnvPrefix);
            cli->add_to(app, {"send-buffer", "4MiB"},
                        ", else --config's JSON key <flag> with '_' (e.g. \"send_buffer\": "
                        "\"4MiB\"; \"rooms\": [\"/news\", {\"path\": \"/chat/*\", \"kind\": "
                        "\"relay\"}])");
            return CommandSetup{[cli, cpus] { return run_serve(*cli, *cpus); }, cli->describe()};
          }};
}

}  // namespace wspush::cmd
