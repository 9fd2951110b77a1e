// TLS over a socket, as a ByteStream. OpenSSL reads the socket itself (a socket BIO)
// and writes through a sink BIO into this stream, which sends it at once: so SSL_write
// never blocks and never has to be repeated, and what it encrypted is written out
// here, by the same non-blocking calls as plain TCP. Only ciphertext the socket does
// not take is kept per connection; an idle connection holds no buffer of its own. The handshake
// runs inside the first reads (the server's flights are sent as they are produced). A broadcast is
// framed once per room; only the encryption is per connection.
//
// Threading: the stream's loop only; the SSL object moves with a hand-off.
#pragma once

#include "server/stream/byte_stream.hpp"

namespace wspush {

class TlsStream final : public SocketStream {
 public:
  // `ssl` is a fresh server session from TlsContext::session() (or one handed off
  // mid-connection, with the ciphertext it had not written yet).
  TlsStream(Poller& poller, int socket, asio::ip::tcp::endpoint const& peer, SslPtr ssl,
            std::string ciphertext = {});
  Io read_some(char* buffer, std::size_t size) override;
  Io write_some(std::string_view const* buffers, std::size_t count) override;
  void close() override;
  StreamHandoff release() override;
  // OpenSSL's output for this connection (its write BIO calls it).
  void take(char const* data, std::size_t size);

 private:
  bool send_all(std::string const& bytes, std::size_t& at);
  // Sends what OpenSSL encrypted; false while some of it is still unsent (the socket
  // is full) or the connection failed (failed_).
  bool flush();

  SslPtr ssl_;
  std::string out_;  // ciphertext not yet in the kernel, from out_at_
  std::size_t out_at_ = 0;
  // Plaintext already encrypted into out_ by a write that then blocked: reported as
  // written by the next write_some, once out_ is sent.
  std::size_t committed_ = 0;
  bool failed_ = false;
};

}  // namespace wspush
