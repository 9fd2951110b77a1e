#include "common/duration.hpp"

#include <gtest/gtest.h>

#include "common/size.hpp"

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

TEST(Size, WholeBytesOrUnitsOfThousandsOrOfKibibytes) {
  using wspush::parse_size;
  EXPECT_EQ(parse_size("65536").value, std::optional<std::uint64_t>(65536));
  EXPECT_EQ(parse_size("64KiB").value, std::optional<std::uint64_t>(65536));
  EXPECT_EQ(parse_size("16MiB").value, std::optional<std::uint64_t>(16u << 20));
  EXPECT_EQ(parse_size("1MB").value, std::optional<std::uint64_t>(1000000));
  EXPECT_EQ(parse_size("1.5KiB").value, std::optional<std::uint64_t>(1536));
  EXPECT_EQ(parse_size("2kB").value, std::optional<std::uint64_t>(2000));
  EXPECT_EQ(parse_size("10B").value, std::optional<std::uint64_t>(10));
  for (auto bad : {"", "KiB", "1.2.3", "1 KiB", "1kib", "1.0001KiB", "-1", "1e3", ".5MB"}) {
    EXPECT_FALSE(parse_size(bad).value) << bad;
    EXPECT_FALSE(parse_size(bad).error.empty()) << bad;
  }
  EXPECT_NE(wspush::check_size("2GiB", 1, 1u << 30).find("out of range"), std::string::npos);
  EXPECT_EQ(wspush::check_size("1GiB", 1, 1u << 30), "");
}
