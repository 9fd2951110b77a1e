// Which deflate library compresses wspush's messages (issue #29): zlib (deflateReset,
// then deflate with Z_SYNC_FLUSH, the 4-byte tail dropped) against libdeflate (one
// whole-buffer call, a final block, then the one 0x00 byte RFC 7692 §7.2.3.3 shows),
// at levels 1 and 6, on the JSON a push server carries: price updates of about 128 B,
// 1 KiB and 16 KiB, every number different. Prints, per library, level and size: the
// compressed size over the plain one, µs per compression and per inflation (median of
// 9 runs of 2000). Not built by default: `cmake --build build --target deflate-libs`.
#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

// A price update of about `size` bytes: a book of levels, each price and quantity its own.
std::string price_update(std::size_t size, std::mt19937& rng) {
  std::uniform_int_distribution<int> tick(0, 999), qty(1, 5000);
  std::string s = R"({"status":200,"event":"price","data":{"symbol":"EURUSD","venue":"LMAX",)"
                  R"("ts":"2026-12-07T19:20:11.)" +
                  std::to_string(100000 + tick(rng)) + R"(Z","levels":[)";
  bool first = true;
  while (s.size() + 60 < size) {
    s += std::string(first ? "" : ",") + R"({"side":")" + (tick(rng) % 2 ? "bid" : "ask") +
         R"(","px":1.08)" + std::to_string(100 + tick(rng)) + R"(,"qty":)" +
         std::to_string(qty(rng) * 1000) + "}";
    first = false;
  }
  return s + R"(]},"seq":)" + std::to_string(tick(rng) * 1000 + tick(rng)) + "}";
}

using Clock = std::chrono::steady_clock;

template <typename Fn>
double median_us(Fn fn, int per_run) {
  std::vector<double> runs;
  for (int r = 0; r < 9; ++r) {
    auto const start = Clock::now();
    for (int i = 0; i < per_run; ++i) fn(i);
    runs.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                   per_run);
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

struct Zlib {
  explicit Zlib(int level) {
    deflateInit2(&d, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    inflateInit2(&in, -15);
  }
  ~Zlib() {
    deflateEnd(&d);
    inflateEnd(&in);
  }
  std::size_t compress(std::string const& plain, std::string& out) {
    deflateReset(&d);
    out.resize(deflateBound(&d, plain.size()) + 8);
    d.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    d.avail_in = static_cast<uInt>(plain.size());
    d.next_out = reinterpret_cast<Bytef*>(out.data());
    d.avail_out = static_cast<uInt>(out.size());
    deflate(&d, Z_SYNC_FLUSH);
    return out.size() - d.avail_out - 4;  // without 00 00 ff ff
  }
  bool inflate_into(std::string const& packed, std::string& out) {
    inflateReset(&in);
    std::string const input = packed + std::string("\0\0\xff\xff", 4);
    in.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    in.avail_in = static_cast<uInt>(input.size());
    in.next_out = reinterpret_cast<Bytef*>(out.data());
    in.avail_out = static_cast<uInt>(out.size());
    int const r = inflate(&in, Z_SYNC_FLUSH);
    return r == Z_OK || r == Z_STREAM_END;
  }
  z_stream d{};
  z_stream in{};
};

struct Libdeflate {
  explicit Libdeflate(int level)
      : c(libdeflate_alloc_compressor(level)), d(libdeflate_alloc_decompressor()) {}
  ~Libdeflate() {
    libdeflate_free_compressor(c);
    libdeflate_free_decompressor(d);
  }
  std::size_t compress(std::string const& plain, std::string& out) {
    out.resize(libdeflate_deflate_compress_bound(c, plain.size()) + 1);
    std::size_t const n =
        libdeflate_deflate_compress(c, plain.data(), plain.size(), out.data(), out.size());
    out[n] = 0;  // an empty stored block's header bits, as RFC 7692 §7.2.3.3
    return n + 1;
  }
  bool inflate_into(std::string const& packed, std::string& out) {
    std::size_t in_used = 0, written = 0;
    return libdeflate_deflate_decompress_ex(d, packed.data(), packed.size(), out.data(), out.size(),
                                            &in_used, &written) == LIBDEFLATE_SUCCESS;
  }
  libdeflate_compressor* c;
  libdeflate_decompressor* d;
};

template <typename Lib>
void measure(char const* name, int level, std::vector<std::string> const& messages) {
  Lib lib(level);
  std::string out, back(1 << 20, '\0');
  std::size_t plain = 0, packed = 0;
  std::vector<std::string> compressed;
  for (std::string const& m : messages) {
    std::size_t const n = lib.compress(m, out);
    plain += m.size();
    packed += n;
    compressed.push_back(out.substr(0, n));
    if (!lib.inflate_into(compressed.back(), back)) std::printf("%s: inflate failed\n", name);
  }
  std::size_t const count = messages.size();
  double const c_us = median_us([&](int i) { lib.compress(messages[i % count], out); }, 2000);
  double const d_us =
      median_us([&](int i) { lib.inflate_into(compressed[i % count], back); }, 2000);
  std::printf("| %s | %d | %zu B | %.3f | %.2f | %.2f |\n", name, level, plain / count,
              static_cast<double>(packed) / static_cast<double>(plain), c_us, d_us);
}

}  // namespace

int main() {
  std::printf(
      "| library | level | message | compressed / plain | µs to compress | µs to inflate "
      "|\n|---|---|---|---|---|---|\n");
  for (std::size_t size : {128, 1024, 16384}) {
    std::mt19937 rng(7);
    std::vector<std::string> messages;
    for (int i = 0; i < 64; ++i) messages.push_back(price_update(size, rng));
    for (int level : {1, 6}) {
      measure<Zlib>("zlib 1.2.13", level, messages);
      measure<Libdeflate>("libdeflate 1.14", level, messages);
    }
  }
}
