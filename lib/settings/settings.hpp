// A subcommand's settings, declared once: one table row per setting (its name, how its
// text is read, its default and its help) drives the command line, the environment, the
// config file and --help (cmd/settings_cli.hpp binds a table to CLI11). A value comes
// from the strongest source that gives one: a flag, then the environment
// (PREFIX_NAME, e.g. WSPUSH_MAX_MESSAGE_SIZE), then the config file (name with '_',
// e.g. max_message_size), then the default.
//
// A row binds a member of the options struct: a plain value, a std::optional (unset
// unless a source gives one) or a std::vector (a repeatable setting: the strongest
// source's values replace the rest, or with combine_sources() every source adds).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/duration.hpp"

namespace wspush {

// One value as a source gave it.
struct SettingValue {
  enum class Form : std::uint8_t { text, json_string, json_number, json_bool };
  std::string text;
  std::string where;  // for errors: "--port", "WSPUSH_PORT", "port", "rooms[1]"
  Form form = Form::text;
};

enum class SettingSource : std::uint8_t { defaults, config_file, environment, command_line };

// Each source's values, by setting name.
using SourceValues = std::map<std::string, std::vector<SettingValue>, std::less<>>;

// Reads one value into a T: "" on success, else what is wrong with it.
template <typename T>
using ValueParser = std::function<std::string(SettingValue const& value, T& out)>;

namespace setting_value {
ValueParser<std::string> text();
ValueParser<std::string> one_of(std::vector<std::string> names);
ValueParser<bool> boolean();
ValueParser<std::uint64_t> whole(std::uint64_t minimum, std::uint64_t maximum);
ValueParser<double> number(double minimum, double maximum);
ValueParser<std::uint64_t> size(std::uint64_t minimum, std::uint64_t maximum);
ValueParser<Duration> duration(Duration minimum);
// A file that exists, by its name.
ValueParser<std::string> existing_file();
// Reads with `parse`, then converts the value (for enums and narrower integers).
template <typename T, typename U, typename Convert>
ValueParser<T> mapped(ValueParser<U> parse, Convert convert) {
  return [parse = std::move(parse), convert](SettingValue const& v, T& out) {
    U u{};
    std::string error = parse(v, u);
    if (error.empty()) out = convert(u);
    return error;
  };
}
template <typename T>
ValueParser<T> whole_as(std::uint64_t minimum, std::uint64_t maximum) {
  return mapped<T, std::uint64_t>(whole(minimum, maximum),
                                  [](std::uint64_t n) { return static_cast<T>(n); });
}
}  // namespace setting_value

// The environment variable of a setting: PREFIX + its name upper-cased, '-' as '_'.
std::string environment_name(std::string_view prefix, std::string_view name);
// A value from the environment: a repeatable setting's values are separated by spaces.
std::vector<SettingValue> environment_values(std::string const& variable, std::string_view text,
                                             bool repeatable);

// A row as the documentation sees it (`wspush help settings`).
struct SettingInfo {
  std::string name;
  std::string flag;         // "--port", "-n, --count", or a positional's name
  std::string environment;  // WSPUSH_PORT
  std::string config_key;   // "port"; "" when not in the config file
  std::string value_name;   // "" for a switch
  std::string default_text;
  std::string help;
  bool repeatable = false;
  bool positional = false;
};

// One JSON object a line: {"command":…,"flag":…,"environment":…,"config_key":…,…}.
std::string encode_setting_infos(std::string_view command, std::vector<SettingInfo> const& infos);

template <typename Options>
class SettingsTable {
 public:
  class Row {
   public:
    std::string const& name() const { return name_; }
    char short_name() const { return short_name_; }
    std::string const& value_name() const { return value_name_; }  // "" for a switch
    std::string const& default_text() const { return default_; }
    std::string const& help() const { return help_; }
    bool repeatable() const { return repeatable_; }
    bool positional() const { return positional_; }
    bool required() const { return required_; }
    bool is_switch() const { return switch_; }                     // given without a value: "true"
    std::string const& config_key() const { return config_key_; }  // "": not in the file
    std::vector<std::string> const& choices() const { return choices_; }

    Row& short_name(char c) { return short_name_ = c, *this; }
    Row& value_name(std::string v) { return value_name_ = std::move(v), *this; }
    Row& default_value(std::string v) { return default_ = std::move(v), *this; }
    Row& help(std::string v) { return help_ = std::move(v), *this; }
    Row& positional() { return positional_ = true, *this; }
    Row& required() { return required_ = true, *this; }
    Row& choices(std::vector<std::string> v) { return choices_ = std::move(v), *this; }
    Row& config_key(std::string key) { return config_key_ = std::move(key), *this; }
    Row& not_in_config_file() { return config_key_.clear(), *this; }
    // A yes-or-no setting given a value (--compression off) rather than as a switch.
    Row& takes_value(std::string name) {
      return switch_ = false, value_name_ = std::move(name), *this;
    }
    // Every source adds its values, weakest first; `merge(options, first)` is then told
    // where the last source's values begin (to drop what they replace).
    Row& combine_sources(std::function<void(Options&, std::size_t first)> merge) {
      return merge_ = std::move(merge), *this;
    }

   private:
    friend class SettingsTable;
    std::string name_;
    char short_name_ = 0;
    std::string value_name_;
    std::string default_;
    std::string help_;
    bool repeatable_ = false;
    bool positional_ = false;
    bool required_ = false;
    bool switch_ = false;
    std::string config_key_;
    std::vector<std::string> choices_;
    std::function<std::string(Options&, SettingValue const&)> set_;
    std::function<void(Options&)> clear_;
    std::function<std::size_t(Options&)> count_;
    std::function<void(Options&, std::size_t)> merge_;
  };

  // A setting read by `parse` into the member `field` gives (a pointer to member, or a
  // function of Options& returning a reference).
  template <typename T, typename Field>
  Row& add(std::string name, Field field, ValueParser<T> parse) {
    Row row;
    row.name_ = name;
    row.config_key_ = config_key_of(name);
    row.value_name_ = "VALUE";
    auto at = [field](Options& o) -> decltype(auto) { return access(o, field); };
    using Member = std::decay_t<decltype(at(std::declval<Options&>()))>;
    if constexpr (is_vector<Member>::value) {
      row.repeatable_ = true;
      row.set_ = [at, parse](Options& o, SettingValue const& v) {
        T t{};
        std::string error = parse(v, t);
        if (error.empty()) at(o).push_back(std::move(t));
        return error;
      };
      row.clear_ = [at](Options& o) { at(o).clear(); };
      row.count_ = [at](Options& o) { return at(o).size(); };
    } else {
      row.set_ = [at, parse](Options& o, SettingValue const& v) {
        T t{};
        std::string error = parse(v, t);
        if (error.empty()) at(o) = std::move(t);
        return error;
      };
    }
    if constexpr (std::is_same_v<T, bool>) {
      row.switch_ = true;
      row.value_name_.clear();
    }
    rows_.push_back(std::move(row));
    return rows_.back();
  }

  std::vector<Row> const& rows() const { return rows_; }

  std::vector<SettingInfo> describe(std::string_view env_prefix) const {
    std::vector<SettingInfo> out;
    for (Row const& r : rows_) {
      SettingInfo i;
      i.name = r.name();
      i.flag = r.positional() ? r.name() : "--" + r.name();
      if (r.short_name()) i.flag = std::string("-") + r.short_name() + ", " + i.flag;
      i.environment = environment_name(env_prefix, r.name());
      i.config_key = r.config_key();
      i.value_name = r.value_name();
      i.default_text = r.default_text();
      i.help = r.help();
      i.repeatable = r.repeatable();
      i.positional = r.positional();
      out.push_back(std::move(i));
    }
    return out;
  }
  Row const* find(std::string_view name) const {
    for (Row const& r : rows_) {
      if (r.name() == name) return &r;
    }
    return nullptr;
  }

  // Fills `out` from the sources, by setting the strongest source's values (see the
  // top). Returns "" or the first error, "WHERE: why".
  // `sources`, if given, is told where each setting given a value got it.
  std::string resolve(Options& out, SourceValues const& command_line,
                      SourceValues const& environment, SourceValues const& config_file,
                      std::map<std::string, SettingSource, std::less<>>* sources = nullptr) const {
    SourceValues defaults;
    for (Row const& row : rows_) {
      if (!row.default_text().empty()) {
        defaults[row.name()].push_back(
            SettingValue{row.default_text(), "default of --" + row.name()});
      }
    }
    std::array<SourceValues const*, 4> const strongest_first{&command_line, &environment,
                                                             &config_file, &defaults};
    for (Row const& row : rows_) {
      std::string error =
          row.merge_ ? combine(row, out, strongest_first) : strongest(row, out, strongest_first);
      if (!error.empty()) return error;
      if (sources) {
        for (std::size_t k = 0; k < strongest_first.size(); ++k) {
          if (values_of(row, *strongest_first[k])) {
            (*sources)[row.name()] = kStrongestFirst[k];
            break;
          }
        }
      }
    }
    return {};
  }

 private:
  static constexpr SettingSource kStrongestFirst[] = {
      SettingSource::command_line, SettingSource::environment, SettingSource::config_file,
      SettingSource::defaults};

  template <typename T>
  struct is_vector : std::false_type {};
  template <typename T, typename A>
  struct is_vector<std::vector<T, A>> : std::true_type {};

  template <typename Field>
  static decltype(auto) access(Options& o, Field const& field) {
    if constexpr (std::is_member_object_pointer_v<Field>) {
      return (o.*field);
    } else {
      return field(o);
    }
  }

  static std::string config_key_of(std::string name) {
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    return name;
  }

  static std::vector<SettingValue> const* values_of(Row const& row, SourceValues const& source) {
    auto const it = source.find(row.name());
    return it == source.end() || it->second.empty() ? nullptr : &it->second;
  }

  static std::string apply(Row const& row, Options& out, std::vector<SettingValue> const& values) {
    if (!row.repeatable() && values.size() > 1) return values[1].where + ": takes one value";
    for (SettingValue const& v : values) {
      if (std::string error = row.set_(out, v); !error.empty()) return v.where + ": " + error;
    }
    return {};
  }

  static std::string strongest(Row const& row, Options& out,
                               std::array<SourceValues const*, 4> const& sources) {
    for (SourceValues const* source : sources) {
      if (auto const* values = values_of(row, *source)) {
        if (row.clear_) row.clear_(out);
        return apply(row, out, *values);
      }
    }
    return {};
  }

  // Weakest first; the defaults only when no other source says anything.
  static std::string combine(Row const& row, Options& out,
                             std::array<SourceValues const*, 4> const& sources) {
    bool given = false;
    for (std::size_t k = sources.size() - 1; k-- > 0;) {  // file, environment, command line
      if (auto const* values = values_of(row, *sources[k])) {
        std::size_t const first = row.count_(out);
        if (std::string error = apply(row, out, *values); !error.empty()) return error;
        row.merge_(out, first);
        given = true;
      }
    }
    if (given) return {};
    if (auto const* values = values_of(row, *sources.back())) return apply(row, out, *values);
    return {};
  }

  std::vector<Row> rows_;
};

}  // namespace wspush
