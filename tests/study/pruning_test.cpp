// Studies with a pruner, one suite run against every built-in pruner on the synthetic learning
// curve (objective/learning_curve.h), whose curves all have the same shape: the order of the
// configurations is the same at every step, so the best configuration must never be stopped.
// The pruners' decisions themselves are checked by hand in tests/optim/pruner_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/objective/learning_curve.h"
#include "metadial/objective/test_functions.h"
#include "metadial/optim/pruner.h"
#include "metadial/optim/random_sampler.h"
#include "metadial/optim/sampler.h"
#include "metadial/storage/in_memory.h"
#include "metadial/storage/sqlite.h"
#include "metadial/study/study.h"
#include "storage/temp_db.h"

namespace metadial::study {
namespace {

constexpr int64_t kSteps = 50;
constexpr int64_t kTrials = 40;

struct PrunerCase {
  const char* name;
  const char* options;     ///< JSON
  int64_t first_decision;  ///< the first step at which it may stop a trial
};

void PrintTo(const PrunerCase& c, std::ostream* os) { *os << c.name; }

const PrunerCase kCases[] = {
    {"median", R"({"n_startup_trials": 3, "n_warmup_steps": 5})", 5},
    {"percentile", R"({"percentile": 25, "n_startup_trials": 3, "n_warmup_steps": 5})", 5},
    {"asha", R"({"min_resource": 4, "reduction_factor": 3})", 4},
    {"hyperband", R"({"min_resource": 2, "reduction_factor": 3})", 2},
};

std::unique_ptr<optim::Pruner> make_pruner(const PrunerCase& c) {
  optim::PrunerRegistry registry;
  optim::register_builtin_pruners(registry);
  return registry.create(c.name, nlohmann::json::parse(c.options));
}

// Runs the study to `n` trials (jobs threads) with the random sampler of seed 7.
OptimizeResult run(Study& study, objective::Objective& objective, const optim::Pruner& pruner, int64_t n,
                   int jobs = 1) {
  optim::RandomSampler sampler;
  OptimizeOptions options;
  options.n_trials = n;
  options.seed = 7;
  options.jobs = jobs;
  return optimize(study, objective, sampler, pruner, options);
}

class PrunedStudy : public ::testing::TestWithParam<PrunerCase> {
 protected:
  objective::LearningCurve objective_{objective::LearningCurveOptions{.steps = kSteps, .dim = 2}};
  std::unique_ptr<optim::Pruner> pruner_ = make_pruner(GetParam());

  Study create(storage::Storage& storage) {
    return Study::create_or_load(storage, "s", *objective_.default_space(), Direction::kMinimize);
  }
};

TEST_P(PrunedStudy, PrunedTrialsCountInTheBudgetAndCostWhatTheyRan) {
  storage::InMemoryStorage storage;
  Study study = create(storage);
  const OptimizeResult r = run(study, objective_, *pruner_, kTrials);
  EXPECT_EQ(r.stop_reason, StopReason::kTrials);
  EXPECT_EQ(r.n_complete + r.n_pruned, kTrials);
  EXPECT_EQ(r.n_failed, 0);
  EXPECT_GT(r.n_pruned, 0);
  EXPECT_GT(r.n_complete, 0);
  double cost = 0.0;
  for (const auto& t : study.trials()) {
    cost += t.cost;
    if (t.state == TrialState::kComplete) {
      EXPECT_DOUBLE_EQ(t.cost, 1.0);
      EXPECT_EQ(t.intermediate.size(), static_cast<size_t>(kSteps));
      continue;
    }
    ASSERT_EQ(t.state, TrialState::kPruned);
    const auto& [step, value] = *t.intermediate.rbegin();
    EXPECT_LT(step, kSteps - 1) << "trial " << t.number << " was pruned at the objective's last step";
    EXPECT_DOUBLE_EQ(t.cost, static_cast<double>(step + 1) / kSteps) << "trial " << t.number;
    ASSERT_TRUE(t.value.has_value());
    EXPECT_DOUBLE_EQ(*t.value, value);  // a pruned trial keeps its last value
  }
  EXPECT_NEAR(r.total_cost, cost, 1e-9);
  EXPECT_LT(r.total_cost, static_cast<double>(kTrials));
}

TEST_P(PrunedStudy, NeverPrunesBeforeItsFirstDecisionStepNorTheBestConfiguration) {
  storage::InMemoryStorage storage;
  Study study = create(storage);
  run(study, objective_, *pruner_, kTrials);
  const std::vector<FrozenTrial> trials = study.trials();
  const FrozenTrial* best = nullptr;
  double best_final = 0.0;
  for (const auto& t : trials) {
    const double final_value = objective_.value(objective_.point(t.params));
    if (best == nullptr || final_value < best_final) {
      best = &t;
      best_final = final_value;
    }
    if (t.state == TrialState::kPruned) {
      EXPECT_GE(t.intermediate.rbegin()->first, GetParam().first_decision) << "trial " << t.number;
    }
  }
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(best->state, TrialState::kComplete) << "the best configuration, trial " << best->number;
}

TEST_P(PrunedStudy, TheSameSeedGivesTheSameDecisions) {
  storage::InMemoryStorage a, b;
  Study sa = create(a), sb = create(b);
  run(sa, objective_, *pruner_, kTrials);
  run(sb, objective_, *make_pruner(GetParam()), kTrials);
  const auto ta = sa.trials(), tb = sb.trials();
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].state, tb[i].state) << "trial " << i;
    EXPECT_EQ(ta[i].intermediate, tb[i].intermediate) << "trial " << i;
  }
}

TEST_P(PrunedStudy, AStudyResumedFromItsFileDecidesAsOneUninterruptedRun) {
  storage::InMemoryStorage memory;
  Study whole = create(memory);
  run(whole, objective_, *pruner_, kTrials);

  storage::testing::TempDb db;
  {
    storage::SqliteStorage first(db.str());
    Study part = create(first);
    run(part, objective_, *pruner_, kTrials / 2);
  }
  storage::SqliteStorage second(db.str());  // a new process, a fresh pruner: only the file carries over
  Study resumed = create(second);
  run(resumed, objective_, *make_pruner(GetParam()), kTrials);

  const auto expected = whole.trials(), got = resumed.trials();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].params, expected[i].params) << "trial " << i;
    EXPECT_EQ(got[i].state, expected[i].state) << "trial " << i;
    EXPECT_EQ(got[i].intermediate, expected[i].intermediate) << "trial " << i;
  }
}

TEST_P(PrunedStudy, ParallelJobsKeepTheBudget) {
  storage::InMemoryStorage storage;
  Study study = create(storage);
  const OptimizeResult r = run(study, objective_, *pruner_, kTrials, /*jobs=*/4);
  EXPECT_EQ(r.n_complete + r.n_pruned, kTrials);
  EXPECT_EQ(r.n_failed, 0);
}

INSTANTIATE_TEST_SUITE_P(EveryPruner, PrunedStudy, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<PrunerCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(Pruning, ARefusedPrunerStopsTheStudyBeforeItsFirstTrial) {
  objective::LearningCurve objective(objective::LearningCurveOptions{.steps = 10, .dim = 1});
  storage::InMemoryStorage storage;
  Study study = Study::create_or_load(storage, "s", *objective.default_space(), Direction::kMinimize);
  optim::SuccessiveHalvingOptions o;
  o.min_resource = 9;  // the last step is 9: no rung before it
  const optim::SuccessiveHalvingPruner pruner(o);
  EXPECT_THROW(run(study, objective, pruner, 5), InvalidArgument);
  EXPECT_TRUE(study.trials().empty());
}

TEST(Pruning, AMultiFidelityFunctionIsStoppedAtACheaperLevelAndCostsThatLevel) {
  // branin_mf with 3 levels (costs 1, 10, 100), evaluated at the target: it reports levels 0 and 1
  // as steps 1 and 2; asha (eta 2) has rungs at steps 1 and 2.
  auto objective = objective::make_test_function("branin_mf", {{"fidelities", 3}});
  ASSERT_EQ(objective->max_step(), 3);
  storage::InMemoryStorage storage;
  Study study = Study::create_or_load(storage, "s", *objective->default_space(), Direction::kMinimize);
  optim::SuccessiveHalvingOptions o;
  o.reduction_factor = 2;
  const OptimizeResult r = run(study, *objective, optim::SuccessiveHalvingPruner(o), 20);
  EXPECT_EQ(r.n_complete + r.n_pruned, 20);
  EXPECT_GT(r.n_pruned, 0);
  for (const auto& t : study.trials()) {
    const int64_t last = t.intermediate.rbegin()->first;
    if (t.state == TrialState::kPruned) {
      EXPECT_DOUBLE_EQ(t.cost, last == 1 ? 1.0 : 10.0) << "trial " << t.number;
    } else {
      EXPECT_EQ(last, 2);
      EXPECT_DOUBLE_EQ(t.cost, 100.0);
    }
  }
}


// BOHB as `tune --sampler bohb --pruner hyperband` runs it, through the study engine: the sampler
// and the pruner read only the stored trials.
struct BohbRun {
  std::vector<FrozenTrial> trials;
  double best = 0.0;
};

BohbRun run_bohb(storage::Storage& storage, const std::string& sampler_name, uint64_t seed, int64_t n) {
  objective::LearningCurve objective(objective::LearningCurveOptions{.steps = 27, .dim = 4});
  const nlohmann::json rungs = {{"min_resource", 1}, {"reduction_factor", 3}};
  optim::SamplerRegistry samplers;
  optim::register_builtin_samplers(samplers);
  optim::PrunerRegistry pruners;
  optim::register_builtin_pruners(pruners);
  auto sampler = samplers.create(sampler_name, sampler_name == "bohb" ? rungs : nlohmann::json::object());
  auto pruner = pruners.create("hyperband", rungs);
  Study study = Study::create_or_load(storage, "bohb", *objective.default_space(), Direction::kMinimize);
  OptimizeOptions o;
  o.n_trials = n;
  o.seed = seed;
  optimize(study, objective, *sampler, *pruner, o);
  BohbRun r;
  r.trials = study.trials();
  r.best = study.best_trial()->value.value();
  return r;
}

TEST(Pruning, BohbWithHyperbandStopsAtTheRungsAndBeatsRandomSearchInTheSameBrackets) {
  // y(u, t) = |u - 0.3|^2 + 1 / (1 + t), 4 parameters, 27 steps: Hyperband's rungs at steps 1, 3
  // and 9 (R = 27, eta = 3); 100 trials per study, 10 seeds; the regret is y - 1/27.
  const double optimum = 1.0 / 27.0;
  std::vector<double> bohb, random;
  int bohb_better = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    storage::InMemoryStorage a, b;
    const BohbRun rb = run_bohb(a, "bohb", seed, 100);
    const BohbRun rr = run_bohb(b, "random", seed, 100);
    for (const auto& t : rb.trials) {
      ASSERT_NE(t.state, TrialState::kFailed) << t.fail_reason;
      const int64_t last = t.intermediate.rbegin()->first;
      if (t.state == TrialState::kPruned) {
        EXPECT_TRUE(last == 1 || last == 3 || last == 9) << "trial " << t.number << " stopped at step " << last;
        EXPECT_DOUBLE_EQ(t.cost, static_cast<double>(last + 1) / 27.0) << "trial " << t.number;
      } else {
        EXPECT_EQ(last, 26) << "trial " << t.number;
      }
    }
    bohb.push_back(rb.best - optimum);
    random.push_back(rr.best - optimum);
    bohb_better += bohb.back() < random.back();
  }
  std::sort(bohb.begin(), bohb.end());
  std::sort(random.begin(), random.end());
  const double mb = (bohb[4] + bohb[5]) / 2, mr = (random[4] + random[5]) / 2;
  // Measured: median regret 0.023 against 0.039, lower on 9 of the 10 seeds.
  EXPECT_LT(mb, 0.7 * mr) << "median regret: bohb " << mb << ", random " << mr;
  EXPECT_GE(bohb_better, 7) << "bohb " << mb << ", random " << mr;
}

TEST(Pruning, ABohbStudyResumedFromItsFileProposesAndStopsAsOneUninterruptedRun) {
  storage::InMemoryStorage memory;
  const BohbRun whole = run_bohb(memory, "bohb", 3, 60);
  storage::testing::TempDb db;
  {
    storage::SqliteStorage first(db.str());
    run_bohb(first, "bohb", 3, 30);
  }
  storage::SqliteStorage second(db.str());  // a fresh sampler and pruner: only the file carries over
  const BohbRun resumed = run_bohb(second, "bohb", 3, 60);
  ASSERT_EQ(resumed.trials.size(), whole.trials.size());
  for (size_t i = 0; i < whole.trials.size(); ++i) {
    EXPECT_EQ(resumed.trials[i].params, whole.trials[i].params) << "trial " << i;
    EXPECT_EQ(resumed.trials[i].state, whole.trials[i].state) << "trial " << i;
    EXPECT_EQ(resumed.trials[i].intermediate, whole.trials[i].intermediate) << "trial " << i;
  }
}

}  // namespace
}  // namespace metadial::study
