// The byte stream under a connection: non-blocking reads and gathered writes, and a
// wait for readiness. TcpStream is plain TCP; TlsStream (tls_stream.hpp) is TLS over
// the same socket: its reads may need the socket writable, which is why an operation
// that would block says what it waits for. WsSession's framing and queueing, and
// HttpConnection's requests, are written once, over this interface.
//
// A stream moves between event loops as a StreamHandoff (the descriptor and, for TLS,
// the session state), taken by release() and resumed by resume_stream().
//
// Threading: a stream belongs to one event loop; only that loop's thread calls it.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

struct ssl_st;

namespace wspush {

struct SslFree {
  void operator()(ssl_st* ssl) const;
};
using SslPtr = std::unique_ptr<ssl_st, SslFree>;

// A connection on its way to another loop.
struct StreamHandoff {
  int fd = -1;
  asio::ip::tcp::endpoint peer;  // its remote address, from accept
  SslPtr tls;                    // null: plain TCP
  std::string ciphertext;        // TLS bytes encrypted but not yet written
  bool event_stream = false;     // a Server-Sent Events client (sse_stream.hpp), not WebSocket
};

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
  // After `blocked`, the next call must start with the same bytes (a TLS stream has
  // already encrypted them); it may pass more behind them.
  virtual Io write_some(std::string_view const* buffers, std::size_t count) = 0;
  // Calls `then` once the stream is ready for `want` (or is cancelled by close()).
  virtual void wait(Want want, std::function<void(Ready)> then) = 0;
  // Ends the connection at once (pending waits are cancelled).
  virtual void close() = 0;
  virtual std::string remote() const = 0;
  // Gives the connection up, to resume it on another loop (fd -1 when that failed).
  virtual StreamHandoff release() = 0;
  // The socket a batched write (send_ring.hpp) may send the same bytes on as
  // write_some would, or -1 when they need the stream's own hands (TLS encrypts, an
  // event stream reframes).
  virtual int gather_fd() { return -1; }
};

// What both streams share: the socket, its waits, its address and its hand-off.
class SocketStream : public ByteStream {
 public:
  // Takes over a connected socket from `peer` (the address accept gave: no
  // getpeername, no getsockname later): made non-blocking with Nagle off, unless
  // `resumed` (a hand-off: the descriptor already is).
  SocketStream(asio::ip::tcp::socket socket, asio::ip::tcp::endpoint const& peer,
               bool resumed = false);
  void wait(Want want, std::function<void(Ready)> then) override;
  void close() override;
  std::string remote() const override;

 protected:
  int fd() { return socket_.native_handle(); }
  StreamHandoff release_socket();

 private:
  asio::ip::tcp::socket socket_;
  asio::ip::tcp::endpoint peer_;
};

class TcpStream final : public SocketStream {
 public:
  using SocketStream::SocketStream;
  Io read_some(char* buffer, std::size_t size) override;
  Io write_some(std::string_view const* buffers, std::size_t count) override;
  StreamHandoff release() override { return release_socket(); }
  int gather_fd() override { return fd(); }
};

// A connection that could not be taken over: every call says it is closed.
class ClosedStream final : public ByteStream {
 public:
  Io read_some(char*, std::size_t) override { return closed(); }
  Io write_some(std::string_view const*, std::size_t) override { return closed(); }
  void wait(Want, std::function<void(Ready)> then) override { then(Ready::failed); }
  void close() override {}
  std::string remote() const override { return "?"; }
  StreamHandoff release() override { return {}; }

 private:
  static Io closed() {
    Io io;
    io.closed = true;
    return io;
  }
};

// The stream a hand-off carries, on `io`'s loop; null when the descriptor cannot be
// taken over (it is closed then).
std::unique_ptr<ByteStream> resume_stream(asio::io_context& io, StreamHandoff handoff);

// Results of one system call on a non-blocking descriptor, as an Io.
ByteStream::Io io_of_syscall(long result, ByteStream::Want want);

}  // namespace wspush
