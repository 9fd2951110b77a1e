// A connection whose WebSocket (or event-stream) handshake was accepted: what its
// session starts from, handed by the listener (http/listener.hpp) to the loop that
// accepted it (loop/shard.hpp), on the same thread.
#pragma once

#include <memory>
#include <string>

#include "core/admission.hpp"
#include "server/stream/byte_stream.hpp"

namespace wspush {

struct Upgrade {
  std::unique_ptr<ByteStream> stream;
  std::string peer;           // the client's address, as text
  std::string resource;       // path and query
  Grant grant;                // what the admission step granted (a token's exp)
  std::string response;       // the 101 (or the event stream's head), sent first
  std::string early;          // bytes the client sent right behind its request
  bool event_stream = false;  // a Server-Sent Events client, not a WebSocket
  // permessage-deflate was agreed: the client may send compressed messages (`inflate`),
  // and takes the server's compressed ones (`deflate`: it allows their 32 KiB window).
  bool inflate = false;
  bool deflate = false;
};

}  // namespace wspush
