// Many WebSocket client connections on one event loop, for `wspush bench`. Each
// connection is known by its index; events arrive on the loop's thread. No
// websocketpp in this header.
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
  explicit ConnectionFleet(Handlers handlers);
  ~ConnectionFleet();

  // Starts opening `count` more connections to `url`, at most `concurrent` handshakes
  // at a time; returns the index of the first.
  std::size_t open(std::size_t count, std::string const& url, std::size_t concurrent = 256);
  void send(std::size_t conn, std::string_view text);
  void close_all();
  // Runs `fn` on the loop after `delay`.
  void after(Duration delay, std::function<void()> fn);
  void run();
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wspush
