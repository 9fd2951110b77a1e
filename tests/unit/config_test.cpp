#include <gtest/gtest.h>

#include "settings/config_file.hpp"

using namespace wspush;

TEST(Config, ParsesEveryField) {
  auto const r = parse_serve_config(R"({
    // comments and trailing commas are allowed
    "host": "0.0.0.0", "port": 8080, "interval": "250ms", "history": 10,
    "max_message_size": 1024, "api_key": "k", "log_level": "debug", "stdin": "/logs",
    "send_buffer": 4096,
    "rooms": [{"path": "/news", "kind": "feed", "history": 500, "slow_consumer": "latest"},
              {"path": "/chat/*", "kind": "relay"},
              {"path": "/logs"},],
  })");
  ASSERT_TRUE(r.config) << r.error;
  auto const& c = *r.config;
  EXPECT_EQ(c.host, std::optional<std::string>("0.0.0.0"));
  EXPECT_EQ(c.port, std::optional<std::uint16_t>(8080));
  EXPECT_EQ(c.interval, std::optional<std::string>("250ms"));
  EXPECT_EQ(c.history, std::optional<std::size_t>(10));
  EXPECT_EQ(c.max_message_size, std::optional<std::size_t>(1024));
  EXPECT_EQ(c.api_key, std::optional<std::string>("k"));
  EXPECT_EQ(c.stdin_room, std::optional<std::string>("/logs"));
  ASSERT_EQ(c.rooms.size(), 3u);
  EXPECT_EQ(c.rooms[0].path, "/news");
  EXPECT_EQ(c.rooms[0].history, std::optional<std::size_t>(500));
  EXPECT_EQ(c.rooms[0].slow_consumer,
            std::optional<SlowConsumerPolicy>(SlowConsumerPolicy::latest));
  EXPECT_FALSE(c.rooms[1].slow_consumer);
  EXPECT_EQ(c.send_buffer, std::optional<std::size_t>(4096));
  EXPECT_TRUE(c.rooms[1].family);
  EXPECT_EQ(c.rooms[1].kind, RoomKind::relay);
  EXPECT_EQ(c.rooms[2].kind, RoomKind::feed);
  EXPECT_FALSE(c.rooms[2].history);
}

TEST(Config, EmptyObjectIsValid) {
  EXPECT_TRUE(parse_serve_config("{}").config);
}

struct BadConfig {
  const char* text;
  const char* error;
};

class ConfigRefuses : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigRefuses, WithWhereAndWhy) {
  auto const r = parse_serve_config(GetParam().text);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error, GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ConfigRefuses,
    ::testing::Values(
        BadConfig{"{\n  \"port\": 80,\n  oops\n}",
                  "line 3, column 3: Missing a name for object member."},
        BadConfig{"[]", "expected a JSON object at the top"},
        BadConfig{R"({"prot": 1})", "prot: unknown field"},
        BadConfig{R"({"port": 70000})", "port: expected a whole number from 0 to 65535"},
        BadConfig{R"({"port": "80"})", "port: expected a whole number from 0 to 65535"},
        BadConfig{R"({"host": 1})", "host: expected a string"},
        BadConfig{R"({"rooms": {}})", "rooms: expected an array"},
        BadConfig{R"({"rooms": [{"kind": "feed"}]})", "rooms[0].path: missing"},
        BadConfig{R"({"rooms": [{"path": "/a"}, {"path": "/b", "kind": "party"}]})",
                  "rooms[1]: invalid room '/b:party': unknown kind 'party' (use ticker, relay, "
                  "echo or feed)"},
        BadConfig{R"({"rooms": [{"path": "/a", "histroy": 1}]})",
                  "rooms[0].histroy: unknown field"},
        BadConfig{R"({"rooms": [{"path": "/a", "slow_consumer": "wait"}]})",
                  "rooms[0].slow_consumer: unknown policy 'wait' (use disconnect or latest)"},
        BadConfig{R"({"rooms": [{"path": "/a", "history": -1}]})",
                  "rooms[0].history: expected a whole number from 0 to 1000000"}),
    [](auto const& param) { return std::to_string(param.index); });
