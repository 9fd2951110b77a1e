#include "common/duration.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using wspush::Duration;
using wspush::parse_duration;

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(parse_duration("200ms").value, Duration(200ms));
  EXPECT_EQ(parse_duration("1s").value, Duration(1s));
  EXPECT_EQ(parse_duration("1.5s").value, Duration(1500ms));
  EXPECT_EQ(parse_duration("2m").value, Duration(120s));
  EXPECT_EQ(parse_duration("1h").value, Duration(3600s));
  EXPECT_EQ(parse_duration("250us").value, Duration(250us));
  EXPECT_EQ(parse_duration(".5s").value, Duration(500ms));
}

TEST(Duration, RefusesWithAReason) {
  auto const bare = parse_duration("5");
  EXPECT_FALSE(bare.value);
  EXPECT_NE(bare.error.find("missing unit"), std::string::npos);
  auto const unit = parse_duration("5d");
  EXPECT_FALSE(unit.value);
  EXPECT_NE(unit.error.find("unknown unit 'd'"), std::string::npos);
  for (auto text : {"", "s", "-1s", "1..2s", "1.2.3s", "abc", "1e3s", "99999999999999h"}) {
    auto const r = parse_duration(text);
    EXPECT_FALSE(r.value) << text;
    EXPECT_FALSE(r.error.empty()) << text;
  }
}

TEST(Duration, FormatsTheLargestWholeUnit) {
  EXPECT_EQ(wspush::format_duration(1s), "1s");
  EXPECT_EQ(wspush::format_duration(1500ms), "1500ms");
  EXPECT_EQ(wspush::format_duration(2min), "2m");
  EXPECT_EQ(wspush::format_duration(7us), "7us");
}
