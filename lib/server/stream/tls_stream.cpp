#include "server/stream/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "process/log.hpp"

namespace wspush {
namespace {

// Plaintext encrypted per write call: four full records.
constexpr std::size_t kChunk = 64 * 1024;

ByteStream::Io blocked(ByteStream::Want want) {
  ByteStream::Io io;
  io.blocked = true;
  io.want = want;
  return io;
}

ByteStream::Io closed() {
  ByteStream::Io io;
  io.closed = true;
  return io;
}

ByteStream::Io moved(std::size_t bytes) {
  ByteStream::Io io;
  io.bytes = bytes;
  return io;
}

// Ciphertext of the loop's current SSL call, sent right after it; only what the
// socket does not take is copied into the stream's own buffer.
thread_local std::string scratch;

int bio_write(BIO* bio, char const* data, int size) {
  static_cast<TlsStream*>(BIO_get_data(bio))->take(data, static_cast<std::size_t>(size));
  return size;
}

long bio_ctrl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// A write-only BIO that hands OpenSSL's output to its TlsStream (BIO_set_data).
BIO_METHOD const* sink_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "wspush sink");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

}  // namespace

TlsStream::TlsStream(Poller& poller, int socket, asio::ip::tcp::endpoint const& peer, SslPtr ssl,
                     std::string ciphertext)
    : SocketStream(poller, socket, peer), ssl_(std::move(ssl)), out_(std::move(ciphertext)) {
  if (SSL_get_rbio(ssl_.get()) == nullptr) {
    // A fresh session: reads from the socket, writes through this stream.
    SSL_set_bio(ssl_.get(), BIO_new_socket(fd(), BIO_NOCLOSE), BIO_new(sink_method()));
    SSL_set_accept_state(ssl_.get());
  }
  BIO_set_data(SSL_get_wbio(ssl_.get()), this);  // (again, after a hand-off)
}

void TlsStream::take(char const* data, std::size_t size) {
  // Behind what is still unsent, or into the loop's scratch to be sent at once.
  (out_at_ < out_.size() ? out_ : scratch).append(data, size);
}

bool TlsStream::send_all(std::string const& bytes, std::size_t& at) {
  while (at < bytes.size()) {
    Io const io = io_of_syscall(::send(fd(), bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL),
                                Want::write);
    if (io.blocked) return false;
    if (io.closed) {
      failed_ = true;
      return false;
    }
    at += io.bytes;
  }
  return true;
}

bool TlsStream::flush() {
  if (out_at_ < out_.size()) {
    if (!send_all(out_, out_at_)) return false;
    std::string().swap(out_);  // an idle connection keeps no buffer
    out_at_ = 0;
  }
  if (scratch.empty()) return true;
  std::size_t sent = 0;
  bool const all = send_all(scratch, sent);
  if (!all && !failed_) out_.assign(scratch, sent, std::string::npos);
  scratch.clear();
  if (scratch.capacity() > kChunk * 2) scratch.shrink_to_fit();
  return all;
}

ByteStream::Io TlsStream::read_some(char* buffer, std::size_t size) {
  if (failed_) return closed();
  ERR_clear_error();
  int const n = SSL_read(ssl_.get(), buffer, static_cast<int>(size < kChunk ? size : kChunk));
  // A read may have produced records to send: the handshake's, tickets, alerts.
  bool const sent = flush();
  if (n > 0) return moved(static_cast<std::size_t>(n));
  if (failed_) return closed();
  switch (SSL_get_error(ssl_.get(), n)) {
    case SSL_ERROR_WANT_READ:
      // Mid-handshake the peer waits for our flight: it must go out first.
      if (!sent && !SSL_is_init_finished(ssl_.get())) return blocked(Want::write);
      return blocked(Want::read);
    case SSL_ERROR_WANT_WRITE:
      return blocked(Want::write);
    case SSL_ERROR_ZERO_RETURN:
      return closed();
    default: {
      unsigned long const error = ERR_peek_error();
      if (error != 0) spdlog::debug("TLS: {} from {}", ERR_reason_error_string(error), remote());
      return closed();
    }
  }
}

ByteStream::Io TlsStream::write_some(std::string_view const* buffers, std::size_t count) {
  if (failed_) return closed();
  if (!flush()) return failed_ ? closed() : blocked(Want::write);
  if (committed_ > 0) return moved(std::exchange(committed_, 0));
  // One buffer is encrypted in place; several are gathered first, so that small
  // frames share records.
  std::string_view plain = count > 0 ? buffers[0] : std::string_view();
  thread_local std::string gathered;
  if (count > 1) {
    gathered.clear();
    for (std::size_t i = 0; i < count && gathered.size() < kChunk; ++i) {
      gathered.append(buffers[i].substr(0, kChunk - gathered.size()));
    }
    plain = gathered;
  }
  if (plain.size() > kChunk) plain = plain.substr(0, kChunk);
  if (plain.empty()) return moved(0);
  ERR_clear_error();
  // Into memory: it takes everything or fails.
  int const n = SSL_write(ssl_.get(), plain.data(), static_cast<int>(plain.size()));
  if (n <= 0) {
    failed_ = true;
    return closed();
  }
  if (!flush()) {
    if (failed_) return closed();
    committed_ = static_cast<std::size_t>(n);
    return blocked(Want::write);
  }
  return moved(static_cast<std::size_t>(n));
}

void TlsStream::close() {
  if (ssl_ && !failed_ && SSL_is_init_finished(ssl_.get())) {
    // A courtesy close_notify, if the socket takes it now; the connection ends anyway.
    ERR_clear_error();
    (void)SSL_shutdown(ssl_.get());
    (void)flush();
  }
  SocketStream::close();
}

StreamHandoff TlsStream::release() {
  StreamHandoff handoff = release_socket();
  out_.erase(0, out_at_);
  handoff.ciphertext = std::move(out_);
  handoff.tls = std::move(ssl_);
  return handoff;
}

}  // namespace wspush
