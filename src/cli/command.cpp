#include "cli/command.h"

#include <iostream>

#include "metadial/core/error.h"

namespace metadial::cli {
namespace {

std::string& command_line_storage() {
  static std::string line;
  return line;
}

// The exit code for an error: 2 for what the user can fix (bad config, argument, storage,
// data), 1 for a failure at run time.
int exit_code_of(const Error& e) {
  const bool user_error = dynamic_cast<const ConfigError*>(&e) || dynamic_cast<const InvalidArgument*>(&e) ||
                          dynamic_cast<const StorageError*>(&e) || dynamic_cast<const DataError*>(&e);
  return user_error ? 2 : 1;
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
  for (size_t i = 0; i < children_.size(); ++i) {
    if (apps_[i]->parsed()) return children_[i]->run(out);
  }
  MD_ASSERT(false, "command group '", name_, "' ran without a parsed child");
  return 2;
}

int run_guarded(Command& command, std::ostream& out, std::ostream& err) {
  try {
    return command.run(out);
  } catch (const Error& e) {
    err << "metadial: " << e.what() << "\n";
    return exit_code_of(e);
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
    err << "metadial: " << e.what() << "\n";
    return exit_code_of(e);
  }
  std::string& line = command_line_storage();
  line = "metadial";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    line += a.find_first_of(" \t'\"") == std::string::npos ? " " + a : " '" + a + "'";
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    if (apps[i]->parsed()) return run_guarded(*commands[i], out, err);
  }
  return 2;
}

const std::string& command_line() { return command_line_storage(); }

}  // namespace metadial::cli
