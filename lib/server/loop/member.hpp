// What a loop's parts (pacer.hpp, keepalive.hpp, the shard) ask of a session: its send
// queue, its close and its keepalive. WsSession is the one the server runs; the parts'
// tests use a fake.
//
// Threading: the session's loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/duration.hpp"
#include "common/payload.hpp"

namespace wspush {

// The close code of a member cut off for not reading fast enough (SPEC §6).
inline constexpr std::uint16_t kCloseSlowConsumer = 4008;

class Member {
 public:
  // What one keepalive look at a session did.
  enum class Keepalive : std::uint8_t { nothing, pinged, ping_timeout, idle };

  // Open: not closing, not closed.
  virtual bool open() const = 0;
  // Whether `bytes` more fit in its send queue (--send-buffer); an empty queue takes any
  // one message.
  virtual bool has_room_for(std::size_t bytes) const = 0;
  // The same, after handing the stream what it takes now if the queue is full.
  virtual bool make_room_for(std::size_t bytes) = 0;
  // Queues one framed message, shared with every other member that gets it.
  virtual void push(Payload const& framed) = 0;
  // Tell the loop (SessionEvents::on_queue_empty) once the send queue is next empty.
  virtual void notify_when_empty() = 0;
  // Starts the closing handshake, now or after `linger`.
  virtual void close(std::uint16_t code, std::string_view reason,
                     Duration linger = Duration::zero()) = 0;
  // Pings a quiet peer, closes one that did not answer or was idle too long.
  virtual Keepalive keepalive(std::uint32_t now_ms) = 0;
  virtual std::string remote() const = 0;

 protected:
  ~Member() = default;
};

}  // namespace wspush
