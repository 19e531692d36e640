// The one test suite every Storage implementation passes (the contract of storage.h).
// Storage-specific behaviour (files, processes) is in sqlite_test.cpp.
#include "metadial/storage/storage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/core/error.h"
#include "metadial/storage/in_memory.h"
#include "metadial/storage/sqlite.h"
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

using Factories = ::testing::Types<InMemoryFactory, SqliteFactory>;
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

}  // namespace
}  // namespace metadial::storage
