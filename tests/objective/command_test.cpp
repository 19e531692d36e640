// Tests of CommandObjective with small shell scripts written into a temporary folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/core/interrupt.h"
#include "metadial/core/text.h"
#include "metadial/objective/command.h"

namespace metadial::objective {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

/// Records intermediate values; can throw TrialPruned at a step and run a hook on each report.
class RecordingReporter final : public Reporter {
 public:
  explicit RecordingReporter(int64_t number = 0, int64_t id = 0) : number_(number), id_(id) {}
  void report(int64_t step, double value) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      reports_.emplace_back(step, value);
    }
    if (hook) hook(step);
    if (prune_at && step >= *prune_at) throw TrialPruned("pruned at step " + std::to_string(step));
  }
  double seconds_left() const override { return seconds_left_; }
  int64_t trial_number() const override { return number_; }
  int64_t trial_id() const override { return id_; }

  std::vector<std::pair<int64_t, double>> reports() const {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }
  std::optional<int64_t> prune_at;
  std::function<void(int64_t)> hook;
  double seconds_left_ = std::numeric_limits<double>::infinity();

 private:
  int64_t number_, id_;
  mutable std::mutex mu_;
  std::vector<std::pair<int64_t, double>> reports_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// True if no live process has this pid (gone, or a zombie waiting for its reaper).
bool process_gone(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

class CommandObjectiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "metadial-command-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    interrupt::reset_for_test();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  /// Writes an executable /bin/sh script and returns its absolute path.
  std::string script(const std::string& name, const std::string& body, mode_t mode = 0755) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    ::chmod(p.c_str(), mode);
    return p.string();
  }

  Evaluation run(const CommandOptions& options, const space::Config& config = {}, int fidelity = 0) {
    CommandObjective objective(options);
    RecordingReporter reporter;
    return objective.evaluate(config, fidelity, reporter);
  }

  /// Runs and returns the error message (fails the test if nothing is thrown).
  std::string error_of(const CommandOptions& options, const space::Config& config = {}, Reporter* reporter = nullptr) {
    CommandObjective objective(options);
    RecordingReporter local;
    try {
      objective.evaluate(config, 0, reporter ? *reporter : local);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error thrown";
    return "";
  }

  fs::path dir_;
};

TEST_F(CommandObjectiveTest, ParsesValueAndCost) {
  const auto s = script("ok.sh", "echo 'some noise'\necho 'objective: 0.25'\necho 'cost: 3.5'");
  const Evaluation e = run(CommandOptions({s}));
  EXPECT_EQ(e.value, 0.25);
  EXPECT_EQ(e.cost, 3.5);
}

TEST_F(CommandObjectiveTest, WithoutCostLineChargesTheFidelitysCost) {
  const auto s = script("ok.sh", "echo 'objective: -1e-3'");
  CommandOptions o({s});
  o.with_fidelities({{"short", 1.0}, {"long", 10.0}});
  CommandObjective objective(o);
  RecordingReporter reporter;
  EXPECT_EQ(objective.evaluate({}, 1, reporter).cost, 10.0);
  EXPECT_EQ(objective.evaluate({}, 0, reporter).cost, 1.0);
  EXPECT_EQ(objective.evaluate({}, 0, reporter).value, -1e-3);
  EXPECT_THROW(objective.evaluate({}, 2, reporter), InvalidArgument);
}

TEST_F(CommandObjectiveTest, TimeCostIsTheWallSecondsTheProgramRan) {
  const auto s = script("slow.sh", "sleep 0.3\necho 'objective: 1'");
  const Evaluation e = run(CommandOptions({s}).cost_from(CommandCost::time));
  EXPECT_GE(e.cost, 0.3);  // sleep 0.3 cannot take less
  // A `cost:` line still wins.
  const auto s2 = script("slow2.sh", "echo 'objective: 1'\necho 'cost: 42'");
  EXPECT_EQ(run(CommandOptions({s2}).cost_from(CommandCost::time)).cost, 42.0);
}

TEST_F(CommandObjectiveTest, LastMatchingLineWins) {
  const auto s = script("many.sh",
                        "echo 'objective: 1'\n"
                        "echo '   objective:   2   '\n"
                        "echo 'objective:3'\n"
                        "echo 'final objective: 9'\n"  // not at the start of the line: ignored
                        "echo 'cost: 5'\necho 'cost: 6'\n"
                        "printf 'objective: 4'");  // last line without a newline
  const Evaluation e = run(CommandOptions({s}));
  EXPECT_EQ(e.value, 4.0);
  EXPECT_EQ(e.cost, 6.0);
  const auto s2 = script("many2.sh", "echo 'objective: 1'\necho 'objective: 2.5'\necho 'done'");
  EXPECT_EQ(run(CommandOptions({s2})).value, 2.5);
}

TEST_F(CommandObjectiveTest, PlaceholdersAreSubstitutedSoThatValuesRoundTrip) {
  const auto s =
      script("args.sh", "printf '%s\\n' \"$@\" > \"" + (dir_ / "args.txt").string() + "\"\necho 'objective: 0'");
  CommandOptions o({s, "--lr={lr}", "{layers}", "{act}", "{fidelity}", "{fidelity_name}", "{{literal}}", "{x}{y}",
                    "t{trial_number}/{trial_id}"});
  o.with_fidelities({{"short", 1.0}, {"long", 10.0}});
  CommandObjective objective(o);
  RecordingReporter reporter(7, 42);
  const double x = 0.1 + 0.2;  // 0.30000000000000004: needs 17 digits
  objective.evaluate({{"lr", 1e-5}, {"layers", int64_t{3}}, {"act", std::string("relu")}, {"x", x}, {"y", 0.5}}, 1,
                     reporter);
  std::vector<std::string> args;
  std::istringstream in(read_file(dir_ / "args.txt"));
  for (std::string line; std::getline(in, line);) args.push_back(line);
  ASSERT_EQ(args.size(), 8u);
  EXPECT_EQ(args[0], "--lr=1e-05");
  EXPECT_EQ(args[1], "3");
  EXPECT_EQ(args[2], "relu");
  EXPECT_EQ(args[3], "1");
  EXPECT_EQ(args[4], "long");
  EXPECT_EQ(args[5], "{literal}");
  EXPECT_EQ(args[6], "0.300000000000000040.5");
  EXPECT_EQ(args[7], "t7/42");
  EXPECT_EQ(std::strtod("0.30000000000000004", nullptr), x);
  // expand() gives the same without running anything; plain numbers stay short.
  EXPECT_THAT(CommandObjective(CommandOptions({"p", "{a}", "{b}"})).expand({{"a", 0.1}, {"b", 2.0}}, 0, 0, 0),
              ElementsAre("p", "0.1", "2"));
}

TEST_F(CommandObjectiveTest, UnknownPlaceholderIsRejected) {
  space::SearchSpace space;
  space.add_float("lr", 1e-5, 1e-1, true);
  // With a space: at construction, naming the placeholder and the parameters.
  try {
    CommandObjective(CommandOptions({"train", "--lr", "{learning_rate}"}), space);
    FAIL() << "unknown placeholder accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("placeholder '{learning_rate}'"));
    EXPECT_THAT(e.what(), HasSubstr("parameters: lr"));
  }
  EXPECT_NO_THROW(CommandObjective(CommandOptions({"train", "{lr}", "{fidelity}"}), space));
  // Without one: at evaluation.
  const auto s = script("ok.sh", "echo 'objective: 1'");
  CommandObjective objective(CommandOptions({s, "{learning_rate}"}));
  RecordingReporter reporter;
  try {
    objective.evaluate({{"lr", 0.1}}, 0, reporter);
    FAIL() << "unknown placeholder accepted at evaluation";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("placeholder '{learning_rate}' is not a parameter of the configuration"));
  }
  // Malformed templates.
  EXPECT_THROW(CommandObjective(CommandOptions({"train", "{lr"})), InvalidArgument);
  EXPECT_THROW(CommandObjective(CommandOptions({"train", "{}"})), InvalidArgument);
  EXPECT_THROW(CommandObjective(CommandOptions(std::vector<std::string>{})), InvalidArgument);
  EXPECT_THROW(CommandObjective(CommandOptions({"train"}).timeout(0)), InvalidArgument);
  EXPECT_THROW(CommandObjective(CommandOptions({"train"}).with_fidelities({})), InvalidArgument);
  EXPECT_THROW(CommandObjective(CommandOptions({"train"}).set_env("A=B", "1")), InvalidArgument);
}

TEST_F(CommandObjectiveTest, EnvironmentCarriesTrialAndFidelity) {
  const auto out = (dir_ / "env.txt").string();
  const auto s = script("env.sh",
                        "echo \"$METADIAL_TRIAL_ID $METADIAL_TRIAL_NUMBER $METADIAL_FIDELITY "
                        "$METADIAL_FIDELITY_NAME $MY_VAR $HOME\" > \"" +
                            out + "\"\necho 'objective: 0'");
  CommandOptions o({s});
  o.with_fidelities({{"a", 1.0}, {"b", 2.0}, {"c", 3.0}}).set_env("MY_VAR", "hello world");
  CommandObjective objective(o);
  RecordingReporter reporter(5, 1234);
  objective.evaluate({}, 2, reporter);
  const char* home = std::getenv("HOME");
  EXPECT_EQ(read_file(out), std::string("1234 5 2 c hello world ") + (home ? home : "") + "\n");
}

TEST_F(CommandObjectiveTest, LogsAreWrittenPerTrial) {
  const auto s = script("logs.sh", "echo 'to stdout'\necho 'to stderr' >&2\necho 'objective: 1'");
  const auto logs = dir_ / "trial-logs";
  CommandObjective objective(CommandOptions({s}).logs(logs.string()));
  RecordingReporter reporter(7, 70);
  objective.evaluate({}, 0, reporter);
  EXPECT_EQ(read_file(logs / "trial-7.out"), "to stdout\nobjective: 1\n");
  EXPECT_EQ(read_file(logs / "trial-7.err"), "to stderr\n");
}

TEST_F(CommandObjectiveTest, WorkingDirectoryResolvesRelativeProgram) {
  script("here.sh", "echo \"objective: 1\"\npwd > pwd.txt");
  const Evaluation e = run(CommandOptions({"./here.sh"}).cwd(dir_.string()));
  EXPECT_EQ(e.value, 1.0);
  EXPECT_EQ(fs::canonical(fs::path(read_file(dir_ / "pwd.txt").substr(0, read_file(dir_ / "pwd.txt").size() - 1))),
            fs::canonical(dir_));
}

// A folder that can only fail at trial time fails before the first trial, naming the key.
TEST_F(CommandObjectiveTest, FoldersAreCheckedAtConstruction) {
  const auto s = script("ok.sh", "echo 'objective: 1'");
  try {
    CommandObjective(CommandOptions({s}).cwd((dir_ / "nope").string()));
    FAIL() << "a missing working_dir was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("working_dir '" + (dir_ / "nope").string() + "' is not a folder"));
  }
  std::ofstream(dir_ / "a-file") << "x";
  try {
    CommandObjective(CommandOptions({s}).logs((dir_ / "a-file" / "logs").string()));
    FAIL() << "a log_dir that cannot be created was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("log_dir '" + (dir_ / "a-file" / "logs").string() + "' cannot be created"));
  }
  EXPECT_THROW(CommandObjective(CommandOptions({s}).logs((dir_ / "a-file").string())), InvalidArgument);
  EXPECT_THROW(CommandObjective(CommandOptions({s}).log_limit(-1)), InvalidArgument);
  // A missing log_dir that can be made is made at once.
  CommandObjective objective(CommandOptions({s}).logs((dir_ / "new" / "logs").string()));
  EXPECT_TRUE(fs::is_directory(dir_ / "new" / "logs"));
}

TEST_F(CommandObjectiveTest, PlantedSymlinkOrHardLinkInLogDirFailsTheTrialAndIsNotFollowed) {
  const auto s = script("ok.sh", "echo 'objective: 1'\necho 'overwritten' >&2");
  const auto logs = dir_ / "logs";
  fs::create_directories(logs);
  const auto victim = dir_ / "victim.txt";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, logs / "trial-0.out");
  const std::string msg = error_of(CommandOptions({s}).logs(logs.string()));
  EXPECT_THAT(msg, HasSubstr("trial 0: the log '" + (logs / "trial-0.out").string() + "' is a symbolic link"));
  EXPECT_EQ(read_file(victim), "precious\n");
  // A dangling symlink is not followed either (O_CREAT would create its target).
  fs::create_symlink(dir_ / "would-be-created", logs / "trial-1.err");
  CommandObjective objective(CommandOptions({s}).logs(logs.string()));
  RecordingReporter one(1, 1);
  EXPECT_THROW(objective.evaluate({}, 0, one), Error);
  EXPECT_FALSE(fs::exists(dir_ / "would-be-created"));
  // A hard link to another file is refused, not truncated.
  fs::create_hard_link(victim, logs / "trial-2.err");
  RecordingReporter two(2, 2);
  try {
    objective.evaluate({}, 0, two);
    FAIL() << "a hard-linked log was written";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("a file with other hard links"));
  }
  EXPECT_EQ(read_file(victim), "precious\n");
}

TEST_F(CommandObjectiveTest, OldLogOfAnEarlierRunIsReplaced) {
  const auto s = script("ok.sh", "echo 'objective: 1'");
  const auto logs = dir_ / "logs";
  fs::create_directories(logs);
  std::ofstream(logs / "trial-0.out") << "an old, longer log of an earlier run\n";
  EXPECT_EQ(run(CommandOptions({s}).logs(logs.string())).value, 1.0);
  EXPECT_EQ(read_file(logs / "trial-0.out"), "objective: 1\n");
  EXPECT_EQ(read_file(logs / "trial-0.err"), "");
}

TEST_F(CommandObjectiveTest, LogKeepsItsTailPastLogMaxBytes) {
  // 20,000 lines of 11-12 bytes on each stream (about 230 kB), through a 8 kB cap.
  const auto s = script("chatty.sh",
                        "i=0; while [ $i -lt 20000 ]; do echo \"line $i\"; i=$((i+1)); done | tee /dev/stderr\n"
                        "echo 'objective: 5'");
  const auto logs = dir_ / "logs";
  EXPECT_EQ(run(CommandOptions({s}).logs(logs.string()).log_limit(8192)).value, 5.0);
  for (const char* ext : {".out", ".err"}) {
    const std::string log = read_file(logs / (std::string("trial-0") + ext));
    const size_t first_nl = log.find('\n');
    ASSERT_NE(first_nl, std::string::npos);
    const std::string header = log.substr(0, first_nl);
    const std::string body = log.substr(first_nl + 1);
    EXPECT_THAT(header, HasSubstr("[metadial: log_max_bytes = 8192: the first "));
    EXPECT_THAT(header, HasSubstr(" bytes of this log were dropped"));
    EXPECT_LE(body.size(), 8192u) << ext;
    EXPECT_GE(body.size(), 4096u - 64u) << ext;
    EXPECT_EQ(body.rfind("line ", 0), 0u) << ext << ": the tail starts at a line";
    // The dropped count and the kept tail add up to everything the program wrote.
    const std::string last = std::string(ext) == ".out" ? "line 19999\nobjective: 5\n" : "line 19999\n";
    EXPECT_EQ(body.substr(body.size() - last.size()), last) << ext;
    size_t total = last.size() - std::string("line 19999\n").size();
    for (int i = 0; i < 20000; ++i) total += ("line " + std::to_string(i) + "\n").size();
    const size_t dropped = std::stoul(header.substr(header.find("the first ") + 10));
    EXPECT_EQ(dropped + body.size(), total) << ext;
  }
  // Under the cap, the log is the output exactly; 0 is no cap.
  const auto small = script("small.sh", "echo 'objective: 1'");
  run(CommandOptions({small}).logs((dir_ / "l2").string()).log_limit(0));
  EXPECT_EQ(read_file(dir_ / "l2" / "trial-0.out"), "objective: 1\n");
}

TEST_F(CommandObjectiveTest, InvalidUtf8FromTheProgramIsQuotedAsValidUtf8) {
  const auto s = script("bad.sh", "printf 'bad \\377\\376 bytes \\303\\251t\\303\\251\\n' >&2\nexit 1");
  const std::string msg = error_of(CommandOptions({s}));
  EXPECT_THAT(msg, HasSubstr("exited with status 1: bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \xC3\xA9t\xC3\xA9"));
  EXPECT_EQ(text::valid_utf8(msg), msg);
  const auto s2 = script("bad2.sh", "printf 'objective: \\377\\n'");
  const std::string msg2 = error_of(CommandOptions({s2}));
  EXPECT_THAT(msg2, HasSubstr("non-numeric objective '\xEF\xBF\xBD'"));
  EXPECT_EQ(text::valid_utf8(msg2), msg2);
}

// An interrupt (here requested as a test; Ctrl-C in the program) stops the whole process group
// of the running program and fails the trial, naming the signal.
TEST_F(CommandObjectiveTest, InterruptStopsTheProgramAndFailsTheTrial) {
  const auto pidfile = (dir_ / "grandchild.pid").string();
  const auto started = (dir_ / "started").string();
  const auto s = script("long.sh", "sleep 100 &\necho $! > \"" + pidfile + "\"\ntouch \"" + started +
                                       "\"\nsleep 100\necho 'objective: 1'");
  std::thread requester([&] {
    for (int i = 0; i < 1000 && !fs::exists(started); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    interrupt::request_for_test(SIGTERM);
  });
  const auto start = std::chrono::steady_clock::now();
  const std::string msg = error_of(CommandOptions({s}).logs((dir_ / "logs").string()));
  requester.join();
  EXPECT_THAT(msg, HasSubstr("trial 0: interrupted by SIGTERM (command '" + s + "' stopped)"));
  EXPECT_THAT(msg, HasSubstr("log: " + (dir_ / "logs" / "trial-0.err").string()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));  // not the 100 s sleep
  const std::string grandchild = read_file(pidfile).substr(0, read_file(pidfile).find('\n'));
  ASSERT_FALSE(grandchild.empty());
  for (int i = 0; i < 100 && !process_gone(grandchild); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(process_gone(grandchild)) << "grandchild " << grandchild << " survived";
}

TEST_F(CommandObjectiveTest, InterruptEscalatesToSigkillWhenSigtermIsIgnored) {
  const auto started = (dir_ / "started").string();
  const auto s = script("stubborn.sh", "trap '' TERM\ntouch \"" + started + "\"\nsleep 100");
  std::thread requester([&] {
    for (int i = 0; i < 1000 && !fs::exists(started); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    interrupt::request_for_test(SIGHUP);
  });
  const std::string msg = error_of(CommandOptions({s}));
  requester.join();
  EXPECT_THAT(msg, HasSubstr("interrupted by SIGHUP"));
}

TEST_F(CommandObjectiveTest, NoProgramStartsAfterAnInterrupt) {
  const auto marker = dir_ / "ran";
  const auto s = script("mark.sh", "touch \"" + marker.string() + "\"\necho 'objective: 1'");
  interrupt::request_for_test(SIGINT);
  EXPECT_THAT(error_of(CommandOptions({s})), HasSubstr("trial 0: interrupted by SIGINT before the command started"));
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(CommandObjectiveTest, MissingProgramIsReportedAsNotFound) {
  EXPECT_EQ(error_of(CommandOptions({"./does-not-exist.sh"})), "trial 0: command './does-not-exist.sh' not found");
  EXPECT_THAT(error_of(CommandOptions({"metadial-no-such-program-xyz"})),
              HasSubstr("command 'metadial-no-such-program-xyz' not found"));
  // A shell that cannot find a command exits with 127.
  const auto s = script("inner.sh", "metadial_no_such_command_xyz");
  const std::string msg = error_of(CommandOptions({s}));
  EXPECT_THAT(msg, HasSubstr("exited with status 127 (command not found)"));
  EXPECT_THAT(msg, HasSubstr("metadial_no_such_command_xyz"));
  const auto plain = script("plain.sh", "echo 'objective: 1'", 0644);
  EXPECT_THAT(error_of(CommandOptions({plain})), HasSubstr("is not executable"));
}

TEST_F(CommandObjectiveTest, CrashIsReportedWithTheSignal) {
  const auto s = script("crash.sh", "echo 'objective: 1'\nkill -SEGV $$");
  const std::string msg = error_of(CommandOptions({s}).logs((dir_ / "logs").string()), {}, nullptr);
  EXPECT_THAT(msg, HasSubstr("trial 0: command '" + s + "' was killed by signal 11 (SIGSEGV"));
  EXPECT_THAT(msg, HasSubstr("log: " + (dir_ / "logs" / "trial-0.err").string()));
}

TEST_F(CommandObjectiveTest, NonZeroExitIsReportedWithTheLastStderrLine) {
  const auto s = script("fail.sh", "echo 'objective: 1'\necho 'loading' >&2\necho 'bad lr: -1' >&2\necho >&2\nexit 3");
  EXPECT_EQ(error_of(CommandOptions({s})), "trial 0: command '" + s + "' exited with status 3: bad lr: -1");
}

TEST_F(CommandObjectiveTest, MissingResultLineIsAnError) {
  const auto s = script("quiet.sh", "echo 'loss: 0.5'\necho 'objective: 1' >&2");
  EXPECT_THAT(error_of(CommandOptions({s})), HasSubstr("printed no 'objective: <number>' line on stdout"));
}

TEST_F(CommandObjectiveTest, NonNumericValuesAreErrors) {
  const auto s = script("garbage.sh", "echo 'objective: 0.5'\necho 'objective: abc'");
  EXPECT_THAT(error_of(CommandOptions({s})), HasSubstr("printed a non-numeric objective 'abc'"));
  const auto s2 = script("garbage2.sh", "echo 'objective: 1.5x'");
  EXPECT_THAT(error_of(CommandOptions({s2})), HasSubstr("non-numeric objective '1.5x'"));
  const auto s3 = script("badcost.sh", "echo 'objective: 1'\necho 'cost: -2'");
  EXPECT_THAT(error_of(CommandOptions({s3})), HasSubstr("printed a bad cost '-2'"));
  const auto s4 = script("badinter.sh", "echo 'intermediate: one 0.5'\necho 'objective: 1'");
  EXPECT_THAT(error_of(CommandOptions({s4})), HasSubstr("malformed line 'intermediate: one 0.5'"));
}

TEST_F(CommandObjectiveTest, TimeoutKillsTheWholeProcessGroup) {
  const auto pidfile = (dir_ / "grandchild.pid").string();
  const auto s = script("hang.sh", "sleep 100 &\necho $! > \"" + pidfile + "\"\necho 'objective: 1'\nsleep 100");
  const auto logs = dir_ / "trial-logs";
  CommandObjective objective(CommandOptions({s}).timeout(0.5).logs(logs.string()));
  RecordingReporter reporter(3, 30);
  const auto start = std::chrono::steady_clock::now();
  try {
    objective.evaluate({}, 0, reporter);
    FAIL() << "no timeout";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "trial 3: command timed out after 0.5 s (" + s + "); log: " + (logs / "trial-3.err").string());
  }
  // It did not wait for `sleep 100` (a correctness bound, far from any timing noise).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  const std::string grandchild = read_file(pidfile).substr(0, read_file(pidfile).find('\n'));
  ASSERT_FALSE(grandchild.empty());
  // The background sleep (a grandchild) was killed too; give init a moment to reap it.
  for (int i = 0; i < 100 && !process_gone(grandchild); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(process_gone(grandchild)) << "grandchild " << grandchild << " survived";
}

TEST_F(CommandObjectiveTest, TimeoutEscalatesToSigkillWhenSigtermIsIgnored) {
  const auto s = script("stubborn.sh", "trap '' TERM\nsleep 100");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(error_of(CommandOptions({s}).timeout(0.2)), HasSubstr("timed out after 0.2 s"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST_F(CommandObjectiveTest, TrialDeadlineFromReporterIsRespected) {
  const auto s = script("hang.sh", "sleep 100");
  RecordingReporter reporter;
  reporter.seconds_left_ = 0.2;
  EXPECT_THAT(error_of(CommandOptions({s}).timeout(1000), {}, &reporter),
              HasSubstr("ran past the trial's deadline after 0.2 s"));
}

TEST_F(CommandObjectiveTest, IntermediateValuesAreForwardedInOrderWhileRunning) {
  // The script waits (at most 10 s) for a file that the reporter creates when step 1 arrives:
  // it only prints objective 1 if the report came while it was still running.
  const auto flag = (dir_ / "seen-step-1").string();
  const auto s = script("steps.sh",
                        "echo 'intermediate: 1 0.5'\n"
                        "i=0; while [ ! -e \"" +
                            flag +
                            "\" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done\n"
                            "echo '  intermediate: 2 0.25'\necho 'intermediate: 10 -1e-2'\n"
                            "if [ -e \"" +
                            flag + "\" ]; then echo 'objective: 1'; else echo 'objective: 0'; fi");
  CommandObjective objective(CommandOptions({s}));
  RecordingReporter reporter;
  reporter.hook = [&](int64_t step) {
    if (step == 1) std::ofstream(flag) << "x";
  };
  EXPECT_EQ(objective.evaluate({}, 0, reporter).value, 1.0);
  EXPECT_THAT(reporter.reports(), ElementsAre(Pair(1, 0.5), Pair(2, 0.25), Pair(10, -0.01)));
}

TEST_F(CommandObjectiveTest, PruningStopsTheProgram) {
  const auto s = script("long.sh",
                        "echo 'intermediate: 1 0.9'\necho 'intermediate: 2 0.8'\nsleep 100\n"
                        "echo 'objective: 0.1'");
  CommandObjective objective(CommandOptions({s}));
  RecordingReporter reporter;
  reporter.prune_at = 2;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(objective.evaluate({}, 0, reporter), TrialPruned);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(reporter.reports().size(), 2u);
}

TEST_F(CommandObjectiveTest, APrunedTrialCostsItsLastCostLineElseItsTimeOrItsFidelitysCost) {
  auto pruned_cost = [](CommandObjective& objective, int fidelity) -> std::optional<double> {
    RecordingReporter reporter;
    reporter.prune_at = 2;
    try {
      objective.evaluate({}, fidelity, reporter);
    } catch (const TrialPruned& e) {
      return e.cost();
    }
    return std::nullopt;
  };
  const std::vector<Fidelity> fidelities = {{"short", 3.0}, {"long", 30.0}};
  const auto with_cost = script("with_cost.sh",
                                "echo 'intermediate: 1 0.9'\necho 'cost: 0.25'\necho 'intermediate: 2 0.8'\n"
                                "sleep 100\necho 'objective: 0.1'");
  CommandObjective a(CommandOptions({with_cost}).with_fidelities(fidelities));
  EXPECT_EQ(pruned_cost(a, 1), 0.25);

  const auto without = script("without.sh",
                              "echo 'intermediate: 1 0.9'\necho 'intermediate: 2 0.8'\nsleep 100\n"
                              "echo 'objective: 0.1'");
  CommandObjective b(CommandOptions({without}).with_fidelities(fidelities));
  EXPECT_EQ(pruned_cost(b, 1), 30.0);
  CommandObjective c(CommandOptions({without}).cost_from(CommandCost::time));
  const std::optional<double> seconds = pruned_cost(c, 0);
  ASSERT_TRUE(seconds.has_value());
  EXPECT_GE(*seconds, 0.0);
  EXPECT_LT(*seconds, 30.0);
}

TEST_F(CommandObjectiveTest, ConcurrentEvaluationsRunConcurrentProcesses) {
  // Each run marks its start, then waits (at most 5 s) until all 4 have started: the objective is
  // x when they overlapped, -1 otherwise.
  const auto marks = dir_ / "marks";
  fs::create_directories(marks);
  const auto s =
      script("conc.sh", "touch \"" + marks.string() +
                            "/$METADIAL_TRIAL_NUMBER\"\n"
                            "i=0; while [ $(ls \"" +
                            marks.string() +
                            "\" | wc -l) -lt 4 ] && [ $i -lt 500 ]; do "
                            "sleep 0.01; i=$((i+1)); done\n"
                            "if [ $(ls \"" +
                            marks.string() +
                            "\" | wc -l) -ge 4 ]; then echo \"objective: $1\"; "
                            "else echo 'objective: -1'; fi\necho \"intermediate: $METADIAL_TRIAL_NUMBER $1\"");
  CommandObjective objective(CommandOptions({s, "{x}"}).logs((dir_ / "logs").string()));
  std::vector<double> values(4, 0.0);
  std::vector<std::vector<std::pair<int64_t, double>>> reports(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RecordingReporter reporter(t, 100 + t);
      values[static_cast<size_t>(t)] = objective.evaluate({{"x", 0.5 * t}}, 0, reporter).value;
      reports[static_cast<size_t>(t)] = reporter.reports();
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(values[static_cast<size_t>(t)], 0.5 * t) << "thread " << t;
    EXPECT_THAT(reports[static_cast<size_t>(t)], ElementsAre(Pair(t, 0.5 * t)));
    EXPECT_TRUE(fs::exists(dir_ / "logs" / ("trial-" + std::to_string(t) + ".out")));
  }
}

TEST(CommandOptionsJson, ReadsEveryKeyAndRejectsUnknownOnes) {
  const auto j = nlohmann::json::parse(R"({
    "command": ["./train.sh", "--lr", "{lr}"], "timeout_s": 60, "log_dir": "logs", "log_max_bytes": 1000,
    "working_dir": "/tmp",
    "fidelities": [{"name": "short", "cost": 1}, {"name": "long", "cost": 10}],
    "env": {"CUDA_VISIBLE_DEVICES": "0"}, "cost": "time"})");
  const CommandOptions o = command_options_from_json(j);
  EXPECT_THAT(o.argv, ElementsAre("./train.sh", "--lr", "{lr}"));
  EXPECT_EQ(o.timeout_s, 60.0);
  EXPECT_EQ(o.log_dir, "logs");
  EXPECT_EQ(o.log_max_bytes, 1000);
  EXPECT_EQ(CommandOptions().log_max_bytes, 10 * 1024 * 1024);
  EXPECT_EQ(o.working_dir, "/tmp");
  ASSERT_EQ(o.fidelities.size(), 2u);
  EXPECT_EQ(o.fidelities[1].name, "long");
  EXPECT_EQ(o.fidelities[1].cost, 10.0);
  EXPECT_EQ(o.env.at("CUDA_VISIBLE_DEVICES"), "0");
  EXPECT_EQ(o.cost, CommandCost::time);
  try {
    command_options_from_json({{"command", {"x"}}, {"timeout", 5}});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("command objective: unknown key 'timeout' in [objective]"));
    EXPECT_THAT(e.what(), HasSubstr("timeout_s"));
  }
  EXPECT_THROW(command_options_from_json(nlohmann::json::object()), InvalidArgument);
  EXPECT_THROW(command_options_from_json({{"command", "./train.sh"}}), InvalidArgument);
  EXPECT_THROW(command_options_from_json({{"command", {"x"}}, {"cost", "money"}}), InvalidArgument);
  EXPECT_THROW(command_options_from_json({{"command", {"x"}}, {"log_max_bytes", -1}}), InvalidArgument);
  EXPECT_THROW(command_options_from_json({{"command", {"x"}}, {"log_max_bytes", 1.5}}), InvalidArgument);

  ObjectiveRegistry registry;
  register_command_objective(registry);
  auto obj = registry.create("command", {{"command", {"x", "{a}"}}});
  EXPECT_EQ(obj->name(), "command");
}

}  // namespace
}  // namespace metadial::objective

namespace metadial::objective {
namespace {

TEST(CommandExample, QuadraticScriptReportsStepsAndTheQuadratic) {
  const std::string script = std::string(METADIAL_SOURCE_DIR) + "/examples/scripts/quadratic.sh";
  CommandObjective objective(CommandOptions({script, "--x", "{x}", "--y", "{y}"}));
  RecordingReporter reporter;
  // (0.5 - 0.3)^2 + (0.2 + 0.1)^2 = 0.04 + 0.09 = 0.13 by hand.
  EXPECT_NEAR(objective.evaluate({{"x", 0.5}, {"y", 0.2}}, 0, reporter).value, 0.13, 1e-12);
  const auto reports = reporter.reports();
  ASSERT_EQ(reports.size(), 5u);
  EXPECT_EQ(reports.front().first, 1);
  EXPECT_NEAR(reports.front().second, 1.13, 1e-12);
  EXPECT_NEAR(reports.back().second, 0.13 + 0.2, 1e-12);
  RecordingReporter r2;
  EXPECT_NEAR(objective.evaluate({{"x", 0.3}, {"y", -0.1}}, 0, r2).value, 0.0, 1e-15);
}

}  // namespace
}  // namespace metadial::objective
