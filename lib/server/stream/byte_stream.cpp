#include "server/stream/byte_stream.hpp"

#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <asio/post.hpp>
#include <cerrno>
#include <utility>

#include "server/stream/tls_stream.hpp"

namespace wspush {
namespace {

constexpr std::size_t kMaxIov = 64;

// A wait that calls a function.
class FunctionWaiter final : public ByteStream::Waiter {
 public:
  explicit FunctionWaiter(std::function<void(ByteStream::Ready)> then) : then_(std::move(then)) {}
  void on_ready(std::uint8_t /*token*/, ByteStream::Ready ready) override { then_(ready); }

 private:
  std::function<void(ByteStream::Ready)> then_;
};

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

std::string address_text(asio::ip::address const& address) {
  if (!address.is_v4()) return address.to_string();
  char text[16];  // "255.255.255.255"
  std::size_t n = 0;
  for (unsigned char byte : address.to_v4().to_bytes()) {
    if (n > 0) text[n++] = '.';
    if (byte >= 100) text[n++] = static_cast<char>('0' + byte / 100);
    if (byte >= 10) text[n++] = static_cast<char>('0' + byte / 10 % 10);
    text[n++] = static_cast<char>('0' + byte % 10);
  }
  return std::string(text, n);
}

PackedEndpoint::PackedEndpoint(asio::ip::tcp::endpoint const& endpoint)
    : port_(endpoint.port()), v6_(endpoint.address().is_v6()) {
  if (v6_) {
    bytes_ = endpoint.address().to_v6().to_bytes();
  } else {
    auto const v4 = endpoint.address().to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), bytes_.begin());
  }
}

asio::ip::tcp::endpoint PackedEndpoint::unpack() const {
  if (v6_) return {asio::ip::address_v6(bytes_), port_};
  asio::ip::address_v4::bytes_type v4{};
  std::copy_n(bytes_.begin(), v4.size(), v4.begin());
  return {asio::ip::address_v4(v4), port_};
}

SocketStream::SocketStream(Poller& poller, int fd, asio::ip::tcp::endpoint const& peer)
    : poller_(poller), fd_(fd), peer_(peer) {}

SocketStream::~SocketStream() {
  poller_.remove(slot_);
  if (fd_ >= 0) ::close(fd_);
}

void ByteStream::wait(Want want, std::function<void(Ready)> then) {
  wait_for(want, std::make_shared<FunctionWaiter>(std::move(then)), 0);
}

void SocketStream::wait_for(Want want, std::shared_ptr<Waiter> waiter, std::uint8_t token) {
  bool const read = want == Want::read;
  if (fd_ >= 0 && slot_ == Poller::kNoSlot) {
    slot_ = poller_.add(fd_, *this, /*writes=*/!read);
    watching_writes_ = !read;
  } else if (!read && !watching_writes_ && slot_ != Poller::kNoSlot) {
    watching_writes_ = poller_.watch_writes(slot_, fd_);
    if (!watching_writes_) forget(fd_);  // out of memory: the wait fails below
  }
  if (slot_ == Poller::kNoSlot) {  // closed, or epoll refused it (out of memory)
    asio::post(poller_.io(),
               [waiter = std::move(waiter), token] { waiter->on_ready(token, Ready::failed); });
    return;
  }
  if (read && std::exchange(readable_unclaimed_, false)) {
    asio::post(poller_.io(),
               [waiter = std::move(waiter), token] { waiter->on_ready(token, Ready::ready); });
    return;
  }
  (read ? on_read_ : on_write_) = std::move(waiter);
  (read ? read_token_ : write_token_) = token;
}

// The waiters the events wake are taken out before any runs: one may end the stream.
void SocketStream::on_events(std::uint32_t events) {
  std::shared_ptr<Waiter> read;
  std::shared_ptr<Waiter> write;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) {
    read.swap(on_read_);
    readable_unclaimed_ = !read;
  }
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) write.swap(on_write_);
  std::uint8_t const read_token = read_token_;
  std::uint8_t const write_token = write_token_;
  if (read) read->on_ready(read_token, Ready::ready);
  if (write) write->on_ready(write_token, Ready::ready);
}

void SocketStream::on_shutdown() {
  std::shared_ptr<Waiter> read;
  std::shared_ptr<Waiter> write;
  read.swap(on_read_);
  write.swap(on_write_);
}

// Out of the poller; waits still pending are told `cancelled` later, as Asio does (their
// owner may be in the middle of closing this stream).
void SocketStream::forget(int deregister_fd) {
  poller_.remove(slot_, deregister_fd);
  slot_ = Poller::kNoSlot;
  for (auto [pending, token] :
       {std::pair(&on_read_, read_token_), std::pair(&on_write_, write_token_)}) {
    if (!*pending) continue;
    asio::post(poller_.io(), [waiter = std::move(*pending), token = token] {
      waiter->on_ready(token, Ready::cancelled);
    });
    pending->reset();
  }
}

void SocketStream::close() {
  if (fd_ < 0) return;
  forget(-1);
  ::close(fd_);  // the FIN (an RST when the peer's bytes were left unread); no shutdown first
  fd_ = -1;
}

std::string SocketStream::remote() const {
  asio::ip::tcp::endpoint const peer = peer_.unpack();
  return address_text(peer.address()) + ":" + std::to_string(peer.port());
}

StreamHandoff SocketStream::release_socket() {
  StreamHandoff handoff;
  handoff.peer = peer_.unpack();
  forget(fd_);  // another loop's poller takes it from here
  handoff.fd = std::exchange(fd_, -1);
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

std::unique_ptr<ByteStream> resume_stream(Poller& poller, StreamHandoff handoff) {
  if (!handoff.tls) return std::make_unique<TcpStream>(poller, handoff.fd, handoff.peer);
  return std::make_unique<TlsStream>(poller, handoff.fd, handoff.peer, std::move(handoff.tls),
                                     std::move(handoff.ciphertext));
}

}  // namespace wspush
