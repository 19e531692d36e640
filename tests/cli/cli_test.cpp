// End-to-end tests of the `metadial` program: the real binary, run as a user would.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/optim/random_sampler.h"
#include "metadial/storage/storage.h"
#include "metadial/study/study.h"
#include "support/binary_test.h"

namespace fs = std::filesystem;

namespace {

using Result = metadial::testing::CliResult;
using metadial::testing::last_line;
using metadial::testing::slurp;

using Cli = metadial::testing::BinaryTest;

const char* kQuadScript = R"SH(#!/bin/sh
# usage: quad.sh X Y [SLEEP]
[ -n "$3" ] && sleep "$3"
echo "objective: $(awk -v x="$1" -v y="$2" 'BEGIN { printf "%.17g", (x-0.3)^2 + (y+0.1)^2 }')"
)SH";

std::string quad_config(const std::string& extra_study, const std::string& sleep = "") {
  return "[study]\nsampler = \"random\"\n" + extra_study + "\n[objective]\ncommand = [\"./quad.sh\", \"{x}\", \"{y}\"" +
         (sleep.empty() ? "" : ", \"" + sleep + "\"") +
         "]\n[space.x]\ntype = \"float\"\nlow = -1.0\nhigh = 1.0\n[space.y]\ntype = \"float\"\nlow = -1.0\nhigh = 1.0\n";
}

TEST_F(Cli, TuneBraninPrintsASummaryAndAJsonLastLine) {
  const std::string cfg = std::string(METADIAL_SOURCE_DIR) + "/examples/branin_gp.toml";
  const Result r = run("tune " + cfg + " --storage sqlite:b.db --sampler random --trials 12 --seed 3 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(last_line(r.out));
  for (const char* key : {"study", "sampler", "n_trials", "n_complete", "n_failed", "best_value", "best_params",
                          "best_trial", "total_cost", "wall_seconds"}) {
    EXPECT_TRUE(j.contains(key)) << key << " in " << j.dump();
  }
  EXPECT_EQ(j["study"], "branin-gp");
  EXPECT_EQ(j["sampler"], "random");
  EXPECT_EQ(j["n_complete"], 12);
  EXPECT_EQ(j["n_failed"], 0);
  EXPECT_GE(j["best_value"].get<double>(), 0.397887 - 1e-6);
  EXPECT_NE(r.out.find("best params"), std::string::npos) << r.out;

  // Same seed, fresh storage: same numbers.
  const Result again = run("tune " + cfg + " --storage sqlite:c.db --sampler random --trials 12 --seed 3 --json");
  const auto j2 = nlohmann::json::parse(last_line(again.out));
  EXPECT_EQ(j2["best_value"], j["best_value"]);
  EXPECT_EQ(j2["best_params"], j["best_params"]);

  const Result trials = run("trials --storage sqlite:b.db --csv");
  ASSERT_EQ(trials.code, 0) << trials.err;
  EXPECT_EQ(std::count(trials.out.begin(), trials.out.end(), '\n'), 13) << trials.out;
  EXPECT_EQ(trials.out.rfind("number,state,value,fidelity,cost,seconds,x0,x1,reason", 0), 0u) << trials.out;

  const Result best = run("best --storage sqlite:b.db --json");
  ASSERT_EQ(best.code, 0) << best.err;
  EXPECT_EQ(nlohmann::json::parse(best.out)["best_value"], j["best_value"]);
}

TEST_F(Cli, ConfigErrorsExitTwoWithOneLineNamingFileLineAndKey) {
  write("unknown.toml", "[study]\ntrials = 3\nsamplr = \"gp\"\n[objective]\nfunction = \"branin\"\n");
  expect_user_error(run("tune unknown.toml --storage memory"), {"unknown.toml:3:", "samplr"});
  write("type.toml", "[study]\ntrials = \"3\"\n[objective]\nfunction = \"branin\"\n");
  expect_user_error(run("tune type.toml --storage memory"), {"type.toml:2:", "trials"});
  write("bounds.toml", "[objective]\ncommand = [\"x\"]\n[space.lr]\ntype = \"float\"\nlow = 1\nhigh = 0.5\n");
  expect_user_error(run("tune bounds.toml --storage memory"), {"bounds.toml:3:", "'lr'", "low"});
  write("log.toml", "[objective]\ncommand = [\"x\"]\n[space.lr]\ntype = \"float\"\nlow = 0\nhigh = 1\nlog = true\n");
  expect_user_error(run("tune log.toml --storage memory"), {"log.toml:3:", "'lr'", "log"});
  write("sampler.toml", "[study]\nsampler = \"magic\"\n[objective]\nfunction = \"branin\"\n");
  expect_user_error(run("tune sampler.toml --storage memory"), {"sampler.toml", "magic", "gp"});
  write("objective.toml", "[objective]\nfunction = \"branon\"\n");
  expect_user_error(run("tune objective.toml --storage memory"), {"objective.toml:1:", "branon", "branin"});
  expect_user_error(run("tune objective.toml --storage memory --sampler nope"), {"branon"});
  write("ok.toml", "[objective]\nfunction = \"branin\"\n");
  expect_user_error(run("tune ok.toml --storage memory --sampler nope"), {"--sampler", "nope"});
  expect_user_error(run("tune ok.toml --storage nosql:x"), {"nosql:x"});
  expect_user_error(run("tune missing.toml"), {"missing.toml"});
  EXPECT_FALSE(fs::exists(dir_ / "metadial.db")) << "a config error must not create the default storage";
}

TEST_F(Cli, StorageErrorsExitTwoAndLeaveTheFileAlone) {
  write("ok.toml", "[study]\ntrials = 2\nsampler = \"random\"\n[objective]\nfunction = \"branin\"\n");
  expect_user_error(run("tune ok.toml --storage sqlite:/nonexistent-dir/x.db"), {"/nonexistent-dir/x.db"});
  const fs::path junk = write("notes.db", "these are my notes, not a database\n");
  expect_user_error(run("tune ok.toml --storage sqlite:notes.db"), {"notes.db"});
  EXPECT_EQ(slurp(junk), "these are my notes, not a database\n");
  expect_user_error(run("trials --storage sqlite:absent.db"), {"absent.db"});
  EXPECT_FALSE(fs::exists(dir_ / "absent.db"));
}

TEST_F(Cli, FailingCommandsAreRecordedAndTheStudyStopsAfterKInARow) {
  write("crash.sh", "#!/bin/sh\nkill -SEGV $$\n", true);
  write("crash.toml",
        "[study]\ntrials = 5\nsampler = \"random\"\nmax_consecutive_failures = 3\n[objective]\ncommand = "
        "[\"./crash.sh\"]\n[space.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n");
  Result r = run("tune crash.toml --storage sqlite:s.db");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("3 failed trials in a row"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("signal"), std::string::npos) << r.err;
  const Result trials = run("trials --storage sqlite:s.db --csv");
  EXPECT_EQ(std::count(trials.out.begin(), trials.out.end(), '\n'), 4) << trials.out;
  EXPECT_NE(trials.out.find("failed"), std::string::npos);

  write("missing.toml",
        "[study]\ntrials = 5\nmax_consecutive_failures = 2\n[objective]\ncommand = [\"./no-such-program\"]\n"
        "[space.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n");
  r = run("tune missing.toml --storage memory");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;

  write("silent.sh", "#!/bin/sh\necho training...\n", true);
  write("silent.toml",
        "[study]\ntrials = 5\nmax_consecutive_failures = 2\n[objective]\ncommand = [\"./silent.sh\"]\n"
        "[space.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n");
  r = run("tune silent.toml --storage memory");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("objective:"), std::string::npos) << r.err;

  write("hang.sh", "#!/bin/sh\nsleep 100\n", true);
  write("hang.toml",
        "[study]\ntrials = 5\nmax_consecutive_failures = 2\n[objective]\ncommand = [\"./hang.sh\"]\ntimeout_s = 0.5\n"
        "[space.x]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n");
  const auto t0 = std::chrono::steady_clock::now();
  r = run("tune hang.toml --storage memory");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 60.0);
}

TEST_F(Cli, CommandObjectiveWithParallelJobs) {
  write("quad.sh", kQuadScript, true);
  write("quad.toml", quad_config("trials = 8\njobs = 2"));
  const Result r = run("tune quad.toml --storage sqlite:q.db --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(last_line(r.out));
  EXPECT_EQ(j["n_complete"], 8);
  const double x = j["best_params"]["x"], y = j["best_params"]["y"];
  EXPECT_NEAR(j["best_value"].get<double>(), (x - 0.3) * (x - 0.3) + (y + 0.1) * (y + 0.1), 1e-12);
}

// kill -9 of a running `metadial tune`, then the same command again: completed trials stay,
// the running ones are marked failed, and the study ends with the requested trials.
TEST_F(Cli, KillNineThenRerunResumesTheStudy) {
  write("quad.sh", kQuadScript, true);
  write("slow.toml", quad_config("trials = 10\njobs = 2\nseed = 5", "0.3"));
  const std::string cmd = std::string(METADIAL_BINARY) + " tune slow.toml --storage sqlite:k.db";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (chdir(dir_.c_str()) != 0) _exit(99);
    execl("/bin/sh", "sh", "-c", ("exec " + cmd + " >/dev/null 2>&1").c_str(), static_cast<char*>(nullptr));
    _exit(98);
  }
  // Wait until a few trials completed, then kill -9 while others run.
  const std::string db = (dir_ / "k.db").string();
  int64_t done_before = 0;
  for (int i = 0; i < 300 && done_before < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!fs::exists(db)) continue;
    try {
      auto storage = metadial::storage::open_storage("sqlite:" + db);
      if (!storage->find_study("slow")) continue;
      done_before = 0;
      for (const auto& t : metadial::study::Study::load(*storage, "slow").trials()) {
        done_before += t.state == metadial::study::TrialState::kComplete;
      }
    } catch (const metadial::Error&) {
    }
  }
  ASSERT_GE(done_before, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  waitpid(pid, nullptr, 0);

  std::vector<metadial::study::FrozenTrial> before;
  {
    auto storage = metadial::storage::open_storage("sqlite:" + db);
    before = metadial::study::Study::load(*storage, "slow").trials();
  }
  int running = 0;
  for (const auto& t : before) running += t.state == metadial::study::TrialState::kRunning;
  EXPECT_GE(running, 1) << "the kill should hit running trials";

  const Result r = run("tune slow.toml --storage sqlite:k.db --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto storage = metadial::storage::open_storage("sqlite:" + db);
  const auto after = metadial::study::Study::load(*storage, "slow").trials();
  int complete = 0;
  for (const auto& t : after) complete += t.state == metadial::study::TrialState::kComplete;
  EXPECT_EQ(complete, 10);
  for (const auto& b : before) {
    const auto& a = after.at(static_cast<size_t>(b.number));
    if (b.state == metadial::study::TrialState::kComplete) {
      EXPECT_EQ(a.state, b.state);
      EXPECT_EQ(a.value, b.value);
      EXPECT_EQ(a.params, b.params);
    }
    if (b.state == metadial::study::TrialState::kRunning) {
      EXPECT_EQ(a.state, metadial::study::TrialState::kFailed) << a.number;
      EXPECT_NE(a.fail_reason.find("died"), std::string::npos) << a.fail_reason;
    }
  }
  for (const auto& t : after) EXPECT_NE(t.state, metadial::study::TrialState::kRunning);
}

// Issue 21, items 6 and 9: a flag refuses what its [study] key refuses, in one line naming the
// flag (before: --seed -1 and --trials 99999999999999999999 were clamped, --jobs 100000 aborted).
TEST_F(Cli, TuneFlagsRefuseWhatTheConfigRefusesWithOneLineNamingTheFlag) {
  write("ok.toml", "[study]\ntrials = 2\nsampler = \"random\"\n[objective]\nfunction = \"branin\"\n");
  expect_user_error(run("tune ok.toml --storage memory --seed -1"), {"--seed must be >= 0 (got -1)"});
  expect_user_error(run("tune ok.toml --storage memory --seed 18446744073709551616"),
                    {"--seed", "18446744073709551616"});
  expect_user_error(run("tune ok.toml --storage memory --trials 99999999999999999999"),
                    {"--trials must be between 0 and 9223372036854775807 (got 99999999999999999999)"});
  expect_user_error(run("tune ok.toml --storage memory --jobs 100000"),
                    {"--jobs must be between 1 and 1024 (got 100000)"});
  expect_user_error(run("tune ok.toml --storage memory --jobs 0"), {"--jobs must be between 1 and 1024"});
  expect_user_error(run("tune ok.toml --storage memory --max-cost -1"), {"--max-cost must be > 0"});
  expect_user_error(run("tune ok.toml --storage memory --heartbeat-interval 0"), {"--heartbeat-interval must be > 0"});
  expect_user_error(run("tune ok.toml --storage memory --heartbeat-interval 1e10"),
                    {"--heartbeat-interval", "at most 86400"});
  expect_user_error(run("tune ok.toml --storage memory --heartbeat-timeout 3"),
                    {"--heartbeat-timeout 3 must exceed the heartbeat interval (5 s)"});
  expect_user_error(run("tune ok.toml --storage memory --heartbeat-interval 200"),
                    {"--heartbeat-interval 200 must be below the heartbeat timeout (120 s)"});
  // The same values in the config: one line naming the key.
  write("big.toml", "[study]\nmax_consecutive_failures = 4294967296\n[objective]\nfunction = \"branin\"\n");
  expect_user_error(run("tune big.toml --storage memory"),
                    {"big.toml:2:", "[study] max_consecutive_failures must be between 1 and 2147483647"});
  write("jobs.toml", "[study]\njobs = 100000\n[objective]\nfunction = \"branin\"\n");
  expect_user_error(run("tune jobs.toml --storage memory"),
                    {"jobs.toml:2:", "[study] jobs must be between 1 and 1024"});
  write("seed.toml", "[study]\nseed = -1\n[objective]\nfunction = \"branin\"\n");
  expect_user_error(run("tune seed.toml --storage memory"), {"seed.toml:2:", "[study] seed must be >= 0"});
  // The ends of each range are accepted.
  const Result r = run("tune ok.toml --storage memory --jobs 1024 --seed 9223372036854775807 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(last_line(r.out))["n_complete"], 2);
}

// Issue 21, item 6: an int over the whole int64 range sampled one constant; a float over
// [-1e308, 1e308] one value (random) or NaN (gp); trial_timeout_s = 1e10 failed every trial.
TEST_F(Cli, TuneAtTheLimitsOfTheNumbers) {
  write("echo.sh", "#!/bin/sh\necho \"objective: $1\"\n", true);
  write("int.toml",
        "[study]\ntrials = 10\nsampler = \"random\"\ntrial_timeout_s = 1e10\n[objective]\ncommand = [\"./echo.sh\", "
        "\"{n}\"]\n[space.n]\ntype = \"int\"\nlow = -9223372036854775808\nhigh = 9223372036854775807\n");
  Result r = run("tune int.toml --storage sqlite:limits.db --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(last_line(r.out));
  EXPECT_EQ(j["n_complete"], 10);
  EXPECT_EQ(j["n_failed"], 0);
  std::set<double> values;
  auto storage = metadial::storage::open_storage("sqlite:" + (dir_ / "limits.db").string());
  for (const auto& t : metadial::study::Study::load(*storage, "int").trials()) values.insert(*t.value);
  EXPECT_EQ(values.size(), 10u);
  EXPECT_LT(*values.begin(), 0.0);
  EXPECT_GT(*values.rbegin(), 0.0);

  write("float.toml",
        "[study]\ntrials = 12\n[objective]\ncommand = [\"./echo.sh\", \"{x}\"]\n[space.x]\ntype = \"float\"\n"
        "low = -1e308\nhigh = 1e308\n");
  for (const char* sampler : {"random", "gp"}) {
    const std::string name = std::string("float-") + sampler;
    r = run("tune float.toml --storage sqlite:limits.db --study " + name + " --sampler " + sampler + " --json");
    ASSERT_EQ(r.code, 0) << sampler << ": " << r.err;
    j = nlohmann::json::parse(last_line(r.out));
    EXPECT_EQ(j["n_complete"], 12) << sampler;
    values.clear();
    for (const auto& t : metadial::study::Study::load(*storage, name).trials()) {
      const double x = std::get<double>(t.params.at("x"));
      ASSERT_TRUE(std::isfinite(x)) << sampler << " trial " << t.number;
      values.insert(x);
    }
    EXPECT_EQ(values.size(), 12u) << sampler;
    EXPECT_LT(*values.begin(), -1e306) << sampler;
  }
}

// Issue 21, item 2: --heartbeat-interval / --heartbeat-timeout and the [study] keys reach the
// runner: a running trial of another, silent worker is failed once it has been silent that long.
TEST_F(Cli, HeartbeatFlagsAndKeysSetWhenASilentWorkersTrialIsFailed) {
  write("quad.sh", kQuadScript, true);
  write("hb.toml", quad_config("name = \"hb\"\ntrials = 3\nmax_wall_s = 20"));
  write("hb-keys.toml",
        quad_config("name = \"hb\"\ntrials = 3\nmax_wall_s = 20\nheartbeat_interval_s = 0.2\nheartbeat_timeout_s = 1"));
  metadial::space::SearchSpace space;
  space.add_float("x", -1.0, 1.0).add_float("y", -1.0, 1.0);
  // A study whose trial 0 is running in a worker that is alive (this test) but sends no heartbeat.
  auto make_silent_trial = [&](const std::string& db) {
    auto storage = metadial::storage::open_storage("sqlite:" + (dir_ / db).string());
    auto study = metadial::study::Study::create_or_load(*storage, "hb", space, metadial::study::Direction::kMinimize);
    metadial::optim::RandomSampler sampler;
    study.ask(sampler, 0);
  };
  auto trial_zero = [&](const std::string& db) {
    auto storage = metadial::storage::open_storage("sqlite:" + (dir_ / db).string());
    return metadial::study::Study::load(*storage, "hb").trials().at(0);
  };
  make_silent_trial("flags.db");
  make_silent_trial("keys.db");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  Result r = run("tune hb.toml --storage sqlite:flags.db --heartbeat-interval 0.2 --heartbeat-timeout 1");
  ASSERT_EQ(r.code, 0) << r.err;
  auto t = trial_zero("flags.db");
  EXPECT_EQ(t.state, metadial::study::TrialState::kFailed);
  EXPECT_NE(t.fail_reason.find("stopped sending heartbeats"), std::string::npos) << t.fail_reason;
  EXPECT_NE(r.out.find("1 abandoned marked failed"), std::string::npos) << r.out;

  r = run("tune hb-keys.toml --storage sqlite:keys.db");
  ASSERT_EQ(r.code, 0) << r.err;
  t = trial_zero("keys.db");
  EXPECT_EQ(t.state, metadial::study::TrialState::kFailed);
  EXPECT_NE(t.fail_reason.find("stopped sending heartbeats"), std::string::npos) << t.fail_reason;

  // With the default timeout (120 s) the same trial is left running (the run ends on its wall time).
  make_silent_trial("default.db");
  r = run("tune hb.toml --storage sqlite:default.db --max-wall 1.5");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(trial_zero("default.db").state, metadial::study::TrialState::kRunning);
}

// Sets a column of every row of `table` in a SQLite file behind the storage's back, as a file
// written before the storage checked what it stores.
void set_in_file(const fs::path& db, const std::string& table, const std::string& column, const std::string& value) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  const std::string sql = "UPDATE " + table + " SET " + column + " = ?1";
  ASSERT_EQ(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  sqlite3_bind_text(st, 1, value.data(), static_cast<int>(value.size()), nullptr);
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(h);
  sqlite3_finalize(st);
  sqlite3_close(h);
}

// Issue 21, item 8: a study name (and a failure reason) holding escape sequences and newlines,
// from a file written before names were checked, is printed escaped: it cannot clear the
// screen, change colours or fake a line.
TEST_F(Cli, ControlCharactersInStoredNamesArePrintedEscaped) {
  write("old.toml",
        "[study]\nname = \"plain\"\ntrials = 3\nsampler = \"random\"\n[objective]\nfunction = \"branin\"\n");
  ASSERT_EQ(run("tune old.toml --storage sqlite:old.db").code, 0);
  set_in_file(dir_ / "old.db", "studies", "name", std::string("evil\x1b[2J\nstudy\x07"));
  set_in_file(dir_ / "old.db", "trials", "fail_reason", std::string("boom\x1b[31m\r\nfake line"));
  for (const std::string cmd : {"studies", "trials", "best"}) {
    const Result r = run(cmd + " --storage sqlite:old.db");
    ASSERT_EQ(r.code, 0) << cmd << ": " << r.err;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << cmd << ": " << r.out;
    EXPECT_EQ(r.out.find('\x07'), std::string::npos) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("evil\\x1b[2J\\nstudy\\x07"), std::string::npos) << cmd << ": " << r.out;
  }
  const Result trials = run("trials --storage sqlite:old.db");
  EXPECT_NE(trials.out.find("boom\\x1b[31m\\r\\nfake line"), std::string::npos) << trials.out;
  EXPECT_EQ(std::count(trials.out.begin(), trials.out.end(), '\n'), 6) << trials.out;  // title, header, rule, 3
  // JSON keeps the stored bytes, escaped the JSON way.
  const Result best = run("best --storage sqlite:old.db --json");
  EXPECT_EQ(nlohmann::json::parse(best.out)["study"], "evil\x1b[2J\nstudy\x07");
}

// Issue 21, item 3: SIGINT / SIGTERM / SIGHUP stop `tune`: its summary (stopped: interrupted by
// SIGINT), no trial left running, exit 128 + the signal.
TEST_F(Cli, AnInterruptedTunePrintsItsSummaryAndExitsWith128PlusTheSignal) {
  write("quad.sh", kQuadScript, true);
  write("slow.toml", quad_config("trials = 100\njobs = 2", "0.4"));
  struct Case {
    int sig;
    int code;
    const char* name;
  };
  for (const Case c : {Case{SIGINT, 130, "SIGINT"}, Case{SIGTERM, 143, "SIGTERM"}, Case{SIGHUP, 129, "SIGHUP"}}) {
    const std::string db = std::string("i-") + c.name + ".db";
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (chdir(dir_.c_str()) != 0) _exit(99);
      const int out = open("int-out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = open("int-err.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(97);
      execl(METADIAL_BINARY, "metadial", "tune", "slow.toml", "--storage", ("sqlite:" + db).c_str(), "--json",
            static_cast<char*>(nullptr));
      _exit(98);
    }
    // Signal once a trial is done (the handlers are installed by then) while two are running.
    int64_t complete = 0;
    for (int i = 0; i < 300 && complete == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      try {
        auto storage = metadial::storage::open_storage("sqlite:" + (dir_ / db).string());
        if (!storage->find_study("slow")) continue;
        for (const auto& t : metadial::study::Study::load(*storage, "slow").trials()) {
          complete += t.state == metadial::study::TrialState::kComplete;
        }
      } catch (const metadial::Error&) {
      }
    }
    ASSERT_GE(complete, 1) << c.name;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(kill(pid, c.sig), 0);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 300 && done == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      done = waitpid(pid, &status, WNOHANG);
    }
    if (done == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      FAIL() << c.name << ": tune did not stop within 30 s";
    }
    ASSERT_TRUE(WIFEXITED(status)) << c.name << ": killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), c.code) << c.name << ": " << slurp(dir_ / "int-err.txt");
    const std::string out = slurp(dir_ / "int-out.txt");
    EXPECT_NE(out.find(std::string("interrupted by ") + c.name), std::string::npos) << out;
    EXPECT_EQ(nlohmann::json::parse(last_line(out))["stop_reason"], "interrupted by a signal") << out;
    auto storage = metadial::storage::open_storage("sqlite:" + (dir_ / db).string());
    for (const auto& t : metadial::study::Study::load(*storage, "slow").trials()) {
      EXPECT_NE(t.state, metadial::study::TrialState::kRunning) << c.name << " trial " << t.number;
    }
  }
}

}  // namespace
