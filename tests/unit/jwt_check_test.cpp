// The JWT admission check: tokens made with libjwt itself, checked through the
// AdmissionCheck interface with a fixed clock.
#include "core/jwt_check.hpp"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>

#include "http/answers.hpp"

using namespace wspush;

namespace {

constexpr std::int64_t kNow = 1800000000;
constexpr char kSecret[] = "s3cret-for-tests";

// A token signed with `alg` and `key`, with the claims given as a JSON object.
std::string token(std::string const& claims, jwt_alg_t alg = JWT_ALG_HS256,
                  std::string const& key = kSecret) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  jwt_add_grants_json(jwt, claims.c_str());
  jwt_set_alg(jwt, alg, reinterpret_cast<unsigned char const*>(key.data()),
              static_cast<int>(key.size()));
  char* text = jwt_encode_str(jwt);
  std::string out = text ? text : "";
  std::free(text);
  jwt_free(jwt);
  return out;
}

std::string claims(std::int64_t exp, std::string const& extra = "") {
  return "{\"exp\":" + std::to_string(exp) + extra + "}";
}

struct Attempt {
  std::optional<Refusal> refusal;
  Grant grant;
};

Attempt attempt(std::string const& resource, std::string const& authorization = "") {
  JwtCheck const check(kSecret, [] { return kNow; });
  Attempt a;
  HandshakeRequest const request{resource, "127.0.0.1",
                                 [authorization](std::string_view name) {
                                   return name == "Authorization" ? authorization : std::string();
                                 },
                                 &a.grant};
  a.refusal = check.check(request);
  return a;
}

void expect_refused(Attempt const& a, int status, std::string_view reason) {
  ASSERT_TRUE(a.refusal);
  EXPECT_EQ(status_of(a.refusal->reason), status);
  EXPECT_EQ(to_string(a.refusal->reason), reason);
  EXPECT_EQ(a.grant.expires_at, 0);
}

}  // namespace

TEST(JwtCheck, AValidTokenInTheHeaderOrTheQueryIsAdmittedWithItsExpiry) {
  std::string const t = token(claims(kNow + 60));
  Attempt const by_header = attempt("/news", "Bearer " + t);
  EXPECT_FALSE(by_header.refusal);
  EXPECT_EQ(by_header.grant.expires_at, kNow + 60);
  Attempt const by_query = attempt("/news?since=3&token=" + t);
  EXPECT_FALSE(by_query.refusal);
  EXPECT_EQ(by_query.grant.expires_at, kNow + 60);
}

TEST(JwtCheck, MissingMalformedOrWronglySignedTokensAre401) {
  expect_refused(attempt("/news"), 401, "token_missing");
  expect_refused(attempt("/news", "Basic abc"), 401, "token_missing");
  expect_refused(attempt("/news?token=not.a.token"), 401, "token_invalid");
  expect_refused(attempt("/news", "Bearer " + token(claims(kNow + 60), JWT_ALG_HS256, "other")),
                 401, "token_invalid");
  Attempt const a = attempt("/news");
  EXPECT_NE(a.refusal->detail.find("missing token"), std::string::npos);
  HttpAnswer const answer = http_answer(*a.refusal);
  ASSERT_EQ(answer.headers.size(), 1u);
  EXPECT_EQ(answer.headers[0].first, "WWW-Authenticate");
}

TEST(JwtCheck, OnlyHs256IsAcceptedEvenWhenAnotherAlgorithmVerifies) {
  // Signed with the right secret, but HS512 / HS384: refused all the same.
  expect_refused(attempt("/news?token=" + token(claims(kNow + 60), JWT_ALG_HS512)), 401,
                 "token_invalid");
  expect_refused(attempt("/news?token=" + token(claims(kNow + 60), JWT_ALG_HS384)), 401,
                 "token_invalid");
  // alg none: an unsigned token.
  expect_refused(attempt("/news?token=" + token(claims(kNow + 60), JWT_ALG_NONE, "")), 401,
                 "token_invalid");
}

TEST(JwtCheck, ExpIsRequiredAndNbfHonoured) {
  expect_refused(attempt("/news?token=" + token("{\"sub\":\"x\"}")), 401, "token_invalid");
  expect_refused(attempt("/news?token=" + token(claims(kNow))), 401, "token_expired");
  expect_refused(attempt("/news?token=" + token(claims(kNow - 1))), 401, "token_expired");
  expect_refused(
      attempt("/news?token=" + token(claims(kNow + 60, ",\"nbf\":" + std::to_string(kNow + 5)))),
      401, "token_not_yet_valid");
  EXPECT_FALSE(
      attempt("/news?token=" + token(claims(kNow + 60, ",\"nbf\":" + std::to_string(kNow))))
          .refusal);
  // NumericDate may be fractional.
  Attempt const fractional = attempt("/news?token=" + token("{\"exp\":1800000060.5}"));
  EXPECT_FALSE(fractional.refusal);
  EXPECT_EQ(fractional.grant.expires_at, kNow + 60);
}

TEST(JwtCheck, TheRoomsClaimCoversPathsAndFamilies) {
  std::string const t = token(claims(kNow + 60, ",\"rooms\":[\"/news\",\"/chat/*\"]"));
  EXPECT_FALSE(attempt("/news?token=" + t).refusal);
  EXPECT_FALSE(attempt("/chat/lobby?token=" + t).refusal);
  EXPECT_FALSE(attempt("/chat/a/b?token=" + t).refusal);
  expect_refused(attempt("/chat?token=" + t), 403, "token_room");
  expect_refused(attempt("/newsroom?token=" + t), 403, "token_room");
  expect_refused(attempt("/other?token=" + t), 403, "token_room");
  EXPECT_NE(attempt("/other?token=" + t).refusal->detail.find("does not cover /other"),
            std::string::npos);
  expect_refused(attempt("/news?token=" + token(claims(kNow + 60, ",\"rooms\":\"/news\""))), 401,
                 "token_invalid");
  // No rooms claim: every room.
  EXPECT_FALSE(attempt("/anything?token=" + token(claims(kNow + 60))).refusal);
}

TEST(JwtCheck, ApiRequestsAreLeftToTheApiKey) {
  EXPECT_FALSE(attempt("/api/rooms").refusal);
}

TEST(JwtCheck, PatternsAndRedaction) {
  EXPECT_TRUE(room_pattern_covers("/a", "/a"));
  EXPECT_TRUE(room_pattern_covers("/*", "/a"));
  EXPECT_FALSE(room_pattern_covers("/a/*", "/a/"));
  EXPECT_FALSE(room_pattern_covers("/a*", "/ab"));
  EXPECT_EQ(redact_token("/r?token=abc.def.ghi&since=3"), "/r?token=…&since=3");
  EXPECT_EQ(redact_token("/r?since=3&token=abc"), "/r?since=3&token=…");
  EXPECT_EQ(redact_token("/r?mytoken=abc"), "/r?mytoken=abc");
}
