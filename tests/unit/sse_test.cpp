// Server-Sent Events, the pure part: what is a stream request, resuming, event text.
#include "http/sse.hpp"

#include <gtest/gtest.h>

#include "common/url.hpp"

using namespace wspush;

TEST(Sse, EventSourceAndCurlGetTheStreamABrowserPageDoesNot) {
  EXPECT_TRUE(wants_event_stream("text/event-stream"));
  EXPECT_TRUE(wants_event_stream("*/*"));  // curl
  EXPECT_TRUE(wants_event_stream(""));
  EXPECT_TRUE(wants_event_stream("Text/Event-Stream, text/html"));
  EXPECT_FALSE(wants_event_stream("text/html,application/xhtml+xml,*/*;q=0.8"));
}

TEST(Sse, LastEventIdIsTheSinceAndWinsOverTheUrls) {
  EXPECT_EQ(sse_resource("/news", "7"), "/news?since=7");
  EXPECT_EQ(sse_resource("/news?since=2&token=t", "7"), "/news?token=t&since=7");
  EXPECT_EQ(sse_resource("/news?since=2", ""), "/news?since=2");
  EXPECT_EQ(sse_resource("/news?since=2", "x1"), "/news?since=2");  // not a seq: ignored
}

TEST(Sse, AnEnvelopeIsOneEventWithItsSeqAsId) {
  EXPECT_EQ(sse_event(R"({"status":200,"event":"message","data":{"n":1},"seq":4})"),
            "id: 4\nevent: message\ndata: {\"status\":200,\"event\":\"message\",\"data\":"
            "{\"n\":1},\"seq\":4}\n\n");
  EXPECT_EQ(sse_event(R"({"status":200,"event":"notification","data":"Welcome"})"),
            "event: notification\ndata: {\"status\":200,\"event\":\"notification\","
            "\"data\":\"Welcome\"}\n\n");
  // An event name cannot start another field.
  EXPECT_EQ(
      sse_event("{\"status\":200,\"event\":\"a\\nid: 9\",\"data\":1,\"seq\":2}").substr(0, 21),
      "id: 2\nevent: a id: 9\n");
  EXPECT_EQ(sse_close(1001, "bye"), "event: close\ndata: {\"code\":1001,\"reason\":\"bye\"}\n\n");
  EXPECT_EQ(sse_comment("ping"), ": ping\n\n");
}

TEST(Url, WithQueryDropsAndAppendsParameters) {
  EXPECT_EQ(with_query("/r?a=1&since=2&b#f", {"since"}, {{"since", "9"}}), "/r?a=1&b&since=9");
  EXPECT_EQ(with_query("/r", {"since"}, {}), "/r");
  EXPECT_EQ(with_query("/r?since=1", {"since"}, {}), "/r");
}
