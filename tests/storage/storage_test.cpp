// The one test suite every Storage implementation passes (the contract of storage.h).
// Storage-specific behaviour (files, processes) is in sqlite_test.cpp.
#include "metadial/storage/storage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/storage/in_memory.h"
#include "metadial/storage/postgres.h"
#include "metadial/storage/sqlite.h"
#include "storage/postgres_fixture.h"
#include "storage/temp_db.h"

namespace metadial::storage {
namespace {

using study::Direction;
using study::FrozenTrial;
using study::TrialState;

struct InMemoryFactory {
  static constexpr const char* kName = "InMemory";
  std::unique_ptr<Storage> open() { return std::make_unique<InMemoryStorage>(); }
};

struct SqliteFactory {
  static constexpr const char* kName = "Sqlite";
  testing::TempDb db;
  std::unique_ptr<Storage> open() { return std::make_unique<SqliteStorage>(db.str()); }
};

template <typename Factory>
class StorageContract : public ::testing::Test {
 protected:
  Factory factory_;
  std::unique_ptr<Storage> storage_ = factory_.open();

  int64_t make_study(const std::string& name = "s") {
    return storage_->create_or_load_study(name, Direction::kMinimize, nlohmann::json::array(), {}).id;
  }
};

struct FactoryName {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

// A fresh database on the process's throwaway server (postgres_fixture.h), over TCP with a password.
struct PostgresFactory {
  static constexpr const char* kName = "Postgres";
  std::string url = testing::PostgresCluster::shared().new_database_url();
  std::unique_ptr<Storage> open() { return std::make_unique<PostgresStorage>(url); }
};

using Factories = ::testing::Types<InMemoryFactory, SqliteFactory, PostgresFactory>;
TYPED_TEST_SUITE(StorageContract, Factories, FactoryName);

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

template <typename Fn>
std::string storage_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const StorageError& e) {
    return e.what();
  }
  return "<no StorageError>";
}

TYPED_TEST(StorageContract, CreateOrLoadStudyReturnsTheOriginalRecordForTheSameName) {
  const nlohmann::json space = nlohmann::json::parse(
      R"([{"name":"lr","type":"float","low":1e-05,"high":0.1,"log":true},)"
      R"({"name":"k","type":"categorical","choices":["a","b"]}])");
  const nlohmann::json attrs = {{"sampler", "gp"}, {"seed", 7}};
  const StudyRecord a = this->storage_->create_or_load_study("tune", Direction::kMaximize, space, attrs);
  EXPECT_GE(a.id, 0);
  EXPECT_EQ(a.name, "tune");
  EXPECT_EQ(a.direction, Direction::kMaximize);
  EXPECT_EQ(a.space, space);
  EXPECT_EQ(a.attrs, attrs);
  EXPECT_GT(a.created_at, 0.0);

  const StudyRecord b = this->storage_->create_or_load_study("tune", Direction::kMinimize, nlohmann::json::array(),
                                                             {{"sampler", "random"}});
  EXPECT_EQ(b.id, a.id);
  EXPECT_EQ(b.direction, Direction::kMaximize);
  EXPECT_EQ(b.space, space);
  EXPECT_EQ(b.attrs, attrs);
  EXPECT_EQ(b.created_at, a.created_at);
  EXPECT_EQ(this->storage_->list_studies().size(), 1u);
}

TYPED_TEST(StorageContract, FindsAndListsStudies) {
  EXPECT_FALSE(this->storage_->find_study("a").has_value());
  EXPECT_TRUE(this->storage_->list_studies().empty());
  const StudyRecord a = this->storage_->create_or_load_study("a", Direction::kMinimize, nlohmann::json::array(), {});
  const StudyRecord b = this->storage_->create_or_load_study("b", Direction::kMaximize, nlohmann::json::array(),
                                                             {{"note", "second"}});
  EXPECT_NE(a.id, b.id);
  const auto found = this->storage_->find_study("b");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, b.id);
  EXPECT_EQ(found->direction, Direction::kMaximize);
  EXPECT_EQ(found->attrs["note"], "second");
  EXPECT_FALSE(this->storage_->find_study("c").has_value());
  const auto all = this->storage_->list_studies();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[1].name, "b");
  EXPECT_THROW(this->storage_->create_or_load_study("", Direction::kMinimize, {}, {}), InvalidArgument);
}

TYPED_TEST(StorageContract, NumbersTrialsFromZeroPerStudy) {
  const int64_t a = this->make_study("a");
  const int64_t b = this->make_study("b");
  std::set<int64_t> ids;
  for (int64_t n = 0; n < 3; ++n) {
    const FrozenTrial t = this->storage_->create_trial(a, "host:1");
    EXPECT_EQ(t.number, n);
    EXPECT_EQ(t.state, TrialState::kRunning);
    EXPECT_EQ(t.worker, "host:1");
    EXPECT_TRUE(t.params.empty());
    EXPECT_FALSE(t.value.has_value());
    EXPECT_GT(t.started_at, 0.0);
    EXPECT_EQ(t.heartbeat_at, t.started_at);
    EXPECT_EQ(t.finished_at, 0.0);
    ids.insert(t.id);
  }
  EXPECT_EQ(this->storage_->create_trial(b, "host:2").number, 0);
  EXPECT_EQ(this->storage_->create_trial(a, "host:1").number, 3);
  EXPECT_EQ(this->storage_->create_trial(b, "host:2").number, 1);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(this->storage_->trials(a).size(), 4u);
  EXPECT_EQ(this->storage_->trials(b).size(), 2u);
  // A fresh trial read back equals what create_trial returned.
  const FrozenTrial t = this->storage_->create_trial(b, "w");
  const FrozenTrial r = this->storage_->trial(t.id);
  EXPECT_EQ(r.number, 2);
  EXPECT_EQ(r.worker, "w");
  EXPECT_EQ(r.started_at, t.started_at);
}

TYPED_TEST(StorageContract, StoresParamsExactlyWithTheirTypes) {
  const int64_t s = this->make_study();
  const FrozenTrial t = this->storage_->create_trial(s, "w");
  const space::Config params{
      {"sum", 0.1 + 0.2},                                      // 0.30000000000000004
      {"third", -1.0 / 3.0},
      {"denormal", std::numeric_limits<double>::denorm_min()},  // 5e-324
      {"tiny", std::numeric_limits<double>::min()},
      {"huge", std::numeric_limits<double>::max()},
      {"two", 2.0},                                            // integral double stays a double
      {"neg_zero", -0.0},
      {"lr", 3.0517578125e-05},
      {"layers", int64_t{3}},
      {"big_int", std::numeric_limits<int64_t>::max()},
      {"neg_int", int64_t{-42}},
      {"kernel", std::string("rbf")},
      {"quoted", std::string("a \"b\"\n\\ é")},
  };
  this->storage_->set_trial_params(t.id, params, 2);
  for (const FrozenTrial& r : {this->storage_->trial(t.id), this->storage_->trials(s).at(0)}) {
    ASSERT_EQ(r.params.size(), params.size());
    EXPECT_EQ(r.fidelity, 2);
    for (const auto& [name, v] : params) {
      const auto& got = r.params.at(name);
      ASSERT_EQ(got.index(), v.index()) << name;
      if (const double* d = std::get_if<double>(&v)) {
        EXPECT_TRUE(same_bits(std::get<double>(got), *d)) << name << ": " << std::get<double>(got);
      } else {
        EXPECT_EQ(got, v) << name;
      }
    }
  }
}

TYPED_TEST(StorageContract, SetsParamsOnceEvenWhenEmpty) {
  const int64_t s = this->make_study();
  const FrozenTrial t = this->storage_->create_trial(s, "w");
  this->storage_->set_trial_params(t.id, {}, 0);
  const std::string msg = storage_error_of([&] { this->storage_->set_trial_params(t.id, {{"x", 1.0}}, 1); });
  EXPECT_NE(msg.find("trial 0 of study 's'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("already set"), std::string::npos) << msg;
  const FrozenTrial r = this->storage_->trial(t.id);
  EXPECT_TRUE(r.params.empty());
  EXPECT_EQ(r.fidelity, 0);
}

TYPED_TEST(StorageContract, KeepsIntermediateValuesOrderedByStepAndOverwritesAStep) {
  const int64_t s = this->make_study();
  const FrozenTrial t = this->storage_->create_trial(s, "w");
  this->storage_->report_intermediate(t.id, 5, 0.5);
  this->storage_->report_intermediate(t.id, 0, 1.0 / 3.0);
  this->storage_->report_intermediate(t.id, 2, 7.0);
  this->storage_->report_intermediate(t.id, 2, -7.25);  // re-reporting a step overwrites
  const FrozenTrial other = this->storage_->create_trial(s, "w");
  this->storage_->report_intermediate(other.id, 2, 99.0);
  for (const FrozenTrial& r : {this->storage_->trial(t.id), this->storage_->trials(s).at(0)}) {
    ASSERT_EQ(r.intermediate.size(), 3u);
    std::vector<int64_t> steps;
    for (const auto& [step, v] : r.intermediate) steps.push_back(step);
    EXPECT_EQ(steps, (std::vector<int64_t>{0, 2, 5}));
    EXPECT_TRUE(same_bits(r.intermediate.at(0), 1.0 / 3.0));
    EXPECT_EQ(r.intermediate.at(2), -7.25);
    EXPECT_EQ(r.intermediate.at(5), 0.5);
    EXPECT_GE(r.heartbeat_at, t.heartbeat_at);
  }
  EXPECT_EQ(this->storage_->trials(s).at(1).intermediate, (std::map<int64_t, double>{{2, 99.0}}));
}

TYPED_TEST(StorageContract, HeartbeatAndReportRefreshTheHeartbeat) {
  const int64_t s = this->make_study();
  const FrozenTrial t = this->storage_->create_trial(s, "w");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  this->storage_->heartbeat(t.id);
  const double after_heartbeat = this->storage_->trial(t.id).heartbeat_at;
  EXPECT_GT(after_heartbeat, t.heartbeat_at);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  this->storage_->report_intermediate(t.id, 0, 1.0);
  const FrozenTrial r = this->storage_->trial(t.id);
  EXPECT_GT(r.heartbeat_at, after_heartbeat);
  EXPECT_EQ(r.started_at, t.started_at);
}

TYPED_TEST(StorageContract, FinishesCompletePrunedAndFailedTrials) {
  const int64_t s = this->make_study();
  const FrozenTrial a = this->storage_->create_trial(s, "w");
  const FrozenTrial b = this->storage_->create_trial(s, "w");
  const FrozenTrial c = this->storage_->create_trial(s, "w");
  const FrozenTrial d = this->storage_->create_trial(s, "w");
  this->storage_->finish_trial(a.id, TrialState::kComplete, 0.1 + 0.2, 1.5, "");
  this->storage_->finish_trial(b.id, TrialState::kPruned, std::nullopt, 0.25, "");
  this->storage_->finish_trial(c.id, TrialState::kFailed, std::nullopt, 2.0, "objective returned NaN");
  this->storage_->finish_trial(d.id, TrialState::kPruned, -3.5, 0.0, "");  // pruned with its last value

  const auto all = this->storage_->trials(s);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].state, TrialState::kComplete);
  ASSERT_TRUE(all[0].value.has_value());
  EXPECT_TRUE(same_bits(*all[0].value, 0.1 + 0.2));
  EXPECT_EQ(all[0].cost, 1.5);
  EXPECT_TRUE(all[0].is_complete());
  EXPECT_GE(all[0].finished_at, all[0].started_at);
  EXPECT_GT(all[0].finished_at, 0.0);

  EXPECT_EQ(all[1].state, TrialState::kPruned);
  EXPECT_FALSE(all[1].value.has_value());
  EXPECT_EQ(all[1].cost, 0.25);
  EXPECT_FALSE(all[1].is_complete());

  EXPECT_EQ(all[2].state, TrialState::kFailed);
  EXPECT_FALSE(all[2].value.has_value());
  EXPECT_EQ(all[2].fail_reason, "objective returned NaN");
  EXPECT_EQ(all[2].cost, 2.0);

  EXPECT_EQ(all[3].state, TrialState::kPruned);
  EXPECT_EQ(all[3].value, -3.5);
  for (const FrozenTrial& t : all) EXPECT_TRUE(t.is_finished());
}

TYPED_TEST(StorageContract, FailAndRetryFailsTheTrialAndQueuesItsParamsTogether) {
  const int64_t s = this->make_study();
  const FrozenTrial a = this->storage_->create_trial(s, "w");
  const space::Config params{{"x", 0.25}, {"n", int64_t{3}}};
  this->storage_->set_trial_params(a.id, params, 1);
  this->storage_->fail_and_retry(a.id, "worker w died while running this trial", a.number);
  const auto t = this->storage_->trials(s).at(0);
  EXPECT_EQ(t.state, TrialState::kFailed);
  EXPECT_EQ(t.fail_reason, "worker w died while running this trial");
  EXPECT_EQ(t.cost, 0.0);
  const auto q = this->storage_->queued_trials(s);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].params, params);
  EXPECT_EQ(q[0].fidelity, 1);
  EXPECT_EQ(q[0].retry_of, a.number);
  const TrialCounts c = this->storage_->count_trials(s);
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.running, 0);
  // A second worker that comes too late: refused, nothing queued twice.
  EXPECT_THROW(this->storage_->fail_and_retry(a.id, "again", a.number), StorageError);
  EXPECT_EQ(this->storage_->queued_trials(s).size(), 1u);
  // The next trial takes the retry.
  const FrozenTrial b = this->storage_->create_trial(s, "w2");
  EXPECT_EQ(b.params, params);
  EXPECT_EQ(b.retry_of, a.number);
  EXPECT_TRUE(this->storage_->queued_trials(s).empty());
  // A trial without params has nothing to re-run: refused, the trial left running.
  const FrozenTrial c2 = this->storage_->create_trial(s, "w");
  EXPECT_THROW(this->storage_->fail_and_retry(c2.id, "died", c2.number), StorageError);
  EXPECT_EQ(this->storage_->trials(s).at(2).state, TrialState::kRunning);
  EXPECT_TRUE(this->storage_->queued_trials(s).empty());
}

TYPED_TEST(StorageContract, SetTrialTimesKeepsGivenTimesOfAFinishedTrialOnly) {
  const int64_t s = this->make_study();
  const FrozenTrial a = this->storage_->create_trial(s, "w");
  EXPECT_THROW(this->storage_->set_trial_times(a.id, 1000.25, 1010.5), StorageError);  // running
  this->storage_->finish_trial(a.id, TrialState::kComplete, 1.0, 0.0, "");
  EXPECT_THROW(this->storage_->set_trial_times(a.id, 1010.5, 1000.25), InvalidArgument);  // ends before it starts
  EXPECT_THROW(this->storage_->set_trial_times(a.id, std::nan(""), 1000.25), InvalidArgument);
  const auto before = this->storage_->trials(s).at(0);
  EXPECT_GT(before.started_at, 1e9);  // now, not the times refused above
  this->storage_->set_trial_times(a.id, 1000.25, 1010.5);
  const auto t = this->storage_->trials(s).at(0);
  EXPECT_EQ(t.started_at, 1000.25);
  EXPECT_EQ(t.finished_at, 1010.5);
  EXPECT_EQ(t.heartbeat_at, 1010.5);
  EXPECT_EQ(t.state, TrialState::kComplete);
  EXPECT_EQ(t.value, 1.0);
  EXPECT_THROW(this->storage_->set_trial_times(a.id + 1000, 1.0, 2.0), StorageError);  // no such trial
}

TYPED_TEST(StorageContract, AFinishedTrialNeverChanges) {
  const int64_t s = this->make_study();
  const FrozenTrial t = this->storage_->create_trial(s, "w");
  this->storage_->set_trial_params(t.id, {{"x", 0.5}}, 1);
  this->storage_->report_intermediate(t.id, 0, 4.0);
  this->storage_->finish_trial(t.id, TrialState::kComplete, 3.0, 1.0, "");
  const FrozenTrial before = this->storage_->trial(t.id);

  std::string msg =
      storage_error_of([&] { this->storage_->finish_trial(t.id, TrialState::kFailed, std::nullopt, 0, "x"); });
  EXPECT_NE(msg.find("trial 0 of study 's' is already complete"), std::string::npos) << msg;
  msg = storage_error_of([&] { this->storage_->finish_trial(t.id, TrialState::kComplete, 1.0, 0, ""); });
  EXPECT_NE(msg.find("already complete"), std::string::npos) << msg;
  msg = storage_error_of([&] { this->storage_->set_trial_params(t.id, {{"x", 0.7}}, 0); });
  EXPECT_NE(msg.find("already complete"), std::string::npos) << msg;
  msg = storage_error_of([&] { this->storage_->report_intermediate(t.id, 1, 2.0); });
  EXPECT_NE(msg.find("already complete"), std::string::npos) << msg;
  msg = storage_error_of([&] { this->storage_->heartbeat(t.id); });
  EXPECT_NE(msg.find("already complete"), std::string::npos) << msg;

  const FrozenTrial after = this->storage_->trial(t.id);
  EXPECT_EQ(after.state, TrialState::kComplete);
  EXPECT_EQ(after.value, 3.0);
  EXPECT_EQ(after.cost, 1.0);
  EXPECT_EQ(after.fail_reason, "");
  EXPECT_EQ(after.params, before.params);
  EXPECT_EQ(after.fidelity, 1);
  EXPECT_EQ(after.intermediate, before.intermediate);
  EXPECT_EQ(after.finished_at, before.finished_at);
  EXPECT_EQ(after.heartbeat_at, before.heartbeat_at);

  const FrozenTrial p = this->storage_->create_trial(s, "w");
  this->storage_->finish_trial(p.id, TrialState::kPruned, std::nullopt, 0, "");
  msg = storage_error_of([&] { this->storage_->finish_trial(p.id, TrialState::kComplete, 1.0, 0, ""); });
  EXPECT_NE(msg.find("trial 1 of study 's' is already pruned"), std::string::npos) << msg;
}

TYPED_TEST(StorageContract, RejectsInvalidArgumentsWithoutChangingTheTrial) {
  const int64_t s = this->make_study();
  const FrozenTrial t = this->storage_->create_trial(s, "w");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  auto& st = *this->storage_;
  EXPECT_THROW(st.finish_trial(t.id, TrialState::kRunning, 1.0, 0, ""), InvalidArgument);
  EXPECT_THROW(st.finish_trial(t.id, TrialState::kComplete, std::nullopt, 0, ""), InvalidArgument);
  EXPECT_THROW(st.finish_trial(t.id, TrialState::kComplete, nan, 0, ""), InvalidArgument);
  EXPECT_THROW(st.finish_trial(t.id, TrialState::kComplete, inf, 0, ""), InvalidArgument);
  EXPECT_THROW(st.finish_trial(t.id, TrialState::kComplete, -inf, 0, ""), InvalidArgument);
  EXPECT_THROW(st.finish_trial(t.id, TrialState::kFailed, 1.0, 0, "why"), InvalidArgument);
  EXPECT_THROW(st.finish_trial(t.id, TrialState::kComplete, 1.0, -1.0, ""), InvalidArgument);
  EXPECT_THROW(st.finish_trial(t.id, TrialState::kComplete, 1.0, nan, ""), InvalidArgument);
  EXPECT_THROW(st.report_intermediate(t.id, 0, nan), InvalidArgument);
  EXPECT_THROW(st.report_intermediate(t.id, -1, 1.0), InvalidArgument);
  EXPECT_THROW(st.set_trial_params(t.id, {{"x", nan}}, 0), InvalidArgument);
  EXPECT_THROW(st.set_trial_params(t.id, {{"x", inf}}, 0), InvalidArgument);
  EXPECT_THROW(st.set_trial_params(t.id, {{"x", 1.0}}, -1), InvalidArgument);
  const FrozenTrial r = st.trial(t.id);
  EXPECT_EQ(r.state, TrialState::kRunning);
  EXPECT_TRUE(r.params.empty());
  EXPECT_TRUE(r.intermediate.empty());
  // Still usable afterwards.
  st.set_trial_params(t.id, {{"x", 1.0}}, 0);
  st.finish_trial(t.id, TrialState::kComplete, 1.0, 0.0, "");
  EXPECT_EQ(st.trial(t.id).value, 1.0);
}

TYPED_TEST(StorageContract, UnknownIdsThrowStorageError) {
  const int64_t s = this->make_study();
  const FrozenTrial t = this->storage_->create_trial(s, "w");
  const int64_t bad_trial = t.id + 1000;
  const int64_t bad_study = s + 1000;
  auto& st = *this->storage_;
  std::string msg = storage_error_of([&] { st.trial(bad_trial); });
  EXPECT_NE(msg.find("no trial with id " + std::to_string(bad_trial)), std::string::npos) << msg;
  EXPECT_THROW(st.set_trial_params(bad_trial, {}, 0), StorageError);
  EXPECT_THROW(st.report_intermediate(bad_trial, 0, 1.0), StorageError);
  EXPECT_THROW(st.heartbeat(bad_trial), StorageError);
  EXPECT_THROW(st.finish_trial(bad_trial, TrialState::kComplete, 1.0, 0, ""), StorageError);
  msg = storage_error_of([&] { st.create_trial(bad_study, "w"); });
  EXPECT_NE(msg.find("no study with id " + std::to_string(bad_study)), std::string::npos) << msg;
  EXPECT_THROW(st.trials(bad_study), StorageError);
  EXPECT_THROW(st.trial(-1), StorageError);
  EXPECT_EQ(st.trials(s).size(), 1u);
}

TYPED_TEST(StorageContract, ListsTrialsByNumberAsSnapshots) {
  const int64_t s = this->make_study();
  std::vector<FrozenTrial> created;
  for (int i = 0; i < 5; ++i) created.push_back(this->storage_->create_trial(s, "w" + std::to_string(i)));
  const auto before = this->storage_->trials(s);
  for (int i = 4; i >= 0; --i) {  // finish in reverse order: listing stays by number
    this->storage_->finish_trial(created[static_cast<size_t>(i)].id, TrialState::kComplete, 10.0 * i, 0, "");
  }
  const auto after = this->storage_->trials(s);
  ASSERT_EQ(after.size(), 5u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].number, static_cast<int64_t>(i));
    EXPECT_EQ(after[i].id, created[i].id);
    EXPECT_EQ(after[i].worker, "w" + std::to_string(i));
    EXPECT_EQ(after[i].value, 10.0 * static_cast<double>(i));
    // Earlier snapshots did not follow the change.
    EXPECT_EQ(before[i].state, TrialState::kRunning);
    EXPECT_FALSE(before[i].value.has_value());
    EXPECT_EQ(created[i].state, TrialState::kRunning);
  }
}

TYPED_TEST(StorageContract, ConcurrentThreadsGetDistinctGapFreeNumbers) {
  const int64_t s = this->make_study();
  const int64_t other = this->make_study("other");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::vector<int64_t>> numbers(kThreads);
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < kPerThread; ++i) {
        const FrozenTrial t = this->storage_->create_trial(s, "thread" + std::to_string(k));
        this->storage_->finish_trial(t.id, TrialState::kComplete, static_cast<double>(t.number), 0.0, "");
        numbers[static_cast<size_t>(k)].push_back(t.number);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int64_t> all;
  for (const auto& v : numbers) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // one thread's numbers only grow
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int64_t>(i));
  const auto stored = this->storage_->trials(s);
  ASSERT_EQ(stored.size(), all.size());
  std::set<int64_t> ids;
  for (const FrozenTrial& t : stored) {
    EXPECT_EQ(t.state, TrialState::kComplete);
    EXPECT_EQ(t.value, static_cast<double>(t.number));
    ids.insert(t.id);
  }
  EXPECT_EQ(ids.size(), all.size());
  EXPECT_TRUE(this->storage_->trials(other).empty());
  EXPECT_EQ(this->storage_->create_trial(other, "w").number, 0);
}

// --- Housekeeping: delete_study, rename_study ---

template <typename Fn>
std::string invalid_argument_of(Fn&& fn) {
  try {
    fn();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "<no InvalidArgument>";
}

TYPED_TEST(StorageContract, DeleteStudyRemovesItsTrialsAndFreesTheName) {
  auto& st = *this->storage_;
  const int64_t a = this->make_study("a");
  const int64_t b = this->make_study("b");
  std::set<int64_t> a_trials;
  for (int i = 0; i < 3; ++i) {
    const FrozenTrial t = st.create_trial(a, "w");
    st.set_trial_params(t.id, {{"x", 0.5 * i}}, 0);
    st.report_intermediate(t.id, 0, 1.0 + i);
    st.finish_trial(t.id, i == 2 ? TrialState::kFailed : TrialState::kComplete,
                    i == 2 ? std::nullopt : std::optional<double>(i), 0.0, i == 2 ? "boom" : "");
    a_trials.insert(t.id);
  }
  const FrozenTrial kept = st.create_trial(b, "w");
  st.report_intermediate(kept.id, 3, 9.0);
  st.finish_trial(kept.id, TrialState::kComplete, 9.0, 1.0, "");

  EXPECT_EQ(st.delete_study("a", IfRunning::kRefuse), 3);
  EXPECT_FALSE(st.find_study("a").has_value());
  const auto left = st.list_studies();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].name, "b");
  for (int64_t id : a_trials) {
    const std::string msg = storage_error_of([&] { st.trial(id); });
    EXPECT_NE(msg.find("no trial with id " + std::to_string(id)), std::string::npos) << msg;
  }
  EXPECT_THROW(st.trials(a), StorageError);
  EXPECT_THROW(st.create_trial(a, "w"), StorageError);
  // The other study is untouched.
  const auto b_trials = st.trials(b);
  ASSERT_EQ(b_trials.size(), 1u);
  EXPECT_EQ(b_trials[0].value, 9.0);
  EXPECT_EQ(b_trials[0].intermediate, (std::map<int64_t, double>{{3, 9.0}}));

  // The name is free: a new, empty study with its own settings.
  const StudyRecord again =
      st.create_or_load_study("a", Direction::kMaximize, nlohmann::json::array(), {{"note", "new"}});
  EXPECT_NE(again.id, a);
  EXPECT_EQ(again.direction, Direction::kMaximize);
  EXPECT_EQ(again.attrs["note"], "new");
  EXPECT_TRUE(st.trials(again.id).empty());
  const FrozenTrial first = st.create_trial(again.id, "w");
  EXPECT_EQ(first.number, 0);
  EXPECT_FALSE(a_trials.contains(first.id));
  EXPECT_EQ(st.delete_study("a", IfRunning::kDelete), 1);
  EXPECT_EQ(st.list_studies().size(), 1u);
}

TYPED_TEST(StorageContract, IdsOfADeletedStudyAreNeverHandedOutAgain) {
  auto& st = *this->storage_;
  const int64_t keep = this->make_study("keep");
  st.create_trial(keep, "w");
  // The deleted study holds the highest study id and the highest trial ids.
  const int64_t gone = this->make_study("gone");
  const FrozenTrial t1 = st.create_trial(gone, "w");
  const FrozenTrial t2 = st.create_trial(gone, "w");
  st.finish_trial(t1.id, TrialState::kComplete, 1.0, 0, "");
  st.finish_trial(t2.id, TrialState::kComplete, 2.0, 0, "");
  EXPECT_EQ(st.delete_study("gone", IfRunning::kRefuse), 2);

  const int64_t fresh = this->make_study("fresh");
  EXPECT_GT(fresh, gone);
  const FrozenTrial t3 = st.create_trial(fresh, "w");
  const FrozenTrial t4 = st.create_trial(keep, "w");
  EXPECT_GT(t3.id, t2.id);
  EXPECT_GT(t4.id, t2.id);
  // A worker still holding the old ids gets an error, not someone else's study or trial.
  EXPECT_THROW(st.create_trial(gone, "w"), StorageError);
  EXPECT_THROW(st.finish_trial(t2.id, TrialState::kComplete, 1.0, 0, ""), StorageError);
  EXPECT_EQ(st.trials(fresh).size(), 1u);
}

TYPED_TEST(StorageContract, DeleteOfAMissingStudyNamesTheStoredStudies) {
  auto& st = *this->storage_;
  std::string msg = storage_error_of([&] { st.delete_study("gamma", IfRunning::kRefuse); });
  EXPECT_NE(msg.find("no study 'gamma'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("holds no studies"), std::string::npos) << msg;

  this->make_study("alpha");
  this->make_study("beta");
  msg = storage_error_of([&] { st.delete_study("gamma", IfRunning::kDelete); });
  EXPECT_NE(msg.find("no study 'gamma'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("alpha, beta"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_THROW(st.delete_study("", IfRunning::kDelete), InvalidArgument);
  EXPECT_EQ(st.list_studies().size(), 2u);
}

TYPED_TEST(StorageContract, DeleteRefusesRunningTrialsUnlessForced) {
  auto& st = *this->storage_;
  const int64_t s = this->make_study("busy");
  const FrozenTrial done = st.create_trial(s, "w");
  st.finish_trial(done.id, TrialState::kComplete, 1.0, 0, "");
  const FrozenTrial running = st.create_trial(s, "w");
  st.report_intermediate(running.id, 0, 2.0);

  const std::string msg = storage_error_of([&] { st.delete_study("busy", IfRunning::kRefuse); });
  EXPECT_NE(msg.find("refusing to delete study 'busy'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1 trial is still running (number 1)"), std::string::npos) << msg;
  // Nothing was deleted.
  ASSERT_TRUE(st.find_study("busy").has_value());
  EXPECT_EQ(st.trials(s).size(), 2u);
  EXPECT_EQ(st.trial(running.id).intermediate.size(), 1u);

  EXPECT_EQ(st.delete_study("busy", IfRunning::kDelete), 2);
  EXPECT_FALSE(st.find_study("busy").has_value());
  // The worker of the running trial learns on its next call.
  EXPECT_THROW(st.report_intermediate(running.id, 1, 3.0), StorageError);
  EXPECT_THROW(st.finish_trial(running.id, TrialState::kComplete, 1.0, 0, ""), StorageError);
}

TYPED_TEST(StorageContract, RenameKeepsIdTrialsNumbersAndAttrs) {
  auto& st = *this->storage_;
  const nlohmann::json space = nlohmann::json::parse(R"([{"name":"x","type":"float","low":0,"high":1}])");
  const nlohmann::json attrs = {{"sampler", "gp"}, {"seed", 11}};
  const StudyRecord before = st.create_or_load_study("old", Direction::kMaximize, space, attrs);
  for (int i = 0; i < 3; ++i) {
    const FrozenTrial t = st.create_trial(before.id, "w" + std::to_string(i));
    st.set_trial_params(t.id, {{"x", 0.25 * i}}, 1);
    st.report_intermediate(t.id, 0, 0.5 * i);
    st.finish_trial(t.id, TrialState::kComplete, 1.0 * i, 0.5, "");
  }
  const auto trials_before = st.trials(before.id);

  const StudyRecord renamed = st.rename_study("old", "new");
  EXPECT_EQ(renamed.id, before.id);
  EXPECT_EQ(renamed.name, "new");
  EXPECT_EQ(renamed.direction, Direction::kMaximize);
  EXPECT_EQ(renamed.space, space);
  EXPECT_EQ(renamed.attrs, attrs);
  EXPECT_EQ(renamed.created_at, before.created_at);
  EXPECT_FALSE(st.find_study("old").has_value());
  const auto found = st.find_study("new");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, before.id);
  EXPECT_EQ(found->attrs, attrs);
  ASSERT_EQ(st.list_studies().size(), 1u);
  EXPECT_EQ(st.list_studies()[0].name, "new");

  const auto trials_after = st.trials(before.id);
  ASSERT_EQ(trials_after.size(), trials_before.size());
  for (size_t i = 0; i < trials_after.size(); ++i) {
    EXPECT_EQ(trials_after[i].id, trials_before[i].id);
    EXPECT_EQ(trials_after[i].number, trials_before[i].number);
    EXPECT_EQ(trials_after[i].params, trials_before[i].params);
    EXPECT_EQ(trials_after[i].value, trials_before[i].value);
    EXPECT_EQ(trials_after[i].intermediate, trials_before[i].intermediate);
    EXPECT_EQ(trials_after[i].worker, trials_before[i].worker);
  }
  // Numbering goes on; messages use the new name; the old name is free.
  const FrozenTrial next = st.create_trial(before.id, "w");
  EXPECT_EQ(next.number, 3);
  st.finish_trial(next.id, TrialState::kComplete, 1.0, 0, "");
  const std::string msg = storage_error_of([&] { st.heartbeat(next.id); });
  EXPECT_NE(msg.find("trial 3 of study 'new'"), std::string::npos) << msg;
  const StudyRecord fresh = st.create_or_load_study("old", Direction::kMinimize, nlohmann::json::array(), {});
  EXPECT_NE(fresh.id, before.id);
  EXPECT_TRUE(st.trials(fresh.id).empty());
}

TYPED_TEST(StorageContract, RenameRefusesATakenNameOrAMissingStudyAndChangesNothing) {
  auto& st = *this->storage_;
  const int64_t a = this->make_study("a");
  const int64_t b = this->make_study("b");
  st.create_trial(a, "w");
  st.create_trial(b, "w");
  st.create_trial(b, "w");

  std::string msg = storage_error_of([&] { st.rename_study("a", "b"); });
  EXPECT_NE(msg.find("cannot rename study 'a' to 'b'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'b' already exists"), std::string::npos) << msg;
  msg = storage_error_of([&] { st.rename_study("zzz", "c"); });
  EXPECT_NE(msg.find("no study 'zzz'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("a, b"), std::string::npos) << msg;
  msg = invalid_argument_of([&] { st.rename_study("a", ""); });
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
  EXPECT_THROW(st.rename_study("", "c"), InvalidArgument);
  msg = invalid_argument_of([&] { st.rename_study("a", "a"); });
  EXPECT_NE(msg.find("to itself"), std::string::npos) << msg;

  const auto all = st.list_studies();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[0].id, a);
  EXPECT_EQ(all[1].name, "b");
  EXPECT_EQ(all[1].id, b);
  EXPECT_EQ(st.trials(a).size(), 1u);
  EXPECT_EQ(st.trials(b).size(), 2u);
  EXPECT_FALSE(st.find_study("c").has_value());
}

TYPED_TEST(StorageContract, RenameWhileATrialRunsKeepsTheWorkerWriting) {
  auto& st = *this->storage_;
  const int64_t s = this->make_study("before");
  const FrozenTrial t = st.create_trial(s, "w");
  st.rename_study("before", "after");
  st.report_intermediate(t.id, 0, 1.5);
  st.finish_trial(t.id, TrialState::kComplete, 1.5, 0, "");
  EXPECT_EQ(st.create_trial(s, "w").number, 1);
  const auto found = st.find_study("after");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(st.trials(found->id).at(0).value, 1.5);
}

TYPED_TEST(StorageContract, ReserveTrialRespectsTheTrialBudget) {
  auto& st = *this->storage_;
  const int64_t s = this->make_study();
  const TrialBudget budget{.max_trials = 3};
  std::vector<FrozenTrial> made;
  for (int i = 0; i < 3; ++i) {
    Reservation r = st.reserve_trial(s, "w", budget);
    ASSERT_TRUE(r.trial.has_value()) << i;
    EXPECT_EQ(r.counts.running, i);
    made.push_back(*r.trial);
  }
  // Three running trials hold the budget: the fourth is refused, with the counts that refused it.
  Reservation full = st.reserve_trial(s, "w", budget);
  EXPECT_FALSE(full.trial.has_value());
  EXPECT_EQ(full.counts.running, 3);
  EXPECT_EQ(full.counts.total(), 3);
  // A failed trial frees its slot (failures are replaced); complete and pruned ones do not.
  st.finish_trial(made[0].id, TrialState::kFailed, std::nullopt, 0.0, "boom");
  st.finish_trial(made[1].id, TrialState::kComplete, 1.0, 0.0, "");
  st.finish_trial(made[2].id, TrialState::kPruned, std::nullopt, 0.0, "");
  Reservation again = st.reserve_trial(s, "w", budget);
  ASSERT_TRUE(again.trial.has_value());
  EXPECT_EQ(again.trial->number, 3);
  EXPECT_FALSE(st.reserve_trial(s, "w", budget).trial.has_value());
  // No budget: always.
  EXPECT_TRUE(st.reserve_trial(s, "w", TrialBudget{}).trial.has_value());
}

TYPED_TEST(StorageContract, ReserveTrialRespectsTheCostBudget) {
  auto& st = *this->storage_;
  const int64_t s = this->make_study();
  const TrialBudget budget{.max_cost = 2.5};
  const FrozenTrial a = *st.reserve_trial(s, "w", budget).trial;
  const FrozenTrial b = *st.reserve_trial(s, "w", budget).trial;  // running trials cost 0 until finished
  st.finish_trial(a.id, TrialState::kComplete, 1.0, 1.5, "");
  st.finish_trial(b.id, TrialState::kFailed, std::nullopt, 1.0, "x");  // a failure's cost counts
  Reservation r = st.reserve_trial(s, "w", budget);
  EXPECT_FALSE(r.trial.has_value());
  EXPECT_DOUBLE_EQ(r.counts.cost, 2.5);
  EXPECT_EQ(st.trials(s).size(), 2u);
}

TYPED_TEST(StorageContract, QueuedConfigurationsGoFirstToNewTrialsOldestFirst) {
  Storage& st = *this->storage_;
  const int64_t s = this->make_study();
  const space::Config a = {{"x", 0.5}, {"k", int64_t{3}}, {"c", std::string("rbf")}};
  const space::Config b = {{"x", 0.25}, {"k", int64_t{3}}, {"c", std::string("rbf")}};
  const space::Config c = {{"x", 0.125}, {"k", int64_t{1}}, {"c", std::string("lin")}};
  const std::optional<QueuedTrial> qa = st.enqueue_trial(s, a, 1, false, -1);
  const std::optional<QueuedTrial> qb = st.enqueue_trial(s, b, 0, false, -1);
  ASSERT_TRUE(qa && qb);
  EXPECT_LT(qa->id, qb->id);
  EXPECT_GT(qa->queued_at, 0.0);
  {
    const auto queued = st.queued_trials(s);
    ASSERT_EQ(queued.size(), 2u);
    EXPECT_EQ(queued[0].params, a);
    EXPECT_EQ(queued[0].fidelity, 1);
    EXPECT_EQ(queued[1].params, b);
    EXPECT_EQ(queued[1].id, qb->id);
  }
  // A full budget takes nothing from the queue.
  EXPECT_FALSE(st.reserve_trial(s, "w", TrialBudget{.max_cost = 0.0}).trial.has_value());
  EXPECT_EQ(st.queued_trials(s).size(), 2u);

  const FrozenTrial t0 = st.create_trial(s, "w");  // takes a, params set at creation
  EXPECT_EQ(t0.number, 0);
  EXPECT_EQ(t0.params, a);
  EXPECT_EQ(t0.fidelity, 1);
  EXPECT_EQ(st.trial(t0.id).params, a);
  EXPECT_EQ(st.trials_changed_since(s, 0).trials.at(0).params, a);
  EXPECT_THROW(st.set_trial_params(t0.id, b, 0), StorageError);  // params are set once
  ASSERT_EQ(st.queued_trials(s).size(), 1u);

  // skip_if_present: a is in a running trial, b is queued; the same params at another fidelity are not the same.
  EXPECT_FALSE(st.enqueue_trial(s, a, 1, true, -1).has_value());
  EXPECT_FALSE(st.enqueue_trial(s, b, 0, true, -1).has_value());
  EXPECT_TRUE(st.enqueue_trial(s, b, 1, true, -1).has_value());
  st.finish_trial(t0.id, TrialState::kFailed, std::nullopt, 0.0, "boom");
  EXPECT_TRUE(st.enqueue_trial(s, a, 1, true, -1).has_value());  // a failed trial does not hold it
  EXPECT_TRUE(st.enqueue_trial(s, c, 0, false, -1).has_value());

  std::vector<space::Config> taken;
  for (int i = 0; i < 4; ++i) taken.push_back(st.create_trial(s, "w").params);
  EXPECT_EQ(taken, (std::vector<space::Config>{b, b, a, c}));
  EXPECT_TRUE(st.queued_trials(s).empty());
  const FrozenTrial sampled = st.create_trial(s, "w");  // the queue is empty: no params
  EXPECT_TRUE(sampled.params.empty());
  st.set_trial_params(sampled.id, c, 0);
  EXPECT_EQ(st.count_trials(s).total(), 6);

  // Unknown study; a deleted study's queue goes with it.
  EXPECT_THROW(st.enqueue_trial(s + 1000, a, 0, false, -1), StorageError);
  EXPECT_THROW(st.queued_trials(s + 1000), StorageError);
  const int64_t other = this->make_study("other");
  ASSERT_TRUE(st.enqueue_trial(other, a, 0, false, -1).has_value());
  st.delete_study("other", IfRunning::kDelete);
  EXPECT_THROW(st.queued_trials(other), StorageError);
  const int64_t again = this->make_study("other");
  EXPECT_TRUE(st.queued_trials(again).empty());
  EXPECT_THROW(st.enqueue_trial(again, {{"x", std::nan("")}}, 0, false, -1), InvalidArgument);
}

TYPED_TEST(StorageContract, ARetryQueuedForATrialIsRecordedOnTheTrialThatTakesIt) {
  Storage& st = *this->storage_;
  const int64_t s = this->make_study();
  const space::Config a = {{"x", 0.5}, {"k", int64_t{3}}, {"c", std::string("rbf")}};
  const FrozenTrial first = st.create_trial(s, "w");
  EXPECT_EQ(first.retry_of, -1);
  st.set_trial_params(first.id, a, 1);
  st.finish_trial(first.id, TrialState::kFailed, std::nullopt, 0.0, "worker silent");
  const std::optional<QueuedTrial> q = st.enqueue_trial(s, a, 1, false, first.number);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->retry_of, first.number);
  ASSERT_EQ(st.queued_trials(s).size(), 1u);
  EXPECT_EQ(st.queued_trials(s)[0].retry_of, first.number);
  const FrozenTrial retry = st.create_trial(s, "w2");
  EXPECT_EQ(retry.number, 1);
  EXPECT_EQ(retry.params, a);
  EXPECT_EQ(retry.retry_of, first.number);
  EXPECT_EQ(st.trial(retry.id).retry_of, first.number);
  EXPECT_EQ(st.trials(s).at(1).retry_of, first.number);
  EXPECT_EQ(st.running_trials(s).at(0).retry_of, first.number);
  EXPECT_EQ(st.trials_changed_since(s, 0).trials.at(1).retry_of, first.number);
  EXPECT_EQ(st.trials(s).at(0).retry_of, -1);
  EXPECT_THROW(st.enqueue_trial(s, a, 1, false, -2), InvalidArgument);
}

TYPED_TEST(StorageContract, CountTrialsAndRunningTrials) {
  auto& st = *this->storage_;
  const int64_t s = this->make_study();
  const int64_t other = this->make_study("other");
  std::vector<FrozenTrial> t;
  for (int i = 0; i < 5; ++i) t.push_back(st.create_trial(s, "w" + std::to_string(i)));
  st.create_trial(other, "x");
  st.report_intermediate(t[4].id, 0, 2.0);
  st.finish_trial(t[0].id, TrialState::kComplete, 1.0, 0.5, "");
  st.finish_trial(t[1].id, TrialState::kPruned, std::nullopt, 0.25, "");
  st.finish_trial(t[2].id, TrialState::kFailed, std::nullopt, 1.0, "no");
  const TrialCounts c = st.count_trials(s);
  EXPECT_EQ(c.complete, 1);
  EXPECT_EQ(c.pruned, 1);
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.running, 2);
  EXPECT_EQ(c.counted(), 2);
  EXPECT_DOUBLE_EQ(c.cost, 1.75);
  const auto running = st.running_trials(s);
  ASSERT_EQ(running.size(), 2u);
  EXPECT_EQ(running[0].number, 3);
  EXPECT_EQ(running[1].number, 4);
  EXPECT_EQ(running[1].worker, "w4");
  EXPECT_THROW(st.count_trials(12345), StorageError);
}

TYPED_TEST(StorageContract, TrialsChangedSinceACursorReplayToTheFullList) {
  auto& st = *this->storage_;
  const int64_t s = this->make_study();
  const int64_t other = this->make_study("other");
  TrialChanges first = st.trials_changed_since(s, 0);
  EXPECT_TRUE(first.trials.empty());
  const FrozenTrial a = st.create_trial(s, "w");
  const FrozenTrial b = st.create_trial(s, "w");
  // The caller's view: trials by number, updated from the changes only.
  std::map<int64_t, FrozenTrial> view;
  auto apply = [&](int64_t cursor) {
    TrialChanges c = st.trials_changed_since(s, cursor);
    EXPECT_GE(c.cursor, cursor);
    for (auto& t : c.trials) view[t.number] = t;
    return std::make_pair(c.cursor, c.trials.size());
  };
  auto [cursor, n] = apply(first.cursor);
  EXPECT_EQ(n, 2u);
  // Nothing changed: nothing comes back. A heartbeat is not a change; a change of another study
  // moves the cursor but returns nothing of this one.
  st.heartbeat(a.id);
  st.create_trial(other, "x");
  std::tie(cursor, n) = apply(cursor);
  EXPECT_EQ(n, 0u);
  st.set_trial_params(a.id, {{"x", 1.0}}, 0);
  st.report_intermediate(b.id, 3, 0.5);
  std::tie(cursor, n) = apply(cursor);
  EXPECT_EQ(n, 2u);
  st.finish_trial(a.id, TrialState::kComplete, 2.0, 0.0, "");
  std::tie(cursor, n) = apply(cursor);
  EXPECT_EQ(n, 1u);
  const auto all = st.trials(s);
  ASSERT_EQ(view.size(), all.size());
  for (const auto& t : all) {
    const FrozenTrial& v = view.at(t.number);
    EXPECT_EQ(v.state, t.state);
    EXPECT_EQ(v.value, t.value);
    EXPECT_EQ(v.params, t.params);
    EXPECT_EQ(v.intermediate, t.intermediate);
  }
}

// Counts and changes are kept as the trials change (no scan of the study): after every step they
// agree with what the full list says, and the changes come back in number order.
TYPED_TEST(StorageContract, CountsAndChangesFollowEveryStepInNumberOrder) {
  auto& st = *this->storage_;
  const int64_t s = this->make_study();
  const int64_t other = this->make_study("other");
  std::vector<FrozenTrial> t;
  for (int i = 0; i < 6; ++i) t.push_back(st.create_trial(s, "w"));
  st.create_trial(other, "x");
  int64_t cursor = st.trials_changed_since(s, 0).cursor;
  auto check = [&](std::vector<int64_t> changed) {
    const auto all = st.trials(s);
    TrialCounts want;
    for (const auto& f : all) {
      want.cost += f.cost;
      switch (f.state) {
        case TrialState::kRunning: ++want.running; break;
        case TrialState::kComplete: ++want.complete; break;
        case TrialState::kPruned: ++want.pruned; break;
        case TrialState::kFailed: ++want.failed; break;
      }
    }
    const TrialCounts c = st.count_trials(s);
    EXPECT_EQ(c.running, want.running);
    EXPECT_EQ(c.complete, want.complete);
    EXPECT_EQ(c.pruned, want.pruned);
    EXPECT_EQ(c.failed, want.failed);
    EXPECT_DOUBLE_EQ(c.cost, want.cost);
    const TrialChanges ch = st.trials_changed_since(s, cursor);
    std::vector<int64_t> numbers;
    for (const auto& f : ch.trials) {
      numbers.push_back(f.number);
      EXPECT_EQ(f.state, all[static_cast<size_t>(f.number)].state);
    }
    EXPECT_EQ(numbers, changed);
    cursor = ch.cursor;
  };
  // Changed out of number order: returned by number, each trial once.
  st.finish_trial(t[4].id, TrialState::kComplete, 1.0, 0.5, "");
  st.set_trial_params(t[1].id, {{"x", 1.0}}, 0);
  st.finish_trial(t[1].id, TrialState::kPruned, std::nullopt, 0.25, "");
  check({1, 4});
  st.finish_trial(t[0].id, TrialState::kFailed, std::nullopt, 2.0, "no");
  st.report_intermediate(t[5].id, 0, 1.0);
  st.report_intermediate(t[5].id, 1, 2.0);
  check({0, 5});
  const FrozenTrial late = st.create_trial(s, "w");
  st.finish_trial(late.id, TrialState::kComplete, 3.0, 1.0, "");
  st.finish_trial(t[2].id, TrialState::kComplete, 0.5, 0.0, "");
  check({2, 6});
  check({});
  // Another study's counts are its own.
  EXPECT_EQ(st.count_trials(other).running, 1);
  EXPECT_EQ(st.count_trials(other).counted(), 0);
}

TYPED_TEST(StorageContract, RefusesControlCharactersInANewStudyName) {
  auto& st = *this->storage_;
  for (const std::string& bad : {std::string("a\0b", 3), std::string("x\ny"), std::string("\x1b[31mred")}) {
    try {
      st.create_or_load_study(bad, Direction::kMinimize, nlohmann::json::array(), {});
      ADD_FAILURE() << "accepted a name with a control character";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("control character"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "the message is one line";
    }
  }
  this->make_study("ok");
  EXPECT_THROW(st.rename_study("ok", "o\tk"), InvalidArgument);
  EXPECT_TRUE(st.list_studies().size() == 1 && st.list_studies()[0].name == "ok");
  // Printable UTF-8 is fine.
  EXPECT_NO_THROW(this->make_study("étude-π"));
}

TYPED_TEST(StorageContract, StoresInvalidUtf8AsValidUtf8) {
  auto& st = *this->storage_;
  const int64_t s = this->make_study();
  const FrozenTrial t = st.create_trial(s, "w\xff");
  st.finish_trial(t.id, TrialState::kFailed, std::nullopt, 0.0, "bad \xc3\x28 bytes \xed\xa0\x80");
  const FrozenTrial back = st.trial(t.id);
  EXPECT_EQ(back.fail_reason, "bad \xef\xbf\xbd( bytes \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(back.worker, "w\xef\xbf\xbd");
}

// SqliteStorage keeps each study's counts and reads only the trials changed since its last count:
// what another connection (another process) changes shows in the next count, and a study deleted
// and made again under the same name starts from zero.
TEST(SqliteCounts, FollowChangesOfAnotherConnection) {
  testing::TempDb db;
  SqliteStorage a(db.str());
  SqliteStorage b(db.str());
  const int64_t s = a.create_or_load_study("s", Direction::kMinimize, nlohmann::json::array(), {}).id;
  const FrozenTrial t0 = a.create_trial(s, "a");
  EXPECT_EQ(a.count_trials(s).running, 1);
  const FrozenTrial t1 = b.create_trial(s, "b");
  b.finish_trial(t0.id, TrialState::kComplete, 1.0, 2.0, "");
  TrialCounts c = a.count_trials(s);
  EXPECT_EQ(c.running, 1);
  EXPECT_EQ(c.complete, 1);
  EXPECT_DOUBLE_EQ(c.cost, 2.0);
  b.heartbeat(t1.id);  // not a change of the counts
  b.finish_trial(t1.id, TrialState::kFailed, std::nullopt, 0.5, "x");
  TrialBudget budget;
  budget.max_trials = 1;
  const Reservation r = a.reserve_trial(s, "a", budget);
  EXPECT_FALSE(r.trial.has_value());
  EXPECT_EQ(r.counts.running, 0);
  EXPECT_EQ(r.counts.failed, 1);
  EXPECT_DOUBLE_EQ(r.counts.cost, 2.5);
  b.delete_study("s", IfRunning::kRefuse);
  const int64_t again = b.create_or_load_study("s", Direction::kMinimize, nlohmann::json::array(), {}).id;
  b.create_trial(again, "b");
  c = a.count_trials(again);
  EXPECT_EQ(c.running, 1);
  EXPECT_EQ(c.counted() + c.failed, 0);
  EXPECT_DOUBLE_EQ(c.cost, 0.0);
}

}  // namespace
}  // namespace metadial::storage
