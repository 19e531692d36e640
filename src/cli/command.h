// One interface for every subcommand of the `metadial` program. A Command declares itself (and
// its flags, bound straight to the Options / Args struct it owns) on the parent CLI::App, and
// runs when the user picked it. `main` holds the list of commands (make_commands()) and nothing
// else: adding a command is one class and one line there.
//
//   class BestCommand final : public Command {
//    public:
//     CLI::App* add_to(CLI::App& parent) override;   // parent.add_subcommand("best", ...) + flags
//     int run(std::ostream& out) override;            // 0 ok, 1 run-time failure
//    private:
//     ReadArgs args_;
//   };
//
// A command with sub-subcommands (dialog corpus|dst|e2e ..., meta-train hyprl|optimizer) adds
// its own subtree in add_to() and dispatches in run() on which of them was parsed.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace metadial::cli {

class Command {
 public:
  Command() = default;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;
  virtual ~Command() = default;

  /// Declares the subcommand and its flags on `parent`; returns the new subcommand. The flags
  /// are bound to members of this object, so it must outlive the parse.
  virtual CLI::App* add_to(CLI::App& parent) = 0;
  /// Runs the command after a successful parse; returns the exit code (0 ok, 1 a run that failed
  /// at run time). User errors are thrown as metadial::Error subclasses (exit 2 in run_guarded).
  virtual int run(std::ostream& out) = 0;
};

using Commands = std::vector<std::unique_ptr<Command>>;

/// A leaf subcommand whose flags are bound to an Args struct it owns: `declare` adds the flags
/// (bound to the struct's members, most often straight to a library Options struct), `run`
/// runs it. The module that owns Args provides both functions; main names the command.
template <typename Args>
class ArgsCommand final : public Command {
 public:
  using Declare = void (*)(CLI::App&, Args&);
  using Run = int (*)(const Args&, std::ostream&);
  ArgsCommand(std::string name, std::string help, Declare declare_flags, Run run_command)
      : name_(std::move(name)), help_(std::move(help)), declare_(declare_flags), run_(run_command) {}
  CLI::App* add_to(CLI::App& parent) override {
    CLI::App* app = parent.add_subcommand(name_, help_);
    declare_(*app, args_);
    return app;
  }
  int run(std::ostream& out) override { return run_(args_, out); }

 private:
  std::string name_, help_;
  Declare declare_;
  Run run_;
  Args args_;
};

/// A parent subcommand (meta-train, dialog, memn2n, online, transfer, study): one of its
/// children must be given, and run() runs the one that was parsed.
class CommandGroup final : public Command {
 public:
  CommandGroup(std::string name, std::string help, Commands children);
  CLI::App* add_to(CLI::App& parent) override;
  int run(std::ostream& out) override;

 private:
  std::string name_, help_;
  Commands children_;
  std::vector<CLI::App*> apps_;
};

/// Shorthands for the command list in main.
template <typename Args>
std::unique_ptr<Command> command(std::string name, std::string help, typename ArgsCommand<Args>::Declare declare_flags,
                                 typename ArgsCommand<Args>::Run run_command) {
  return std::make_unique<ArgsCommand<Args>>(std::move(name), std::move(help), declare_flags, run_command);
}
template <typename... C>
std::unique_ptr<Command> group(std::string name, std::string help, C&&... children) {
  Commands list;
  (list.push_back(std::forward<C>(children)), ...);
  return std::make_unique<CommandGroup>(std::move(name), std::move(help), std::move(list));
}

/// Declares every command on `app`, parses argv and runs the chosen command through
/// run_guarded(). Returns the exit code (2 for a bad command line, with one line on `err`).
int run_program(CLI::App& app, Commands& commands, int argc, const char* const* argv, std::ostream& out,
                std::ostream& err);

/// The command line of this process as the user typed it ("metadial meta-train optimizer
/// --dims 2 ..."), for model cards; set by run_program, empty when called from C++.
const std::string& command_line();

/// Runs `command`, turning an exception into one line "metadial: ..." on `err` and an exit code:
/// 2 for a user error (ConfigError, InvalidArgument, StorageError, DataError), 1 otherwise.
int run_guarded(Command& command, std::ostream& out, std::ostream& err);

}  // namespace metadial::cli
