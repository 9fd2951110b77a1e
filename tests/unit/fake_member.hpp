// A session as the loop's parts see it (server/loop/member.hpp): a send queue of a given
// size that the test empties by hand, and what was closed and why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/frame.hpp"
#include "server/loop/member.hpp"

namespace wspush::test {

class FakeMember final : public Member {
 public:
  explicit FakeMember(std::size_t queue_bytes = SIZE_MAX) : capacity(queue_bytes) {}

  bool open() const override { return is_open; }
  bool has_room_for(std::size_t bytes) const override {
    return queued == 0 || queued + bytes <= capacity;
  }
  // A peer that does not read: nothing leaves the queue until read_all().
  bool make_room_for(std::size_t bytes) override { return has_room_for(bytes); }
  void push(Payload const& framed) override {
    pushed.push_back(framed);
    queued += framed->size();
  }
  void notify_when_empty() override { drain_asked = true; }
  void close(std::uint16_t code, std::string_view reason,
             Duration linger = Duration::zero()) override {
    close_code = code;
    close_reason = std::string(reason);
    close_linger = linger;
    is_open = false;
  }
  Keepalive keepalive(std::uint32_t now_ms) override {
    last_look_ms = now_ms;
    return next_keepalive;
  }
  std::string remote() const override { return "fake"; }

  void read_all() { queued = 0; }
  // The payloads pushed since the last call, unframed.
  std::vector<std::string> take() {
    std::vector<std::string> out;
    for (Payload const& p : pushed) out.emplace_back(frame_payload(*p));
    pushed.clear();
    return out;
  }

  std::size_t capacity;
  std::size_t queued = 0;
  bool is_open = true;
  bool drain_asked = false;
  std::vector<Payload> pushed;
  std::uint16_t close_code = 0;
  std::string close_reason;
  Duration close_linger{};
  Keepalive next_keepalive = Keepalive::nothing;
  std::uint32_t last_look_ms = 0;
};

}  // namespace wspush::test
