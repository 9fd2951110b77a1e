// wspush: one binary, subcommands registered from one table.
#include <iostream>
#include <stdexcept>

#include "commands.hpp"
#include "options.hpp"
#include "wspush_version.hpp"

namespace {

using wspush::cmd::Command;

std::vector<Command> all_commands() {
  return {wspush::cmd::serve_command(), wspush::cmd::client_command(),
          wspush::cmd::publish_command(), wspush::cmd::bench_command()};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wspush: a WebSocket push server with rooms, and its clients"};
  app.set_version_flag("--version",
                       std::string("wspush ") + WSPUSH_VERSION + " (commit " + WSPUSH_COMMIT + ")");
  app.require_subcommand(0, 1);
  auto* help = app.add_subcommand("help", "Show help for wspush or for one subcommand");
  std::string help_topic;
  help->add_option("subcommand", help_topic,
                   "Subcommand to describe; 'settings': every setting of every subcommand, with "
                   "its environment variable, config key and default, as JSON lines");

  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  std::string settings;  // `wspush help settings`: every subcommand's, as JSON lines
  for (Command const& command : all_commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    wspush::cmd::CommandSetup setup = command.setup(*sub);
    runners.emplace_back(sub, std::move(setup.run));
    settings += wspush::encode_setting_infos(command.name, setup.settings);
  }

  try {
    app.parse(argc, argv);
  } catch (CLI::ParseError const& e) {
    return app.exit(e) == 0 ? wspush::cmd::kExitOk : wspush::cmd::kExitUsage;
  }

  // App::help() describes the parsed subcommand ("help" itself); ask the formatter.
  auto const help_of = [&app](CLI::App* which) {
    return app.get_formatter()->make_help(which, which->get_name(), CLI::AppFormatMode::Normal);
  };
  if (help->parsed()) {
    if (help_topic.empty()) {
      std::cout << help_of(&app);
      return wspush::cmd::kExitOk;
    }
    if (help_topic == "settings") {
      std::cout << settings;
      return wspush::cmd::kExitOk;
    }
    for (auto const& [sub, run] : runners) {
      if (sub->get_name() == help_topic) {
        std::cout << help_of(sub);
        return wspush::cmd::kExitOk;
      }
    }
    return wspush::cmd::usage_error("help: unknown subcommand '" + help_topic + "'");
  }
  for (auto const& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    try {
      return run();
    } catch (std::invalid_argument const& e) {  // a configuration the user must fix
      return wspush::cmd::usage_error(sub->get_name() + ": " + e.what());
    } catch (std::exception const& e) {  // the edge: nothing escapes main
      std::cerr << "wspush " << sub->get_name() << ": " << e.what() << '\n';
      return wspush::cmd::kExitFailure;
    }
  }
  std::cerr << help_of(&app);
  return wspush::cmd::kExitUsage;
}
