// `wspush serve`'s real settings table through CLI11, the environment and a config file,
// in process: the precedence, every setting reachable all three ways, the old config
// file's errors.
#include "serve_settings.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "settings/config_file.hpp"
#include "settings_cli.hpp"

using namespace wspush;
using namespace wspush::cmd;
using namespace std::chrono_literals;

namespace {

CpuBudget const kCpus = read_cpu_budget();

// The serve subcommand as main() sets it up, parsed from `args`.
struct Parsed {
  CLI::App app;
  CliSettings<ServeCommandSettings> cli{serve_settings(kCpus), kServeEnvPrefix};
  explicit Parsed(std::vector<std::string> args) {
    cli.add_to(app, {"send-buffer", "4MiB"}, "");
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
  }
  std::string resolve(ServeCommandSettings& out, std::string_view file_text = "",
                      std::map<std::string, SettingSource, std::less<>>* sources = nullptr) const {
    SourceValues file;
    if (!file_text.empty()) {
      std::map<std::string, std::string, std::less<>> keys;
      for (auto const& row : cli.table().rows()) {
        if (!row.config_key().empty()) keys[row.config_key()] = row.name();
      }
      ConfigFileParse parsed = parse_config_file(file_text, keys);
      if (!parsed.error.empty()) return parsed.error;
      file = std::move(parsed.values);
    }
    return cli.resolve(out, file, sources);
  }
};

// Sets an environment variable for the life of the object.
struct Env {
  std::string name;
  Env(std::string n, char const* value) : name(std::move(n)) { ::setenv(name.c_str(), value, 1); }
  ~Env() { ::unsetenv(name.c_str()); }
};

}  // namespace

TEST(ServeSettings, DefaultsAreTheReferences) {
  ServeCommandSettings s;
  ASSERT_EQ(Parsed({}).resolve(s), "");
  EXPECT_EQ(s.server.listen.host, "localhost");
  EXPECT_EQ(s.server.listen.port, 5000);
  ASSERT_EQ(s.server.rooms.size(), 1u);
  EXPECT_EQ(s.server.rooms[0].path, "/nowtime");
  EXPECT_EQ(s.server.rooms[0].kind, RoomKind::ticker);
  EXPECT_EQ(s.server.hub.tick_interval, 1s);
  EXPECT_EQ(s.server.connection.max_message_size, 64u * 1024);
  EXPECT_EQ(s.server.connection.send_buffer, 1024u * 1024);
  EXPECT_EQ(s.server.connection.ping_interval, 25s);
  EXPECT_EQ(s.server.loops.threads, kCpus.loops());
  EXPECT_EQ(s.server.loops.send_path, SendPath::io_uring);
  EXPECT_EQ(s.server.admission.handshake_rate, 5000);
  EXPECT_FALSE(s.server.history);
  EXPECT_EQ(s.log_level, "info");
}

TEST(ServeSettings, FlagThenEnvironmentThenFileThenDefault) {
  Env const threads("WSPUSH_THREADS", "3");
  Env const path("WSPUSH_SEND_PATH", "sendmsg");
  ServeCommandSettings s;
  ASSERT_EQ(Parsed({"--threads", "2"}).resolve(s, R"({"threads": 4, "send_path": "io_uring",
                                                      "idle_timeout": "30s"})"),
            "");
  EXPECT_EQ(s.server.loops.threads, 2u);                   // the flag
  EXPECT_EQ(s.server.loops.send_path, SendPath::sendmsg);  // the environment
  EXPECT_EQ(s.server.connection.idle_timeout, 30s);        // the file
  EXPECT_EQ(s.server.connection.pong_timeout, 10s);        // the default
}

TEST(ServeSettings, EverySettingCanBeGivenByFlagEnvironmentAndFile) {
  auto const table = serve_settings(kCpus);
  for (auto const& row : table.rows()) {
    // A value each setting accepts: its default, or one made for it.
    std::string value = row.default_text();
    if (value.empty() || row.name() == "room") value = "/x:relay";
    if (row.name() == "history") value = "7";
    if (row.name() == "public-metrics") value = "true";
    if (row.name() == "config") continue;  // the file itself: flag or environment only
    ASSERT_FALSE(row.config_key().empty()) << row.name();
    // A switch is true or false in the file, whatever it is called on the command line.
    bool const on_off = row.value_name() == "on|off";
    std::string const json = row.name() == "public-metrics" ? value
                             : on_off                       ? std::string("true")
                                                            : "\"" + value + "\"";
    std::string const file = "{\"" + row.config_key() + "\": " + json + "}";
    bool const number = row.value_name() == "N" || row.value_name() == "PORT" ||
                        row.value_name() == "BYTES" || row.value_name() == "RATE";
    std::string const number_file = "{\"" + row.config_key() + "\": " + value + "}";
    ServeCommandSettings s;
    std::map<std::string, SettingSource, std::less<>> from;
    EXPECT_EQ(Parsed({}).resolve(s, number ? number_file : file, &from), "") << row.name();
    EXPECT_EQ(from[row.name()], SettingSource::config_file) << row.name();
    {
      Env const env(environment_name(kServeEnvPrefix, row.name()), value.c_str());
      EXPECT_EQ(Parsed({}).resolve(s, "", &from), "") << row.name();
      EXPECT_EQ(from[row.name()], SettingSource::environment) << row.name();
    }
    std::vector<std::string> args{"--" + row.name()};
    if (!row.is_switch()) args.push_back(value);
    EXPECT_EQ(Parsed(args).resolve(s, "", &from), "") << row.name();
    EXPECT_EQ(from[row.name()], SettingSource::command_line) << row.name();
  }
}

TEST(ServeSettings, ARoomFlagReplacesTheFilesRoomOfTheSamePath) {
  ServeCommandSettings s;
  ASSERT_EQ(Parsed({"--room", "/news:relay", "--room", "/extra"})
                .resolve(s, R"({"rooms": [{"path": "/news", "kind": "feed", "history": 2},
                                           "/chat/*:relay"]})"),
            "");
  ASSERT_EQ(s.server.rooms.size(), 3u);
  EXPECT_EQ(s.server.rooms[0].path, "/chat/");
  EXPECT_TRUE(s.server.rooms[0].family);
  EXPECT_EQ(s.server.rooms[1].path, "/news");
  EXPECT_EQ(s.server.rooms[1].kind, RoomKind::relay);
  EXPECT_FALSE(s.server.rooms[1].history);
  EXPECT_EQ(s.server.rooms[2].path, "/extra");
}

TEST(ServeSettings, TheFilesRoomsTakeTheirOptions) {
  ServeCommandSettings s;
  ASSERT_EQ(Parsed({}).resolve(s, R"({"rooms": [{"path": "/news", "kind": "feed", "history": 500,
                                  "slow_consumer": "latest"}, {"path": "/logs"}]})"),
            "");
  ASSERT_EQ(s.server.rooms.size(), 2u);
  EXPECT_EQ(s.server.rooms[0].history, std::optional<std::size_t>(500));
  EXPECT_EQ(s.server.rooms[0].slow_consumer,
            std::optional<SlowConsumerPolicy>(SlowConsumerPolicy::latest));
  EXPECT_EQ(s.server.rooms[1].kind, RoomKind::feed);
  EXPECT_FALSE(s.server.rooms[1].history);
}

TEST(ServeSettings, BadValuesAreRefusedWithWhereAndWhy) {
  struct Bad {
    char const* file;
    char const* error;
  };
  for (Bad const& b : std::vector<Bad>{
           {R"({"port": 70000})", "port: expected a whole number from 0 to 65535"},
           {R"({"rooms": [{"path": "/a"}, {"path": "/b", "kind": "party"}]})",
            "rooms[1]: invalid room '/b:party': unknown kind 'party' (use ticker, relay, echo or "
            "feed)"},
           {R"({"rooms": [{"path": "/a", "histroy": 1}]})",
            "rooms[0]: invalid room '/a,histroy=1': unknown option 'histroy' (use history=N, "
            "history_ttl=DURATION or slow_consumer=POLICY)"},
           {R"({"rooms": [{"path": "/a", "slow_consumer": "wait"}]})",
            "rooms[0]: invalid room '/a,slow_consumer=wait': unknown slow_consumer policy 'wait' "
            "(use disconnect or latest)"},
           {R"({"rooms": [{"path": "/a", "history": -1}]})",
            "rooms[0]: invalid room '/a,history=-1': history: expected a whole number from 0 to "
            "1000000"},
           {R"({"send_buffer": "lots"})", "send_buffer: invalid size 'lots'"},
           {R"({"log_level": "loud"})",
            "log_level: unknown value 'loud' (use trace, debug, info, warn, error, off)"},
       }) {
    ServeCommandSettings s;
    std::string const error = Parsed({}).resolve(s, b.file);
    EXPECT_EQ(error.substr(0, std::string(b.error).size()), b.error) << b.file;
  }
}
