#include "common/codec.hpp"

#include <gtest/gtest.h>

#include "common/base64.hpp"

using wspush::ClientMessage;
using wspush::decode_client_message;

TEST(Codec, EncodesTheEnvelopeInSpecOrder) {
  EXPECT_EQ(wspush::encode_text_event(200, "notification", "Welcome"),
            R"({"status":200,"event":"notification","data":"Welcome"})");
  EXPECT_EQ(wspush::encode_text_event(200, "nowtime", "t", 7),
            R"({"status":200,"event":"nowtime","data":"t","seq":7})");
}

TEST(Codec, EscapesStrings) {
  EXPECT_EQ(wspush::encode_text_event(400, "error", "a \"quote\"\n"),
            R"({"status":400,"event":"error","data":"a \"quote\"\n"})");
}

TEST(Codec, EmbedsJsonDataVerbatim) {
  EXPECT_EQ(wspush::encode_json_event(200, "message", R"({"a":[1,2.5,null]})", 3),
            R"({"status":200,"event":"message","data":{"a":[1,2.5,null]},"seq":3})");
}

TEST(Codec, ListeningLine) {
  EXPECT_EQ(wspush::encode_listening("localhost", 5000),
            R"({"event":"listening","host":"localhost","port":5000})");
}

TEST(Codec, DecodesClientEvents) {
  EXPECT_EQ(decode_client_message(R"({"event":"close"})").kind, ClientMessage::Kind::close);
  EXPECT_EQ(decode_client_message(R"({"event": "ping", "extra": 1})").kind,
            ClientMessage::Kind::ping);
  auto const pub = decode_client_message(R"({"event":"publish","data": {"x" : [1, "two"]}})");
  EXPECT_EQ(pub.kind, ClientMessage::Kind::publish);
  EXPECT_EQ(pub.data, R"({"x":[1,"two"]})");
}

TEST(Codec, PublishKeepsNumbersExact) {
  auto const pub =
      decode_client_message(R"({"event":"publish","data":[0.1,12345678901234567890]})");
  EXPECT_EQ(pub.data, "[0.1,12345678901234567890]");
}

// Debian's RapidJSON 1.1.0 made these wild in full-precision mode (found by fuzz_codec):
// "0e99" became 2.37e80, twenty-five zeros after the point 1.12e-44. Each expected text
// is the shortest that reads back as the nearest double (checked with Python's float).
TEST(Codec, NumbersArriveAsTheirValueWhateverTheirSpelling) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (Case const c : {Case{"0e99", "0.0"}, Case{"0.0000000000000000000000000", "0.0"},
                       Case{"0.000000000000000000000000000000e5", "0.0"}, Case{"-0.0e-5", "-0.0"},
                       Case{"0E+10", "0.0"}, Case{"0.184467440737095516159", "0.1844674407370955"},
                       Case{"18446744073709551615", "18446744073709551615"},
                       Case{"18446744073709551616", "18446744073709553000.0"},
                       Case{"-9223372036854775808", "-9223372036854775808"},
                       Case{"-9223372036854775809", "-9223372036854776000.0"},
                       Case{"4294967296", "4294967296"}, Case{"-2147483649", "-2147483649"},
                       Case{"1e-400", "0.0"}, Case{"2.5e3", "2500.0"}, Case{"-1", "-1"}}) {
    std::string error;
    EXPECT_EQ(wspush::compact_json(c.in, &error), std::optional<std::string>(c.out))
        << c.in << error;
  }
  std::string error;
  EXPECT_EQ(wspush::compact_json("[1e400]", &error), std::nullopt);
  EXPECT_NE(error.find("Number too big"), std::string::npos) << error;
  EXPECT_NE(error.find("at offset"), std::string::npos) << error;
}

struct BadInput {
  const char* text;
  const char* reason_fragment;
};

class CodecRefuses : public ::testing::TestWithParam<BadInput> {};

TEST_P(CodecRefuses, WithAReason) {
  auto const m = decode_client_message(GetParam().text);
  EXPECT_EQ(m.kind, ClientMessage::Kind::invalid);
  EXPECT_NE(m.error.find(GetParam().reason_fragment), std::string::npos) << m.error;
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, CodecRefuses,
    ::testing::Values(
        BadInput{"not json", "invalid JSON"}, BadInput{"{\"event\":\"close\"", "invalid JSON"},
        BadInput{"", "invalid JSON"}, BadInput{"{\"event\":\"close\"} trailing", "invalid JSON"},
        BadInput{"[1,2]", "expected a JSON object"},
        BadInput{"\"close\"", "expected a JSON object"}, BadInput{"{}", "missing field: event"},
        BadInput{"{\"event\":42}", "must be a string"},
        BadInput{"{\"event\":\"dance\"}", "unknown event \"dance\""},
        BadInput{"{\"event\":\"publish\"}", "missing field: data"}),
    [](auto const& param) { return std::to_string(param.index); });

TEST(Codec, CompactJson) {
  std::string error;
  EXPECT_EQ(wspush::compact_json(" { \"a\" : 1 } ", &error),
            std::optional<std::string>("{\"a\":1}"));
  EXPECT_EQ(wspush::compact_json("{", &error), std::nullopt);
  EXPECT_NE(error.find("offset 1"), std::string::npos) << error;
}

TEST(Codec, LineToJson) {
  EXPECT_EQ(wspush::line_to_json(R"( {"a" : 1} )", false).json,
            std::optional<std::string>(R"({"a":1})"));
  EXPECT_EQ(wspush::line_to_json("42", false).json, std::optional<std::string>("42"));
  EXPECT_EQ(wspush::line_to_json("plain \"log\" line", false).json,
            std::optional<std::string>(R"("plain \"log\" line")"));
  EXPECT_EQ(wspush::line_to_json("", false).json, std::optional<std::string>(R"("")"));
  auto const strict = wspush::line_to_json("plain", true);
  EXPECT_FALSE(strict.json);
  EXPECT_NE(strict.error.find("invalid JSON"), std::string::npos);
  for (bool require : {false, true}) {
    auto const bad = wspush::line_to_json("caf\xe9", require);
    EXPECT_FALSE(bad.json);
    EXPECT_EQ(bad.error, "invalid UTF-8");
    EXPECT_FALSE(wspush::line_to_json("\"caf\xe9\"", require).json);
  }
  EXPECT_EQ(wspush::line_to_json("caf\xc3\xa9", false).json,
            std::optional<std::string>("\"caf\xc3\xa9\""));
}

TEST(Codec, InspectFindsRecovery) {
  auto const t = wspush::inspect_server_text(
      R"({"status":200,"event":"recovery","data":{"recovered":false,"since":3}})");
  EXPECT_EQ(t.recovered, std::optional<bool>(false));
  EXPECT_FALSE(wspush::inspect_server_text(R"({"event":"x","data":{"recovered":true}})").recovered);
}

TEST(Codec, LineToJsonRefusesLinesOverTheSizeLimit) {
  EXPECT_EQ(wspush::line_to_json("12345", false, 5).json, std::optional<std::string>("12345"));
  auto const over = wspush::line_to_json("123456", false, 5);
  EXPECT_FALSE(over.json);
  EXPECT_EQ(over.error, "6 bytes, over --max-message-size");
}

TEST(Codec, LineToJsonValidatesUtf8Strictly) {
  for (std::string bad :
       {std::string("\xc0\xaf"), std::string("\xe0\x80\xaf"), std::string("\xed\xa0\x80"),
        std::string("\xf4\x90\x80\x80"), std::string("\xf8\x88\x80\x80\x80"), std::string("ok\xc3"),
        std::string("\xe2\x82"), std::string("\x80")}) {
    EXPECT_EQ(wspush::line_to_json(bad, false).error, "invalid UTF-8") << bad;
  }
  for (std::string good : {std::string("\xc3\xa9"), std::string("\xe2\x82\xac"),
                           std::string("\xf0\x9f\x98\x80"), std::string("\xef\xbf\xbf")}) {
    EXPECT_TRUE(wspush::line_to_json(good, false).json) << good;
  }
}

TEST(Base64, DecodesStrictlyOnly) {
  EXPECT_EQ(wspush::base64_decode("aGk="), std::optional<std::string>("hi"));
  EXPECT_EQ(wspush::base64_decode("aGVsbG8h"), std::optional<std::string>("hello!"));
  EXPECT_EQ(wspush::base64_decode(""), std::optional<std::string>(""));
  EXPECT_EQ(wspush::base64_decode("aGk"), std::nullopt);   // not padded
  EXPECT_EQ(wspush::base64_decode("aGl="), std::nullopt);  // stray bits
  EXPECT_EQ(wspush::base64_decode("a=Gk"), std::nullopt);  // padding inside
  EXPECT_EQ(wspush::base64_decode("aG k"), std::nullopt);
  EXPECT_EQ(wspush::base64_decode(wspush::base64_encode(std::string("\x00\xff\x10", 3))),
            std::optional<std::string>(std::string("\x00\xff\x10", 3)));
}

TEST(Codec, JsonNestedDeeperThan64IsRefusedBeforeParsing) {
  std::string const ok = std::string(64, '[') + std::string(64, ']');
  std::string const deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_FALSE(wspush::json_too_deep(ok));
  EXPECT_TRUE(wspush::json_too_deep(deep));
  EXPECT_FALSE(wspush::json_too_deep("\"" + std::string(100, '[') + "\""));  // inside a string
  std::string error;
  EXPECT_TRUE(wspush::compact_json(ok, &error));
  EXPECT_FALSE(wspush::compact_json(deep, &error));
  EXPECT_NE(error.find("deeper than 64"), std::string::npos);
  // A million levels: refused in linear time, no recursion anywhere.
  std::string const huge = "{\"event\":\"publish\",\"data\":" + std::string(1000000, '[');
  auto const m = wspush::decode_client_message(huge);
  EXPECT_EQ(m.kind, wspush::ClientMessage::Kind::invalid);
  EXPECT_NE(m.error.find("deeper than 64"), std::string::npos);
  EXPECT_FALSE(wspush::line_to_json(huge, false).json);
}

TEST(Codec, InvalidUtf8IsNeverPassedOnAsJson) {
  // Found by fuzz_codec: RapidJSON takes invalid UTF-8 in strings and keys as is.
  std::string const bad = "{\"event\":\"publish\",\"data\":{\"\xe1\":1}}";
  EXPECT_EQ(wspush::decode_client_message(bad).kind, wspush::ClientMessage::Kind::invalid);
  std::string error;
  EXPECT_FALSE(wspush::compact_json("\"\xff\"", &error));
  EXPECT_NE(error.find("UTF-8"), std::string::npos);
}
