// In-memory stand-ins for the transport, so the core is tested without sockets.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/frame.hpp"
#include "common/timefmt.hpp"
#include "core/outbox.hpp"

namespace wspush::test {

// Records every delivery per session, in order, unframed. A broadcast is recorded once
// (to check one encoding per broadcast) and fanned out to the room's members. It holds
// no policy: slow members are the loop's business (server/loop/pacer.hpp).
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

  void send(SessionId to, Payload const& framed) override { inbox[to].push_back(unframe(framed)); }
  void join(SessionId to, RoomJoin join) override {
    for (auto const& m : join.greeting) inbox[to].push_back(unframe(m));
    for (auto const& m : join.replay) inbox[to].push_back(unframe(m));
    replayed[to].insert(replayed[to].end(), join.replay.begin(), join.replay.end());
    join.replay.clear();
    members[join.room][to] = join.tagged;
    deflates[to] = join.deflate;
    joins[to] = std::move(join);
  }
  void leave(SessionId id, RoomId room) override { members[room].erase(id); }
  void broadcast(RoomId room, RoomMessage const& message, std::uint64_t /*seq*/) override {
    broadcasts.push_back(message.framed);
    messages.push_back(message);
    for (auto const& [id, by_subscription] : members[room]) {
      inbox[id].push_back(unframe(message.for_member(by_subscription, deflates[id])));
    }
  }
  void close(SessionId id, std::uint16_t code, std::string_view reason, Duration linger) override {
    closes[id] = {code, std::string(reason), linger};
  }

  static Frame unframe(Payload const& framed) {
    return {static_cast<Opcode>(static_cast<unsigned char>((*framed)[0]) & 0x0F),
            std::string(frame_payload(*framed))};
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
  std::vector<RoomMessage> messages;   // every form of each broadcast
  std::map<SessionId, bool> deflates;  // it takes compressed messages
  std::map<SessionId, std::vector<Payload>> replayed;
  std::map<RoomId, std::map<SessionId, bool>> members;  // tagged: by a subscription
  std::map<SessionId, RoomJoin> joins;
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
