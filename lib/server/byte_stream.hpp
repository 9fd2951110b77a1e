// The byte stream under a WebSocket session: non-blocking reads and gathered writes,
// and a wait for readiness. TcpStream is plain TCP; a TLS stream is another
// implementation (its reads may need the socket writable and its writes readable,
// which is why an operation that would block says what it waits for). WsSession's
// framing and queueing are written once, over this interface.
//
// Threading: a stream belongs to one event loop; only that loop's thread calls it.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace wspush {

class ByteStream {
 public:
  enum class Want : std::uint8_t { read, write };
  // One call's outcome: `bytes` moved; or `blocked` (nothing moved: wait for `want`);
  // or `closed` (end of stream or an error: the peer is gone).
  struct Io {
    std::size_t bytes = 0;
    bool blocked = false;
    bool closed = false;
    Want want = Want::read;
  };
  enum class Ready : std::uint8_t { ready, cancelled, failed };

  virtual ~ByteStream() = default;
  virtual Io read_some(char* buffer, std::size_t size) = 0;
  // Up to `count` buffers in one call, none of them copied where the stream allows.
  virtual Io write_some(std::string_view const* buffers, std::size_t count) = 0;
  // Calls `then` once the stream is ready for `want` (or is cancelled by close()).
  virtual void wait(Want want, std::function<void(Ready)> then) = 0;
  // Ends the connection at once (pending waits are cancelled).
  virtual void close() = 0;
  virtual std::string remote() const = 0;
};

class TcpStream final : public ByteStream {
 public:
  // Takes over a connected socket: non-blocking, Nagle off.
  explicit TcpStream(asio::ip::tcp::socket socket);
  Io read_some(char* buffer, std::size_t size) override;
  Io write_some(std::string_view const* buffers, std::size_t count) override;
  void wait(Want want, std::function<void(Ready)> then) override;
  void close() override;
  std::string remote() const override;
  // Gives up the socket: its descriptor, now the caller's (to move it to another loop).
  int release();
  bool v6() const;

 private:
  asio::ip::tcp::socket socket_;
};

}  // namespace wspush
