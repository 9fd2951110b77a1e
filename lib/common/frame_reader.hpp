// RFC 6455 framing of client-to-server traffic: frame headers, unmasking, message
// assembly from fragments, control frames, and the checks whose failure closes the
// connection (1002 protocol error, 1007 invalid UTF-8, 1009 too big). No sockets: the
// network layer feeds it bytes as they arrive, and a frame's payload is taken as it
// comes, so invalid text fails the connection at its first bad byte, not when the
// frame ends. With permessage-deflate (allow_compressed), a message with RSV1 is
// inflated when it is complete, never past the size limit (common/deflate.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/utf8.hpp"

namespace wspush {

// A message in more fragments than this is refused with 1008: 300 000 empty
// continuation frames cost a reader CPU for nothing.
inline constexpr std::size_t kMaxFragments = 1024;
inline constexpr char kTooManyFragments[] = "message in over 1024 fragments";  // its reason

// Close codes of RFC 6455 §7.4.1 that the server sends itself.
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseInvalidData = 1007;
inline constexpr std::uint16_t kClosePolicy = 1008;
inline constexpr std::uint16_t kCloseTooBig = 1009;
inline constexpr std::uint16_t kCloseNoStatus = 1005;  // only reported, never sent

enum class InKind : std::uint8_t { text, binary, close, ping, pong };

// One complete message or control frame from the client. `payload` is valid only
// during the callback.
struct InMessage {
  InKind kind = InKind::text;
  std::string_view payload;       // text/binary data; ping/pong application data
  std::uint16_t close_code = 0;   // close: the code sent, or kCloseNoStatus
  std::string_view close_reason;  // close: the UTF-8 reason
};

struct ReadError {
  std::uint16_t close_code;
  std::string reason;
};

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Returns false to stop reading (the connection was closed in the callback).
  virtual bool on_frame(InMessage const& message) = 0;
};

class FrameReader {
 public:
  // Limits above 4 GiB read as 4 GiB (the server's own is at most 1 GiB).
  explicit FrameReader(std::size_t max_message_size)
      : max_message_size_(static_cast<std::uint32_t>(
            std::min<std::size_t>(max_message_size, std::numeric_limits<std::uint32_t>::max()))) {}

  // Handles the complete frames at the front of `data` and returns how many bytes they
  // took; the caller keeps the rest and offers it again with more. Stops early when
  // the sink says so or at a protocol violation (then error() says which).
  std::size_t consume(std::string_view data, FrameSink& sink);

  // The violation that stopped reading, or nullptr.
  ReadError const* error() const { return error_.get(); }

  // Bytes held for a message that arrives in several frames (0 between messages).
  std::size_t pending_message_bytes() const { return message_ ? message_->size() : 0; }

  // permessage-deflate was negotiated: a data message may come compressed (RSV1).
  void allow_compressed(bool allowed) { compressed_allowed_ = allowed; }

 private:
  std::size_t fail(std::uint16_t code, std::string reason);
  // The next bytes of the current data frame's payload; false on a violation.
  bool take_payload(std::string_view masked);
  // The current message is complete: inflated if it was compressed, then handed over.
  // Returns whether reading goes on.
  bool finish_message(FrameSink& sink);
  std::string& message() {
    if (!message_) message_ = std::make_unique<std::string>();
    return *message_;
  }

  // Fragments of a text or binary message so far; made by the first message, so that
  // a connection that never sends one (most members of a room) has no buffer at all.
  // (Members ordered to pack: the reader is part of every session.)
  std::unique_ptr<std::string> message_;
  std::unique_ptr<ReadError> error_;  // rare: not kept inline in every session
  std::uint64_t payload_left_ = 0;    // of the data frame being read (in_payload_)
  std::uint32_t max_message_size_;
  std::uint32_t fragments_ = 0;       // frames of that message so far
  unsigned char key_[4] = {};         // the data frame's mask, from key_at_ on
  Utf8Stream utf8_;                   // a text message's bytes so far, checked as they come
  std::optional<InKind> fragmented_;  // the kind of the message in fragments, if any
  std::uint8_t key_at_ = 0;
  bool in_payload_ = false;  // between a data frame's header and the end of its payload
  bool frame_fin_ = false;   // that frame ends its message
  bool compressed_ = false;  // the message in progress has RSV1
  bool compressed_allowed_ = false;
};

}  // namespace wspush
