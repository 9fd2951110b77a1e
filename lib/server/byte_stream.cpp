#include "server/byte_stream.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace wspush {
namespace {

constexpr std::size_t kMaxIov = 64;

bool would_block(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

}  // namespace

TcpStream::TcpStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
  asio::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

// Plain system calls on the non-blocking descriptor: the event loop already knows the
// socket is ready, and Asio's synchronous wrappers add nothing on this path.
ByteStream::Io TcpStream::read_some(char* buffer, std::size_t size) {
  Io io;
  ssize_t const n = ::recv(socket_.native_handle(), buffer, size, 0);
  if (n > 0) {
    io.bytes = static_cast<std::size_t>(n);
  } else if (n < 0 && would_block(errno)) {
    io.blocked = true;
    io.want = Want::read;
  } else {
    io.closed = true;  // 0: end of stream; otherwise reset or another error
  }
  return io;
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
  Io io;
  // MSG_NOSIGNAL: a peer that went away is an error here, not a SIGPIPE.
  ssize_t const written = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL);
  if (written >= 0) {
    io.bytes = static_cast<std::size_t>(written);
  } else if (would_block(errno)) {
    io.blocked = true;
    io.want = Want::write;
  } else {
    io.closed = true;
  }
  return io;
}

void TcpStream::wait(Want want, std::function<void(Ready)> then) {
  auto const type =
      want == Want::read ? asio::ip::tcp::socket::wait_read : asio::ip::tcp::socket::wait_write;
  socket_.async_wait(type, [then = std::move(then)](asio::error_code const& ec) {
    if (!ec) return then(Ready::ready);
    then(ec == asio::error::operation_aborted ? Ready::cancelled : Ready::failed);
  });
}

void TcpStream::close() {
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

int TcpStream::release() {
  asio::error_code ec;
  int const fd = socket_.release(ec);
  return ec ? -1 : fd;
}

bool TcpStream::v6() const {
  asio::error_code ec;
  return socket_.local_endpoint(ec).protocol() == asio::ip::tcp::v6();
}

std::string TcpStream::remote() const {
  asio::error_code ec;
  auto const peer = socket_.remote_endpoint(ec);
  if (ec) return "?";
  return peer.address().to_string() + ":" + std::to_string(peer.port());
}

}  // namespace wspush
