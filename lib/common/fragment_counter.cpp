#include "common/fragment_counter.hpp"

#include <algorithm>

#include "common/frame_reader.hpp"

namespace wspush {

std::size_t FragmentCounter::extended_size() const {
  std::size_t const length = header_[1] & 0x7f;
  return length == 126 ? 2 : length == 127 ? 8 : 0;
}

std::size_t FragmentCounter::header_size() const {
  if (have_ < 2) return 2;
  return 2 + extended_size() + ((header_[1] & 0x80) ? 4 : 0);
}

std::size_t FragmentCounter::skip_head(std::uint8_t const* data, std::size_t n) {
  std::size_t i = 0;
  while (i < n && in_head_) {
    std::uint8_t const c = data[i++];
    if (head_at_ >= 9 && head_at_ < 12) status_[head_at_ - 9] = static_cast<char>(c);
    ++head_at_;
    last4_ = (last4_ << 8) | c;
    if (last4_ != 0x0d0a0d0a) continue;
    // A 101 is the last head; anything else (a proxy's 200) has another after it.
    in_head_ = !(status_[0] == '1' && status_[1] == '0' && status_[2] == '1');
    last4_ = 0;
    head_at_ = 0;
  }
  return i;
}

std::size_t FragmentCounter::feed(std::uint8_t const* data, std::size_t n, bool one_frame) {
  if (over_) return 0;
  std::size_t i = in_head_ ? skip_head(data, n) : 0;
  while (i < n) {
    if (skip_ > 0) {
      auto const step = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, n - i));
      skip_ -= step;
      i += step;
      if (one_frame && skip_ == 0) return i;
      continue;
    }
    std::size_t const header_start = have_ == 0 ? i : 0;  // 0: began in an earlier feed
    while (i < n && have_ < header_size()) header_[have_++] = data[i++];
    if (have_ < header_size()) break;  // the rest of the header comes later

    std::uint8_t const opcode = header_[0] & 0x0f;
    bool const fin = (header_[0] & 0x80) != 0;
    std::size_t const extended = extended_size();
    std::uint64_t length = extended > 0 ? 0 : header_[1] & 0x7f;
    for (std::size_t k = 0; k < extended; ++k) length = (length << 8) | header_[2 + k];
    have_ = 0;
    skip_ = length;
    if (opcode < 0x8) {  // control frames sit between fragments uncounted
      fragments_ = opcode == 0x0 ? fragments_ + 1 : 1;
      if (fragments_ > kMaxFragments) {
        over_ = true;
        return header_start;
      }
      if (fin) fragments_ = 0;
    }
    if (one_frame && skip_ == 0) return i;  // a frame with no payload
  }
  return n;
}

}  // namespace wspush
