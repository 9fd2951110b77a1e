#include "server/byte_stream.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "server/tls_stream.hpp"

namespace wspush {
namespace {

constexpr std::size_t kMaxIov = 64;

}  // namespace

void SslFree::operator()(ssl_st* ssl) const {
  SSL_free(ssl);
}

ByteStream::Io io_of_syscall(long result, ByteStream::Want want) {
  ByteStream::Io io;
  if (result > 0 || (result == 0 && want == ByteStream::Want::write)) {
    io.bytes = static_cast<std::size_t>(result);
  } else if (result < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    io.blocked = true;
    io.want = want;
  } else {
    io.closed = true;  // 0 on a read: end of stream; otherwise reset or another error
  }
  return io;
}

SocketStream::SocketStream(asio::ip::tcp::socket socket, asio::ip::tcp::endpoint const& peer,
                           bool resumed)
    : socket_(std::move(socket)), peer_(peer) {
  if (resumed) return;  // O_NONBLOCK and TCP_NODELAY stay with the descriptor
  asio::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

void SocketStream::wait(Want want, std::function<void(Ready)> then) {
  auto const type =
      want == Want::read ? asio::ip::tcp::socket::wait_read : asio::ip::tcp::socket::wait_write;
  socket_.async_wait(type, [then = std::move(then)](asio::error_code const& ec) {
    if (!ec) return then(Ready::ready);
    then(ec == asio::error::operation_aborted ? Ready::cancelled : Ready::failed);
  });
}

void SocketStream::close() {
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

std::string SocketStream::remote() const {
  return peer_.address().to_string() + ":" + std::to_string(peer_.port());
}

StreamHandoff SocketStream::release_socket() {
  StreamHandoff handoff;
  asio::error_code ec;
  handoff.peer = peer_;
  int const fd = socket_.release(ec);
  handoff.fd = ec ? -1 : fd;
  return handoff;
}

// Plain system calls on the non-blocking descriptor: the event loop already knows the
// socket is ready, and Asio's synchronous wrappers add nothing on this path.
ByteStream::Io TcpStream::read_some(char* buffer, std::size_t size) {
  return io_of_syscall(::recv(fd(), buffer, size, 0), Want::read);
}

ByteStream::Io TcpStream::write_some(std::string_view const* buffers, std::size_t count) {
  iovec iov[kMaxIov];
  std::size_t const n = count < kMaxIov ? count : kMaxIov;
  for (std::size_t i = 0; i < n; ++i) {
    iov[i].iov_base = const_cast<char*>(buffers[i].data());
    iov[i].iov_len = buffers[i].size();
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  // MSG_NOSIGNAL: a peer that went away is an error here, not a SIGPIPE.
  return io_of_syscall(::sendmsg(fd(), &msg, MSG_NOSIGNAL), Want::write);
}

std::unique_ptr<ByteStream> resume_stream(asio::io_context& io, StreamHandoff handoff) {
  asio::ip::tcp::socket socket(io);
  asio::error_code ec;
  socket.assign(handoff.peer.protocol(), handoff.fd, ec);
  if (ec) {
    ::close(handoff.fd);
    return nullptr;
  }
  if (!handoff.tls) return std::make_unique<TcpStream>(std::move(socket), handoff.peer, true);
  return std::make_unique<TlsStream>(std::move(socket), handoff.peer, std::move(handoff.tls),
                                     std::move(handoff.ciphertext));
}

}  // namespace wspush
