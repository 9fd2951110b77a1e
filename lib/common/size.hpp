// Byte sizes as written on the command line and in config files: a whole number, or a
// number with a unit — B, kB/KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of
// 1024): "65536", "64KiB", "16MiB", "1MB", "1.5MiB".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wspush {

struct SizeParse {
  std::optional<std::uint64_t> value;  // bytes, on success
  std::string error;                   // why not, otherwise empty
};

SizeParse parse_size(std::string_view text);

// Why `text` is not a size from `minimum` to `maximum` bytes; empty when it is.
std::string check_size(std::string_view text, std::uint64_t minimum, std::uint64_t maximum);

}  // namespace wspush
