// RFC 3629 UTF-8 checked as it arrives: a text message's fragments are fed one by one
// and the first invalid byte is found in the fragment that holds it, not when the
// message ends. No overlong forms, no surrogates, nothing above U+10FFFF.
#pragma once

#include <cstdint>
#include <string_view>

namespace wspush {

class Utf8Stream {
 public:
  // False once any byte so far is invalid (and from then on).
  bool feed(std::string_view bytes);
  // No character left open: the text can end here.
  bool at_boundary() const { return ok_ && need_ == 0; }
  void reset() { *this = Utf8Stream{}; }

 private:
  std::uint8_t need_ = 0;               // continuation bytes still due
  std::uint8_t lo_ = 0x80, hi_ = 0xBF;  // the next continuation byte's range
  bool ok_ = true;
};

// The whole of `text` is valid UTF-8.
bool valid_utf8(std::string_view text);

}  // namespace wspush
