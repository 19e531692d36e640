// Many `metadial tune` processes on one PostgreSQL study, run as a user would (issue 16, the
// worker cases): the real binary against the process's throwaway server (postgres_fixture.h),
// the password given through PGPASSWORD, never on the command line.
//  - 8 processes x --jobs 2 on a study of 400 trials: exactly 400 complete, numbers 0..N-1, every
//    value the one its params give, every value an objective printed stored once;
//  - kill -9 of 3 of the 8 mid-study (a study of 200 trials, to keep the test short): the
//    survivors fail the dead workers' running trials while they run and finish the study: 200
//    complete, none running, no printed value lost;
//  - a malformed URL, a wrong password, no server, no such database: exit 2, one line, the URL
//    shown with its password masked.
// The objective is a tiny sh script: value f(x, y) = (x - 0.3)^2 + 2 (y + 0.1)^2 + x y, and a line
// "PPID x y value" appended to results.log after it printed the value.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "metadial/storage/postgres.h"
#include "metadial/storage/storage.h"
#include "metadial/study/trial.h"
#include "storage/postgres_fixture.h"
#include "support/binary_test.h"

namespace metadial::storage {
namespace {

namespace fs = std::filesystem;
using study::FrozenTrial;
using study::TrialState;
using testing::PostgresCluster;

constexpr int kTrials = 400;      ///< the many-workers study
constexpr int kKillTrials = 400;  ///< the kill -9 study
constexpr int kWorkers = 8;

const char* kObjective = R"SH(#!/bin/sh
# usage: obj.sh X Y [SLEEP]
v=$(awk -v x="$1" -v y="$2" 'BEGIN { printf "%.17g", (x-0.3)^2 + 2*(y+0.1)^2 + x*y }')
[ -n "$3" ] && sleep "$3"
echo "objective: $v" || exit 1
echo "$PPID $1 $2 $v" >> results.log
)SH";

double f(double x, double y) { return (x - 0.3) * (x - 0.3) + 2 * (y + 0.1) * (y + 0.1) + x * y; }

std::string config(int trials, const std::string& sleep, int retry_failed = 0) {
  return "[study]\nsampler = \"random\"\ntrials = " + std::to_string(trials) +
         "\nheartbeat_interval_s = 0.2\nheartbeat_timeout_s = 20\nmax_consecutive_failures = 100\nretry_failed = " +
         std::to_string(retry_failed) + "\n"
         "[objective]\ncommand = [\"./obj.sh\", \"{x}\", \"{y}\"" +
         (sleep.empty() ? "" : ", \"" + sleep + "\"") +
         "]\n[space.x]\ntype = \"float\"\nlow = -1.0\nhigh = 1.0\n[space.y]\ntype = \"float\"\nlow = -1.0\nhigh = "
         "1.0\n";
}

/// One line of results.log: what an objective run printed, and the worker process it ran for.
struct Printed {
  int pid = 0;
  double x = 0, y = 0, value = 0;
};

double param(const FrozenTrial& t, const char* name) { return std::get<double>(t.params.at(name)); }
int worker_pid(const FrozenTrial& t) { return std::atoi(t.worker.substr(t.worker.rfind(':') + 1).c_str()); }
bool same(double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(a)); }

class PostgresWorkers : public metadial::testing::BinaryTest {
 protected:
  void SetUp() override {
    BinaryTest::SetUp();
    ASSERT_TRUE(fs::exists(METADIAL_BINARY)) << METADIAL_BINARY << " is not built (build the target metadial_exe)";
    cluster_ = &PostgresCluster::shared();
    db_ = cluster_->new_database();
    // No password in the URL: the workers take it from PGPASSWORD, as the README advises.
    url_ = "postgresql://metadial@127.0.0.1:" + std::to_string(cluster_->port()) + "/" + db_;
    write("obj.sh", kObjective, /*executable=*/true);
  }
  void TearDown() override {
    for (pid_t p : pids_) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
    BinaryTest::TearDown();
  }

  /// Starts `metadial ARGS...` in dir_ with PGPASSWORD set, output to worker<i>.out / .err.
  pid_t spawn(const std::vector<std::string>& args, int i) {
    const std::string out = (dir_ / ("worker" + std::to_string(i) + ".out")).string();
    const std::string err = (dir_ / ("worker" + std::to_string(i) + ".err")).string();
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(dir_.c_str()) != 0) ::_exit(127);
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0) ::_exit(127);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::setenv("PGPASSWORD", cluster_->password().c_str(), 1);
      std::vector<char*> argv;
      std::string bin = METADIAL_BINARY;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    pids_.push_back(pid);
    return pid;
  }

  std::vector<pid_t> start_workers(const std::string& study) {
    std::vector<pid_t> workers;
    for (int i = 0; i < kWorkers; ++i) {
      workers.push_back(spawn(
          {"tune", "study.toml", "--storage", url_, "--study", study, "--seed", std::to_string(i + 1), "--jobs", "2"},
          i));
    }
    return workers;
  }

  /// Waits for a worker; its exit code (-1 if killed by a signal).
  int wait_for(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string outputs() {
    std::string all;
    for (int i = 0; i < kWorkers; ++i) {
      all += "worker " + std::to_string(i) + ": " +
             metadial::testing::slurp(dir_ / ("worker" + std::to_string(i) + ".err"));
    }
    return all;
  }

  std::vector<Printed> printed() {
    std::vector<Printed> out;
    std::istringstream in(metadial::testing::slurp(dir_ / "results.log"));
    Printed p;
    while (in >> p.pid >> p.x >> p.y >> p.value) out.push_back(p);
    return out;
  }

  /// The stored trials of the study, read with the storage itself.
  std::vector<FrozenTrial> stored(const std::string& study) {
    PostgresStorage st(cluster_->url(db_));
    const auto rec = st.find_study(study);
    EXPECT_TRUE(rec.has_value()) << "no study " << study;
    return rec ? st.trials(rec->id) : std::vector<FrozenTrial>{};
  }

  /// Numbers 0..N-1 each once; every complete trial's value is f(its params).
  static void expect_consistent(const std::vector<FrozenTrial>& trials) {
    for (size_t i = 0; i < trials.size(); ++i) ASSERT_EQ(trials[i].number, static_cast<int64_t>(i));
    for (const auto& t : trials) {
      if (!t.is_complete()) continue;
      EXPECT_NEAR(*t.value, f(param(t, "x"), param(t, "y")), 1e-9) << "trial " << t.number;
    }
  }

  /// The trial whose params are (x, y) run by worker process `pid` (a retry has its first trial's
  /// params, run by another worker), or nullptr.
  static const FrozenTrial* find(const std::vector<FrozenTrial>& trials, double x, double y, int pid) {
    for (const auto& t : trials) {
      if (!t.params.empty() && same(param(t, "x"), x) && same(param(t, "y"), y) && worker_pid(t) == pid) return &t;
    }
    return nullptr;
  }

  PostgresCluster* cluster_ = nullptr;
  std::string db_, url_;
  std::vector<pid_t> pids_;
};

TEST_F(PostgresWorkers, EightProcessesTimesTwoJobsMakeExactly400CompleteTrials) {
  write("study.toml", config(kTrials, ""));
  const auto t0 = std::chrono::steady_clock::now();
  for (pid_t p : start_workers("many")) ASSERT_EQ(wait_for(p), 0) << outputs();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const auto trials = stored("many");
  const auto n_complete = std::count_if(trials.begin(), trials.end(), [](const auto& t) { return t.is_complete(); });
  EXPECT_EQ(n_complete, kTrials);
  EXPECT_EQ(trials.size(), static_cast<size_t>(kTrials)) << "no trial should fail here";
  expect_consistent(trials);
  std::set<std::string> workers;
  for (const auto& t : trials) workers.insert(t.worker);
  EXPECT_EQ(workers.size(), static_cast<size_t>(kWorkers)) << "every process should have run trials";

  // Every value an objective printed is stored once, in the trial of its params and its worker.
  const auto lines = printed();
  EXPECT_EQ(lines.size(), static_cast<size_t>(kTrials));
  std::set<int64_t> matched;
  for (const auto& p : lines) {
    const FrozenTrial* t = find(trials, p.x, p.y, p.pid);
    ASSERT_NE(t, nullptr) << "printed value " << p.value << " for (" << p.x << ", " << p.y << ") is not stored";
    EXPECT_TRUE(t->is_complete() && same(*t->value, p.value)) << "trial " << t->number;
    EXPECT_TRUE(matched.insert(t->number).second) << "trial " << t->number << " evaluated twice";
  }
  std::cout << "[ measured ] 8 processes x 2 jobs, 400 trials: " << n_complete << " complete, " << trials.size()
            << " stored, " << seconds << " s\n";
}

TEST_F(PostgresWorkers, KillNineOfThreeWorkersLosesNoCompleteTrialAndTheRestFinish) {
  write("study.toml", config(kKillTrials, "0.05", /*retry_failed=*/1));
  const auto workers = start_workers("killed");

  // Mid-study: once 60 trials are complete, kill -9 three workers that have a trial running.
  PostgresStorage st(cluster_->url(db_));
  std::set<pid_t> killed;
  std::mt19937 rng(std::random_device{}());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (killed.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto rec = st.find_study("killed");
    if (!rec || st.count_trials(rec->id).complete < 60) continue;
    std::vector<pid_t> busy;
    for (const auto& t : st.running_trials(rec->id)) {
      const pid_t p = worker_pid(t);
      if (std::find(workers.begin(), workers.end(), p) != workers.end() &&
          std::find(busy.begin(), busy.end(), p) == busy.end()) {
        busy.push_back(p);
      }
    }
    if (busy.size() < 3) continue;
    std::shuffle(busy.begin(), busy.end(), rng);
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(::kill(busy[i], SIGKILL), 0);
      killed.insert(busy[i]);
    }
    // Reaped at once, as a shell or srun would: a zombie still counts as a live process, and the
    // survivors would then wait for the heartbeat timeout instead of seeing the worker gone.
    for (pid_t p : killed) EXPECT_EQ(wait_for(p), -1);
  }
  ASSERT_EQ(killed.size(), 3u) << "the study ended before three workers could be killed mid-study: " << outputs();
  const auto t_kill = std::chrono::steady_clock::now();
  for (pid_t p : workers) {
    if (!killed.count(p)) {
      EXPECT_EQ(wait_for(p), 0) << "a surviving worker failed: " << outputs();
    }
  }
  const double after_kill = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_kill).count();
  // The killed workers' orphaned objective programs may still be finishing their sleep.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  const auto trials = stored("killed");
  expect_consistent(trials);
  int64_t complete = 0, running = 0, died = 0, killed_complete = 0;
  for (const auto& t : trials) {
    if (t.is_complete()) ++complete;
    if (t.state == TrialState::kRunning) ++running;
    const bool of_killed = killed.count(worker_pid(t)) > 0;
    if (t.state == TrialState::kFailed) {
      // Only the dead workers' trials may fail, and only as died.
      EXPECT_TRUE(of_killed) << "trial " << t.number << " failed: " << t.fail_reason;
      EXPECT_NE(t.fail_reason.find("died while running"), std::string::npos) << t.fail_reason;
      ++died;
    }
    if (of_killed && t.is_complete()) ++killed_complete;
  }
  EXPECT_EQ(complete, kKillTrials);
  EXPECT_EQ(running, 0) << "a trial of a dead worker was left running";
  EXPECT_GE(died, 3) << "each killed worker had a running trial";
  // Each died trial was re-run once (retry_failed = 1) with its params, by a survivor, and completed
  // (one killed between its reservation and its params has nothing to re-run).
  int64_t retried = 0, died_with_params = 0;
  for (const auto& t : trials) {
    if (t.state != TrialState::kFailed || t.params.empty()) continue;
    ++died_with_params;
    const FrozenTrial* retry = nullptr;
    for (const auto& r : trials) {
      if (r.retry_of == t.number) retry = &r;
    }
    ASSERT_NE(retry, nullptr) << "trial " << t.number << " (died) was not retried";
    EXPECT_EQ(retry->params, t.params);
    EXPECT_EQ(retry->state, TrialState::kComplete) << "retry " << retry->number << ": " << retry->fail_reason;
    EXPECT_FALSE(killed.count(worker_pid(*retry)));
    ++retried;
  }
  EXPECT_EQ(retried, died_with_params);
  EXPECT_GE(retried, 1) << "no died trial was retried";

  // 0 complete trials lost: a survivor's printed value is stored in its trial; a killed worker's
  // is stored or its trial failed (it may have died after the program printed, before reading it).
  const auto lines = printed();
  int64_t printed_by_killed_not_stored = 0;
  std::set<int64_t> matched;
  for (const auto& p : lines) {
    const FrozenTrial* t = find(trials, p.x, p.y, p.pid);
    ASSERT_NE(t, nullptr) << "printed value for (" << p.x << ", " << p.y << ") has no trial";
    EXPECT_EQ(worker_pid(*t), p.pid);
    EXPECT_TRUE(matched.insert(t->number).second) << "trial " << t->number << " evaluated twice";
    if (t->is_complete()) {
      EXPECT_TRUE(same(*t->value, p.value)) << "trial " << t->number;
    } else {
      EXPECT_TRUE(killed.count(p.pid)) << "a survivor's printed value was lost: trial " << t->number;
      EXPECT_EQ(t->state, TrialState::kFailed);
      ++printed_by_killed_not_stored;
    }
  }
  for (const auto& t : trials) {
    if (t.is_complete()) {
      EXPECT_TRUE(matched.count(t.number)) << "trial " << t.number << " complete, never printed";
    }
  }
  std::cout << "[ measured ] kill -9 of 3 of 8: " << complete << " complete, " << died << " failed as died and "
            << retried << " retried (" << killed_complete << " completed by the killed workers before), " << running << " running, "
            << trials.size() << " stored, " << lines.size() << " printed (" << printed_by_killed_not_stored
            << " printed by a killed worker's program after it died); survivors finished " << after_kill
            << " s after the kill\n";
}

// The server crashes (pg_ctl stop -m immediate) while 8 workers run a study, and comes back a
// second later: every worker reconnects and finishes; every value an objective printed is stored
// once, in its own trial; no number twice, none missing, none failed.
TEST_F(PostgresWorkers, AServerRestartMidStudyLosesAndDuplicatesNothing) {
  constexpr int kRestartTrials = 200;
  write("study.toml", config(kRestartTrials, "0.02"));
  const auto workers = start_workers("restarted");
  {
    PostgresStorage st(cluster_->url(db_));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    // Restart once every worker has connected and stored a trial (on 2 busy cores a worker may
    // still be starting after 50 trials; one connecting during the crash is not this test's case).
    int64_t complete = 0;
    std::set<pid_t> seen;
    while ((complete < 50 || seen.size() < workers.size()) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const auto rec = st.find_study("restarted");
      if (!rec) continue;
      complete = st.count_trials(rec->id).complete;
      for (const auto& t : st.trials(rec->id)) seen.insert(worker_pid(t));
    }
    ASSERT_GE(complete, 50) << outputs();
    ASSERT_EQ(seen.size(), workers.size()) << "not every worker had started a trial within 60 s: " << outputs();
    ASSERT_LT(complete, kRestartTrials) << "the study ended before the restart";
  }
  cluster_->stop_immediate();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  cluster_->start();
  for (pid_t p : workers) EXPECT_EQ(wait_for(p), 0) << "a worker failed across the restart: " << outputs();

  const auto trials = stored("restarted");
  expect_consistent(trials);
  int64_t complete = 0;
  for (const auto& t : trials) {
    EXPECT_EQ(t.state, TrialState::kComplete) << "trial " << t.number << ": " << t.fail_reason;
    if (t.is_complete()) ++complete;
  }
  EXPECT_EQ(complete, kRestartTrials);
  EXPECT_EQ(trials.size(), static_cast<size_t>(kRestartTrials));
  const auto lines = printed();
  EXPECT_EQ(lines.size(), static_cast<size_t>(kRestartTrials));
  std::set<int64_t> matched;
  for (const auto& p : lines) {
    const FrozenTrial* t = find(trials, p.x, p.y, p.pid);
    ASSERT_NE(t, nullptr) << "printed value for (" << p.x << ", " << p.y << ") was lost";
    EXPECT_TRUE(t->is_complete() && same(*t->value, p.value)) << "trial " << t->number;
    EXPECT_TRUE(matched.insert(t->number).second) << "trial " << t->number << " evaluated twice";
  }
  std::cout << "[ measured ] server restarted mid-study (8 processes x 2 jobs): " << complete << " complete of "
            << trials.size() << " stored, " << lines.size() << " printed\n";
}

/// A TCP port of 127.0.0.1 nobody listens on.
int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 1;  // nothing listens on tcpmux
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

TEST_F(PostgresWorkers, BadUrlWrongPasswordNoServerOrNoDatabaseExitTwoWithOneMaskedLine) {
  write("study.toml", config(kTrials, ""));
  const std::string port = std::to_string(cluster_->port());
  struct Case {
    std::string what, url, needle;
  };
  const std::vector<Case> cases = {
      {"malformed URL", "postgresql://metadial:s3cretpw@127.0.0.1:notaport/" + db_, "notaport"},
      {"wrong password", "postgresql://metadial:s3cretpw@127.0.0.1:" + port + "/" + db_, "127.0.0.1:" + port},
      {"no server", "postgresql://metadial:s3cretpw@127.0.0.1:" + std::to_string(unused_port()) + "/" + db_,
       "127.0.0.1:"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    // tune for each; a reading command (opens read-only) once.
    for (const std::string cmd : {"tune study.toml --study s --storage ", "trials --storage "}) {
      if (cmd.starts_with("trials") && i != 1) continue;
      SCOPED_TRACE(cases[i].what + ": " + cmd);
      const auto r = run(cmd + "'" + cases[i].url + "'");
      expect_user_error(r, {cases[i].needle, "metadial:***@"});
      EXPECT_EQ(r.err.find("s3cretpw"), std::string::npos) << r.err;
      EXPECT_EQ(r.out.find("s3cretpw"), std::string::npos) << r.out;
      std::cout << "[ message  ] " << r.err;
    }
  }
  // The right password (from PGPASSWORD, as workers get it), a database that does not exist.
  ::setenv("PGPASSWORD", cluster_->password().c_str(), 1);
  const auto r = run("tune study.toml --study s --storage postgresql://metadial@127.0.0.1:" + port + "/nosuchdb");
  ::unsetenv("PGPASSWORD");
  expect_user_error(r, {"postgresql://metadial@127.0.0.1:" + port + "/nosuchdb", "does not exist"});
  EXPECT_EQ(r.err.find(cluster_->password()), std::string::npos) << r.err;
  std::cout << "[ message  ] " << r.err;
}

}  // namespace
}  // namespace metadial::storage
