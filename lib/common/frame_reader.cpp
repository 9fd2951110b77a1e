#include "common/frame_reader.hpp"

#include "common/codec.hpp"
#include "common/deflate.hpp"

namespace wspush {
namespace {

constexpr std::uint8_t kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9,
                       kPong = 0xA;

// Codes a peer may send in a close frame (RFC 6455 §7.4, IANA registry 1012–1014).
bool sendable_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

}  // namespace

std::size_t FrameReader::fail(std::uint16_t code, std::string reason) {
  error_ = std::make_unique<ReadError>(ReadError{code, std::move(reason)});
  return 0;
}

std::size_t FrameReader::consume(std::string_view data, FrameSink& sink) {
  std::size_t used = 0;
  while (!error_) {
    if (in_payload_) {
      // As much of the data frame's payload as has come: unmasked and checked now.
      std::size_t const n =
          static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, data.size() - used));
      if (n == 0 && payload_left_ > 0) break;
      bool const ok = take_payload(data.substr(used, n));
      used += n;
      if (!ok) return used;
      payload_left_ -= n;
      if (payload_left_ > 0) break;
      in_payload_ = false;
      if (frame_fin_ && !finish_message(sink)) return used;
      continue;
    }
    auto const* p = reinterpret_cast<unsigned char const*>(data.data() + used);
    std::size_t const avail = data.size() - used;
    if (avail < 2) break;
    bool const fin = p[0] & 0x80;
    bool const rsv1 = p[0] & 0x40;
    std::uint8_t const opcode = p[0] & 0x0F;
    bool const control = opcode & 0x8;
    // RSV1 marks a compressed message, on its first frame only (RFC 7692 §6).
    if ((p[0] & 0x30) || (rsv1 && (!compressed_allowed_ || control || opcode == kContinuation))) {
      return used + fail(kCloseProtocolError, "reserved bits set");
    }
    if (!(p[1] & 0x80)) return used + fail(kCloseProtocolError, "client frames must be masked");
    std::uint64_t length = p[1] & 0x7F;
    std::size_t header = 2 + 4;
    if (length == 126) {
      header += 2;
      if (avail < header - 4) break;  // the mask key may follow later
      length = (std::uint64_t{p[2]} << 8) | p[3];
    } else if (length == 127) {
      header += 8;
      if (avail < header - 4) break;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
      if (length >> 63) return used + fail(kCloseProtocolError, "frame length over 2^63");
    }
    if (control) {
      if (!fin) return used + fail(kCloseProtocolError, "fragmented control frame");
      if (length > 125) return used + fail(kCloseProtocolError, "control frame over 125 bytes");
      if (opcode != kClose && opcode != kPing && opcode != kPong) {
        return used + fail(kCloseProtocolError, "unknown opcode");
      }
    } else if (opcode == kContinuation) {
      if (!fragmented_) return used + fail(kCloseProtocolError, "continuation without a start");
    } else if (opcode == kText || opcode == kBinary) {
      if (fragmented_)
        return used + fail(kCloseProtocolError, "new message inside a fragmented one");
    } else {
      return used + fail(kCloseProtocolError, "unknown opcode");
    }
    // Refused before its bytes arrive: nothing over the limit is ever buffered.
    if (!control && pending_message_bytes() + length > max_message_size_) {
      return used +
             fail(kCloseTooBig, "message over " + std::to_string(max_message_size_) + " bytes");
    }
    if (!control) {
      if (avail < header) break;
      if (opcode != kContinuation) {
        fragmented_ = opcode == kText ? InKind::text : InKind::binary;
        fragments_ = 0;
        compressed_ = rsv1;
        utf8_.reset();
      }
      if (++fragments_ > kMaxFragments) {
        if (message_) message_->clear();
        return used + fail(kClosePolicy, kTooManyFragments);
      }
      std::copy_n(p + header - 4, 4, key_);
      key_at_ = 0;
      payload_left_ = length;
      frame_fin_ = fin;
      in_payload_ = true;
      used += header;
      continue;
    }
    if (avail < header || avail - header < length) break;
    unsigned char const* key = p + header - 4;
    char const* body = data.data() + used + header;
    used += header + static_cast<std::size_t>(length);
    char buffer[125];
    for (std::size_t i = 0; i < length; ++i) {
      buffer[i] = static_cast<char>(static_cast<unsigned char>(body[i]) ^ key[i & 3]);
    }
    InMessage in;
    in.kind = opcode == kClose ? InKind::close : opcode == kPing ? InKind::ping : InKind::pong;
    in.payload = std::string_view(buffer, static_cast<std::size_t>(length));
    if (opcode == kClose) {
      in.payload = {};
      if (length == 1) return used + fail(kCloseProtocolError, "close frame of one byte");
      in.close_code = kCloseNoStatus;
      if (length >= 2) {
        in.close_code = static_cast<std::uint16_t>((static_cast<unsigned char>(buffer[0]) << 8) |
                                                   static_cast<unsigned char>(buffer[1]));
        if (!sendable_close_code(in.close_code)) {
          return used + fail(kCloseProtocolError, "invalid close code");
        }
        in.close_reason = std::string_view(buffer + 2, length - 2);
        if (!valid_utf8(in.close_reason)) {
          return used + fail(kCloseInvalidData, "close reason is not UTF-8");
        }
      }
    }
    if (!sink.on_frame(in)) return used;
  }
  return used;
}

bool FrameReader::take_payload(std::string_view masked) {
  std::string& message = this->message();
  std::size_t const start = message.size();
  message.resize(start + masked.size());
  char* dst = message.data() + start;
  for (std::size_t i = 0; i < masked.size(); ++i) {
    dst[i] = static_cast<char>(static_cast<unsigned char>(masked[i]) ^ key_[(key_at_ + i) & 3]);
  }
  key_at_ = static_cast<std::uint8_t>((key_at_ + masked.size()) & 3);
  // Plain text is checked as it comes: the first invalid byte ends the connection.
  if (*fragmented_ == InKind::text && !compressed_ &&
      !utf8_.feed(std::string_view(message).substr(start))) {
    message.clear();
    fail(kCloseInvalidData, "text message is not UTF-8");
    return false;
  }
  return true;
}

bool FrameReader::finish_message(FrameSink& sink) {
  InKind const kind = *fragmented_;
  fragmented_.reset();
  std::string& message = this->message();
  InMessage in;
  in.kind = kind;
  in.payload = message;
  // The inflated message, in a buffer of this thread's: one for all its connections.
  thread_local std::string inflated;
  if (compressed_) {
    Inflater::Result const r = thread_inflater().inflate(message, max_message_size_, inflated);
    message.clear();
    if (r == Inflater::Result::too_big) {
      fail(kCloseTooBig,
           "message over " + std::to_string(max_message_size_) + " bytes once inflated");
      return false;
    }
    if (r == Inflater::Result::corrupt) {
      fail(kCloseInvalidData, "invalid compressed data");
      return false;
    }
    in.payload = inflated;
    if (kind == InKind::text && !valid_utf8(inflated)) {
      fail(kCloseInvalidData, "text message is not UTF-8");
      return false;
    }
  } else if (kind == InKind::text && !utf8_.at_boundary()) {
    message.clear();
    fail(kCloseInvalidData, "text message is not UTF-8");
    return false;
  }
  bool const go_on = sink.on_frame(in);
  message.clear();
  // A large message's buffer is not kept for the connection's lifetime.
  if (message.capacity() > 4096) message.shrink_to_fit();
  if (inflated.capacity() > (std::size_t{1} << 20)) std::string().swap(inflated);
  return go_on;
}

}  // namespace wspush
