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

#include <array>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "server/loop/poller.hpp"

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
  // What a wait wakes, told the `token` it was given. The stream holds it (and so keeps
  // it alive) until the wait ends. A session is its own waiter: an idle connection's
  // read wait is one shared pointer, not a std::function with a heap-held capture.
  class Waiter {
   public:
    virtual void on_ready(std::uint8_t token, Ready ready) = 0;

   protected:
    ~Waiter() = default;
  };

  virtual ~ByteStream() = default;
  virtual Io read_some(char* buffer, std::size_t size) = 0;
  // Up to `count` buffers in one call, none of them copied where the stream allows.
  // After `blocked`, the next call must start with the same bytes (a TLS stream has
  // already encrypted them); it may pass more behind them.
  virtual Io write_some(std::string_view const* buffers, std::size_t count) = 0;
  // Wakes `waiter` once the stream is ready for `want` (or is cancelled by close()). One
  // wait per `want` at a time: a second replaces the first.
  virtual void wait_for(Want want, std::shared_ptr<Waiter> waiter, std::uint8_t token) = 0;
  // The same, calling `then`.
  void wait(Want want, std::function<void(Ready)> then);
  // Ends the connection at once (pending waits are cancelled).
  virtual void close() = 0;
  virtual std::string remote() const = 0;
  // Gives the connection up, to resume it on another loop (fd -1 when that failed).
  virtual StreamHandoff release() = 0;
  // The socket a batched write (send_ring.hpp) may send the same bytes on as
  // write_some would, or -1 when they need the stream's own hands (TLS encrypts, an
  // event stream reframes).
  virtual int gather_fd() { return -1; }
  // Whether bytes may wait inside the stream where a readiness wait cannot see them (a
  // TLS stream's decrypted records): then a new reader must read before it waits.
  virtual bool may_hold_input() const { return true; }
};

// An address as text ("127.0.0.1", "::1"). IPv4 is written here: glibc's inet_ntop goes
// through sprintf, a large part of a handshake's own work (bench/RESULTS.md).
std::string address_text(asio::ip::address const& address);

// A peer's address in 20 bytes (asio's endpoint takes 28): part of every connection.
// An IPv6 scope id is not kept (a link-local peer is logged without its %interface).
class PackedEndpoint {
 public:
  explicit PackedEndpoint(asio::ip::tcp::endpoint const& endpoint);
  asio::ip::tcp::endpoint unpack() const;

 private:
  std::array<unsigned char, 16> bytes_{};  // an IPv4 address in the first 4
  std::uint16_t port_ = 0;
  bool v6_ = false;
};

// What both streams share: the socket, its waits (on the loop's Poller), its address
// and its hand-off.
class SocketStream : public ByteStream, private Poller::Target {
 public:
  // Takes over a connected, non-blocking socket from `peer` (the address accept gave:
  // no getpeername, no getsockname later). Nagle is off already: accepted sockets
  // inherit TCP_NODELAY from the listening one.
  SocketStream(Poller& poller, int fd, asio::ip::tcp::endpoint const& peer);
  ~SocketStream() override;
  SocketStream(SocketStream const&) = delete;
  SocketStream& operator=(SocketStream const&) = delete;
  void wait_for(Want want, std::shared_ptr<Waiter> waiter, std::uint8_t token) override;
  void close() override;
  std::string remote() const override;

 protected:
  int fd() const { return fd_; }
  bool registered() const { return slot_ != Poller::kNoSlot; }
  StreamHandoff release_socket();

 private:
  void on_events(std::uint32_t events) override;
  void on_shutdown() override;
  // Leaves the poller (and with `deregister_fd`, the epoll set) and cancels the waits.
  void forget(int deregister_fd);

  Poller& poller_;
  int fd_;
  std::uint32_t slot_ = Poller::kNoSlot;  // registered on the first wait
  std::uint8_t read_token_ = 0, write_token_ = 0;
  bool watching_writes_ = false;  // registered for EPOLLOUT too (from the first write wait)
  // Readable came while nobody waited to read (e.g. during a write wait): the poller is
  // edge-triggered and says it only once, so the next read wait is told at once.
  bool readable_unclaimed_ = false;
  PackedEndpoint peer_;
  std::shared_ptr<Waiter> on_read_, on_write_;
};

class TcpStream final : public SocketStream {
 public:
  using SocketStream::SocketStream;
  Io read_some(char* buffer, std::size_t size) override;
  Io write_some(std::string_view const* buffers, std::size_t count) override;
  StreamHandoff release() override { return release_socket(); }
  int gather_fd() override { return fd(); }
  // Its first wait registers it, and epoll reports at once what is already there; once
  // registered (the handshake waited for its request), an edge may have passed unread.
  bool may_hold_input() const override { return registered(); }
};

// The stream a hand-off carries, on `poller`'s loop.
std::unique_ptr<ByteStream> resume_stream(Poller& poller, StreamHandoff handoff);

// Results of one system call on a non-blocking descriptor, as an Io.
ByteStream::Io io_of_syscall(long result, ByteStream::Want want);

}  // namespace wspush
