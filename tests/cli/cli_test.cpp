// End-to-end tests of the `metadial` program: the real binary, run as a user would.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
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

}  // namespace
