#include "common/deflate.hpp"

#include <zlib.h>

#include <vector>

namespace wspush {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits at `separator` outside double quotes.
std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == separator && !quoted) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(trim(s.substr(start)));
  return parts;
}

// A window size parameter's value: 8 to 15, as a token or a quoted string.
std::optional<int> window_bits(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (value.empty() || value.size() > 2) return std::nullopt;
  int bits = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    bits = bits * 10 + (c - '0');
  }
  if (bits < 8 || bits > 15) return std::nullopt;
  return bits;
}

// One offer's parameters (after "permessage-deflate"), or nullopt if it cannot be
// accepted.
std::optional<DeflateAgreement> accept_offer(std::vector<std::string_view> const& params) {
  bool server_nct = false, client_nct = false, server_bits = false, client_bits = false;
  std::optional<int> server_max;
  for (std::size_t i = 1; i < params.size(); ++i) {
    std::string_view const p = params[i];
    auto const eq = p.find('=');
    std::string_view const name = trim(p.substr(0, eq));
    std::optional<std::string_view> const value =
        eq == std::string_view::npos ? std::nullopt
                                     : std::optional<std::string_view>(trim(p.substr(eq + 1)));
    bool* seen = name == "server_no_context_takeover"   ? &server_nct
                 : name == "client_no_context_takeover" ? &client_nct
                 : name == "server_max_window_bits"     ? &server_bits
                 : name == "client_max_window_bits"     ? &client_bits
                                                        : nullptr;
    if (!seen || *seen) return std::nullopt;  // unknown, or twice
    *seen = true;
    if (seen == &server_nct || seen == &client_nct) {
      if (value) return std::nullopt;
    } else if (seen == &server_bits) {
      if (!value || !(server_max = window_bits(*value))) return std::nullopt;
    } else if (value && !window_bits(*value)) {
      return std::nullopt;  // client_max_window_bits: no value, or 8 to 15
    }
  }
  DeflateAgreement a;
  a.response = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
  if (server_max) {
    a.response += "; server_max_window_bits=" + std::to_string(*server_max);
    a.compress = *server_max == 15;
  }
  return a;
}

constexpr char kTail[4] = {0x00, 0x00, static_cast<char>(0xff), static_cast<char>(0xff)};

}  // namespace

std::optional<DeflateAgreement> negotiate_deflate(std::string_view offers) {
  for (std::string_view const offer : split(offers, ',')) {
    std::vector<std::string_view> const params = split(offer, ';');
    if (params.front() != "permessage-deflate") continue;
    if (auto a = accept_offer(params)) return a;
  }
  return std::nullopt;
}

struct Deflater::State {
  z_stream z{};
};

Deflater::Deflater(int level, int window_bits) : state_(std::make_unique<State>()) {
  // Raw deflate, zlib's default memory level.
  deflateInit2(&state_->z, level, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY);
}

Deflater::~Deflater() {
  deflateEnd(&state_->z);
}

std::string Deflater::compress(std::string_view payload) {
  z_stream& z = state_->z;
  deflateReset(&z);
  std::string out;
  // Room for incompressible data plus the flush's few bytes; grown if ever short.
  out.resize(deflateBound(&z, payload.size()) + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  z.avail_in = static_cast<uInt>(payload.size());
  std::size_t written = 0;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(out.data() + written);
    z.avail_out = static_cast<uInt>(out.size() - written);
    deflate(&z, Z_SYNC_FLUSH);
    written = out.size() - z.avail_out;
    if (z.avail_out > 0) break;  // all of it flushed
    out.resize(out.size() * 2);
  }
  out.resize(written);
  if (out.size() >= 4 && out.compare(out.size() - 4, 4, kTail, 4) == 0) out.resize(out.size() - 4);
  return out;
}

Payload Deflater::frame(Opcode opcode, std::string_view payload) {
  std::string const packed = compress(payload);
  std::string const header = frame_header(opcode, packed.size(), /*compressed=*/true);
  auto framed = std::make_shared<std::string>();
  framed->reserve(header.size() + packed.size());
  framed->append(header).append(packed);
  return framed;
}

struct Inflater::State {
  z_stream z{};
};

Inflater::Inflater() : state_(std::make_unique<State>()) {
  inflateInit2(&state_->z, -15);
}

Inflater::~Inflater() {
  inflateEnd(&state_->z);
}

Inflater::Result Inflater::inflate(std::string_view compressed, std::size_t limit,
                                   std::string& out) {
  z_stream& z = state_->z;
  inflateReset(&z);
  out.clear();
  // Grows as it fills, never beyond limit + 1: one byte over the limit is enough to know.
  std::size_t const first = std::min<std::size_t>(limit + 1, compressed.size() * 4 + 64);
  out.resize(first);
  std::size_t written = 0;
  std::string_view const inputs[2] = {compressed, std::string_view(kTail, 4)};
  bool ended = false;
  for (std::string_view input : inputs) {
    if (ended) break;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z.avail_in = static_cast<uInt>(input.size());
    while (z.avail_in > 0) {
      if (written == out.size()) {
        if (out.size() > limit) return Result::too_big;
        out.resize(std::min<std::size_t>(limit + 1, out.size() * 2));
      }
      z.next_out = reinterpret_cast<Bytef*>(out.data() + written);
      z.avail_out = static_cast<uInt>(out.size() - written);
      int const r = ::inflate(&z, Z_SYNC_FLUSH);
      written = out.size() - z.avail_out;
      if (written > limit) return Result::too_big;
      if (r == Z_STREAM_END) {  // a final block: the rest is the tail (RFC 7692 §7.2.3.4)
        ended = true;
        break;
      }
      if (r != Z_OK && r != Z_BUF_ERROR) return Result::corrupt;
      if (r == Z_BUF_ERROR && z.avail_out > 0) return Result::corrupt;  // stuck
    }
  }
  out.resize(written);
  if (out.capacity() > (1u << 20) && written < (1u << 16)) out.shrink_to_fit();
  return Result::ok;
}

Deflater& thread_deflater() {
  thread_local Deflater deflater;
  return deflater;
}

Inflater& thread_inflater() {
  thread_local Inflater inflater;
  return inflater;
}

}  // namespace wspush
