#include "core/api_access.hpp"

#include <gtest/gtest.h>

using wspush::api_refusal;
using wspush::is_loopback_address;

TEST(ApiAccess, LoopbackAddresses) {
  for (auto a : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_loopback_address(a)) << a;
  }
  for (auto a :
       {"10.0.0.1", "192.168.1.1", "::2", "::ffff:10.0.0.1", "fe80::1", "", "junk", "128.0.0.1"}) {
    EXPECT_FALSE(is_loopback_address(a)) << a;
  }
}

TEST(ApiAccess, WithoutAKeyOnlyLoopbackPeers) {
  EXPECT_FALSE(api_refusal("", "127.0.0.1", ""));
  auto const refusal = api_refusal("", "10.1.2.3", "Bearer anything");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(status_of(refusal->reason), 403);
  EXPECT_NE(refusal->detail.find("--api-key"), std::string::npos);
}

TEST(ApiAccess, WithAKeyEveryPeerNeedsIt) {
  EXPECT_FALSE(api_refusal("k3y", "10.1.2.3", "Bearer k3y"));
  for (auto header : {"", "Bearer k3", "Bearer k3yy", "bearer k3y", "k3y"}) {
    auto const refusal = api_refusal("k3y", "127.0.0.1", header);
    ASSERT_TRUE(refusal) << header;
    EXPECT_EQ(status_of(refusal->reason), 401) << header;
  }
}
