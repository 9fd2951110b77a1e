// In-memory stand-ins for the transport, so the core is tested without sockets.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/outbox.hpp"
#include "core/timefmt.hpp"

namespace wspush::test {

// Records every delivery per session, in order. A broadcast is recorded once
// (to check one encoding per broadcast) and fanned out to each member's inbox.
class FakeOutbox final : public Outbox {
 public:
  struct Frame {
    Opcode opcode;
    std::string data;
  };
  struct Close {
    std::uint16_t code;
    std::string reason;
    Duration linger;
  };

  void send(SessionId to, Opcode opcode, Payload const& message) override {
    inbox[to].push_back({opcode, *message});
  }
  void send_replay(SessionId to, std::vector<Payload> const& messages,
                   std::uint64_t /*last_seq*/) override {
    for (auto const& m : messages) inbox[to].push_back({Opcode::text, *m});
    replayed[to].insert(replayed[to].end(), messages.begin(), messages.end());
  }
  void broadcast(std::string const& room, std::vector<SessionId> const& to, Payload const& message,
                 std::uint64_t /*seq*/, SlowConsumerPolicy policy) override {
    broadcasts.push_back(message);
    std::uint64_t dropped = 0, disconnected = 0;
    for (SessionId id : to) {
      if (slow.count(id)) {  // a member whose queue is full
        ++(policy == SlowConsumerPolicy::latest ? dropped : disconnected);
        continue;
      }
      inbox[id].push_back({Opcode::text, *message});
    }
    // As the real transport does: slow members are reported back to the Hub.
    if ((dropped || disconnected) && on_slow) on_slow(room, dropped, disconnected);
  }
  std::function<void(std::string const&, std::uint64_t, std::uint64_t)> on_slow;
  void close(SessionId id, std::uint16_t code, std::string_view reason, Duration linger) override {
    closes[id] = {code, std::string(reason), linger};
  }

  // Messages for `id` received since the last call.
  std::vector<Frame> take(SessionId id) {
    auto out = std::move(inbox[id]);
    inbox[id].clear();
    return out;
  }

  std::map<SessionId, std::vector<Frame>> inbox;
  std::map<SessionId, Close> closes;
  std::vector<Payload> broadcasts;
  std::set<SessionId> slow;
  std::map<SessionId, std::vector<Payload>>
      replayed;  // members the fake treats as unable to keep up
};

class FakeTimers final : public Timers {
 public:
  void start_ticker(std::string const& path, Duration interval) override {
    running[path] = interval;
    ++starts;
  }
  void stop_ticker(std::string const& path) override { running.erase(path); }
  std::map<std::string, Duration> running;
  int starts = 0;
};

class FixedClock final : public WallClock {
 public:
  std::chrono::system_clock::time_point now() const override { return t; }
  std::chrono::system_clock::time_point t =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1795741326227639LL));
};

inline rapidjson::Document parse(std::string const& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return d;
}

}  // namespace wspush::test
