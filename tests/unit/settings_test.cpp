// The settings machinery (settings/settings.hpp) on a small table: precedence, the forms
// a config file gives, repeatable settings, errors that say where.
#include "settings/settings.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "settings/config_file.hpp"

using namespace wspush;
using namespace std::chrono_literals;
namespace v = setting_value;

namespace {

struct Options {
  std::string host;
  std::uint16_t port = 0;
  Duration interval{};
  std::optional<std::size_t> history;
  std::vector<std::string> origins;
  std::vector<std::string> rooms;
  bool verbose = false;
};

SettingsTable<Options> table() {
  SettingsTable<Options> t;
  t.add("host", &Options::host, v::text()).default_value("localhost");
  t.add("port", &Options::port, v::whole_as<std::uint16_t>(0, 65535)).default_value("5000");
  t.add("interval", &Options::interval, v::duration(1ms)).default_value("1s");
  t.add("history", &Options::history, v::whole_as<std::size_t>(0, 100));
  t.add("allow-origin", &Options::origins, v::text());
  t.add("room", &Options::rooms, v::text())
      .config_key("rooms")
      .default_value("/nowtime")
      .combine_sources([](Options& o, std::size_t first) {
        // a stronger source's room replaces a weaker one's of the same name
        auto const stronger = o.rooms.begin() + static_cast<std::ptrdiff_t>(first);
        o.rooms.erase(std::remove_if(o.rooms.begin(), stronger,
                                     [&](std::string const& r) {
                                       return std::find(stronger, o.rooms.end(), r) !=
                                              o.rooms.end();
                                     }),
                      stronger);
      });
  t.add("verbose", &Options::verbose, v::boolean());
  return t;
}

SourceValues given(std::string const& name, std::vector<std::string> const& texts,
                   std::string const& where) {
  SourceValues out;
  for (auto const& t : texts) out[name].push_back(SettingValue{t, where});
  return out;
}

SourceValues file(std::string_view json) {
  std::map<std::string, std::string, std::less<>> keys;
  auto const t = table();
  for (auto const& row : t.rows()) keys[row.config_key()] = row.name();
  ConfigFileParse parsed = parse_config_file(json, keys);
  EXPECT_EQ(parsed.error, "");
  return parsed.values;
}

}  // namespace

TEST(Settings, TheDefaultsFillEverySettingThatHasOne) {
  Options o;
  std::map<std::string, SettingSource, std::less<>> sources;
  ASSERT_EQ(table().resolve(o, {}, {}, {}, &sources), "");
  EXPECT_EQ(o.host, "localhost");
  EXPECT_EQ(o.port, 5000);
  EXPECT_EQ(o.interval, 1s);
  EXPECT_FALSE(o.history);
  EXPECT_EQ(o.rooms, std::vector<std::string>{"/nowtime"});
  EXPECT_FALSE(o.verbose);
  EXPECT_EQ(sources["port"], SettingSource::defaults);
  EXPECT_EQ(sources.count("history"), 0u);
}

TEST(Settings, AFlagWinsOverTheEnvironmentWhichWinsOverTheFileWhichWinsOverTheDefault) {
  SourceValues const flag = given("port", {"1"}, "--port");
  SourceValues const env = given("port", {"2"}, "WSPUSH_PORT");
  SourceValues const conf = file(R"({"port": 3, "host": "file.example"})");
  Options o;
  std::map<std::string, SettingSource, std::less<>> sources;
  ASSERT_EQ(table().resolve(o, flag, env, conf, &sources), "");
  EXPECT_EQ(o.port, 1);
  EXPECT_EQ(sources["port"], SettingSource::command_line);
  EXPECT_EQ(o.host, "file.example");
  EXPECT_EQ(sources["host"], SettingSource::config_file);
  o = Options{};
  ASSERT_EQ(table().resolve(o, {}, env, conf), "");
  EXPECT_EQ(o.port, 2);
  o = Options{};
  ASSERT_EQ(table().resolve(o, {}, {}, conf), "");
  EXPECT_EQ(o.port, 3);
}

TEST(Settings, ARepeatableSettingTakesTheStrongestSourcesValuesOrCombinesThem) {
  // --allow-origin: the flags' list replaces the file's.
  Options o;
  ASSERT_EQ(table().resolve(o, given("allow-origin", {"https://a"}, "--allow-origin"), {},
                            file(R"({"allow_origin": ["https://b", "https://c"]})")),
            "");
  EXPECT_EQ(o.origins, std::vector<std::string>{"https://a"});
  // --room: every source adds; a stronger one's room replaces the same weaker one; the
  // default only when nobody names any.
  o = Options{};
  ASSERT_EQ(table().resolve(o, given("room", {"/x", "/news"}, "--room"),
                            given("room", {"/env"}, "WSPUSH_ROOM"),
                            file(R"({"rooms": ["/news", "/file"]})")),
            "");
  EXPECT_EQ(o.rooms, (std::vector<std::string>{"/file", "/env", "/x", "/news"}));
}

TEST(Settings, ErrorsSayWhereTheValueCameFrom) {
  Options o;
  EXPECT_EQ(table().resolve(o, given("port", {"99999"}, "--port"), {}, {}),
            "--port: expected a whole number from 0 to 65535");
  EXPECT_EQ(table().resolve(o, {}, given("interval", {"5"}, "WSPUSH_INTERVAL"), {}),
            "WSPUSH_INTERVAL: invalid duration '5': missing unit (us, ms, s, m or h)");
  EXPECT_EQ(table().resolve(o, {}, {}, file(R"({"history": 101})")),
            "history: expected a whole number from 0 to 100");
  EXPECT_EQ(table().resolve(o, {}, {}, file(R"({"port": [1, 2]})")), "port[1]: takes one value");
  EXPECT_EQ(table().resolve(o, given("verbose", {"maybe"}, "WSPUSH_VERBOSE"), {}, {}),
            "WSPUSH_VERBOSE: expected true or false, not 'maybe'");
}

TEST(Settings, AConfigFileGivesTypedValues) {
  Options o;
  // A number where a string is wanted and the other way round are refused; a bool is
  // true/false, in the file; "1", "yes", "on" from the environment.
  EXPECT_EQ(table().resolve(o, {}, {}, file(R"({"port": "80"})")),
            "port: expected a whole number from 0 to 65535");
  EXPECT_EQ(table().resolve(o, {}, {}, file(R"({"host": 1})")), "host: expected a string");
  EXPECT_EQ(table().resolve(o, {}, {}, file(R"({"verbose": "yes"})")),
            "verbose: expected true or false");
  ASSERT_EQ(table().resolve(o, {}, {}, file(R"({"verbose": true})")), "");
  EXPECT_TRUE(o.verbose);
  o = Options{};
  ASSERT_EQ(table().resolve(o, {}, given("verbose", {"on"}, "WSPUSH_VERBOSE"), {}), "");
  EXPECT_TRUE(o.verbose);
}

TEST(Settings, TheEnvironmentSplitsARepeatableSettingOnSpaces) {
  auto const values = environment_values("WSPUSH_ROOM", "  /a  /b:relay\t/c ", true);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[1].text, "/b:relay");
  EXPECT_EQ(values[1].where, "WSPUSH_ROOM");
  EXPECT_EQ(environment_values("WSPUSH_HOST", "a b", false).front().text, "a b");
  EXPECT_EQ(environment_name("WSPUSH_", "max-message-size"), "WSPUSH_MAX_MESSAGE_SIZE");
}

TEST(ConfigFile, RefusesWhatIsNotASettingWithWhereAndWhy) {
  std::map<std::string, std::string, std::less<>> const keys{{"port", "port"}, {"rooms", "room"}};
  struct Bad {
    char const* text;
    char const* error;
  };
  for (Bad const& b : std::vector<Bad>{
           {"{\n  \"port\": 80,\n  oops\n}", "line 3, column 3: Missing a name for object member."},
           {"[]", "expected a JSON object at the top"},
           {R"({"prot": 1})", "prot: unknown field"},
           {R"({"rooms": {}})", "rooms: expected an array"},
           {R"({"rooms": [{"kind": "feed"}]})", "rooms[0].path: missing"},
           {R"({"rooms": [{"path": 1}]})", "rooms[0].path: expected a string"},
           {R"({"rooms": [{"path": "/a", "history": [1]}]})", "rooms[0].history: expected a value"},
           {R"({"rooms": [[1]]})", "rooms[0]: expected a value, not an array of arrays"},
       }) {
    EXPECT_EQ(parse_config_file(b.text, keys).error, b.error) << b.text;
  }
}

TEST(ConfigFile, ARoomObjectReadsAsTheRoomFlagsText) {
  std::map<std::string, std::string, std::less<>> const keys{{"rooms", "room"}};
  auto const parsed = parse_config_file(
      R"({"rooms": [{"path": "/news", "kind": "feed", "history": 500, "slow_consumer": "latest"},
                    {"path": "/chat/*", "kind": "relay", "presence": true, "quiet": false},
                    "/logs",],  // comments and trailing commas are allowed
         })",
      keys);
  ASSERT_EQ(parsed.error, "");
  auto const& rooms = parsed.values.at("room");
  ASSERT_EQ(rooms.size(), 3u);
  EXPECT_EQ(rooms[0].text, "/news:feed,history=500,slow_consumer=latest");
  EXPECT_EQ(rooms[0].where, "rooms[0]");
  EXPECT_EQ(rooms[1].text, "/chat/*:relay,presence");
  EXPECT_EQ(rooms[2].text, "/logs");
  EXPECT_EQ(rooms[2].form, SettingValue::Form::json_string);
}
