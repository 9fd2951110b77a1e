#include "client/client_session.hpp"

#include <gtest/gtest.h>

#include "common/base64.hpp"
#include "common/codec.hpp"
#include "fakes.hpp"

using namespace wspush;
using namespace std::chrono_literals;

TEST(SeqTracker, CountsGapsAndDuplicates) {
  SeqTracker t;
  EXPECT_EQ(t.observe(5), SeqTracker::Verdict::first);  // joined mid-stream
  EXPECT_EQ(t.observe(6), SeqTracker::Verdict::next);
  EXPECT_EQ(t.observe(9), SeqTracker::Verdict::gap);
  EXPECT_EQ(t.observe(9), SeqTracker::Verdict::duplicate);
  EXPECT_EQ(t.observe(3), SeqTracker::Verdict::duplicate);
  EXPECT_EQ(t.observe(10), SeqTracker::Verdict::next);
  EXPECT_EQ(t.gaps(), 1u);
  EXPECT_EQ(t.missed(), 2u);
  EXPECT_EQ(t.duplicates(), 2u);
  t.expect_after(20);
  EXPECT_EQ(t.observe(21), SeqTracker::Verdict::next);
}

TEST(Base64, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\x00\xff", 2)), "AP8=");
}

TEST(PrintableLine, KeepsJsonAsReceivedAndWrapsTheRest) {
  EXPECT_EQ(printable_line(Opcode::text, R"({"a": 1})", true, true), R"({"a": 1})");
  EXPECT_EQ(printable_line(Opcode::text, "{\n \"a\": 1\n}", true, false), R"({"a":1})");
  EXPECT_EQ(printable_line(Opcode::text, "hi \"x\"\n", false, false), R"({"text":"hi \"x\"\n"})");
  EXPECT_EQ(printable_line(Opcode::binary, std::string("\x00\x01", 2), false, true),
            R"({"binary":"AAE="})");
}

TEST(InspectServerText, FindsSeqAndShape) {
  auto const t = inspect_server_text(R"({"status":200,"event":"x","data":1,"seq":42})");
  EXPECT_TRUE(t.json);
  EXPECT_TRUE(t.one_line);
  EXPECT_EQ(t.seq, std::optional<std::uint64_t>(42));
  EXPECT_FALSE(inspect_server_text(R"({"seq":-1})").seq);
  EXPECT_FALSE(inspect_server_text(R"({"seq":"3"})").seq);
  EXPECT_FALSE(inspect_server_text("[1]").seq);
  EXPECT_FALSE(inspect_server_text("nope").json);
  EXPECT_FALSE(inspect_server_text("{\n}").one_line);
}

TEST(ClientSession, CountFinishesOnTheNthMessageAndIgnoresTheRest) {
  ClientSession s(ClientSessionOptions{3, false});
  EXPECT_FALSE(s.on_frame(Opcode::text, "{}", 1ms).finish);
  EXPECT_FALSE(s.on_frame(Opcode::text, "{}", 2ms).finish);
  auto const third = s.on_frame(Opcode::text, R"({"n":3})", 3ms);
  EXPECT_TRUE(third.finish);
  EXPECT_EQ(third.line, std::optional<std::string>(R"({"n":3})"));
  auto const after = s.on_frame(Opcode::text, "{}", 4ms);
  EXPECT_FALSE(after.line);  // the bye after our close is not printed
  EXPECT_EQ(s.stats().received, 3u);
  EXPECT_EQ(s.stats().first_message, std::chrono::microseconds(1ms));
  EXPECT_EQ(s.outcome(1000), ExitCode::ok);
}

TEST(ClientSession, EchoAsksToSendTheFrameBack) {
  ClientSession s(ClientSessionOptions{std::nullopt, true});
  EXPECT_TRUE(s.on_frame(Opcode::binary, "x", 1ms).echo);
}

TEST(ClientSession, GapsWarnAndDecideTheExitCode) {
  ClientSession s(ClientSessionOptions{});
  s.on_frame(Opcode::text, R"({"seq":1})", 1ms);
  auto const r = s.on_frame(Opcode::text, R"({"seq":3})", 2ms);
  EXPECT_EQ(r.warning, std::optional<std::string>("gap: expected seq 2, got 3"));
  EXPECT_EQ(s.stats().gaps, 1u);
  EXPECT_EQ(s.outcome(1000), ExitCode::gap);
  EXPECT_EQ(s.outcome(1006), ExitCode::protocol);  // an abnormal close says more
}

TEST(ClientSession, CloseCodesDecideTheExitCode) {
  ClientSession s(ClientSessionOptions{});
  EXPECT_EQ(s.outcome(1000), ExitCode::ok);
  EXPECT_EQ(s.outcome(1001), ExitCode::ok);
  EXPECT_EQ(s.outcome(1006), ExitCode::protocol);
  EXPECT_EQ(s.outcome(4008), ExitCode::protocol);
  EXPECT_EQ(s.outcome(std::nullopt), ExitCode::ok);
}

TEST(ClientStats, EncodesAsOneJsonObject) {
  ClientStats st;
  st.received = 2;
  st.first_message = 1500us;
  st.duration = 2s;
  st.close_code = 1000;
  st.close_reason = "done";
  EXPECT_EQ(
      encode_stats(st),
      R"({"event":"stats","received":2,"gaps":0,"missed":0,"duplicates":0,)"
      R"("reconnects":0,"resumed":0,"unrecovered":0,"first_message_ms":1.5,"duration_ms":2000.0,"close_code":1000,)"
      R"("close_reason":"done"})");
  EXPECT_NE(encode_stats(ClientStats{}).find(R"("first_message_ms":null)"), std::string::npos);
}

TEST(ClientSession, RecoveryFalseIsAnUnrecoveredGap) {
  ClientSession s(ClientSessionOptions{});
  s.on_frame(Opcode::text, R"({"seq":7})", 1ms);
  auto const r =
      s.on_frame(Opcode::text,
                 R"({"status":200,"event":"recovery","data":{"recovered":false,"since":7}})", 2ms);
  EXPECT_TRUE(r.warning);
  s.on_frame(Opcode::text, R"({"seq":2})", 3ms);  // restarted stream: not a duplicate
  EXPECT_EQ(s.stats().unrecovered, 1u);
  EXPECT_EQ(s.stats().duplicates, 0u);
  EXPECT_EQ(s.outcome(1000), ExitCode::gap);
}

TEST(ClientSession, RecoveryTrueContinuesTheStream) {
  ClientSession s(ClientSessionOptions{});
  s.on_frame(Opcode::text, R"({"seq":7})", 1ms);
  s.on_frame(Opcode::text, R"({"status":200,"event":"recovery","data":{"recovered":true}})", 2ms);
  s.on_frame(Opcode::text, R"({"seq":8})", 3ms);
  EXPECT_EQ(s.stats().resumed, 1u);
  EXPECT_EQ(s.outcome(1000), ExitCode::ok);
}

TEST(ResumeUrl, SetsOrReplacesSince) {
  EXPECT_EQ(resume_url("ws://h:1/r", 5), "ws://h:1/r?since=5");
  EXPECT_EQ(resume_url("ws://h:1/r?a=1&since=2&b", 9), "ws://h:1/r?a=1&b&since=9");
  EXPECT_EQ(resume_url("ws://h:1/r?since=2#x", 3), "ws://h:1/r?since=3");
  EXPECT_EQ(resume_url("ws://h:1/r?epoch=4&since=2", 3, 77), "ws://h:1/r?since=3&epoch=77");
}

TEST(Backoff, GrowsExponentiallyWithJitterUpToTheCap) {
  Backoff b(100ms, 1s);
  EXPECT_EQ(b.next(0.999999), Duration(99999));  // just under 100ms
  EXPECT_EQ(b.next(0.0), Duration(100ms));       // half of 200ms
  EXPECT_EQ(b.next(1.0), Duration(400ms));
  for (int i = 0; i < 10; ++i) EXPECT_LE(b.next(1.0), Duration(1s));
  EXPECT_GE(b.next(0.0), Duration(500ms));
  b.reset();
  EXPECT_LE(b.next(1.0), Duration(100ms));
}

// --subscribe (SPEC §3.1): every room named by the messages is accounted on its own, and
// a reconnection resumes each from its last seq and epoch.
TEST(ClientSession, RoomsOfSubscriptionsAreAccountedAndResumedEachOnItsOwn) {
  ClientSession s({});
  auto const feed = [&](std::string const& text) { return s.on_frame(Opcode::text, text, 1ms); };
  std::vector<std::string> const wanted{"/a", "/chat/*"};
  EXPECT_EQ(s.subscribes(wanted),
            (std::vector<std::string>{R"({"event":"subscribe","room":"/a"})",
                                      R"({"event":"subscribe","room":"/chat/*"})"}));
  feed(R"({"status":200,"event":"notification","data":"Welcome"})");
  feed(R"({"status":200,"event":"subscribed","data":{"epoch":7,"last_seq":4},"room":"/a"})");
  feed(R"({"status":200,"event":"subscribed","data":{},"room":"/chat/*"})");
  EXPECT_FALSE(feed(R"({"status":200,"event":"message","data":1,"seq":5,"room":"/a"})").warning);
  EXPECT_FALSE(
      feed(R"({"status":200,"event":"message","data":1,"seq":9,"room":"/chat/x"})").warning);
  EXPECT_FALSE(
      feed(R"({"status":200,"event":"message","data":1,"seq":10,"room":"/chat/x"})").warning);
  auto const gap = feed(R"({"status":200,"event":"message","data":1,"seq":7,"room":"/a"})");
  ASSERT_TRUE(gap.warning);
  EXPECT_EQ(*gap.warning, "gap in /a: expected seq 6, got 7");
  EXPECT_EQ(s.stats().gaps, 1u);
  EXPECT_EQ(s.stats().rooms["/a"].gaps, 1u);
  EXPECT_EQ(s.stats().rooms["/chat/x"].received, 2u);
  EXPECT_EQ(s.seq().gaps(), 0u);  // the URL's room is its own
  EXPECT_EQ(s.outcome(std::nullopt), ExitCode::gap);
  // A reconnection: the rooms heard from resume, the pattern is followed again.
  EXPECT_EQ(s.subscribes(wanted),
            (std::vector<std::string>{R"({"event":"subscribe","room":"/a","since":7,"epoch":7})",
                                      R"({"event":"subscribe","room":"/chat/x","since":10})",
                                      R"({"event":"subscribe","room":"/chat/*"})"}));
  // The resumed subscription's replay follows its own last seq, not the subscribed's.
  feed(R"({"status":200,"event":"subscribed","data":{"epoch":7,"last_seq":9},"room":"/a"})");
  feed(
      R"({"status":200,"event":"recovery","data":{"recovered":true,"since":7,"epoch":7},"room":"/a"})");
  EXPECT_FALSE(feed(R"({"status":200,"event":"message","data":1,"seq":8,"room":"/a"})").warning);
  EXPECT_EQ(s.stats().resumed, 1u);
  std::string const stats = encode_stats(s.stats());
  EXPECT_NE(stats.find(R"("rooms":{"/a":{"received":6,"gaps":1,)"), std::string::npos) << stats;
}
