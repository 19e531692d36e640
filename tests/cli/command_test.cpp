// The command layer: ArgsCommand binds flags to its Args, CommandGroup dispatches to the parsed
// child, run_program turns a bad command line and every error into one line and an exit code.
#include "cli/command.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "metadial/core/error.h"

namespace metadial::cli {
namespace {

struct EchoArgs {
  int n = 1;
  std::string what = "ok";
  std::string fail;  // "config" | "data" | "runtime" | "std" | "" (no failure)
};

void declare_echo(CLI::App& c, EchoArgs& a) {
  c.add_option("-n", a.n, "count")->capture_default_str();
  c.add_option("--what", a.what, "what to print");
  c.add_option("--fail", a.fail, "kind of error to throw");
}

int run_echo(const EchoArgs& a, std::ostream& out) {
  if (a.fail == "config") throw ConfigError("x.toml:3: unknown key 'k' in [study]");
  if (a.fail == "data") throw DataError("f.txt:2: not a number");
  if (a.fail == "runtime") throw Error("the study stopped");
  if (a.fail == "std") throw std::out_of_range("vector");
  for (int i = 0; i < a.n; ++i) out << a.what << "\n";
  return 0;
}

int run_other(const EchoArgs&, std::ostream& out) {
  out << "other\n";
  return 0;
}

struct Result {
  int code = -1;
  std::string out, err;
};

Result run(std::vector<std::string> args) {
  Commands commands;
  commands.push_back(command<EchoArgs>("echo", "print", declare_echo, run_echo));
  commands.push_back(group("grp", "a group", command<EchoArgs>("a", "first", declare_echo, run_echo),
                           command<EchoArgs>("b", "second", declare_echo, run_other)));
  args.insert(args.begin(), "metadial");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  CLI::App app{"test"};
  std::ostringstream out, err;
  Result r;
  r.code = run_program(app, commands, static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(Command, FlagsAreBoundToTheArgsAndTheCommandLineIsRecorded) {
  const Result r = run({"echo", "-n", "2", "--what", "hi there"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hi there\nhi there\n");
  EXPECT_EQ(command_line(), "metadial echo -n 2 --what 'hi there'");
}

TEST(Command, AGroupRunsTheChildThatWasParsed) {
  EXPECT_EQ(run({"grp", "b"}).out, "other\n");
  EXPECT_EQ(run({"grp", "a", "--what", "A"}).out, "A\n");
  const Result none = run({"grp"});  // a group needs one of its children
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(std::count(none.err.begin(), none.err.end(), '\n'), 1) << none.err;
}

TEST(Command, UserErrorsExitTwoAndRunTimeErrorsOneWithOneLine) {
  const Result config = run({"echo", "--fail", "config"});
  EXPECT_EQ(config.code, 2);
  EXPECT_EQ(config.err, "metadial: x.toml:3: unknown key 'k' in [study]\n");
  EXPECT_EQ(run({"echo", "--fail", "data"}).code, 2);
  const Result runtime = run({"echo", "--fail", "runtime"});
  EXPECT_EQ(runtime.code, 1);
  EXPECT_EQ(runtime.err, "metadial: the study stopped\n");
  const Result other = run({"echo", "--fail", "std"});
  EXPECT_EQ(other.code, 1);
  EXPECT_EQ(other.err, "metadial: unexpected error: vector\n");
}

TEST(Command, ABadCommandLineIsOneLineAndExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"echo", "-n", "two"}, {"nosuch"}, {"echo", "--x"}}) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args[0];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("metadial: ", 0), 0u) << r.err;
  }
}

TEST(Command, HelpGoesToOutAndExitsZero) {
  const Result r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("echo"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("grp"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace metadial::cli
