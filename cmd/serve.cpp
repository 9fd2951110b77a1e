// `wspush serve`: the room server.
#include <iostream>

#include "commands.hpp"
#include "core/codec.hpp"
#include "net/log.hpp"
#include "net/push_server.hpp"
#include "options.hpp"

namespace wspush::cmd {
namespace {

struct ServeFlags {
  ServeOptions server;
  std::vector<std::string> rooms;
  std::string interval = "1s";
  std::string log_level = "info";
};

int run_serve(ServeFlags& flags) {
  init_logging(flags.log_level);
  ServeOptions options = flags.server;
  for (std::string const& text : flags.rooms) {
    RoomSpecParse parsed = parse_room_spec(text);
    if (!parsed.spec) return usage_error("--room: " + parsed.error);
    options.rooms.push_back(std::move(*parsed.spec));
  }
  auto const interval = parse_duration(flags.interval);
  if (!interval.value) return usage_error("--interval: " + interval.error);
  if (interval.value->count() < 1000) return usage_error("--interval: must be at least 1ms");
  options.interval = *interval.value;

  try {
    PushServer server(options);  // std::invalid_argument reaches main: a usage error
    std::uint16_t const port = server.bind();
    std::cout << encode_listening(options.host, port) << std::endl;  // flushed: a readiness signal
    server.run();
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
            auto flags = std::make_shared<ServeFlags>();
            app.add_option("--host", flags->server.host, "Address or name to listen on")
                ->capture_default_str();
            app.add_option("--port", flags->server.port, "TCP port; 0 picks a free one")
                ->capture_default_str();
            app.add_option("--room", flags->rooms,
                           "Room PATH[:KIND], repeatable; KIND is ticker, relay, echo or feed "
                           "(default feed); PATH/* declares a family. Default: /nowtime:ticker")
                ->type_name("PATH[:KIND]");
            app.add_option("--interval", flags->interval, "Ticker interval (200ms, 1s, 1.5s, 2m)")
                ->capture_default_str();
            app.add_option("--max-message-size", flags->server.max_message_size,
                           "Largest client message in bytes; larger ones close with 1009")
                ->capture_default_str();
            app.add_option("--log-level", flags->log_level, "Log level on stderr")
                ->check(CLI::IsMember(
                    std::vector<std::string>(std::begin(kLogLevels), std::end(kLogLevels))))
                ->capture_default_str();
            return [flags] { return run_serve(*flags); };
          }};
}

}  // namespace wspush::cmd
