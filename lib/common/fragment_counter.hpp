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
  // of the first frame over the cap (all `n` while none is); once over, returns 0. With
  // `one_frame`, it stops after the first frame that ends within them: the caller feeds
  // the rest again later.
  std::size_t feed(std::uint8_t const* data, std::size_t n, bool one_frame = false);

  bool over() const { return over_; }

  // The stream starts with HTTP heads (a proxy's answer, then the server's 101) that are
  // not frames: passed over, frames counted from the end of the 101's head.
  void after_http_head() { in_head_ = true; }

 private:
  std::size_t skip_head(std::uint8_t const* data, std::size_t n);  // bytes of head taken

  std::size_t extended_size() const;  // bytes of 16/64-bit length after the first two
  std::size_t header_size() const;

  std::uint8_t header_[14] = {};
  std::size_t have_ = 0;       // header bytes gathered so far
  std::uint64_t skip_ = 0;     // payload bytes left in the current frame
  std::size_t fragments_ = 0;  // data frames of the current message
  bool over_ = false;
  bool in_head_ = false;
  std::uint32_t last4_ = 0;  // the head's last four bytes, for its blank line
  std::size_t head_at_ = 0;  // bytes of the current head so far
  char status_[3] = {};      // its status code (bytes 9-11 of "HTTP/1.1 101")
};

}  // namespace wspush
