#include "client/bench_ledger.hpp"

#include <gtest/gtest.h>

#include "common/json_parse.hpp"

using namespace wspush;

TEST(BenchProbe, RoundTripsThroughARelayedEnvelope) {
  std::string const probe = make_probe(3, 41, 123456789, 200);
  // What the relay sends back: the probe's data inside the envelope.
  std::string const data =
      probe.substr(probe.find("\"data\":") + 7, probe.size() - 1 - probe.find("\"data\":") - 7);
  EXPECT_GE(data.size(), 200u - 2);
  EXPECT_LE(data.size(), 200u + 2);
  std::string const relayed = R"({"status":200,"event":"message","data":)" + data + R"(,"seq":9})";
  auto const got = read_probe(relayed);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->publisher, 3u);
  EXPECT_EQ(got->index, 41u);
  EXPECT_EQ(got->sent_ns, 123456789);
  EXPECT_FALSE(read_probe(R"({"status":200,"event":"notification","data":"Welcome"})"));
}

TEST(BenchProbe, IntoAFollowedRoomNamesItAndComesBackTaggedWithIt) {
  std::string const probe = make_probe(1, 7, 99, 64, "/bench/3");
  EXPECT_EQ(probe.rfind(R"({"event":"publish","room":"/bench/3","data":{"p":1,"i":7,"t":99,)", 0),
            0u);
  std::string const data = probe.substr(probe.find("\"data\":") + 7);
  std::string const relayed = R"({"status":200,"event":"message","room":"/bench/3","data":)" +
                              data.substr(0, data.size() - 1) + R"(,"seq":4})";
  auto const got = read_probe(relayed);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->publisher, 1u);
  EXPECT_EQ(got->index, 7u);
}

TEST(BenchProbe, APriceBookProbeIsJsonOfTheSizeAskedThatDiffersPerProbe) {
  std::string const a = make_probe(0, 1, 5, 1024, "", true);
  std::string const b = make_probe(0, 2, 5, 1024, "", true);
  rapidjson::Document doc;
  ASSERT_EQ(parse_json(doc, a), "");
  ASSERT_TRUE(doc["data"]["book"].IsArray());
  EXPECT_GT(doc["data"]["book"].Size(), 10u);
  EXPECT_GE(a.size(), 1024u - 60);
  EXPECT_LE(a.size(), 1024u + 60);
  EXPECT_NE(a.substr(a.find("book")), b.substr(b.find("book")));  // its own prices
  EXPECT_EQ(a, make_probe(0, 1, 5, 1024, "", true));              // the same every run
  auto const got =
      read_probe(R"({"status":200,"event":"message","data":)" + a.substr(a.find("\"data\":") + 7));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->index, 1u);
}

TEST(DeliveryLedger, CountsLossDuplicatesAndReordering) {
  DeliveryLedger l(2, 4);
  for (std::uint64_t i : {0, 1, 3, 2, 2}) l.observe(Probe{0, i, 0});
  l.observe(Probe{1, 0, 0});
  l.observe(Probe{1, 9, 0});  // out of range: ignored
  EXPECT_EQ(l.received(), 5u);
  EXPECT_EQ(l.duplicated(), 1u);
  EXPECT_EQ(l.reordered(), 1u);  // 2 after 3
  EXPECT_EQ(l.lost(), 3u);       // publisher 1: 1, 2, 3
  EXPECT_FALSE(l.complete());
  for (std::uint64_t i : {1, 2, 3}) l.observe(Probe{1, i, 0});
  EXPECT_TRUE(l.complete());
  EXPECT_EQ(l.lost(), 0u);
}

TEST(LatencySummary, NearestRankPercentiles) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  auto const s = summarize_latency(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(s.p50_us, 50);
  EXPECT_EQ(s.p90_us, 90);
  EXPECT_EQ(s.p99_us, 99);
  EXPECT_EQ(s.max_us, 100);
  std::vector<double> none;
  EXPECT_EQ(summarize_latency(none).count, 0u);
}
