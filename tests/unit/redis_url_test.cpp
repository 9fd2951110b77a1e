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

TEST(RedisUrl, SentinelsAMasterNameAndWait) {
  RedisAddress const a = ok("redis-sentinel://10.0.0.1:26380,[::1],s3.local:26400/mymaster");
  ASSERT_EQ(a.sentinels.size(), 3u);
  EXPECT_EQ(a.sentinels[0].host, "10.0.0.1");
  EXPECT_EQ(a.sentinels[0].port, 26380);
  EXPECT_EQ(a.sentinels[1].host, "::1");
  EXPECT_EQ(a.sentinels[1].port, 26379);  // the sentinels' default port
  EXPECT_EQ(a.sentinels[2].port, 26400);
  EXPECT_EQ(a.master, "mymaster");
  EXPECT_EQ(a.db, 0u);
  EXPECT_EQ(a.wait_replicas, 1u);  // acknowledged once a replica has it
  RedisAddress const b = ok("redis-sentinel://:pw@h:1/m/2?wait=0");
  EXPECT_EQ(b.password, "pw");
  EXPECT_EQ(b.master, "m");
  EXPECT_EQ(b.db, 2u);
  EXPECT_EQ(b.wait_replicas, 0u);
  EXPECT_EQ(ok("redis://h:1?wait=2").wait_replicas, 2u);
  EXPECT_EQ(ok("redis://h:1").wait_replicas, 0u);
  EXPECT_NE(error("redis-sentinel://h:1").find("master's name"), std::string::npos);
  EXPECT_NE(error("redis-sentinel://h:1,:2/m").find("no host"), std::string::npos);
  EXPECT_NE(error("redis://a:1,b:2").find("one HOST:PORT"), std::string::npos);
  EXPECT_NE(error("redis://h:1?wait=x").find("wait"), std::string::npos);
}
