// The server's TLS settings (`--tls-cert`, `--tls-key`): the certificate chain and key
// from PEM files, TLS 1.2 and 1.3 only, Mozilla's "intermediate" cipher list, no
// renegotiation. reload() reads the files again (SIGHUP): a pair that does not load
// is refused with the reason and the current one kept. Sessions made before a reload
// keep the context they were made with (OpenSSL counts its references).
//
// Threading: session() on any loop's thread, reload() on the first loop's: the context
// in use is swapped under a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "server/stream/byte_stream.hpp"

struct ssl_ctx_st;

namespace wspush {

class TlsContext {
 public:
  // Throws std::runtime_error saying which file did not load and why.
  TlsContext(std::string cert_file, std::string key_file);
  ~TlsContext();
  TlsContext(TlsContext const&) = delete;
  TlsContext& operator=(TlsContext const&) = delete;

  // "" when the new pair is in use; the reason otherwise (the old pair stays).
  std::string reload();
  // A server session for one new connection.
  SslPtr session() const;
  // The subject of the certificate in use (for the log).
  std::string subject() const;

 private:
  std::string cert_file_;
  std::string key_file_;
  mutable std::mutex mutex_;
  ssl_ctx_st* ctx_ = nullptr;
};

}  // namespace wspush
