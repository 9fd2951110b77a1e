// The Hub over fakes (an in-memory broker, outbox, timers and a fixed clock), shared by
// the Hub's test files.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/hub.hpp"
#include "fakes.hpp"
#include "http/answers.hpp"

namespace wspush::test {

class HubTest : public ::testing::Test {
 protected:
  void declare(std::initializer_list<const char*> specs) {
    for (auto text : specs) ASSERT_EQ(registry.declare(*parse_room_spec(text).spec), "");
  }

  std::vector<std::string> texts(SessionId id) {
    std::vector<std::string> out;
    for (auto& f : outbox.take(id)) {
      EXPECT_EQ(f.opcode, Opcode::text);
      out.push_back(f.data);
    }
    return out;
  }

  // A session joins as its loop would have it: what Hub::join returns is its transport's.
  void join(SessionId id, std::string_view resource) {
    if (auto j = hub.join(id, resource)) outbox.join(id, std::move(*j));
  }

  // The in-memory broker answers at once; these give its answers back as values.
  // 200, or the protocol's status of the refusal.
  static int status(PublishResult const& r) {
    return r.refusal ? status_of(r.refusal->reason) : 200;
  }

  PublishResult publish(std::string_view path, std::string_view event, std::string_view json) {
    PublishResult out{Refusal{Reason::bad_request, "no answer"}};
    hub.publish(path, event, json, [&out](PublishResult const& r) { out = r; });
    return out;
  }
  HttpAnswer http_publish(std::string_view resource, std::string_view body) {
    HttpAnswer out{0, "no answer", {}};
    hub.publish_request(resource, body, [&out](PublishResult const& r) { out = http_answer(r); });
    return out;
  }

  RoomRegistry registry;
  InMemoryBroker broker{7};
  FakeOutbox outbox;
  FakeTimers timers;
  FixedClock clock;
  Hub hub{registry, broker, outbox,
          timers,   clock,  HubOptions{std::chrono::milliseconds(250), 0, 0, 128}};
};

}  // namespace wspush::test
