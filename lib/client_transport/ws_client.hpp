// WebSocket clients over websocketpp, for `wspush client`: an event-driven one
// (AsyncClient, on Asio's event loop) and a blocking one (BlockingClient: connect,
// send, receive-with-timeout, close, all on the caller's thread, no background
// thread). Both share one connection layer (link.cpp). No websocketpp here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/client_session.hpp"
#include "common/duration.hpp"
#include "common/frame.hpp"

namespace wspush {

struct ConnectOptions {
  std::string url;                   // ws://host:port/path or wss://…
  std::vector<std::string> headers;  // "Name: value"
  std::string origin;
  std::string token;                 // sent as Authorization: Bearer TOKEN
  std::optional<std::string> proxy;  // http://host:port; nullopt: from the environment
  std::string cacert;                // PEM file of trusted CAs (wss://)
  bool insecure = false;             // wss:// without certificate verification
  std::size_t max_message_size = 0;  // (defaults: cmd/client.cpp's table)
  bool compress = false;             // offer permessage-deflate (client_deflate.hpp)
  bool one_frame_per_read = false;   // (BlockingClient sets it: capped_socket.hpp)
  Duration handshake_timeout{};
};

// Refuses a malformed URL, header or proxy before any I/O. Returns an error message.
std::string check_connect_options(ConnectOptions const& options);

// The proxy to use for `url`: --proxy, else https_proxy/http_proxy unless no_proxy
// covers the host. Empty: connect directly.
std::string proxy_for(std::string const& url, std::optional<std::string> const& explicit_proxy);

struct ClientFailure {
  ExitCode code = ExitCode::failure;
  std::string reason;   // one line, for stderr
  int http_status = 0;  // handshake refused: the server's status
};

struct ClientEvent {
  enum class Kind { open, frame, closed, failed };
  Kind kind = Kind::failed;
  Opcode opcode = Opcode::text;  // frame
  std::string payload;           // frame
  int close_code = 0;            // closed: the server's code (1006: no close frame)
  std::string close_reason;      // closed
  ClientFailure failure;         // failed: the connection never opened
};

class Link;

class AsyncClient {
 public:
  using EventHandler = std::function<void(ClientEvent&)>;
  AsyncClient(ConnectOptions const& options, EventHandler on_event);
  ~AsyncClient();

  void send(Opcode opcode, std::string_view payload);
  void close(std::uint16_t code, std::string_view reason);
  // Drops the current connection (it must be over) and connects to `url`.
  void reconnect(std::string const& url);

  // Runs `fn` on the loop after `delay`; arming the same slot again replaces it.
  enum class TimerSlot { overall, idle, linger };
  void arm(TimerSlot slot, Duration delay, std::function<void()> fn);
  // Delivers each line of `fd` (stdin) to `on_line`, then calls `on_eof`.
  void read_lines(int fd, std::function<void(std::string)> on_line, std::function<void()> on_eof);
  // Backpressure on read_lines: no more lines until resumed.
  void pause_reading();
  void resume_reading();

  // Connects and runs the event loop until stop() or nothing is left to do.
  void run();
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

class BlockingClient {
 public:
  explicit BlockingClient(ConnectOptions const& options);
  ~BlockingClient();

  // Blocks until the connection is open; the failure otherwise.
  std::optional<ClientFailure> connect(SteadyTime deadline);
  // Blocks until the frame is handed to the socket (or the deadline passes).
  bool send(Opcode opcode, std::string_view payload, SteadyTime deadline);

  enum class Wait { event, fd_readable, timeout };
  // Blocks until a frame or the close arrives (in *event), `watch_fd` (if >= 0) is
  // readable, or the deadline passes.
  Wait receive(ClientEvent* event, SteadyTime deadline, int watch_fd = -1);
  // Starts the closing handshake and blocks until it completes or the deadline; the
  // closed event (the server's code and reason), or nullopt when it did not answer.
  std::optional<ClientEvent> close(std::uint16_t code, std::string_view reason,
                                   SteadyTime deadline);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wspush
