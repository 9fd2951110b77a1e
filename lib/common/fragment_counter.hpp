// Watches a stream of frames for a message in more than kMaxFragments pieces, reading
// only frame headers. The clients use it in front of websocketpp, which assembles
// fragments without a count; the server's FrameReader counts on its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wspush {

class FragmentCounter {
 public:
  // Feeds the next `n` bytes of the stream. Returns how many of them precede the header
  // of the first frame over the cap (all `n` while none is); once over, returns 0.
  std::size_t feed(std::uint8_t const* data, std::size_t n);

  bool over() const { return over_; }

 private:
  std::size_t extended_size() const;  // bytes of 16/64-bit length after the first two
  std::size_t header_size() const;

  std::uint8_t header_[14] = {};
  std::size_t have_ = 0;       // header bytes gathered so far
  std::uint64_t skip_ = 0;     // payload bytes left in the current frame
  std::size_t fragments_ = 0;  // data frames of the current message
  bool over_ = false;
};

}  // namespace wspush
