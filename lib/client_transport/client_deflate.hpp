// permessage-deflate for `wspush client --compress` and `wspush bench --compress`: a
// websocketpp extension (the interface of websocketpp/extensions/permessage_deflate/
// enabled.hpp) of our own, because websocketpp's inflates without a bound (a server's
// 1 KiB can become gigabytes before --max-message-size is looked at), cannot read a
// message that ends a deflate stream (BFINAL=1, which RFC 7692 allows) and accepts
// answers it never offered.
//
// What it offers: `permessage-deflate; client_no_context_takeover; client_max_window_bits`
// (it compresses each message on its own, with the window the server allows). What it
// accepts back: server_no_context_takeover, client_no_context_takeover,
// server_max_window_bits (it inflates with the full window, which reads any smaller one)
// and client_max_window_bits (9 to 15: that window; 8, which zlib cannot write, as stored
// blocks, valid under any window); anything else fails the connection. Inflated messages
// are bounded by client_inflate_limit(): past it, 1009.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <websocketpp/common/system_error.hpp>
#include <websocketpp/extensions/extension.hpp>
#include <websocketpp/http/constants.hpp>
#include <websocketpp/processors/base.hpp>
// Not self-contained: after what it uses (for its error codes only).
#include <websocketpp/extensions/permessage_deflate/enabled.hpp>

namespace wspush {

// Messages this small go plain even when compression was agreed: the saving would not pay.
inline constexpr std::size_t kClientCompressFrom = 128;

// The most a message may inflate to (--max-message-size; one value per process: every
// connection of a client or a bench run has the same limit). 0: the default, 64 KiB.
std::atomic<std::size_t>& client_inflate_limit();

// The zlib state of one connection: what the template below hands its work to.
class ClientDeflateStreams {
 public:
  ClientDeflateStreams();
  ~ClientDeflateStreams();
  ClientDeflateStreams(ClientDeflateStreams const&) = delete;
  ClientDeflateStreams& operator=(ClientDeflateStreams const&) = delete;

  // Why the server's answer cannot be taken (empty: it can), and the window it allows us.
  static std::string check_answer(websocketpp::http::attribute_list const& answer,
                                  int& client_window_bits);

  bool start(int client_window_bits);  // false: zlib could not allocate its state
  enum class Inflated : std::uint8_t { ok, too_big, corrupt };
  // Inflates `len` more bytes of the current message onto `out` (the message so far),
  // never past `limit` in all.
  Inflated inflate(std::uint8_t const* buf, std::size_t len, std::string& out, std::size_t limit);
  // `in` compressed on its own, ending with the 00 00 ff ff websocketpp strips.
  bool compress(std::string const& in, std::string& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// websocketpp's permessage_deflate_type for a configuration that compresses.
template <typename Config>
class ClientDeflate {
 public:
  using err_str_pair = std::pair<websocketpp::lib::error_code, std::string>;

  bool is_implemented() const { return true; }
  bool is_enabled() const { return enabled_; }
  std::string generate_offer() const {
    return "permessage-deflate; client_no_context_takeover; client_max_window_bits";
  }

  // The server's answer: judged here, refused in init() (a refusal here would only make
  // websocketpp go on without the extension, and the server's compressed frames would
  // then end the connection as a protocol error rather than at the handshake).
  err_str_pair negotiate(websocketpp::http::attribute_list const& answer) {
    refused_ = ClientDeflateStreams::check_answer(answer, window_bits_);
    return {};
  }

  websocketpp::lib::error_code init(bool /*is_server*/) {
    namespace pmd = websocketpp::extensions::permessage_deflate::error;
    if (!refused_.empty()) return pmd::make_error_code(pmd::invalid_attributes);
    if (!streams_.start(window_bits_)) return pmd::make_error_code(pmd::zlib_error);
    enabled_ = true;
    return {};
  }

  websocketpp::lib::error_code compress(std::string const& in, std::string& out) {
    namespace pmd = websocketpp::extensions::permessage_deflate::error;
    if (!streams_.compress(in, out)) return pmd::make_error_code(pmd::zlib_error);
    return {};
  }

  websocketpp::lib::error_code decompress(std::uint8_t const* buf, std::size_t len,
                                          std::string& out) {
    namespace processor = websocketpp::processor::error;
    switch (streams_.inflate(buf, len, out, client_inflate_limit().load())) {
      case ClientDeflateStreams::Inflated::ok:
        return {};
      case ClientDeflateStreams::Inflated::too_big:
        return processor::make_error_code(processor::message_too_big);  // 1009
      case ClientDeflateStreams::Inflated::corrupt:
        break;
    }
    return processor::make_error_code(processor::invalid_payload);  // 1007
  }

 private:
  ClientDeflateStreams streams_;
  std::string refused_;
  int window_bits_ = 15;
  bool enabled_ = false;
};

// A websocketpp client configuration that offers permessage-deflate.
template <typename Base>
struct Compressing : Base {
  using type = Compressing;
  using permessage_deflate_type = ClientDeflate<Compressing>;
};

}  // namespace wspush
