#include "common/size.hpp"

#include <cmath>
#include <cstdlib>

namespace wspush {

SizeParse parse_size(std::string_view text) {
  SizeParse out;
  std::size_t digits = 0;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) {
    ++digits;
  }
  std::string const number(text.substr(0, digits));
  std::string_view const unit = text.substr(digits);
  if (number.empty() || number.front() == '.' || number.back() == '.' ||
      number.find('.') != number.rfind('.')) {
    out.error = "invalid size '" + std::string(text) + "': expected a number of bytes, e.g. " +
                "65536, 64KiB, 16MiB or 1MB";
    return out;
  }
  struct Unit {
    std::string_view name;
    double bytes;
  };
  static constexpr Unit kUnits[] = {{"", 1},         {"B", 1},           {"kB", 1e3},
                                    {"KB", 1e3},     {"MB", 1e6},        {"GB", 1e9},
                                    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
  for (Unit const& u : kUnits) {
    if (u.name != unit) continue;
    double const bytes = std::strtod(number.c_str(), nullptr) * u.bytes;
    if (bytes != std::floor(bytes) || bytes > 9.0e18) {
      out.error = "invalid size '" + std::string(text) + "': not a whole number of bytes";
      return out;
    }
    out.value = static_cast<std::uint64_t>(bytes);
    return out;
  }
  out.error = "invalid size '" + std::string(text) + "': unknown unit '" + std::string(unit) +
              "' (use B, kB, MB, GB, KiB, MiB or GiB)";
  return out;
}

std::string check_size(std::string_view text, std::uint64_t minimum, std::uint64_t maximum) {
  SizeParse const parsed = parse_size(text);
  if (!parsed.value) return parsed.error;
  if (*parsed.value < minimum || *parsed.value > maximum) {
    return "size '" + std::string(text) + "' out of range: from " + std::to_string(minimum) +
           " to " + std::to_string(maximum) + " bytes";
  }
  return {};
}

}  // namespace wspush
