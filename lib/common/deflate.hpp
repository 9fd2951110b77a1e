// permessage-deflate (RFC 7692) without sockets: the handshake's negotiation, and one
// message compressed or inflated on its own. The server never takes context over from
// one message to the next, and asks the same of clients, so no connection keeps a
// compressor or an inflater: a broadcast is compressed once and the same bytes go to
// every member, and one Inflater per thread serves all of its connections.
//
// zlib, not libdeflate (bench/deflate_libs.cpp measured both): libdeflate's one-call API
// only ends a stream with a final (BFINAL=1) block, which RFC 7692 allows but Node's
// `ws` (websockets/ws#1669), Bun, Beast and websocketpp fail to inflate after the first
// message; zlib's Z_SYNC_FLUSH ending is the one every client reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/frame.hpp"

namespace wspush {

// What a handshake agreed.
struct DeflateAgreement {
  // The server may send this client compressed messages: it allows a 32 KiB window. (A
  // client that asks for a smaller server_max_window_bits gets every message plain:
  // what is compressed once for all uses the full window.)
  bool compress = true;
  std::string response;  // the Sec-WebSocket-Extensions answer
};

// The first acceptable permessage-deflate offer among `offers` (the request's
// Sec-WebSocket-Extensions value: offers separated by commas, parameters by
// semicolons), or nullopt when there is none. An offer with an unknown parameter, a
// parameter twice or a value out of range is passed over, as RFC 7692 §5 says.
std::optional<DeflateAgreement> negotiate_deflate(std::string_view offers);

// Compresses messages one at a time (deflateReset, then Z_SYNC_FLUSH, the final
// 00 00 ff ff dropped: RFC 7692 §7.2.1). Not thread-safe: one per thread.
class Deflater {
 public:
  // `window_bits` 9-15 (the clients write within what a server allows; zlib has no 8).
  explicit Deflater(int level = kDefaultLevel, int window_bits = 15);
  ~Deflater();
  Deflater(Deflater const&) = delete;
  Deflater& operator=(Deflater const&) = delete;

  // `payload` compressed, as one final frame with RSV1 set.
  Payload frame(Opcode opcode, std::string_view payload);
  // `payload` compressed (no frame).
  std::string compress(std::string_view payload);

  static constexpr int kDefaultLevel = 6;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Inflates messages one at a time (RFC 7692 §7.2.2), never past a limit: a message that
// would inflate beyond it is refused before it is, not after. Not thread-safe.
class Inflater {
 public:
  Inflater();
  ~Inflater();
  Inflater(Inflater const&) = delete;
  Inflater& operator=(Inflater const&) = delete;

  enum class Result : std::uint8_t { ok, too_big, corrupt };
  // `compressed` (one message's payload, its frames joined) inflated into `out`
  // (replaced), at most `limit` bytes.
  Result inflate(std::string_view compressed, std::size_t limit, std::string& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// This thread's own, made on first use (each holds zlib's state: a Deflater about
// 260 KiB, an Inflater about 40 KiB, once per thread rather than per connection).
Deflater& thread_deflater();
Inflater& thread_inflater();

}  // namespace wspush
