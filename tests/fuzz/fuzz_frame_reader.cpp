// Client frames from arbitrary bytes, fed in pieces whose sizes the input also picks:
// the reader must never crash, read out of bounds, or buffer past its limit.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/frame_reader.hpp"

namespace {
struct Sink final : wspush::FrameSink {
  bool on_frame(wspush::InMessage const& m) override {
    volatile std::size_t n = m.payload.size() + m.close_reason.size();
    (void)n;
    return true;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t const step = 1 + data[0] % 64;
  wspush::FrameReader reader(4096);
  Sink sink;
  std::string held;
  for (std::size_t at = 1; at < size && !reader.error(); at += step) {
    held.append(reinterpret_cast<char const*>(data + at), std::min(step, size - at));
    held.erase(0, reader.consume(held, sink));
    if (held.size() > 4096 + 14 + 4096) __builtin_trap();  // more than one frame held
  }
  return 0;
}
