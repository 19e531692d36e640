#include "cli/command.h"

#include <iostream>
#include <string>
#include <string_view>

#include "metadial/core/error.h"
#include "metadial/core/text.h"

namespace metadial::cli {
namespace {

std::string& command_line_storage() {
  static std::string line;
  return line;
}

// Prints one line for an error and returns its exit code: 2 for what the user can fix (bad
// config, argument, storage, data), 1 for a failure at run time.
int report(const Error& e, std::ostream& err) {
  // A message that quotes a stored name or a file's text may hold control characters: escaped, it
  // stays one line and cannot drive the terminal.
  const std::string_view what = e.what();
  err << "metadial: " << (text::has_control_character(what) ? text::escape_controls(what) : std::string(what)) << "\n";
  const bool user_error = dynamic_cast<const ConfigError*>(&e) || dynamic_cast<const InvalidArgument*>(&e) ||
                          dynamic_cast<const StorageError*>(&e) || dynamic_cast<const DataError*>(&e);
  return user_error ? 2 : 1;
}

// The command whose subcommand (apps[i] for commands[i]) was parsed; nullptr if none.
Command* parsed_command(const Commands& commands, const std::vector<CLI::App*>& apps) {
  for (size_t i = 0; i < commands.size(); ++i) {
    if (apps[i]->parsed()) return commands[i].get();
  }
  return nullptr;
}

}  // namespace

CommandGroup::CommandGroup(std::string name, std::string help, Commands children)
    : name_(std::move(name)), help_(std::move(help)), children_(std::move(children)) {}

CLI::App* CommandGroup::add_to(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand(name_, help_);
  app->require_subcommand(1);
  apps_.clear();
  for (auto& child : children_) apps_.push_back(child->add_to(*app));
  return app;
}

int CommandGroup::run(std::ostream& out) {
  Command* child = parsed_command(children_, apps_);
  MD_ASSERT(child != nullptr, "command group '", name_, "' ran without a parsed child");
  return child->run(out);
}

int run_guarded(Command& command, std::ostream& out, std::ostream& err) {
  try {
    return command.run(out);
  } catch (const Error& e) {
    return report(e, err);
  } catch (const std::exception& e) {
    err << "metadial: unexpected error: " << e.what() << "\n";
    return 1;
  }
}

int run_program(CLI::App& app, Commands& commands, int argc, const char* const* argv, std::ostream& out,
                std::ostream& err) {
  app.require_subcommand(1);
  std::vector<CLI::App*> apps;
  for (auto& c : commands) apps.push_back(c->add_to(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    err << "metadial: " << e.what() << " (see metadial --help)\n";
    return 2;
  } catch (const Error& e) {  // a flag's value refused by the library while parsing
    return report(e, err);
  }
  std::string& line = command_line_storage();
  line = "metadial";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    line += a.find_first_of(" \t'\"") == std::string::npos ? " " + a : " '" + a + "'";
  }
  Command* command = parsed_command(commands, apps);  // require_subcommand(1): one was parsed
  MD_ASSERT(command != nullptr, "no command was parsed");
  return run_guarded(*command, out, err);
}

const std::string& command_line() { return command_line_storage(); }

}  // namespace metadial::cli
