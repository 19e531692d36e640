// PostgresStorage beyond the shared contract (storage_test.cpp runs that one on it too): URLs and
// passwords, the schema identity, several processes on one study, lost connections and server
// restarts. Every test runs against the process's throwaway server (postgres_fixture.h).
#include "metadial/storage/postgres.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "metadial/core/error.h"
#include "storage/postgres_fixture.h"

namespace metadial::storage {
namespace {

using study::Direction;
using study::FrozenTrial;
using study::TrialState;
using testing::PostgresCluster;

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

int64_t make_study(Storage& st, const std::string& name = "s") {
  return st.create_or_load_study(name, Direction::kMinimize, nlohmann::json::array(), {}).id;
}

TEST(PostgresStorage, MasksThePasswordInEveryUrlForm) {
  EXPECT_EQ(mask_password("postgresql://u:pw@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(mask_password("postgres://u:p%40w:x@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(mask_password("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(mask_password("postgresql://h/db?sslmode=require&password=x1&user=u"),
            "postgresql://h/db?sslmode=require&password=***&user=u");
  EXPECT_EQ(mask_password("postgresql:host=h password=secret dbname=d"), "postgresql:host=h password=*** dbname=d");
  EXPECT_EQ(mask_password("postgresql:password = 'a b\\' c' host=h"), "postgresql:password = *** host=h");
  EXPECT_EQ(mask_password("postgresql:service=tuning"), "postgresql:service=tuning");
  EXPECT_EQ(mask_password("sqlite:runs/tune.db"), "sqlite:runs/tune.db");
  EXPECT_TRUE(is_postgres_url("postgresql://h/db"));
  EXPECT_TRUE(is_postgres_url("postgres://h/db"));
  EXPECT_TRUE(is_postgres_url("postgresql:service=x"));
  EXPECT_FALSE(is_postgres_url("sqlite:x.db"));
}

TEST(PostgresStorage, NeverPrintsThePasswordInAMessage) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string port = std::to_string(cluster.port());
  const std::string secret = "Sup3r-S3cret-pw";
  const std::vector<std::string> urls = {
      "postgresql://metadial:" + secret + "@127.0.0.1:" + port + "/postgres",  // wrong password
      "postgres://metadial:" + secret + "@127.0.0.1:1/db",                     // nothing listens there
      "postgresql://metadial@127.0.0.1:" + port + "/postgres?sslmode=disable&password=" + secret,
      "postgresql:host=127.0.0.1 port=" + port + " user=metadial password=" + secret + " dbname=postgres",
      // The right password, a database that does not exist.
      "postgresql://metadial:" + cluster.password() + "@127.0.0.1:" + port + "/no_such_db",
  };
  for (const std::string& url : urls) {
    const std::string msg = error_of([&] { open_storage(url); });
    EXPECT_NE(msg, "<no error>") << mask_password(url);
    EXPECT_EQ(msg.find(secret), std::string::npos) << msg;
    EXPECT_EQ(msg.find(cluster.password()), std::string::npos) << msg;
    EXPECT_NE(msg.find(mask_password(url)), std::string::npos) << msg;  // names the URL
    EXPECT_NE(msg.find("***"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  // An unknown scheme is masked too.
  const std::string msg = error_of([&] { open_storage("postgresq://u:" + secret + "@h/db"); });
  EXPECT_NE(msg.find("unknown storage URL 'postgresq://u:***@h/db'"), std::string::npos) << msg;
}

TEST(PostgresStorage, OpensEveryUrlFormAndTakesThePasswordFromTheEnvironment) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string db = cluster.new_database();
  const std::string port = std::to_string(cluster.port());
  const int64_t id = make_study(*open_storage(cluster.url(db)), "shared");
  const std::vector<std::string> urls = {
      "postgres://metadial:" + cluster.password() + "@127.0.0.1:" + port + "/" + db,
      "postgresql:host=127.0.0.1 port=" + port + " user=metadial password=" + cluster.password() + " dbname=" + db,
      "postgresql://metadial@127.0.0.1:" + port + "/" + db + "?password=" + cluster.password(),
  };
  for (const std::string& url : urls) {
    auto st = open_storage(url, OpenMode::kExisting);
    const auto found = st->find_study("shared");
    ASSERT_TRUE(found.has_value()) << mask_password(url);
    EXPECT_EQ(found->id, id);
  }
  ::setenv("PGPASSWORD", cluster.password().c_str(), 1);
  const std::string msg = error_of([&] {
    auto st = open_storage("postgresql://metadial@127.0.0.1:" + port + "/" + db, OpenMode::kReadOnly);
    EXPECT_EQ(st->list_studies().size(), 1u);
  });
  ::unsetenv("PGPASSWORD");
  EXPECT_EQ(msg, "<no error>");
}

TEST(PostgresStorage, RefusesAnotherProgramsDatabaseAndLeavesItUnchanged) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string db = cluster.new_database();
  cluster.query(db, "CREATE TABLE users (id int)");
  std::string msg = error_of([&] { PostgresStorage st(cluster.url(db)); });
  EXPECT_NE(msg.find("holds another program's tables (users)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("left unchanged"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_EQ(cluster.query(db, "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'"), "users");

  // A `meta` table that is not metadial's.
  const std::string other = cluster.new_database();
  cluster.query(other, "CREATE TABLE meta (key text, value text); INSERT INTO meta VALUES ('application', 'optuna')");
  msg = error_of([&] { PostgresStorage st(cluster.url(other)); });
  EXPECT_NE(msg.find("another program's tables (meta)"), std::string::npos) << msg;
}

// A database another program uses: metadial keeps its tables in a schema of its own, named by
// the URL's search_path.
TEST(PostgresStorage, KeepsItsTablesInTheSchemaTheUrlNames) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string db = cluster.new_database();
  cluster.query(db, "CREATE TABLE users (id int); CREATE SCHEMA tuning");
  const std::string url = cluster.url(db) + "?options=-csearch_path%3Dtuning";
  {
    auto st = open_storage(url);
    make_study(*st, "in-schema");
  }
  EXPECT_EQ(open_storage(url, OpenMode::kReadOnly)->list_studies().at(0).name, "in-schema");
  EXPECT_EQ(cluster.query(db,
                          "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE "
                          "schemaname = 'tuning'"),
            "intermediate_values,meta,queued_trials,studies,trials");
  EXPECT_EQ(cluster.query(db, "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'"), "users");
}

TEST(PostgresStorage, RefusesANewerSchemaAndLeavesItUnchanged) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string db = cluster.new_database();
  { PostgresStorage st(cluster.url(db)); }
  EXPECT_EQ(cluster.query(db, "SELECT value FROM meta WHERE key = 'schema_version'"),
            std::to_string(kPostgresSchemaVersion));
  cluster.query(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  for (const OpenMode mode : {OpenMode::kCreate, OpenMode::kReadOnly}) {
    const std::string msg = error_of([&] { open_storage(cluster.url(db), mode); });
    EXPECT_NE(msg.find("written by a newer metadial (schema 99, this build reads up to 3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("postgresql://metadial:***@127.0.0.1"), std::string::npos) << msg;
  }
  EXPECT_EQ(cluster.query(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "99");
}

TEST(PostgresStorage, UpgradesASchemaOneDatabaseAndReadsItReadOnlyAsItIs) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string db = cluster.new_database();
  {
    PostgresStorage st(cluster.url(db));
    const int64_t s = st.create_or_load_study("s", study::Direction::kMinimize, nlohmann::json::array(), {}).id;
    st.create_trial(s, "w");
  }
  // What a schema-1 build wrote: no queue.
  cluster.query(db, "DROP TABLE queued_trials; ALTER TABLE trials DROP COLUMN retry_of; "
                    "UPDATE meta SET value = '1' WHERE key = 'schema_version'");
  {
    auto ro = open_storage(cluster.url(db), OpenMode::kReadOnly);
    const int64_t s = ro->find_study("s")->id;
    EXPECT_TRUE(ro->queued_trials(s).empty());
    ASSERT_EQ(ro->trials(s).size(), 1u);
    EXPECT_EQ(ro->trials(s)[0].retry_of, -1);
    EXPECT_EQ(ro->running_trials(s).at(0).retry_of, -1);
    EXPECT_EQ(ro->trial(ro->trials(s)[0].id).retry_of, -1);
  }
  EXPECT_EQ(cluster.query(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  PostgresStorage st(cluster.url(db));
  EXPECT_EQ(cluster.query(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "3");
  const int64_t s = st.find_study("s")->id;
  ASSERT_TRUE(st.enqueue_trial(s, {{"x", 0.5}}, 0, false, -1).has_value());
  EXPECT_EQ(st.create_trial(s, "w").params, (space::Config{{"x", 0.5}}));
}

TEST(PostgresStorage, UpgradesASchemaTwoDatabaseToRetriesAndReadsItReadOnlyAsItIs) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string db = cluster.new_database();
  {
    PostgresStorage st(cluster.url(db));
    const int64_t s = st.create_or_load_study("s", study::Direction::kMinimize, nlohmann::json::array(), {}).id;
    st.create_trial(s, "w");
    ASSERT_TRUE(st.enqueue_trial(s, {{"x", 0.25}}, 0, false, -1).has_value());
  }
  // What a schema-2 build wrote: no retry_of.
  cluster.query(db, "ALTER TABLE trials DROP COLUMN retry_of; ALTER TABLE queued_trials DROP COLUMN retry_of; "
                    "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  {
    auto ro = open_storage(cluster.url(db), OpenMode::kReadOnly);
    const int64_t s = ro->find_study("s")->id;
    ASSERT_EQ(ro->queued_trials(s).size(), 1u);
    EXPECT_EQ(ro->queued_trials(s)[0].retry_of, -1);
    EXPECT_EQ(ro->trials_changed_since(s, 0).trials.at(0).retry_of, -1);
  }
  EXPECT_EQ(cluster.query(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "2");
  PostgresStorage st(cluster.url(db));
  EXPECT_EQ(cluster.query(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "3");
  const int64_t s = st.find_study("s")->id;
  EXPECT_EQ(st.create_trial(s, "w").retry_of, -1);  // the one queued before the upgrade
  ASSERT_TRUE(st.enqueue_trial(s, {{"x", 0.75}}, 0, false, 0).has_value());
  const study::FrozenTrial t = st.create_trial(s, "w");
  EXPECT_EQ(t.retry_of, 0);
  EXPECT_EQ(st.trial(t.id).retry_of, 0);
  EXPECT_EQ(st.trials(s).back().retry_of, 0);
}

TEST(PostgresStorage, ExistingAndReadOnlyOpensNeverCreateTheSchema) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string db = cluster.new_database();
  for (const OpenMode mode : {OpenMode::kExisting, OpenMode::kReadOnly}) {
    const std::string msg = error_of([&] { open_storage(cluster.url(db), mode); });
    EXPECT_NE(msg.find("holds no metadial studies"), std::string::npos) << msg;
  }
  EXPECT_EQ(cluster.query(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0");

  auto writer = open_storage(cluster.url(db));
  const int64_t s = make_study(*writer, "kept");
  const FrozenTrial t = writer->create_trial(s, "w");
  writer->finish_trial(t.id, TrialState::kComplete, 2.5, 0.0, "");

  auto reader = open_storage(cluster.url(db), OpenMode::kReadOnly);
  EXPECT_EQ(reader->list_studies().size(), 1u);
  EXPECT_EQ(reader->trials(s).at(0).value, 2.5);
  EXPECT_EQ(reader->create_or_load_study("kept", Direction::kMinimize, nlohmann::json::array(), {}).id, s);
  for (const std::string& msg : {error_of([&] { reader->create_trial(s, "w"); }),
                                 error_of([&] { reader->delete_study("kept", IfRunning::kDelete); }),
                                 error_of([&] { make_study(*reader, "new"); })}) {
    EXPECT_NE(msg.find("opened read-only"), std::string::npos) << msg;
  }
  EXPECT_EQ(writer->trials(s).size(), 1u);
}

// Several processes on one study: numbers unique and gap-free, the trial budget never exceeded
// (failed trials are replaced, complete ones are not).
TEST(PostgresStorage, ProcessesGetGapFreeNumbersAndNeverExceedTheBudget) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string url = cluster.new_database_url();
  PostgresStorage st(url);
  const int64_t s = make_study(st, "shared");
  constexpr int kProcesses = 4;
  constexpr int64_t kBudget = 60;
  std::vector<pid_t> children;
  for (int k = 0; k < kProcesses; ++k) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        PostgresStorage mine(url);  // each process its own connection
        const std::string worker = "proc" + std::to_string(k);
        for (;;) {
          Reservation r = mine.reserve_trial(s, worker, TrialBudget{.max_trials = kBudget});
          if (!r.trial) break;
          if (r.counts.counted() + r.counts.running >= kBudget) code = 3;  // reserved past the budget
          const int64_t n = r.trial->number;
          mine.set_trial_params(r.trial->id, {{"x", static_cast<double>(n) / 2}}, 0);
          if (n % 7 == 3) {
            mine.finish_trial(r.trial->id, TrialState::kFailed, std::nullopt, 0.0, "flaky");
          } else {
            mine.finish_trial(r.trial->id, TrialState::kComplete, static_cast<double>(n), 0.0, "");
          }
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", k, e.what());
        code = 1;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child exit status " << status;
  }
  const auto trials = st.trials(s);
  int64_t complete = 0;
  std::set<std::string> workers;
  for (size_t i = 0; i < trials.size(); ++i) {
    const FrozenTrial& t = trials[i];
    ASSERT_EQ(t.number, static_cast<int64_t>(i));  // gap-free, no duplicate
    EXPECT_EQ(t.state, t.number % 7 == 3 ? TrialState::kFailed : TrialState::kComplete) << t.number;
    if (t.state == TrialState::kComplete) {
      ++complete;
      EXPECT_EQ(t.value, static_cast<double>(t.number));
      EXPECT_EQ(std::get<double>(t.params.at("x")), static_cast<double>(t.number) / 2);
    }
    workers.insert(t.worker);
  }
  EXPECT_EQ(complete, kBudget);
  EXPECT_GT(workers.size(), 1u);
  const TrialCounts c = st.count_trials(s);
  EXPECT_EQ(c.complete, kBudget);
  EXPECT_EQ(c.running, 0);
  EXPECT_EQ(c.total(), static_cast<int64_t>(trials.size()));
}

// Every reply to a COMMIT is lost: each write is retried on a new connection and takes effect once.
TEST(PostgresStorage, AWriteRetriedAfterALostCommitTakesEffectOnce) {
  PostgresCluster& cluster = PostgresCluster::shared();
  PostgresStorage st(cluster.new_database_url(), PostgresOptions{.test_lose_first_commit_reply = true});
  const int64_t s = make_study(st);
  for (int i = 0; i < 4; ++i) {
    Reservation r = st.reserve_trial(s, "w", TrialBudget{.max_trials = 3});
    if (i == 3) {
      EXPECT_FALSE(r.trial.has_value());
      break;
    }
    ASSERT_TRUE(r.trial.has_value());
    EXPECT_EQ(r.trial->number, i);
    st.set_trial_params(r.trial->id, {{"x", 0.25 * i}}, 1);
    st.report_intermediate(r.trial->id, 0, 1.0 + i);
    st.report_intermediate(r.trial->id, 1, 2.0 + i);
    st.finish_trial(r.trial->id, TrialState::kComplete, 10.0 * i, 0.5, "");
  }
  EXPECT_GE(st.reconnects(), 3 * 5);
  const auto trials = st.trials(s);
  ASSERT_EQ(trials.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const FrozenTrial& t = trials[static_cast<size_t>(i)];
    EXPECT_EQ(t.number, i);
    EXPECT_EQ(t.state, TrialState::kComplete);
    EXPECT_EQ(t.value, 10.0 * i);
    EXPECT_EQ(t.params, (space::Config{{"x", 0.25 * i}}));
    EXPECT_EQ(t.intermediate, (std::map<int64_t, double>{{0, 1.0 + i}, {1, 2.0 + i}}));
  }
  const TrialCounts c = st.count_trials(s);  // the study's counters were changed once per write
  EXPECT_EQ(c.complete, 3);
  EXPECT_EQ(c.running, 0);
  EXPECT_DOUBLE_EQ(c.cost, 1.5);
  // A finished trial still refuses a second, different finish.
  EXPECT_NE(error_of([&] {
              st.finish_trial(trials[0].id, TrialState::kFailed, std::nullopt, 0, "x");
            }).find("already complete"),
            std::string::npos);
  // Housekeeping is not run twice: its outcome is reported as unknown.
  const std::string msg = error_of([&] { st.delete_study("s", IfRunning::kRefuse); });
  EXPECT_NE(msg.find("whether it took effect is unknown"), std::string::npos) << msg;
}

// Params are committed without waiting for the disk (one fsync per trial less); if a server crash
// loses them before the trial's finish, the finish writes them again and flushes them. The crash's
// effect is staged by clearing the row's params behind the storage's back.
TEST(PostgresStorage, ParamsLostInAServerCrashAreWrittenAgainByTheFinish) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string db = cluster.new_database();
  PostgresStorage st(cluster.url(db));
  const int64_t s = make_study(st);
  const FrozenTrial a = st.create_trial(s, "w");
  st.set_trial_params(a.id, {{"x", 0.75}}, 1);
  cluster.query(db, "UPDATE trials SET params = NULL, fidelity = 0 WHERE id = " + std::to_string(a.id));
  st.finish_trial(a.id, TrialState::kComplete, 2.0, 1.0, "");
  const FrozenTrial got = st.trial(a.id);
  EXPECT_EQ(got.params, (space::Config{{"x", 0.75}}));
  EXPECT_EQ(got.fidelity, 1);
  EXPECT_EQ(got.value, 2.0);
  // Params that were not lost are left as they are; a trial without params finishes without.
  const FrozenTrial b = st.create_trial(s, "w");
  st.set_trial_params(b.id, {{"x", 0.5}}, 0);
  st.finish_trial(b.id, TrialState::kComplete, 1.0, 1.0, "");
  EXPECT_EQ(st.trial(b.id).params, (space::Config{{"x", 0.5}}));
  const FrozenTrial c = st.create_trial(s, "w");
  st.finish_trial(c.id, TrialState::kFailed, std::nullopt, 0.0, "died");
  EXPECT_TRUE(st.trial(c.id).params.empty());
}

// The server is killed (as a crash would) and started again while two workers write: they
// reconnect and go on; nothing is lost and nothing is stored twice.
TEST(PostgresStorage, AServerRestartMidRunLosesAndDuplicatesNothing) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string url = cluster.new_database_url();
  PostgresStorage st(url);
  const int64_t s = make_study(st);
  constexpr int64_t kTrials = 200;
  std::atomic<int64_t> finished{0};
  std::mutex errors_mu;
  std::vector<std::string> errors;
  std::vector<int64_t> reconnects(2, 0);
  std::vector<std::thread> workers;
  for (int k = 0; k < 2; ++k) {
    workers.emplace_back([&, k] {
      try {
        PostgresStorage mine(url);
        for (;;) {
          Reservation r = mine.reserve_trial(s, "w" + std::to_string(k), TrialBudget{.max_trials = kTrials});
          if (!r.trial) break;
          const double x = static_cast<double>(r.trial->number) / 4;
          mine.set_trial_params(r.trial->id, {{"x", x}}, 0);
          mine.report_intermediate(r.trial->id, 0, x);
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          mine.finish_trial(r.trial->id, TrialState::kComplete, 4 * x, 0.0, "");
          ++finished;
        }
        reconnects[static_cast<size_t>(k)] = mine.reconnects();
      } catch (const std::exception& e) {
        std::lock_guard lock(errors_mu);
        errors.push_back(e.what());
      }
    });
  }
  while (finished < kTrials / 4 && errors.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  cluster.stop_immediate();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  cluster.start();
  for (auto& w : workers) w.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  EXPECT_LT(finished.load(), kTrials + 1);
  EXPECT_GE(reconnects[0] + reconnects[1], 2);  // both lost their connection
  const auto trials = st.trials(s);             // `st` reconnects too
  ASSERT_EQ(static_cast<int64_t>(trials.size()), kTrials);
  for (size_t i = 0; i < trials.size(); ++i) {
    const FrozenTrial& t = trials[i];
    ASSERT_EQ(t.number, static_cast<int64_t>(i));
    EXPECT_EQ(t.state, TrialState::kComplete) << t.number;
    const double x = static_cast<double>(t.number) / 4;
    EXPECT_EQ(t.params, (space::Config{{"x", x}})) << t.number;
    EXPECT_EQ(t.value, 4 * x) << t.number;
    EXPECT_EQ(t.intermediate, (std::map<int64_t, double>{{0, x}})) << t.number;
  }
  const TrialCounts c = st.count_trials(s);
  EXPECT_EQ(c.complete, kTrials);
  EXPECT_EQ(c.total(), kTrials);
}

// A reader that follows a busy study through trials_changed_since ends up with what trials()
// returns: no change is skipped while other connections commit concurrently.
TEST(PostgresStorage, AReaderFollowingChangesMissesNoneUnderConcurrentWriters) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string url = cluster.new_database_url();
  PostgresStorage reader(url);
  const int64_t s = make_study(reader);
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int k = 0; k < 4; ++k) {
    writers.emplace_back([&, k] {
      try {
        PostgresStorage mine(url);
        for (int i = 0; i < 30; ++i) {
          const FrozenTrial t = mine.create_trial(s, "w" + std::to_string(k));
          mine.set_trial_params(t.id, {{"i", int64_t{i}}}, 0);
          mine.report_intermediate(t.id, 0, 1.0 * i);
          mine.finish_trial(t.id, TrialState::kComplete, 1.0 * k, 0.0, "");
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  std::map<int64_t, FrozenTrial> view;
  int64_t cursor = 0;
  auto poll = [&] {
    TrialChanges c = reader.trials_changed_since(s, cursor);
    EXPECT_GE(c.cursor, cursor);
    cursor = c.cursor;
    for (auto& t : c.trials) view[t.number] = std::move(t);
  };
  std::thread follower([&] {
    while (!done) poll();
  });
  for (auto& w : writers) w.join();
  done = true;
  follower.join();
  poll();
  EXPECT_EQ(failures.load(), 0);
  const auto all = reader.trials(s);
  ASSERT_EQ(all.size(), 120u);
  ASSERT_EQ(view.size(), all.size());
  for (const FrozenTrial& t : all) {
    const FrozenTrial& v = view.at(t.number);
    EXPECT_EQ(v.state, t.state) << t.number;
    EXPECT_EQ(v.value, t.value) << t.number;
    EXPECT_EQ(v.params, t.params) << t.number;
    EXPECT_EQ(v.intermediate, t.intermediate) << t.number;
  }
}

}  // namespace
}  // namespace metadial::storage
