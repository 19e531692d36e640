// SqliteStorage beyond the shared contract: persistence, several processes on one file, the
// refusal to touch files that are not metadial databases, and clear errors. Also open_storage.
#include "metadial/storage/sqlite.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/storage/in_memory.h"
#include "storage/temp_db.h"

namespace metadial::storage {
namespace {

using study::Direction;
using study::FrozenTrial;
using study::TrialState;
using testing::TempDb;
using testing::read_bytes;
using testing::write_bytes;

/// Runs SQL on a raw connection (as another application would), failing the test on error.
void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

/// First column of the first row of a query on a raw connection, as text.
std::string raw_query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string out = "<error>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    out = text ? reinterpret_cast<const char*>(text) : "NULL";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

template <typename Fn>
std::string storage_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const StorageError& e) {
    return e.what();
  }
  return "<no StorageError>";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(SqliteStorage, KeepsEverythingAcrossReopen) {
  TempDb file;
  std::vector<FrozenTrial> written;
  StudyRecord study;
  {
    SqliteStorage st(file.str());
    study = st.create_or_load_study("tune", Direction::kMaximize, {{{"name", "x"}, {"type", "float"}}},
                                    {{"seed", 3}});
    const FrozenTrial a = st.create_trial(study.id, "host:1");
    st.set_trial_params(a.id, {{"x", 0.1 + 0.2}, {"n", int64_t{4}}, {"k", std::string("rbf")}}, 1);
    st.report_intermediate(a.id, 0, 1.0 / 7.0);
    st.report_intermediate(a.id, 3, 2.5);
    st.finish_trial(a.id, TrialState::kComplete, 1.0 / 3.0, 12.5, "");
    const FrozenTrial b = st.create_trial(study.id, "host:2");
    st.finish_trial(b.id, TrialState::kFailed, std::nullopt, 0.5, "exit code 3");
    st.create_trial(study.id, "host:3");  // left running, as after a crash
    written = st.trials(study.id);
  }
  SqliteStorage st(file.str());
  const auto found = st.find_study("tune");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, study.id);
  EXPECT_EQ(found->direction, Direction::kMaximize);
  EXPECT_EQ(found->space, study.space);
  EXPECT_EQ(found->attrs, study.attrs);
  EXPECT_EQ(found->created_at, study.created_at);
  const auto read = st.trials(study.id);
  ASSERT_EQ(read.size(), 3u);
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].id, written[i].id);
    EXPECT_EQ(read[i].number, written[i].number);
    EXPECT_EQ(read[i].state, written[i].state);
    EXPECT_EQ(read[i].params, written[i].params);
    EXPECT_EQ(read[i].fidelity, written[i].fidelity);
    EXPECT_EQ(read[i].value, written[i].value);
    EXPECT_EQ(read[i].intermediate, written[i].intermediate);
    EXPECT_EQ(read[i].cost, written[i].cost);
    EXPECT_EQ(read[i].fail_reason, written[i].fail_reason);
    EXPECT_EQ(read[i].worker, written[i].worker);
    EXPECT_EQ(read[i].started_at, written[i].started_at);
    EXPECT_EQ(read[i].finished_at, written[i].finished_at);
    EXPECT_EQ(read[i].heartbeat_at, written[i].heartbeat_at);
  }
  EXPECT_EQ(std::get<double>(read[0].params.at("x")), 0.1 + 0.2);
  EXPECT_EQ(read[0].value, 1.0 / 3.0);
  EXPECT_EQ(read[2].state, TrialState::kRunning);
  // Numbering continues after the reopen.
  EXPECT_EQ(st.create_trial(study.id, "host:4").number, 3);
}

TEST(SqliteStorage, AWriteIsCommittedWhenTheCallReturns) {
  // The child finishes a trial, then dies without running any destructor (no close, no
  // checkpoint): the parent must still find the finished trial. Both durability modes survive
  // a process crash (only `durable` survives a power loss, which a test cannot stage).
  for (const bool durable : {true, false}) {
    TempDb file;
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      SqliteStorage st(file.str(), SqliteOptions{.durable = durable});
      const int64_t s = st.create_or_load_study("crash", Direction::kMinimize, nlohmann::json::array(), {}).id;
      const FrozenTrial t = st.create_trial(s, "child");
      st.report_intermediate(t.id, 4, 0.5);
      st.finish_trial(t.id, TrialState::kComplete, 0.125, 1.0, "");
      st.create_trial(s, "child");
      std::raise(SIGKILL);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    SqliteStorage st(file.str());
    const auto s = st.find_study("crash");
    ASSERT_TRUE(s.has_value()) << "durable=" << durable;
    const auto trials = st.trials(s->id);
    ASSERT_EQ(trials.size(), 2u);
    EXPECT_EQ(trials[0].state, TrialState::kComplete);
    EXPECT_EQ(trials[0].value, 0.125);
    EXPECT_EQ(trials[0].intermediate, (std::map<int64_t, double>{{4, 0.5}}));
    EXPECT_EQ(trials[1].state, TrialState::kRunning);
  }
}

TEST(SqliteStorage, SeveralProcessesGetDistinctGapFreeNumbers) {
  // Every child opens the (not yet existing) file itself, so schema and study creation race;
  // then all wait at a barrier and create trials at the same time.
  TempDb file;
  constexpr int kProcesses = 4;
  constexpr int kPerProcess = 25;
  int ready[2];
  int go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(ready[0]);
      close(go[1]);
      int code = 0;
      bool at_barrier = false;
      try {
        SqliteStorage st(file.str());
        const int64_t s = st.create_or_load_study("shared", Direction::kMinimize, nlohmann::json::array(), {}).id;
        char byte = 'r';
        at_barrier = true;
        if (write(ready[1], &byte, 1) != 1) _exit(2);
        if (read(go[0], &byte, 1) != 0) _exit(2);  // returns 0 when the parent closes the pipe
        for (int i = 0; i < kPerProcess; ++i) {
          const FrozenTrial t = st.create_trial(s, "proc" + std::to_string(p));
          st.set_trial_params(t.id, {{"p", int64_t{p}}}, 0);
          st.finish_trial(t.id, TrialState::kComplete, static_cast<double>(t.number), 0.0, "");
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", p, e.what());
        code = 1;
      }
      // A child that failed before the barrier still checks in, so that the parent never waits
      // for it while the others hold the pipe open.
      char failed = 'f';
      if (!at_barrier && write(ready[1], &failed, 1) != 1) _exit(2);
      _exit(code);
    }
    children.push_back(pid);
  }
  close(ready[1]);
  close(go[0]);
  for (int p = 0; p < kProcesses; ++p) {
    char byte = 0;
    if (read(ready[0], &byte, 1) != 1) break;  // a child failed before the barrier
  }
  close(go[1]);  // go
  close(ready[0]);
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a child failed, see stderr";
  }
  SqliteStorage st(file.str());
  ASSERT_EQ(st.list_studies().size(), 1u);
  const auto trials = st.trials(st.find_study("shared")->id);
  ASSERT_EQ(trials.size(), static_cast<size_t>(kProcesses * kPerProcess));
  std::map<std::string, int> per_worker;
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].number, static_cast<int64_t>(i));
    EXPECT_EQ(trials[i].state, TrialState::kComplete);
    EXPECT_EQ(trials[i].value, static_cast<double>(i));
    EXPECT_EQ(trials[i].worker, "proc" + std::to_string(std::get<int64_t>(trials[i].params.at("p"))));
    ++per_worker[trials[i].worker];
  }
  ASSERT_EQ(per_worker.size(), static_cast<size_t>(kProcesses));
  for (const auto& [worker, n] : per_worker) EXPECT_EQ(n, kPerProcess) << worker;
}

TEST(SqliteStorage, TwoConnectionsInOneProcessGetDistinctGapFreeNumbers) {
  // Two workers of one process, each with its own SqliteStorage on the same file: they
  // synchronise through SQLite's file lock, not through a shared mutex.
  TempDb file;
  SqliteStorage first(file.str());
  SqliteStorage second(file.str());
  const int64_t s = first.create_or_load_study("s", Direction::kMinimize, nlohmann::json::array(), {}).id;
  EXPECT_EQ(second.create_or_load_study("s", Direction::kMaximize, nlohmann::json::array(), {}).id, s);
  constexpr int kPerWorker = 40;
  auto work = [&](SqliteStorage& st, const std::string& name) {
    for (int i = 0; i < kPerWorker; ++i) {
      const FrozenTrial t = st.create_trial(s, name);
      st.finish_trial(t.id, TrialState::kComplete, 1.0, 0.0, "");
    }
  };
  std::thread a(work, std::ref(first), "first");
  std::thread b(work, std::ref(second), "second");
  a.join();
  b.join();
  const auto trials = second.trials(s);
  ASSERT_EQ(trials.size(), 2u * kPerWorker);
  int by_first = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].number, static_cast<int64_t>(i));
    by_first += trials[i].worker == "first" ? 1 : 0;
  }
  EXPECT_EQ(by_first, kPerWorker);
}

TEST(SqliteStorage, RejectsJsonItCannotStore) {
  TempDb file;
  SqliteStorage st(file.str());
  const std::string bad_utf8 = "caf\xe9";
  EXPECT_THROW(st.create_or_load_study("s", Direction::kMinimize, nlohmann::json::array(), {{"note", bad_utf8}}),
               InvalidArgument);
  EXPECT_FALSE(st.find_study("s").has_value());
  const int64_t s = st.create_or_load_study("s", Direction::kMinimize, nlohmann::json::array(), {}).id;
  const FrozenTrial t = st.create_trial(s, "w");
  EXPECT_THROW(st.set_trial_params(t.id, {{"k", bad_utf8}}, 0), InvalidArgument);
  EXPECT_TRUE(st.trial(t.id).params.empty());
}

TEST(SqliteStorage, RefusesAFileThatIsNotADatabaseAndLeavesItUnchanged) {
  TempDb file;
  for (const std::string& text : {std::string("hello\n"), std::string(5000, 'x') + "\nlr = 0.1\n"}) {
    write_bytes(file.str(), text);
    const std::string msg = storage_error_of([&] { SqliteStorage st(file.str()); });
    EXPECT_TRUE(contains(msg, "'" + file.str() + "'")) << msg;
    EXPECT_TRUE(contains(msg, "not a SQLite database")) << msg;
    EXPECT_TRUE(contains(msg, "left unchanged")) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(read_bytes(file.str()), text);
    EXPECT_FALSE(file.has_side_files());
  }
}

TEST(SqliteStorage, RefusesAnotherApplicationsDatabaseAndLeavesItUnchanged) {
  TempDb file;
  raw_exec(file.str(),
           "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ann');");
  const std::string before = read_bytes(file.str());
  ASSERT_FALSE(before.empty());
  std::string msg = storage_error_of([&] { SqliteStorage st(file.str()); });
  EXPECT_TRUE(contains(msg, "'" + file.str() + "'")) << msg;
  EXPECT_TRUE(contains(msg, "another application")) << msg;
  EXPECT_TRUE(contains(msg, "users")) << msg;
  EXPECT_TRUE(contains(msg, "left unchanged")) << msg;
  EXPECT_EQ(read_bytes(file.str()), before);
  EXPECT_FALSE(file.has_side_files());
  EXPECT_EQ(raw_query(file.str(), "PRAGMA journal_mode"), "delete");

  // No tables, but another application's id.
  TempDb other;
  raw_exec(other.str(), "PRAGMA application_id = 1234; PRAGMA user_version = 2;");
  const std::string other_before = read_bytes(other.str());
  msg = storage_error_of([&] { SqliteStorage st(other.str()); });
  EXPECT_TRUE(contains(msg, "application_id 0x000004D2")) << msg;
  EXPECT_EQ(read_bytes(other.str()), other_before);
}

TEST(SqliteStorage, RefusesASchemaNewerThanThisBuild) {
  TempDb file;
  { SqliteStorage st(file.str()); }
  raw_exec(file.str(), "PRAGMA user_version = 7;");
  const std::string before = read_bytes(file.str());
  const std::string msg = storage_error_of([&] { SqliteStorage st(file.str()); });
  EXPECT_TRUE(contains(msg, "'" + file.str() + "'")) << msg;
  EXPECT_TRUE(contains(msg, "newer metadial (schema 7, this build reads up to 4)")) << msg;
  EXPECT_TRUE(contains(msg, "upgrade metadial")) << msg;
  EXPECT_EQ(read_bytes(file.str()), before);
}

TEST(SqliteStorage, GivesANewOrEmptyFileTheSchema) {
  TempDb file;
  write_bytes(file.str(), "");
  { SqliteStorage st(file.str()); }
  EXPECT_EQ(raw_query(file.str(), "PRAGMA application_id"), std::to_string(kSqliteApplicationId));
  EXPECT_EQ(raw_query(file.str(), "PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(raw_query(file.str(), "SELECT value FROM meta WHERE key = 'schema_version'"), "4");
  EXPECT_EQ(raw_query(file.str(), "SELECT value FROM meta WHERE key = 'application'"), "metadial");
  EXPECT_EQ(raw_query(file.str(), "PRAGMA journal_mode"), "wal");
  // meta, studies, trials, intermediate_values, queued_trials
  EXPECT_EQ(raw_query(file.str(), "SELECT count(*) FROM sqlite_master WHERE type = 'table'"), "5");
  // Reopening an existing metadial file neither fails nor recreates anything.
  SqliteStorage st(file.str());
  EXPECT_TRUE(st.list_studies().empty());
  EXPECT_EQ(st.path(), file.str());
}

TEST(SqliteStorage, NamesThePathItCannotOpen) {
  std::string msg = storage_error_of([] { SqliteStorage st("/proc/nonexistent/x.db"); });
  EXPECT_TRUE(contains(msg, "cannot open SQLite storage '/proc/nonexistent/x.db'")) << msg;
  const std::string missing = (std::filesystem::temp_directory_path() / "metadial_no_such_dir_9f3" / "x.db").string();
  msg = storage_error_of([&] { SqliteStorage st(missing); });
  EXPECT_TRUE(contains(msg, "cannot open SQLite storage '" + missing + "'")) << msg;
  EXPECT_TRUE(contains(msg, "does not exist")) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(missing).parent_path()));
}

TEST(SqliteStorage, ReportsABusyDatabaseAndLosesNoNumber) {
  TempDb file;
  SqliteStorage st(file.str(), SqliteOptions{.busy_timeout_ms = 50});
  const int64_t s = st.create_or_load_study("s", Direction::kMinimize, nlohmann::json::array(), {}).id;
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(file.str().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);  // holds the write lock
  const std::string msg = storage_error_of([&] { st.create_trial(s, "w"); });
  EXPECT_TRUE(contains(msg, "'" + file.str() + "'")) << msg;
  EXPECT_TRUE(contains(msg, "reserve_trial")) << msg;
  EXPECT_TRUE(contains(msg, "busy timeout of 50 ms")) << msg;
  EXPECT_TRUE(st.trials(s).empty());  // reading still works while another process writes
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ(st.create_trial(s, "w").number, 0);
}

TEST(SqliteStorage, DeleteAndRenameSurviveReopening) {
  TempDb file;
  StudyRecord a;
  StudyRecord gone;
  std::vector<FrozenTrial> a_trials;
  int64_t max_trial_id = 0;
  {
    SqliteStorage st(file.str());
    a = st.create_or_load_study("a", Direction::kMaximize, nlohmann::json::array(), {{"seed", 5}});
    st.create_or_load_study("b", Direction::kMinimize, nlohmann::json::array(), {});
    gone = st.create_or_load_study("gone", Direction::kMinimize, nlohmann::json::array(), {});
    for (int i = 0; i < 2; ++i) {
      const FrozenTrial t = st.create_trial(a.id, "w");
      st.report_intermediate(t.id, 0, 1.0 + i);
      st.finish_trial(t.id, TrialState::kComplete, 1.0 * i, 0, "");
    }
    for (int i = 0; i < 3; ++i) {
      const FrozenTrial t = st.create_trial(gone.id, "w");
      st.report_intermediate(t.id, 0, 1.0);
      st.report_intermediate(t.id, 1, 2.0);
      st.finish_trial(t.id, TrialState::kComplete, 1.0, 0, "");
      max_trial_id = t.id;
    }
    EXPECT_EQ(st.delete_study("gone", IfRunning::kRefuse), 3);
    EXPECT_EQ(st.rename_study("a", "renamed").id, a.id);
    a_trials = st.trials(a.id);
  }
  // Nothing of the deleted study is left in the file.
  const std::string gone_id = std::to_string(gone.id);
  EXPECT_EQ(raw_query(file.str(), "SELECT COUNT(*) FROM trials WHERE study_id = " + gone_id), "0");
  EXPECT_EQ(raw_query(file.str(), "SELECT COUNT(*) FROM intermediate_values"), "2");  // a's two trials
  EXPECT_EQ(raw_query(file.str(), "SELECT COUNT(*) FROM studies"), "2");

  SqliteStorage st(file.str());
  const auto all = st.list_studies();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "renamed");
  EXPECT_EQ(all[0].id, a.id);
  EXPECT_EQ(all[0].attrs, a.attrs);
  EXPECT_EQ(all[1].name, "b");
  EXPECT_FALSE(st.find_study("a").has_value());
  EXPECT_FALSE(st.find_study("gone").has_value());
  const auto read = st.trials(a.id);
  ASSERT_EQ(read.size(), a_trials.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].id, a_trials[i].id);
    EXPECT_EQ(read[i].number, a_trials[i].number);
    EXPECT_EQ(read[i].value, a_trials[i].value);
    EXPECT_EQ(read[i].intermediate, a_trials[i].intermediate);
  }
  // The deleted study held the highest ids; after the reopen they are still not handed out.
  const StudyRecord fresh = st.create_or_load_study("gone", Direction::kMinimize, nlohmann::json::array(), {});
  EXPECT_GT(fresh.id, gone.id);
  EXPECT_GT(st.create_trial(fresh.id, "w").id, max_trial_id);
  EXPECT_EQ(st.create_trial(a.id, "w").number, 2);
}

TEST(SqliteStorage, DeleteIsOneTransaction) {
  TempDb file;
  SqliteStorage st(file.str());
  const int64_t s = st.create_or_load_study("s", Direction::kMinimize, nlohmann::json::array(), {}).id;
  for (int i = 0; i < 3; ++i) {
    const FrozenTrial t = st.create_trial(s, "w");
    st.report_intermediate(t.id, 0, 1.0);
    st.finish_trial(t.id, TrialState::kComplete, 1.0, 0, "");
  }
  // Make the last statement of the delete (the study row) fail, after the trials went.
  raw_exec(file.str(), "CREATE TRIGGER keep_studies BEFORE DELETE ON studies BEGIN SELECT RAISE(ABORT, 'kept'); END");
  const std::string msg = storage_error_of([&] { st.delete_study("s", IfRunning::kRefuse); });
  EXPECT_TRUE(contains(msg, "delete_study failed")) << msg;
  EXPECT_TRUE(contains(msg, "kept")) << msg;
  ASSERT_TRUE(st.find_study("s").has_value());
  const auto trials = st.trials(s);
  ASSERT_EQ(trials.size(), 3u);
  for (const FrozenTrial& t : trials) EXPECT_EQ(t.intermediate.size(), 1u);
  EXPECT_EQ(raw_query(file.str(), "SELECT COUNT(*) FROM meta WHERE key LIKE '%floor'"), "0");

  raw_exec(file.str(), "DROP TRIGGER keep_studies");
  EXPECT_EQ(st.delete_study("s", IfRunning::kRefuse), 3);
  EXPECT_TRUE(st.list_studies().empty());
}

TEST(SqliteStorage, ADeleteWaitingForAnotherWriterChangesNothing) {
  TempDb file;
  SqliteStorage st(file.str(), SqliteOptions{.busy_timeout_ms = 50});
  const int64_t s = st.create_or_load_study("s", Direction::kMinimize, nlohmann::json::array(), {}).id;
  st.finish_trial(st.create_trial(s, "w").id, TrialState::kComplete, 1.0, 0, "");
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(file.str().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);  // holds the write lock
  std::string msg = storage_error_of([&] { st.delete_study("s", IfRunning::kRefuse); });
  EXPECT_TRUE(contains(msg, "delete_study")) << msg;
  EXPECT_TRUE(contains(msg, "busy timeout of 50 ms")) << msg;
  msg = storage_error_of([&] { st.rename_study("s", "t"); });
  EXPECT_TRUE(contains(msg, "rename_study")) << msg;
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_TRUE(st.find_study("s").has_value());
  EXPECT_EQ(st.trials(s).size(), 1u);
}

TEST(SqliteStorage, WithoutCreateRefusesAMissingFileAndCreatesNothing) {
  TempDb file;
  const std::string msg = storage_error_of([&] { SqliteStorage st(file.str(), SqliteOptions{.create = false}); });
  EXPECT_TRUE(contains(msg, "no SQLite storage at '" + file.str() + "'")) << msg;
  EXPECT_TRUE(contains(msg, "does not exist")) << msg;
  EXPECT_FALSE(std::filesystem::exists(file.str()));
  EXPECT_FALSE(file.has_side_files());
  { SqliteStorage create(file.str()); }
  SqliteStorage existing(file.str(), SqliteOptions{.create = false});
  EXPECT_TRUE(existing.list_studies().empty());
}

/// A database of `n` complete trials of study "s" with their params; closed when it returns.
void fill(const std::string& path, int n) {
  SqliteStorage st(path);
  const int64_t s = st.create_or_load_study("s", Direction::kMinimize, nlohmann::json::array(), {}).id;
  for (int i = 0; i < n; ++i) {
    const FrozenTrial t = st.create_trial(s, "w");
    st.set_trial_params(t.id, {{"x", 0.5 * i}}, 0);
    st.finish_trial(t.id, TrialState::kComplete, 1.0 * i, 1.0, "");
  }
}

TEST(SqliteStorage, ReadOnlyOpenWritesNothing) {
  TempDb file;
  fill(file.str(), 3);
  // A rollback-journal file (as another tool may leave it): a read-only open must not switch it
  // to WAL, nor write anything else.
  raw_exec(file.str(), "PRAGMA journal_mode = DELETE;");
  ASSERT_FALSE(file.has_side_files());
  const std::string before = read_bytes(file.str());
  {
    SqliteStorage st(file.str(), SqliteOptions{.read_only = true});
    const auto s = st.find_study("s");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(st.trials(s->id).size(), 3u);
    EXPECT_EQ(st.count_trials(s->id).complete, 3);
    EXPECT_EQ(st.trials_changed_since(s->id, 0).trials.size(), 3u);
    const std::string msg = storage_error_of([&] { st.create_trial(s->id, "w"); });
    EXPECT_TRUE(contains(msg, "opened read-only")) << msg;
  }
  EXPECT_EQ(read_bytes(file.str()), before);
  EXPECT_EQ(raw_query(file.str(), "PRAGMA journal_mode"), "delete");
  // A missing file is refused and not created; so is an empty one (nothing to read).
  TempDb missing;
  EXPECT_THROW(open_storage("sqlite:" + missing.str(), OpenMode::kReadOnly), StorageError);
  EXPECT_FALSE(std::filesystem::exists(missing.str()));
  write_bytes(missing.str(), "");
  const std::string msg = storage_error_of([&] { open_storage("sqlite:" + missing.str(), OpenMode::kReadOnly); });
  EXPECT_TRUE(contains(msg, "empty")) << msg;
  EXPECT_EQ(read_bytes(missing.str()), "");
}

TEST(SqliteStorage, UpgradesASchemaOneFileAndReadsItReadOnlyAsItIs) {
  TempDb file;
  fill(file.str(), 4);
  // Turn it into what a schema-1 build wrote.
  raw_exec(file.str(),
           "DROP INDEX queued_by_study; DROP TABLE queued_trials; ALTER TABLE trials DROP COLUMN retry_of;"
           "DROP INDEX trials_by_state; DROP INDEX trials_by_change; ALTER TABLE trials DROP COLUMN seq;"
           "DELETE FROM meta WHERE key = 'change_seq'; UPDATE meta SET value = '1' WHERE key = 'schema_version';"
           "PRAGMA user_version = 1;");
  {
    SqliteStorage ro(file.str(), SqliteOptions{.read_only = true});
    const int64_t s = ro.find_study("s")->id;
    EXPECT_EQ(ro.trials_changed_since(s, 0).trials.size(), 4u);
    EXPECT_EQ(ro.count_trials(s).complete, 4);
    EXPECT_TRUE(ro.queued_trials(s).empty());
  }
  EXPECT_EQ(raw_query(file.str(), "PRAGMA user_version"), "1");
  SqliteStorage st(file.str());
  EXPECT_EQ(raw_query(file.str(), "PRAGMA user_version"), "4");
  EXPECT_EQ(raw_query(file.str(), "SELECT value FROM meta WHERE key = 'schema_version'"), "4");
  const int64_t s = st.find_study("s")->id;
  TrialChanges all = st.trials_changed_since(s, 0);
  EXPECT_EQ(all.trials.size(), 4u);
  EXPECT_TRUE(st.trials_changed_since(s, all.cursor).trials.empty());
  st.create_trial(s, "w");
  EXPECT_EQ(st.trials_changed_since(s, all.cursor).trials.size(), 1u);
  EXPECT_TRUE(st.enqueue_trial(s, {{"x", 1.0}}, 0, false, -1).has_value());  // and the queue is there
}

TEST(SqliteStorage, UpgradesASchemaTwoFileToTheQueueAndReadsItReadOnlyAsItIs) {
  TempDb file;
  fill(file.str(), 2);
  // What a schema-2 build wrote: no queue.
  raw_exec(file.str(),
           "DROP INDEX queued_by_study; DROP TABLE queued_trials; ALTER TABLE trials DROP COLUMN retry_of;"
           "UPDATE meta SET value = '2' WHERE key = 'schema_version'; PRAGMA user_version = 2;");
  const std::string before = read_bytes(file.str());
  {
    SqliteStorage ro(file.str(), SqliteOptions{.read_only = true});
    const int64_t s = ro.find_study("s")->id;
    EXPECT_TRUE(ro.queued_trials(s).empty());
    EXPECT_EQ(ro.trials(s).size(), 2u);
  }
  EXPECT_EQ(read_bytes(file.str()), before);
  SqliteStorage st(file.str());
  EXPECT_EQ(raw_query(file.str(), "PRAGMA user_version"), "4");
  EXPECT_EQ(raw_query(file.str(), "SELECT value FROM meta WHERE key = 'schema_version'"), "4");
  const int64_t s = st.find_study("s")->id;
  ASSERT_TRUE(st.enqueue_trial(s, {{"x", int64_t{4}}}, 0, false, -1).has_value());
  const FrozenTrial t = st.create_trial(s, "w");
  EXPECT_EQ(t.number, 2);
  EXPECT_EQ(t.params, (space::Config{{"x", int64_t{4}}}));
}

TEST(SqliteStorage, UpgradesASchemaThreeFileToRetriesAndReadsItReadOnlyAsItIs) {
  TempDb file;
  fill(file.str(), 2);
  {
    SqliteStorage st(file.str());
    ASSERT_TRUE(st.enqueue_trial(st.find_study("s")->id, {{"x", 2.0}}, 0, false, -1).has_value());
  }
  // What a schema-3 build wrote: no retry_of, a queued configuration.
  raw_exec(file.str(),
           "ALTER TABLE trials DROP COLUMN retry_of; ALTER TABLE queued_trials DROP COLUMN retry_of;"
           "UPDATE meta SET value = '3' WHERE key = 'schema_version'; PRAGMA user_version = 3;");
  const std::string before = read_bytes(file.str());
  {
    SqliteStorage ro(file.str(), SqliteOptions{.read_only = true});
    const int64_t s = ro.find_study("s")->id;
    ASSERT_EQ(ro.queued_trials(s).size(), 1u);
    EXPECT_EQ(ro.queued_trials(s)[0].retry_of, -1);
    ASSERT_EQ(ro.trials(s).size(), 2u);
    EXPECT_EQ(ro.trials(s)[1].retry_of, -1);
    EXPECT_EQ(ro.trial(ro.trials(s)[0].id).retry_of, -1);
  }
  EXPECT_EQ(read_bytes(file.str()), before);
  SqliteStorage st(file.str());
  EXPECT_EQ(raw_query(file.str(), "PRAGMA user_version"), "4");
  const int64_t s = st.find_study("s")->id;
  EXPECT_EQ(st.create_trial(s, "w").retry_of, -1);  // the queued one, from before the upgrade
  ASSERT_TRUE(st.enqueue_trial(s, {{"x", 3.0}}, 0, false, 1).has_value());
  const FrozenTrial t = st.create_trial(s, "w");
  EXPECT_EQ(t.retry_of, 1);
  EXPECT_EQ(st.trial(t.id).retry_of, 1);
}

TEST(SqliteStorage, RefusesADamagedFileWithHowToRecover) {
  TempDb file;
  fill(file.str(), 300);
  { SqliteStorage st(file.str()); }  // checkpointed and closed: everything is in the main file
  ASSERT_FALSE(file.has_side_files());
  // 64 random bytes into the (study_id, number) index's first page.
  const std::string page =
      raw_query(file.str(), "SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_trials_1'");
  ASSERT_NE(page, "<error>");
  const int64_t page_size = std::stoll(raw_query(file.str(), "PRAGMA page_size"));
  std::string bytes = read_bytes(file.str());
  const size_t at = static_cast<size_t>((std::stoll(page) - 1) * page_size + 100);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < 64; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    bytes[at + i] = static_cast<char>(x & 0xff);
  }
  write_bytes(file.str(), bytes);
  const std::string msg = storage_error_of([&] { SqliteStorage st(file.str()); });
  EXPECT_TRUE(contains(msg, "'" + file.str() + "' is damaged")) << msg;
  EXPECT_TRUE(contains(msg, ".recover")) << msg;
  EXPECT_FALSE(contains(msg, "\n")) << msg;
  EXPECT_EQ(read_bytes(file.str()), bytes);
  EXPECT_THROW(SqliteStorage(file.str(), SqliteOptions{.read_only = true}), StorageError);
}

TEST(SqliteStorage, IntegrityCheckReportsAWholeFileAsWhole) {
  TempDb file;
  fill(file.str(), 20);
  SqliteStorage st(file.str());
  EXPECT_TRUE(st.integrity_check().empty());
}

TEST(SqliteStorage, SeveralProcessesNeverExceedTheTrialBudget) {
  // Every child reserves as fast as it can under one budget; failures free their slot.
  TempDb file;
  { SqliteStorage st(file.str()); st.create_or_load_study("b", Direction::kMinimize, nlohmann::json::array(), {}); }
  constexpr int kProcesses = 4;
  constexpr int64_t kBudget = 40;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        SqliteStorage st(file.str());
        const int64_t s = st.find_study("b")->id;
        const TrialBudget budget{.max_trials = kBudget};
        int misses = 0;
        for (int i = 0; misses < 50; ++i) {
          Reservation r = st.reserve_trial(s, "proc" + std::to_string(p), budget);
          if (!r.trial) {
            if (r.counts.counted() >= kBudget) break;
            ++misses;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            continue;
          }
          const bool fail = (r.trial->number % 7) == 3;
          st.finish_trial(r.trial->id, fail ? TrialState::kFailed : TrialState::kComplete,
                          fail ? std::nullopt : std::optional<double>(1.0), 0.0, fail ? "planned" : "");
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", p, e.what());
        code = 1;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a child failed, see stderr";
  }
  SqliteStorage st(file.str());
  const TrialCounts c = st.count_trials(st.find_study("b")->id);
  EXPECT_EQ(c.complete, kBudget);
  EXPECT_EQ(c.running, 0);
  EXPECT_GT(c.failed, 0);
}

TEST(OpenStorage, OpensMemoryAndSqliteByUrl) {
  auto memory = open_storage("memory");
  EXPECT_NE(dynamic_cast<InMemoryStorage*>(memory.get()), nullptr);
  TempDb file;
  auto sqlite = open_storage("sqlite:" + file.str());
  auto* as_sqlite = dynamic_cast<SqliteStorage*>(sqlite.get());
  ASSERT_NE(as_sqlite, nullptr);
  EXPECT_EQ(as_sqlite->path(), file.str());
  EXPECT_TRUE(std::filesystem::exists(file.str()));
}

TEST(OpenStorage, RejectsUnknownUrls) {
  try {
    open_storage("mysql://localhost/db");
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "unknown storage URL 'mysql://localhost/db' (expected memory, sqlite:PATH or "
                 "postgresql://USER@HOST[:PORT]/DBNAME)");
  }
  EXPECT_THROW(open_storage(""), InvalidArgument);
  EXPECT_THROW(open_storage("Memory"), InvalidArgument);
  EXPECT_THROW(open_storage("sqlite:"), InvalidArgument);
  EXPECT_THROW(open_storage("/tmp/x.db"), InvalidArgument);
}

TEST(OpenStorage, ExistingModeRefusesAMissingSqliteFile) {
  TempDb file;
  EXPECT_THROW(open_storage("sqlite:" + file.str(), OpenMode::kExisting), StorageError);
  EXPECT_FALSE(std::filesystem::exists(file.str()));
  open_storage("sqlite:" + file.str());  // kCreate, the default
  EXPECT_NE(open_storage("sqlite:" + file.str(), OpenMode::kExisting), nullptr);
  EXPECT_NE(open_storage("memory", OpenMode::kExisting), nullptr);
}

}  // namespace
}  // namespace metadial::storage
