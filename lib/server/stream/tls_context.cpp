#include "server/stream/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include <stdexcept>
#include <utility>

namespace wspush {
namespace {

// Mozilla's "intermediate" configuration (version 5.7): TLS 1.3's default suites and,
// for TLS 1.2, ECDHE/DHE with AES-GCM or ChaCha20-Poly1305 only.
constexpr char kCiphers12[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

std::string openssl_error() {
  unsigned long const error = ERR_get_error();
  ERR_clear_error();
  if (error == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(error, text, sizeof text);
  return text;
}

// A configured context with the pair loaded, or the reason it could not be.
SSL_CTX* load(std::string const& cert_file, std::string const& key_file, std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    error = openssl_error();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Idle connections give their record buffers back (about 34 KiB each otherwise).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_cipher_list(ctx, kCiphers12);
  SSL_CTX_set_dh_auto(ctx, 1);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    error = "--tls-cert " + cert_file + ": " + openssl_error();
  } else if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    bool const mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    error = "--tls-key " + key_file +
            (mismatch ? " does not match --tls-cert " + cert_file : ": " + openssl_error());
    ERR_clear_error();
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "--tls-key " + key_file + " does not match --tls-cert " + cert_file;
  } else {
    return ctx;
  }
  SSL_CTX_free(ctx);
  return nullptr;
}

}  // namespace

TlsContext::TlsContext(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {
  std::string error;
  ctx_ = load(cert_file_, key_file_, error);
  if (ctx_ == nullptr) throw std::runtime_error(error);
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

std::string TlsContext::reload() {
  std::string error;
  SSL_CTX* const fresh = load(cert_file_, key_file_, error);
  if (fresh == nullptr) return error;
  SSL_CTX* stale = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stale = std::exchange(ctx_, fresh);
  }
  SSL_CTX_free(stale);  // sessions still using it hold their own reference
  return {};
}

SslPtr TlsContext::session() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return SslPtr(SSL_new(ctx_));
}

std::string TlsContext::subject() const {
  std::lock_guard<std::mutex> lock(mutex_);
  X509* const cert = SSL_CTX_get0_certificate(ctx_);
  if (cert == nullptr) return "?";
  char text[256];
  X509_NAME_oneline(X509_get_subject_name(cert), text, sizeof text);
  return text;
}

}  // namespace wspush
