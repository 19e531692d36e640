#include "metadial/study/study.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "metadial/core/error.h"
#include "metadial/core/interrupt.h"
#include "metadial/optim/random_sampler.h"
#include "metadial/storage/in_memory.h"
#include "metadial/storage/sqlite.h"
#include "storage/temp_db.h"

namespace metadial::study {
namespace {

// Proposes x = the fraction of the seed's low bits, and records what it was shown.
class RecordingSampler final : public optim::Sampler {
 public:
  optim::Suggestion suggest(const optim::SamplerContext& ctx, std::span<const FrozenTrial> history) override {
    std::lock_guard lock(mu);
    for (const auto& t : history) EXPECT_LT(t.number, ctx.trial_number);
    history_sizes.push_back(history.size());
    seeds.push_back(ctx.seed);
    std::vector<double> u{static_cast<double>(ctx.seed % 1000) / 1000.0};
    return {ctx.space->decode(u), fidelity};
  }
  std::string name() const override { return "recording"; }
  std::mutex mu;
  std::vector<size_t> history_sizes;
  std::vector<uint64_t> seeds;
  int fidelity = -1;
};

// f(x) = (x - 0.3)^2, with switchable misbehaviour.
class Quadratic final : public objective::Objective {
 public:
  objective::Evaluation evaluate(const space::Config& c, int fidelity, objective::Reporter& reporter) override {
    const int n = calls.fetch_add(1);
    const int now = ++in_flight;
    int prev = max_in_flight.load();
    while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
    }
    struct Leave {
      std::atomic<int>& v;
      ~Leave() { --v; }
    } leave{in_flight};
    if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    if (throw_every > 0 && n % throw_every == 0) throw Error("boom " + std::to_string(n));
    if (nan_always) return {std::nan(""), 1.0};
    for (int64_t step = 0; step < report_steps; ++step) {
      reporter.report(step, static_cast<double>(step));
      if (step_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
      if (prune_at >= 0 && step == prune_at) throw TrialPruned("pruned");
    }
    const double x = std::get<double>(c.at("x"));
    return {(x - 0.3) * (x - 0.3), cost_per_fidelity * (fidelity + 1)};
  }
  std::vector<objective::Fidelity> fidelities() const override { return fids; }
  std::string name() const override { return "quadratic"; }

  std::vector<objective::Fidelity> fids{{"full", 1.0}};
  std::atomic<int> calls{0}, in_flight{0}, max_in_flight{0};
  int throw_every = 0;
  bool nan_always = false;
  int64_t report_steps = 0;
  int step_ms = 0;
  int sleep_ms = 0;
  int64_t prune_at = -1;
  double cost_per_fidelity = 1.0;
};

space::SearchSpace one_d() {
  space::SearchSpace s;
  s.add_float("x", 0.0, 1.0);
  return s;
}

TEST(Study, AskTellNumbersTrialsAndShowsEarlierHistory) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  for (int i = 0; i < 3; ++i) {
    Trial t = study.ask(sampler, 7);
    EXPECT_EQ(t.number(), i);
    study.tell(t, 1.0 + i, 2.0);
  }
  EXPECT_EQ(sampler.history_sizes, (std::vector<size_t>{0, 1, 2}));
  const auto trials = study.trials();
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[1].state, TrialState::kComplete);
  EXPECT_DOUBLE_EQ(*trials[1].value, 2.0);
  EXPECT_DOUBLE_EQ(trials[1].cost, 2.0);
  EXPECT_EQ(study.best_trial()->number, 0);
}

// Records the (number, state) of every trial it was shown, per call.
class StateRecordingSampler final : public optim::Sampler {
 public:
  explicit StateRecordingSampler(bool uses_history) : uses_history_(uses_history) {}
  optim::Suggestion suggest(const optim::SamplerContext& ctx, std::span<const FrozenTrial> history) override {
    auto& seen = shown.emplace_back();
    for (const auto& t : history) seen.emplace_back(t.number, t.state);
    return {ctx.space->decode(std::vector<double>{0.5}), -1};
  }
  std::string name() const override { return "state-recording"; }
  bool uses_history() const override { return uses_history_; }
  std::vector<std::vector<std::pair<int64_t, TrialState>>> shown;

 private:
  bool uses_history_;
};

TEST(Study, HistoryShowsEachEarlierTrialAsItIsNowInNumberOrder) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  StateRecordingSampler sampler(true);
  Trial t0 = study.ask(sampler, 1);
  Trial t1 = study.ask(sampler, 1);
  study.tell(t1, 2.0);  // finished before t0: updated in place, the order stays by number
  Trial t2 = study.ask(sampler, 1);
  study.tell_failed(t0, "x");
  study.tell(t2, 1.0);
  Trial t3 = study.ask(sampler, 1);
  study.tell(t3, 1.0);
  using P = std::pair<int64_t, TrialState>;
  ASSERT_EQ(sampler.shown.size(), 4u);
  EXPECT_TRUE(sampler.shown[0].empty());
  EXPECT_EQ(sampler.shown[1], (std::vector<P>{{0, TrialState::kRunning}}));
  EXPECT_EQ(sampler.shown[2], (std::vector<P>{{0, TrialState::kRunning}, {1, TrialState::kComplete}}));
  EXPECT_EQ(sampler.shown[3],
            (std::vector<P>{{0, TrialState::kFailed}, {1, TrialState::kComplete}, {2, TrialState::kComplete}}));
}

TEST(Study, ASamplerThatUsesNoHistoryIsShownNoneAndALaterOneSeesEverything) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  StateRecordingSampler blind(false);
  for (int i = 0; i < 3; ++i) {
    Trial t = study.ask(blind, 1);
    study.tell(t, 1.0);
  }
  for (const auto& seen : blind.shown) EXPECT_TRUE(seen.empty());
  StateRecordingSampler seeing(true);
  Trial t = study.ask(seeing, 1);
  ASSERT_EQ(seeing.shown.size(), 1u);
  ASSERT_EQ(seeing.shown[0].size(), 3u);
  for (const auto& [number, state] : seeing.shown[0]) EXPECT_EQ(state, TrialState::kComplete);
  EXPECT_FALSE(optim::RandomSampler().uses_history());
}

// A study over x in [0, 1], k in {1..5}, c in {a, b} on `storage`.
Study mixed_study(storage::Storage& storage) {
  space::SearchSpace sp;
  sp.add_float("x", 0.0, 1.0).add_int("k", 1, 5).add_categorical("c", {"a", "b"});
  return Study::create_or_load(storage, "mixed", sp, Direction::kMinimize);
}

TEST(Study, EnqueueChecksTheConfigurationAgainstTheSpaceAndNormalizesItsTypes) {
  storage::InMemoryStorage storage;
  Study study = mixed_study(storage);
  const auto q = study.enqueue({{"x", int64_t{1}}, {"k", 2.0}, {"c", std::string("b")}}, 0);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->params, (space::Config{{"x", 1.0}, {"k", int64_t{2}}, {"c", std::string("b")}}));
  auto error = [&](const space::Config& c) {
    try {
      study.enqueue(c, 0);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  EXPECT_NE(error({{"x", 0.5}, {"k", int64_t{2}}, {"c", std::string("a")}, {"lr", 0.1}})
                .find("parameter 'lr' is not in the search space of study 'mixed' (its parameters: x, k, c)"),
            std::string::npos);
  EXPECT_NE(error({{"x", 0.5}, {"c", std::string("a")}}).find("lacks parameter 'k'"), std::string::npos);
  EXPECT_NE(error({{"x", 1.5}, {"k", int64_t{2}}, {"c", std::string("a")}}).find("parameter 'x': value 1.5 outside"),
            std::string::npos);
  EXPECT_NE(error({{"x", 0.5}, {"k", 2.5}, {"c", std::string("a")}}).find("parameter 'k': expected an integer"),
            std::string::npos);
  EXPECT_NE(error({{"x", 0.5}, {"k", int64_t{2}}, {"c", std::string("z")}}).find("'z' is not one of its choices"),
            std::string::npos);
  EXPECT_EQ(study.queued().size(), 1u);
  // Already queued: skipped on request.
  EXPECT_FALSE(study.enqueue(q->params, 0, /*skip_if_present=*/true).has_value());
  EXPECT_EQ(study.queued().size(), 1u);
}

TEST(Optimize, EnqueuedConfigurationsRunFirstAndTheSamplerSeesThemAsHistory) {
  for (const bool sqlite : {false, true}) {
    SCOPED_TRACE(sqlite ? "sqlite" : "memory");
    storage::testing::TempDb file;
    std::unique_ptr<storage::Storage> storage;
    if (sqlite) {
      storage = std::make_unique<storage::SqliteStorage>(file.str());
    } else {
      storage = std::make_unique<storage::InMemoryStorage>();
    }
    Study study = Study::create_or_load(*storage, "s", one_d(), Direction::kMinimize);
    ASSERT_TRUE(study.enqueue({{"x", 0.3}}, 0).has_value());  // the optimum
    ASSERT_TRUE(study.enqueue({{"x", int64_t{1}}}, 0).has_value());
    Quadratic objective;
    RecordingSampler sampler;
    OptimizeOptions options;
    options.n_trials = 4;
    const OptimizeResult r = optimize(study, objective, sampler, options);
    EXPECT_EQ(r.n_complete, 4);
    const auto trials = study.trials();
    ASSERT_EQ(trials.size(), 4u);
    EXPECT_EQ(trials[0].params, (space::Config{{"x", 0.3}}));
    EXPECT_EQ(trials[1].params, (space::Config{{"x", 1.0}}));
    EXPECT_EQ(trials[0].fidelity, 0);
    ASSERT_TRUE(r.best.has_value());
    EXPECT_EQ(r.best->number, 0);
    // Asked only for trials 2 and 3, each shown every earlier trial, the queued ones included.
    EXPECT_EQ(sampler.history_sizes, (std::vector<size_t>{2, 3}));
    EXPECT_TRUE(study.queued().empty());
  }
}

TEST(Study, SamplerSeedDependsOnStudySeedAndTrialNumberOnly) {
  storage::InMemoryStorage a, b;
  RecordingSampler sa, sb;
  auto s1 = Study::create_or_load(a, "s", one_d(), Direction::kMinimize);
  auto s2 = Study::create_or_load(b, "s", one_d(), Direction::kMinimize);
  for (int i = 0; i < 3; ++i) {
    Trial t1 = s1.ask(sa, 11);
    s1.tell(t1, 0.0);
    Trial t2 = s2.ask(sb, 11);
    s2.tell_failed(t2, "different history, same seeds");
  }
  EXPECT_EQ(sa.seeds, sb.seeds);
  EXPECT_EQ(std::set<uint64_t>(sa.seeds.begin(), sa.seeds.end()).size(), 3u);
  RecordingSampler sc;
  storage::InMemoryStorage c;
  auto s3 = Study::create_or_load(c, "s", one_d(), Direction::kMinimize);
  Trial t3 = s3.ask(sc, 12);
  EXPECT_NE(sc.seeds[0], sa.seeds[0]);
}

TEST(Study, NonFiniteValueIsRecordedAsFailed) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Trial t = study.ask(sampler, 0);
  study.tell(t, std::nan(""));
  const auto rec = study.trials().at(0);
  EXPECT_EQ(rec.state, TrialState::kFailed);
  EXPECT_NE(rec.fail_reason.find("nan"), std::string::npos) << rec.fail_reason;
}

TEST(Study, LoadingWithAnotherSpaceOrDirectionIsRejected) {
  storage::InMemoryStorage storage;
  Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  space::SearchSpace other;
  other.add_float("x", 0.0, 2.0);
  EXPECT_THROW(Study::create_or_load(storage, "s", other, Direction::kMinimize), InvalidArgument);
  EXPECT_THROW(Study::create_or_load(storage, "s", one_d(), Direction::kMaximize), InvalidArgument);
  EXPECT_NO_THROW(Study::create_or_load(storage, "s", one_d(), Direction::kMinimize));
  EXPECT_THROW(Study::load(storage, "nope"), InvalidArgument);
}

TEST(Optimize, ReachesTheTrialBudgetAndFindsTheBest) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  OptimizeOptions o;
  o.n_trials = 12;
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.stop_reason, StopReason::kTrials);
  EXPECT_EQ(r.n_complete, 12);
  EXPECT_EQ(r.n_run, 12);
  ASSERT_TRUE(r.best.has_value());
  double best = 1e9;
  for (const auto& t : study.trials()) best = std::min(best, *t.value);
  EXPECT_DOUBLE_EQ(*r.best->value, best);
  EXPECT_DOUBLE_EQ(r.total_cost, 12.0);
}

TEST(Optimize, FailuresAreRecordedWithReasonAndDoNotCountTowardsTheBudget) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.throw_every = 3;  // calls 0, 3, 6, ... throw
  OptimizeOptions o;
  o.n_trials = 10;
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.n_complete, 10);
  EXPECT_EQ(r.n_failed, 5);  // calls 0,3,6,9,12 of 15
  for (const auto& t : study.trials()) {
    if (t.state == TrialState::kFailed) {
      EXPECT_EQ(t.fail_reason.rfind("boom", 0), 0u) << t.fail_reason;
    }
  }
}

TEST(Optimize, StopsAfterKConsecutiveFailures) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.nan_always = true;
  OptimizeOptions o;
  o.n_trials = 10;
  o.max_consecutive_failures = 4;
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.stop_reason, StopReason::kFailures);
  EXPECT_EQ(r.n_failed, 4);
  EXPECT_NE(r.last_failure.find("nan"), std::string::npos) << r.last_failure;
}

TEST(Optimize, TrialPastItsTimeoutFailsAndTheStudyGoesOn) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.report_steps = 1000;
  f.step_ms = 5;
  OptimizeOptions o;
  o.n_trials = 1;
  o.trial_timeout_s = 0.05;
  o.max_consecutive_failures = 2;
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.stop_reason, StopReason::kFailures);
  const auto trials = study.trials();
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_NE(trials[0].fail_reason.find("timed out"), std::string::npos) << trials[0].fail_reason;
  EXPECT_GT(trials[0].intermediate.size(), 0u);
  EXPECT_LT(trials[0].intermediate.size(), 1000u);
}

TEST(Optimize, PrunedTrialKeepsItsLastIntermediateValueAndCounts) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.report_steps = 10;
  f.prune_at = 3;
  OptimizeOptions o;
  o.n_trials = 2;
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.n_pruned, 2);
  const auto t = study.trials().at(0);
  EXPECT_EQ(t.state, TrialState::kPruned);
  EXPECT_EQ(t.intermediate.size(), 4u);
  EXPECT_DOUBLE_EQ(*t.value, 3.0);
}

TEST(Optimize, ParallelJobsRunTrialsConcurrentlyWithDistinctNumbers) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.sleep_ms = 20;
  OptimizeOptions o;
  o.n_trials = 16;
  o.jobs = 4;
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.n_complete, 16);
  EXPECT_EQ(r.n_run, 16);
  EXPECT_GT(f.max_in_flight.load(), 1);
  EXPECT_LE(f.max_in_flight.load(), 4);
  std::set<int64_t> numbers;
  for (const auto& t : study.trials()) numbers.insert(t.number);
  EXPECT_EQ(numbers.size(), 16u);
  EXPECT_EQ(*numbers.rbegin(), 15);
}

TEST(Optimize, CostBudgetCountsEveryTrialOfTheStudy) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  sampler.fidelity = 0;
  Quadratic f;
  f.fids = {{"low", 1.0}, {"high", 10.0}};
  f.cost_per_fidelity = 3.0;  // fidelity 0 costs 3
  OptimizeOptions o;
  o.max_cost = 10.0;
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.stop_reason, StopReason::kCost);
  EXPECT_EQ(r.n_complete, 4);  // 3, 6, 9 < 10, then 12 >= 10
  EXPECT_DOUBLE_EQ(r.total_cost, 12.0);
  EXPECT_FALSE(r.best.has_value()) << "no trial at the target fidelity";
}

TEST(Optimize, TrialBudgetIsForTheWholeStudySoARerunContinues) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  OptimizeOptions o;
  o.n_trials = 5;
  EXPECT_EQ(optimize(study, f, sampler, o).n_run, 5);
  const auto again = optimize(study, f, sampler, o);
  EXPECT_EQ(again.stop_reason, StopReason::kNothingToDo);
  EXPECT_EQ(again.n_run, 0);
  o.n_trials = 8;
  const auto more = optimize(study, f, sampler, o);
  EXPECT_EQ(more.n_run, 3);
  EXPECT_EQ(more.n_complete, 8);
}

TEST(Optimize, TrialsOfADeadWorkerAreMarkedFailed) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  // A worker process that has exited: its pid no longer exists once reaped.
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  const std::string me = this_worker();
  const std::string dead = me.substr(0, me.rfind(':') + 1) + std::to_string(child);
  const auto orphan = storage.create_trial(study.id(), dead);
  storage.set_trial_params(orphan.id, {{"x", 0.5}}, 0);
  const auto alive = storage.create_trial(study.id(), me);  // ours: left alone
  EXPECT_EQ(study.fail_abandoned_trials(3600), 1);
  EXPECT_EQ(storage.trial(orphan.id).state, TrialState::kFailed);
  EXPECT_NE(storage.trial(orphan.id).fail_reason.find("died"), std::string::npos);
  EXPECT_EQ(storage.trial(alive.id).state, TrialState::kRunning);
}

TEST(Optimize, AThrowingProgressCallbackStopsTheRunAndReachesTheCaller) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.sleep_ms = 2;
  OptimizeOptions o;
  o.n_trials = 20;
  o.jobs = 3;
  std::atomic<int> calls{0};
  o.on_trial_finished = [&](const Progress&) {
    if (++calls == 2) throw std::runtime_error("progress display broke");
  };
  // Before the runner guarded it, this terminated the process from a worker thread.
  try {
    optimize(study, f, sampler, o);
    FAIL() << "optimize() should rethrow the callback's error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "progress display broke");
  }
  // The trials that finished are stored, and no trial is left running.
  int64_t complete = 0;
  for (const auto& t : study.trials()) {
    EXPECT_NE(t.state, TrialState::kRunning) << "trial " << t.number;
    if (t.state == TrialState::kComplete) ++complete;
  }
  EXPECT_GE(complete, 2);
  EXPECT_LT(complete, 20);
}

TEST(Optimize, RunningTrialsSendHeartbeatsWhileTheyRun) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.sleep_ms = 250;  // reports nothing: only the heartbeat thread can touch heartbeat_at
  OptimizeOptions o;
  o.n_trials = 1;
  o.heartbeat_interval_s = 0.05;
  o.heartbeat_timeout_s = 10;
  optimize(study, f, sampler, o);
  const auto t = study.trials().at(0);
  // Started, then at least one heartbeat well after the start while it ran.
  EXPECT_GT(t.heartbeat_at, t.started_at + 0.04);
}

TEST(Optimize, SeveralProcessesStopAtTheStudyWideTrialBudget) {
  // Before the budget was checked with the reservation, each process counted the study once at
  // start and then only its own trials: 4 processes x 30 made about 4 x 30 trials.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("metadial_study_budget_" + std::to_string(getpid()) + ".db")).string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  constexpr int kProcesses = 4;
  constexpr int64_t kTrials = 30;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        storage::SqliteStorage st(path);
        auto study = Study::create_or_load(st, "conc", one_d(), Direction::kMinimize);
        RecordingSampler sampler;
        Quadratic f;
        f.sleep_ms = 3;
        f.throw_every = 5;  // failures are replaced, and do not count
        OptimizeOptions o;
        o.n_trials = kTrials;
        o.jobs = 2;
        o.seed = static_cast<uint64_t>(p);
        o.max_consecutive_failures = 1000;
        o.heartbeat_interval_s = 0.05;
        optimize(study, f, sampler, o);
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
  {
    storage::SqliteStorage st(path);
    auto study = Study::load(st, "conc");
    const storage::TrialCounts c = st.count_trials(study.id());
    EXPECT_EQ(c.complete, kTrials);
    EXPECT_EQ(c.running, 0);
    EXPECT_GT(c.failed, 0);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(Optimize, TheCostBudgetHoldsAcrossThreads) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.sleep_ms = 2;
  OptimizeOptions o;
  o.jobs = 4;
  o.max_cost = 10;  // each trial costs 1: at most 10 + the 3 others running when it was reached
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.stop_reason, StopReason::kCost);
  EXPECT_GE(r.total_cost, 10.0);
  EXPECT_LE(r.total_cost, 13.0);
}

TEST(Optimize, AWaitingWorkerFailsASilentWorkersTrialAndReplacesIt) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  // Another machine's worker holds one of the 3 slots and has gone silent.
  const auto foreign = storage.create_trial(study.id(), "elsewhere:1");
  storage.set_trial_params(foreign.id, {{"x", 0.5}}, 0);
  RecordingSampler sampler;
  Quadratic f;
  f.sleep_ms = 100;
  OptimizeOptions o;
  o.n_trials = 3;
  o.heartbeat_interval_s = 0.05;
  o.heartbeat_timeout_s = 0.4;
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.stop_reason, StopReason::kTrials);
  EXPECT_EQ(r.n_complete, 3);
  EXPECT_EQ(r.n_recovered, 1);
  const auto t = storage.trial(foreign.id);
  EXPECT_EQ(t.state, TrialState::kFailed);
  EXPECT_NE(t.fail_reason.find("stopped sending heartbeats"), std::string::npos) << t.fail_reason;
}

TEST(Optimize, ATrialFailedByAnotherWorkerMeanwhileIsNotAnError) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.sleep_ms = 150;
  OptimizeOptions o;
  o.n_trials = 1;
  o.max_consecutive_failures = 5;
  std::thread other([&] {
    // Another worker takes this one for dead while its trial runs.
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    storage.finish_trial(storage.running_trials(study.id()).at(0).id, TrialState::kFailed, std::nullopt, 0.0,
                         "worker went silent");
  });
  std::vector<std::string> warnings;
  o.on_warning = [&](const std::string& line) { warnings.push_back(line); };
  const auto r = optimize(study, f, sampler, o);
  other.join();
  EXPECT_EQ(r.n_complete, 1);  // the failed one was replaced
  EXPECT_EQ(study.trials().at(0).fail_reason, "worker went silent");
  // The late result was refused, said once, and not written over the failed record.
  EXPECT_EQ(r.n_refused, 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("trial 0: result (value "), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("refused"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("worker went silent"), std::string::npos) << warnings[0];
  EXPECT_FALSE(study.trials().at(0).value.has_value());
}

// Issue 16: ask/tell use (a Python training loop) keeps its trials alive too, from ask until
// tell, or until the Trial handle is dropped.
TEST(Study, AskedTrialsSendHeartbeatsUntilToldOrDropped) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  study.set_heartbeat_interval(0.02);
  RecordingSampler sampler;
  Trial kept = study.ask(sampler, 1);
  int64_t dropped_id = -1;
  {
    Trial dropped = study.ask(sampler, 1);
    dropped_id = dropped.id();
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    const FrozenTrial t = storage.trial(dropped_id);
    EXPECT_GT(t.heartbeat_at, t.started_at + 0.04);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a beat in flight at the drop lands
  const double dropped_at = storage.trial(dropped_id).heartbeat_at;
  const double kept_at = storage.trial(kept.id()).heartbeat_at;
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(storage.trial(dropped_id).heartbeat_at, dropped_at);  // stopped when dropped
  EXPECT_GT(storage.trial(kept.id()).heartbeat_at, kept_at);      // still beating
  study.tell(kept, 1.0);
  EXPECT_EQ(storage.trial(kept.id()).state, TrialState::kComplete);
  EXPECT_THROW(study.set_heartbeat_interval(0.0), InvalidArgument);
}

// Issue 16, part 3: a trial whose worker went silent is re-run with the same params, as a new trial
// that records which trial it retries, at most retry_failed times per chain; an objective's own
// failure is never retried.
TEST(Study, ASilentWorkersTrialIsRetriedUpToKTimes) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  const space::Config params = {{"x", 0.25}};
  const auto first = storage.create_trial(study.id(), "elsewhere:1");
  storage.set_trial_params(first.id, params, 0);
  const auto own_failure = storage.create_trial(study.id(), "elsewhere:1");
  storage.set_trial_params(own_failure.id, {{"x", 0.75}}, 0);
  storage.finish_trial(own_failure.id, TrialState::kFailed, std::nullopt, 0.0, "objective exited with status 1");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(study.fail_abandoned_trials(0.01, 2), 1);
  ASSERT_EQ(study.queued().size(), 1u);
  EXPECT_EQ(study.queued()[0].retry_of, first.number);
  // Retry 1, taken by another silent worker; then retry 2; then none.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    SCOPED_TRACE(attempt);
    const auto retry = storage.create_trial(study.id(), "elsewhere:2");
    if (attempt == 3) {
      EXPECT_TRUE(retry.params.empty());  // the queue is empty: a fresh trial for the sampler
      EXPECT_EQ(retry.retry_of, -1);
      break;
    }
    EXPECT_EQ(retry.params, params);
    EXPECT_EQ(retry.retry_of, first.number);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_EQ(study.fail_abandoned_trials(0.01, 2), 1);
    EXPECT_EQ(study.queued().size(), attempt < 2 ? 1u : 0u);
  }
  int retries = 0;
  for (const auto& t : study.trials()) retries += t.retry_of == first.number ? 1 : 0;
  EXPECT_EQ(retries, 2);
  EXPECT_THROW(study.fail_abandoned_trials(1.0, -1), InvalidArgument);
}

// optimize() with retry_failed: the silent worker's trial is re-run with its params and counts
// toward the budget once it completes.
TEST(Optimize, RetriesASilentWorkersTrialWithItsParams) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  const auto foreign = storage.create_trial(study.id(), "elsewhere:1");
  storage.set_trial_params(foreign.id, {{"x", 0.125}}, 0);
  RecordingSampler sampler;
  Quadratic f;
  f.sleep_ms = 50;
  OptimizeOptions o;
  o.n_trials = 3;
  o.heartbeat_interval_s = 0.05;
  o.heartbeat_timeout_s = 0.2;
  o.retry_failed = 1;
  const auto r = optimize(study, f, sampler, o);
  EXPECT_EQ(r.n_complete, 3);
  EXPECT_EQ(r.n_recovered, 1);
  int retried = 0;
  for (const auto& t : study.trials()) {
    if (t.retry_of != foreign.number) continue;
    ++retried;
    EXPECT_EQ(t.params, (space::Config{{"x", 0.125}}));
    EXPECT_EQ(t.state, TrialState::kComplete);
    EXPECT_DOUBLE_EQ(*t.value, (0.125 - 0.3) * (0.125 - 0.3));
  }
  EXPECT_EQ(retried, 1);
}

TEST(Optimize, AnInterruptStopsTheRunAndFailsTheRunningTrial) {
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.report_steps = 1000;
  f.step_ms = 2;
  OptimizeOptions o;
  o.n_trials = 50;
  o.jobs = 2;
  std::thread signaller([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    interrupt::request_for_test(SIGINT);
  });
  const auto r = optimize(study, f, sampler, o);
  signaller.join();
  interrupt::reset_for_test();
  EXPECT_EQ(r.stop_reason, StopReason::kInterrupted);
  EXPECT_LE(r.n_run, 4);
  for (const auto& t : study.trials()) {
    EXPECT_EQ(t.state, TrialState::kFailed);
    EXPECT_EQ(t.fail_reason, "interrupted by SIGINT");
    EXPECT_EQ(t.cost, 0.0) << "an interrupted trial charges nothing against max_cost";
  }
}

TEST(Optimize, AHugeTrialTimeoutMeansNoTimeout) {
  // 1e10 s overflowed the clock's int64 nanoseconds: every trial failed as timed out.
  storage::InMemoryStorage storage;
  auto study = Study::create_or_load(storage, "s", one_d(), Direction::kMinimize);
  RecordingSampler sampler;
  Quadratic f;
  f.report_steps = 3;
  OptimizeOptions o;
  o.n_trials = 3;
  for (double timeout : {1e10, 1e300}) {
    o.trial_timeout_s = timeout;
    o.n_trials += 3;
    const auto r = optimize(study, f, sampler, o);
    EXPECT_EQ(r.n_failed, 0) << timeout;
  }
}

TEST(Optimize, RejectsOptionsWithoutABudgetOrWithZeroJobs) {
  OptimizeOptions o;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o.n_trials = 3;
  o.jobs = 0;
  EXPECT_THROW(o.validate(), InvalidArgument);
}

}  // namespace
}  // namespace metadial::study
