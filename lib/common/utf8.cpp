#include "common/utf8.hpp"

namespace wspush {

bool Utf8Stream::feed(std::string_view bytes) {
  if (!ok_) return false;
  for (char const ch : bytes) {
    unsigned const c = static_cast<unsigned char>(ch);
    if (need_ > 0) {
      if (c < lo_ || c > hi_) return ok_ = false;
      lo_ = 0x80;
      hi_ = 0xBF;
      --need_;
      continue;
    }
    if (c < 0x80) continue;
    if (c >= 0xC2 && c <= 0xDF) {
      need_ = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need_ = 2;
      if (c == 0xE0) lo_ = 0xA0;  // no overlong three-byte forms
      if (c == 0xED) hi_ = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      need_ = 3;
      if (c == 0xF0) lo_ = 0x90;  // no overlong four-byte forms
      if (c == 0xF4) hi_ = 0x8F;  // nothing above U+10FFFF
    } else {
      return ok_ = false;
    }
  }
  return true;
}

bool valid_utf8(std::string_view text) {
  Utf8Stream s;
  return s.feed(text) && s.at_boundary();
}

}  // namespace wspush
