// The admission step: checks in order, the first refusal wins.
#include "core/admission.hpp"

#include <gtest/gtest.h>

#include "http/answers.hpp"

using namespace wspush;

namespace {

HandshakeRequest request(std::string_view resource, std::string_view peer,
                         std::string authorization = "") {
  return HandshakeRequest{resource, peer, [authorization](std::string_view name) {
                            return name == "Authorization" ? authorization : std::string();
                          }};
}

std::unique_ptr<AdmissionCheck> refuse_with(Reason reason, int* calls) {
  return std::make_unique<FunctionCheck>([reason, calls](HandshakeRequest const&) {
    ++*calls;
    return std::optional<Refusal>(Refusal{reason, "refused"});
  });
}

}  // namespace

TEST(Admission, ChecksRunInOrderAndTheFirstRefusalWins) {
  int first = 0, second = 0;
  Admission admission;
  EXPECT_FALSE(admission.check(request("/r", "127.0.0.1")));  // no checks: admitted
  admission.add(refuse_with(Reason::origin, &first));
  admission.add(refuse_with(Reason::unknown_room, &second));
  auto const refusal = admission.check(request("/r", "127.0.0.1"));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(status_of(refusal->reason), 403);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);  // never asked
}

TEST(Admission, ApiAccessWithoutAKeyIsForLoopbackPeersOnly) {
  ApiAccessCheck const check("");
  EXPECT_FALSE(check.check(request("/api/publish?room=/x", "127.0.0.1")));
  EXPECT_FALSE(check.check(request("/api/rooms", "::1")));
  EXPECT_EQ(status_of(check.check(request("/api/publish?room=/x", "10.0.0.7"))->reason), 403);
  EXPECT_FALSE(check.check(request("/news", "10.0.0.7")));  // rooms are not the API
}

TEST(Admission, ApiAccessWithAKeyWantsTheBearerHeaderFromEveryone) {
  ApiAccessCheck const check("s3cret");
  EXPECT_EQ(status_of(check.check(request("/api/rooms", "127.0.0.1"))->reason), 401);
  EXPECT_EQ(status_of(check.check(request("/api/rooms", "127.0.0.1", "Bearer nope"))->reason), 401);
  EXPECT_FALSE(check.check(request("/api/rooms", "10.0.0.7", "Bearer s3cret")));
}

TEST(Admission, DrainingRefusesWith503) {
  bool draining = false;
  DrainingCheck const check([&draining] { return draining; });
  EXPECT_FALSE(check.check(request("/r", "127.0.0.1")));
  draining = true;
  auto const refusal = check.check(request("/r", "127.0.0.1"));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(status_of(refusal->reason), 503);
  EXPECT_NE(http_answer(*refusal).body.find("shutting down"), std::string::npos);
}

TEST(Admission, OriginsExactOrByHostPatternAndNoneForNonBrowsers) {
  OriginCheck const check({"https://app.example.com", "*.trusted.org", "http://*.local.test"});
  EXPECT_TRUE(check.allows("https://app.example.com"));
  EXPECT_TRUE(check.allows("HTTPS://APP.EXAMPLE.COM"));
  EXPECT_FALSE(check.allows("http://app.example.com"));  // exact: the scheme counts
  EXPECT_TRUE(check.allows("https://a.trusted.org"));
  EXPECT_TRUE(check.allows("http://b.c.trusted.org:8080"));
  EXPECT_FALSE(check.allows("https://trusted.org"));  // the pattern wants a subdomain
  EXPECT_FALSE(check.allows("https://eviltrusted.org"));
  EXPECT_TRUE(check.allows("http://x.local.test"));
  EXPECT_FALSE(check.allows("https://x.local.test"));            // that pattern is http only
  auto const refusal = check.check(request("/r", "127.0.0.1"));  // no Origin header: passes
  EXPECT_FALSE(refusal);
  HandshakeRequest browser{"/r", "127.0.0.1", [](std::string_view name) {
                             return name == "Origin" ? std::string("https://evil.example")
                                                     : std::string();
                           }};
  auto const refused = check.check(browser);
  ASSERT_TRUE(refused);
  EXPECT_EQ(status_of(refused->reason), 403);
  EXPECT_EQ(to_string(refused->reason), "origin");
  EXPECT_FALSE(OriginCheck({}).check(browser));  // no list: no check
}
