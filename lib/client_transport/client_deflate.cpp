#include "client_transport/client_deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/deflate.hpp"

namespace wspush {

std::atomic<std::size_t>& client_inflate_limit() {
  static std::atomic<std::size_t> limit{64 * 1024};
  return limit;
}

struct ClientDeflateStreams::State {
  std::unique_ptr<Deflater> deflater;  // each message on its own (common/deflate.hpp)
  z_stream inflate{};                  // one stream across frames, and messages
  bool inflate_ready = false;
  bool ended = false;  // the message's deflate stream ended (BFINAL=1) before its end

  ~State() {
    if (inflate_ready) inflateEnd(&inflate);
  }
};

ClientDeflateStreams::ClientDeflateStreams() = default;
ClientDeflateStreams::~ClientDeflateStreams() = default;

namespace {

// 8 to 15, or 0.
int window_bits(std::string const& value) {
  if (value.empty() || value.size() > 2) return 0;
  if (value.find_first_not_of("0123456789") != std::string::npos) return 0;
  int const bits = std::atoi(value.c_str());
  return bits >= 8 && bits <= 15 ? bits : 0;
}

}  // namespace

std::string ClientDeflateStreams::check_answer(websocketpp::http::attribute_list const& answer,
                                               int& client_window_bits) {
  client_window_bits = 15;
  for (auto const& [name, value] : answer) {
    if (name == "server_no_context_takeover" || name == "client_no_context_takeover") {
      if (!value.empty()) return name + " takes no value";
    } else if (name == "server_max_window_bits") {
      // Inflating with the full window reads what a smaller one wrote.
      if (window_bits(value) == 0) return name + ": 8 to 15";
    } else if (name == "client_max_window_bits") {
      client_window_bits = window_bits(value);
      if (client_window_bits == 0) return name + ": 8 to 15";
    } else {
      return "unexpected parameter " + name;
    }
  }
  return {};
}

bool ClientDeflateStreams::start(int client_window_bits) {
  state_ = std::make_unique<State>();
  // zlib writes no 256-byte window (it makes 8 a 9); stored blocks refer to nothing.
  bool const stored = client_window_bits < 9;
  state_->deflater = std::make_unique<Deflater>(stored ? Z_NO_COMPRESSION : Deflater::kDefaultLevel,
                                                stored ? 9 : client_window_bits);
  if (inflateInit2(&state_->inflate, -15) != Z_OK) return false;
  state_->inflate_ready = true;
  return true;
}

ClientDeflateStreams::Inflated ClientDeflateStreams::inflate(std::uint8_t const* buf,
                                                             std::size_t len, std::string& out,
                                                             std::size_t limit) {
  if (!state_) return Inflated::corrupt;
  if (state_->ended) {
    // What follows a final block in the message is only the 00 00 ff ff websocketpp
    // appends at its end (RFC 7692 §7.2.2): the next message starts a new stream.
    if (len == 4 && std::memcmp(buf, "\0\0\xff\xff", 4) == 0) state_->ended = false;
    return Inflated::ok;
  }
  z_stream& z = state_->inflate;
  z.next_in = const_cast<Bytef*>(buf);  // zlib's API predates const
  z.avail_in = static_cast<uInt>(len);
  constexpr std::size_t kStep = 16 * 1024;
  bool more = z.avail_in > 0;
  while (more) {
    // One byte past the limit is room enough to tell that it would go past it.
    std::size_t const room = std::min(kStep, limit + 1 - std::min(limit + 1, out.size()));
    if (room == 0) return Inflated::too_big;
    std::size_t const before = out.size();
    out.resize(before + room);
    z.next_out = reinterpret_cast<Bytef*>(&out[before]);
    z.avail_out = static_cast<uInt>(room);
    int const rc = ::inflate(&z, Z_SYNC_FLUSH);
    out.resize(before + room - z.avail_out);
    if (out.size() > limit) return Inflated::too_big;
    if (rc == Z_STREAM_END) {
      inflateReset(&z);
      // The sender ended the deflate stream (BFINAL=1): the message's end comes next.
      state_->ended = !(z.avail_in == 4 && std::memcmp(z.next_in, "\0\0\xff\xff", 4) == 0);
      more = false;
    } else if (rc == Z_OK || rc == Z_BUF_ERROR) {
      // Go on while there is input left or the output was full (more may be pending).
      more = rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0);
    } else {
      inflateReset(&z);
      return Inflated::corrupt;
    }
  }
  return Inflated::ok;
}

bool ClientDeflateStreams::compress(std::string const& in, std::string& out) {
  if (!state_) return false;
  // Deflater drops the sync flush's 00 00 ff ff; websocketpp drops it itself.
  out = state_->deflater->compress(in);
  out.append("\0\0\xff\xff", 4);
  return true;
}

}  // namespace wspush
