#include "settings/settings.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "common/codec.hpp"
#include "common/size.hpp"

namespace wspush {
namespace {

using Form = SettingValue::Form;

std::string range_text(std::uint64_t minimum, std::uint64_t maximum) {
  return "expected a whole number from " + std::to_string(minimum) + " to " +
         std::to_string(maximum);
}

std::optional<std::uint64_t> whole_number(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

namespace setting_value {

ValueParser<std::string> text() {
  return [](SettingValue const& v, std::string& out) -> std::string {
    if (v.form != Form::text && v.form != Form::json_string) return "expected a string";
    out = v.text;
    return {};
  };
}

ValueParser<std::string> one_of(std::vector<std::string> names) {
  return [names = std::move(names)](SettingValue const& v, std::string& out) -> std::string {
    if (v.form == Form::text || v.form == Form::json_string) {
      for (std::string const& name : names) {
        if (name == v.text) {
          out = v.text;
          return {};
        }
      }
    }
    std::string list;
    for (std::string const& name : names) list += (list.empty() ? "" : ", ") + name;
    return "unknown value '" + v.text + "' (use " + list + ")";
  };
}

ValueParser<bool> boolean() {
  return [](SettingValue const& v, bool& out) -> std::string {
    if (v.form == Form::json_number || v.form == Form::json_string) return "expected true or false";
    std::string lower;
    for (char c : v.text)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") {
      out = true;
    } else if (lower == "false" || lower == "0" || lower == "no" || lower == "off") {
      out = false;
    } else {
      return "expected true or false, not '" + v.text + "'";
    }
    return {};
  };
}

ValueParser<std::uint64_t> whole(std::uint64_t minimum, std::uint64_t maximum) {
  return [minimum, maximum](SettingValue const& v, std::uint64_t& out) -> std::string {
    auto const n =
        v.form == Form::text || v.form == Form::json_number ? whole_number(v.text) : std::nullopt;
    if (n && *n < minimum) return "must be at least " + std::to_string(minimum);
    if (!n || *n > maximum) return range_text(minimum, maximum);
    out = *n;
    return {};
  };
}

ValueParser<double> number(double minimum, double maximum) {
  return [minimum, maximum](SettingValue const& v, double& out) -> std::string {
    std::string const bad = "expected a number from " + std::to_string(minimum) + " to " +
                            std::to_string(maximum) + ", not '" + v.text + "'";
    if (v.form != Form::text && v.form != Form::json_number) return bad;
    char* end = nullptr;
    errno = 0;
    double const d = std::strtod(v.text.c_str(), &end);
    if (v.text.empty() || end != v.text.c_str() + v.text.size() || errno != 0 ||
        !std::isfinite(d) || d < minimum || d > maximum) {
      return bad;
    }
    out = d;
    return {};
  };
}

ValueParser<std::uint64_t> size(std::uint64_t minimum, std::uint64_t maximum) {
  return [minimum, maximum](SettingValue const& v, std::uint64_t& out) -> std::string {
    if (v.form == Form::json_bool) return "expected a size (65536, 64KiB, 16MiB)";
    if (std::string error = check_size(v.text, minimum, maximum); !error.empty()) return error;
    out = *parse_size(v.text).value;
    return {};
  };
}

ValueParser<Duration> duration(Duration minimum) {
  return [minimum](SettingValue const& v, Duration& out) -> std::string {
    if (std::string error = check_duration(v.text, minimum); !error.empty()) return error;
    out = *parse_duration(v.text).value;
    return {};
  };
}

ValueParser<std::string> existing_file() {
  return [](SettingValue const& v, std::string& out) -> std::string {
    std::ifstream const file(v.text);
    if (!file) return "cannot read " + v.text;
    out = v.text;
    return {};
  };
}

}  // namespace setting_value

std::string encode_setting_infos(std::string_view command, std::vector<SettingInfo> const& infos) {
  std::string out;
  for (SettingInfo const& i : infos) {
    out += encode_object({{"command", command},
                          {"name", std::string_view(i.name)},
                          {"flag", std::string_view(i.flag)},
                          {"environment", std::string_view(i.environment)},
                          {"config_key", std::string_view(i.config_key)},
                          {"value", std::string_view(i.value_name)},
                          {"default", std::string_view(i.default_text)},
                          {"repeatable", i.repeatable},
                          {"positional", i.positional},
                          {"help", std::string_view(i.help)}});
    out += '\n';
  }
  return out;
}

std::string environment_name(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  for (char c : name) {
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

std::vector<SettingValue> environment_values(std::string const& variable, std::string_view text,
                                             bool repeatable) {
  std::vector<SettingValue> out;
  if (!repeatable) {
    out.push_back(SettingValue{std::string(text), variable});
    return out;
  }
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t const start = text.find_first_not_of(" \t\n", at);
    if (start == std::string_view::npos) break;
    std::size_t const end = std::min(text.find_first_of(" \t\n", start), text.size());
    out.push_back(SettingValue{std::string(text.substr(start, end - start)), variable});
    at = end;
  }
  return out;
}

}  // namespace wspush
