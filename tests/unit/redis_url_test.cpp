#include "core/redis_url.hpp"

#include <gtest/gtest.h>

using namespace wspush;

namespace {

RedisAddress ok(std::string_view url) {
  auto const r = parse_redis_url(url);
  EXPECT_TRUE(std::holds_alternative<RedisAddress>(r)) << url;
  return std::holds_alternative<RedisAddress>(r) ? std::get<RedisAddress>(r) : RedisAddress{};
}

std::string error(std::string_view url) {
  auto const r = parse_redis_url(url);
  EXPECT_TRUE(std::holds_alternative<std::string>(r)) << url;
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "";
}

}  // namespace

TEST(RedisUrl, HostPortPasswordAndDatabase) {
  RedisAddress const a = ok("redis://127.0.0.1:6380");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 6380);
  EXPECT_EQ(a.password, "");
  EXPECT_EQ(a.db, 0u);
  RedisAddress const b = ok("redis://:s%40cret@redis.local/3");
  EXPECT_EQ(b.host, "redis.local");
  EXPECT_EQ(b.port, 6379);
  EXPECT_EQ(b.password, "s@cret");
  EXPECT_EQ(b.db, 3u);
  RedisAddress const c = ok("redis://[::1]:7000");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 7000);
}

TEST(RedisUrl, WhatIsWrongIsSaid) {
  EXPECT_NE(error("http://h:1").find("expected redis://"), std::string::npos);
  EXPECT_NE(error("redis://h:0").find("port"), std::string::npos);
  EXPECT_NE(error("redis://h:99999").find("port"), std::string::npos);
  EXPECT_NE(error("redis://h:1/16").find("database"), std::string::npos);
  EXPECT_NE(error("redis://:6379").find("no host"), std::string::npos);
  EXPECT_NE(error("redis://pw@h").find("password"), std::string::npos);
}
