// A subcommand's SettingsTable (settings/settings.hpp) on its CLI11 subcommand: every row
// becomes a flag (or a positional argument) whose help shows its default; after parsing,
// resolve() fills the options from the command line, the environment (PREFIX + NAME) and
// a config file's values, strongest first.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "settings/settings.hpp"

namespace wspush::cmd {

template <typename Options>
class CliSettings {
 public:
  using Table = SettingsTable<Options>;

  CliSettings(Table table, std::string env_prefix)
      : table_(std::move(table)), prefix_(std::move(env_prefix)) {}

  Table const& table() const { return table_; }
  std::vector<SettingInfo> describe() const { return table_.describe(prefix_); }
  std::string const& env_prefix() const { return prefix_; }

  // Adds every row to `app`, and the footer that says where else a setting may come from.
  // `example`: a setting and a value for the footer ("send-buffer", "4MiB");
  // `config_note`: how the config file names settings (serve), or "". `footer`: what
  // follows (exit codes).
  void add_to(CLI::App& app, std::pair<std::string, std::string> const& example,
              std::string const& config_note, std::string const& footer = "") {
    auto const& rows = table_.rows();
    values_.resize(rows.size());
    singles_.resize(rows.size());
    switches_.resize(rows.size());
    options_.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto const& row = rows[i];
      std::string names = row.positional() ? row.name() : "--" + row.name();
      if (row.short_name()) names = std::string("-") + row.short_name() + "," + names;
      CLI::Option* o = nullptr;
      if (row.is_switch()) {
        o = app.add_flag(names, switches_[i], row.help());
      } else if (row.repeatable()) {
        o = app.add_option(names, values_[i], row.help())->type_name(row.value_name());
        // One value an occurrence, never the words after it (a positional URL).
        if (!row.positional()) o->allow_extra_args(false);
      } else {
        o = app.add_option(names, singles_[i], row.help())->type_name(row.value_name());
      }
      if (!row.is_switch()) {
        if (row.required()) o->required();
        if (!row.default_text().empty()) o->default_str(row.default_text());
      }
      options_[i] = o;
    }
    app.footer("Settings: a flag, else the environment's " + prefix_ + "<FLAG> (e.g. " +
               environment_name(prefix_, example.first) + "=" + example.second +
               "; a repeatable flag's values separated by spaces)" + config_note +
               ", else the default." + (footer.empty() ? "" : "\n\n" + footer));
  }

  // The command line's value of one setting, else the environment's.
  std::optional<std::string> given(std::string_view name) const {
    SourceValues const line = command_line(), env = environment();
    for (SourceValues const* source : {&line, &env}) {
      auto const it = source->find(name);
      if (it != source->end() && !it->second.empty()) return it->second.back().text;
    }
    return std::nullopt;
  }

  // Fills `out` (see settings.hpp); "" or the first error.
  std::string resolve(Options& out, SourceValues const& config_file = {},
                      std::map<std::string, SettingSource, std::less<>>* sources = nullptr) const {
    return table_.resolve(out, command_line(), environment(), config_file, sources);
  }

 private:
  SourceValues command_line() const {
    SourceValues out;
    auto const& rows = table_.rows();
    for (std::size_t i = 0; i < rows.size() && i < options_.size(); ++i) {
      if (options_[i]->count() == 0) continue;
      std::string const where = rows[i].positional() ? rows[i].name() : "--" + rows[i].name();
      auto& values = out[rows[i].name()];
      if (rows[i].is_switch()) {
        values.push_back(SettingValue{"true", where});
        continue;
      }
      if (!rows[i].repeatable()) {
        values.push_back(SettingValue{singles_[i], where});
        continue;
      }
      for (std::string const& text : values_[i]) values.push_back(SettingValue{text, where});
    }
    return out;
  }

  SourceValues environment() const {
    SourceValues out;
    for (auto const& row : table_.rows()) {
      std::string const variable = environment_name(prefix_, row.name());
      if (char const* text = std::getenv(variable.c_str())) {
        out[row.name()] = environment_values(variable, text, row.repeatable());
      }
    }
    return out;
  }

  Table table_;
  std::string prefix_;
  std::vector<std::vector<std::string>> values_;  // repeatable rows'
  std::vector<std::string> singles_;
  std::vector<std::int64_t> switches_;
  std::vector<CLI::Option*> options_;
};

}  // namespace wspush::cmd
