// Many WebSocket client connections on one event loop, for `wspush bench`, over plain
// TCP or TLS (one TLS context shared by all). Each connection is known by its index;
// events arrive on the loop's thread; one fleet per thread (`wspush bench --threads`).
// No websocketpp in this header.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/duration.hpp"

namespace wspush {

class ConnectionFleet {
 public:
  struct Handlers {
    std::function<void(std::size_t conn)> on_open;
    std::function<void(std::size_t conn, std::string const& message)> on_message;
    std::function<void(std::size_t conn, std::string const& reason)> on_lost;  // failed or closed
  };
  struct Tls {
    bool enabled = false;  // wss:// URLs
    bool insecure = false;
    std::string cacert;
    std::string host;  // the name the certificate must carry
  };
  // `compress`: offer permessage-deflate (`wspush bench --compress`).
  ConnectionFleet(Handlers handlers, Tls const& tls, bool compress = false);
  ~ConnectionFleet();

  // Starts opening `count` more connections to `url`, at most `concurrent` handshakes
  // at a time; returns the index of the first.
  std::size_t open(std::size_t count, std::string const& url, std::size_t concurrent = 256);
  void send(std::size_t conn, std::string_view text);
  // Bytes received so far by connections first … first + count - 1, as the kernel
  // counts them (TCP payload: frames and the handshake answer; TLS records with TLS).
  std::uint64_t bytes_received(std::size_t first, std::size_t count);
  void close_all();
  // Runs `fn` on the loop after `delay` (from the loop's thread only).
  void after(Duration delay, std::function<void()> fn);
  // Runs `fn` on the loop soon; any thread may call it (and stop()).
  void post(std::function<void()> fn);
  void run();
  void stop();

 private:
  class Impl;
  template <typename Config>
  class ImplOf;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wspush
