#include "common/timefmt.hpp"

#include <gtest/gtest.h>

using namespace std::chrono;

TEST(TimeFormat, IsoUtcWithMicroseconds) {
  system_clock::time_point const t{microseconds(1795741326227639LL)};
  EXPECT_EQ(wspush::iso8601_utc(t), "2026-11-27T01:02:06.227639Z");
}

TEST(TimeFormat, KeepsLeadingZerosOfTheFraction) {
  EXPECT_EQ(wspush::iso8601_utc(system_clock::time_point{microseconds(42)}),
            "1970-01-01T00:00:00.000042Z");
}

TEST(TimeFormat, BeforeTheEpochFractionStaysPositive) {
  EXPECT_EQ(wspush::iso8601_utc(system_clock::time_point{microseconds(-1)}),
            "1969-12-31T23:59:59.999999Z");
}
