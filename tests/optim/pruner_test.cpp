// The pruners' decisions on small hand-made histories, each worked out by hand in the comments
// (Optuna's rules: MedianPruner / PercentilePruner, SuccessiveHalvingPruner, HyperbandPruner), and
// the registry's refusals. Whole studies with pruners: tests/study/pruning_test.cpp.
#include "metadial/optim/pruner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <vector>

#include "metadial/core/error.h"

namespace metadial::optim {
namespace {

using study::Direction;
using study::FrozenTrial;
using study::TrialState;
using ::testing::HasSubstr;

FrozenTrial curve(int64_t number, TrialState state, std::map<int64_t, double> values) {
  FrozenTrial t;
  t.id = number;
  t.number = number;
  t.state = state;
  t.intermediate = std::move(values);
  if (state == TrialState::kComplete && !t.intermediate.empty()) t.value = t.intermediate.rbegin()->second;
  return t;
}

FrozenTrial complete(int64_t number, std::map<int64_t, double> values) {
  return curve(number, TrialState::kComplete, std::move(values));
}

FrozenTrial running(int64_t number, std::map<int64_t, double> values) {
  return curve(number, TrialState::kRunning, std::move(values));
}

PrunerContext minimize() { return PrunerContext{Direction::kMinimize, std::nullopt}; }
PrunerContext maximize() { return PrunerContext{Direction::kMaximize, std::nullopt}; }

std::unique_ptr<Pruner> make(const std::string& name, const nlohmann::json& options = nlohmann::json::object()) {
  PrunerRegistry registry;
  register_builtin_pruners(registry);
  return registry.create(name, options);
}

// Five complete trials with values 1..5 at steps 0..3 (trial i: i + 1 at every step).
std::vector<FrozenTrial> five_complete() {
  std::vector<FrozenTrial> out;
  for (int64_t i = 0; i < 5; ++i) {
    const double v = static_cast<double>(i + 1);
    out.push_back(complete(i, {{0, v}, {1, v}, {2, v}, {3, v}}));
  }
  return out;
}

// ---- Registry ---------------------------------------------------------------------------------

TEST(PrunerRegistry, HoldsTheFiveBuiltinsAndNamesThemOnAnUnknownOne) {
  PrunerRegistry registry;
  register_builtin_pruners(registry);
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"asha", "hyperband", "median", "none", "percentile"}));
  try {
    registry.create("patient");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "unknown pruner 'patient' (known: asha, hyperband, median, none, percentile)");
  }
  EXPECT_FALSE(registry.create("none")->prunes());
  EXPECT_TRUE(registry.create("median")->prunes());
}

TEST(PrunerRegistry, BadOptionsAreOneLineNamingThePrunerAndTheKey) {
  auto message = [](const std::string& name, const nlohmann::json& options) {
    try {
      make(name, options);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message("asha", {{"reduction_factor", 1}}),
              HasSubstr("pruner 'asha': [pruner] reduction_factor must be >= 2, got 1"));
  EXPECT_THAT(message("asha", {{"min_resource", 0}}), HasSubstr("pruner 'asha': [pruner] min_resource must be >= 1"));
  EXPECT_THAT(message("asha", {{"reduction", 3}}), HasSubstr("pruner 'asha': unknown key 'reduction' in [pruner]"));
  EXPECT_THAT(message("median", {{"percentile", 30}}), HasSubstr("unknown key 'percentile'"));
  EXPECT_THAT(message("percentile", nlohmann::json::object()), HasSubstr("[pruner] percentile must be given"));
  EXPECT_THAT(message("percentile", {{"percentile", 120}}), HasSubstr("[pruner] percentile must be in [0, 100]"));
  EXPECT_THAT(message("median", {{"n_warmup_steps", -1}}), HasSubstr("[pruner] n_warmup_steps must be >= 0"));
  EXPECT_THAT(message("median", {{"interval_steps", 0}}), HasSubstr("[pruner] interval_steps must be >= 1"));
  EXPECT_THAT(message("hyperband", {{"min_resource", 10}, {"max_resource", 9}}),
              HasSubstr("pruner 'hyperband': [pruner] min_resource (10) is above max_resource (9)"));
  EXPECT_THAT(message("hyperband", {{"max_resource", "all"}}), HasSubstr("[pruner] max_resource must be one of auto"));
  EXPECT_THAT(message("hyperband", {{"reduction_factor", 2.5}}),
              HasSubstr("[pruner] reduction_factor must be an integer"));
  EXPECT_THAT(message("none", {{"type", "none"}}), HasSubstr("unknown key 'type'"));
  EXPECT_EQ(message("hyperband", {{"max_resource", "auto"}}), "no error");
}

// ---- Median / percentile ------------------------------------------------------------------------

TEST(MedianPruner, WaitsForItsStartupTrials) {
  auto pruner = make("median");  // n_startup_trials = 5
  std::vector<FrozenTrial> trials = five_complete();
  trials.pop_back();  // 4 complete: values 1..4
  EXPECT_FALSE(pruner->should_prune(minimize(), running(9, {{0, 100.0}}), trials));
  trials = five_complete();
  EXPECT_TRUE(pruner->should_prune(minimize(), running(9, {{0, 100.0}}), trials));
}

TEST(MedianPruner, PrunesATrialWhoseBestValueIsWorseThanTheMedianAtItsStep) {
  auto pruner = make("median");
  const std::vector<FrozenTrial> trials = five_complete();  // median 3 at every step
  EXPECT_TRUE(pruner->should_prune(minimize(), running(9, {{0, 10.0}, {1, 10.0}, {2, 3.5}}), trials));
  EXPECT_FALSE(pruner->should_prune(minimize(), running(9, {{0, 10.0}, {1, 10.0}, {2, 3.0}}), trials));  // not worse
  // The best value over its steps counts, not the last one: 1 at step 0 keeps it.
  EXPECT_FALSE(pruner->should_prune(minimize(), running(9, {{0, 1.0}, {1, 9.0}, {2, 9.0}}), trials));
  // Maximizing, a value below the median is worse.
  EXPECT_TRUE(pruner->should_prune(maximize(), running(9, {{0, 2.5}}), trials));
  EXPECT_FALSE(pruner->should_prune(maximize(), running(9, {{0, 3.5}}), trials));
}

TEST(MedianPruner, OnlyCompleteTrialsWithAValueAtTheStepCount) {
  auto pruner = make("median", {{"n_startup_trials", 1}});
  std::vector<FrozenTrial> trials = {complete(0, {{0, 1.0}}),  // no value at step 1
                                     curve(1, TrialState::kPruned, {{0, 0.0}, {1, 0.0}}),
                                     curve(2, TrialState::kFailed, {{0, 0.0}, {1, 0.0}}),
                                     running(3, {{0, 0.0}, {1, 0.0}})};
  EXPECT_FALSE(pruner->should_prune(minimize(), running(9, {{0, 5.0}, {1, 5.0}}), trials));
  trials.push_back(complete(4, {{0, 2.0}, {1, 2.0}}));
  EXPECT_TRUE(pruner->should_prune(minimize(), running(9, {{0, 5.0}, {1, 5.0}}), trials));
}

TEST(MedianPruner, NoPruningBeforeTheWarmupStepNorBetweenChecks) {
  const std::vector<FrozenTrial> trials = five_complete();
  auto warm = make("median", {{"n_warmup_steps", 2}});
  EXPECT_FALSE(warm->should_prune(minimize(), running(9, {{0, 50.0}, {1, 50.0}}), trials));
  EXPECT_TRUE(warm->should_prune(minimize(), running(9, {{0, 50.0}, {1, 50.0}, {2, 50.0}}), trials));

  // interval_steps 2 from step 0: checks at 0, 2, 4 ...; a report is checked only if it is the
  // trial's first at or past the latest check point.
  auto every_other = make("median", {{"interval_steps", 2}});
  EXPECT_TRUE(every_other->should_prune(minimize(), running(9, {{0, 50.0}}), trials));
  EXPECT_FALSE(every_other->should_prune(minimize(), running(9, {{0, 50.0}, {1, 50.0}}), trials));  // check point 0
  EXPECT_TRUE(every_other->should_prune(minimize(), running(9, {{0, 50.0}, {1, 50.0}, {2, 50.0}}), trials));
  // A report that skipped a check point is checked at once: steps 0 then 3 (check point 2).
  EXPECT_TRUE(every_other->should_prune(minimize(), running(9, {{0, 50.0}, {3, 50.0}}), trials));
}

TEST(PercentilePruner, InterpolatesLinearlyAsNumpy) {
  // Values 1, 2, 3, 4 at step 0. Percentile 50: 2.5; percentile 25: 1.75 (position 0.75).
  std::vector<FrozenTrial> trials;
  for (int64_t i = 0; i < 4; ++i) trials.push_back(complete(i, {{0, static_cast<double>(i + 1)}}));
  auto p50 = make("percentile", {{"percentile", 50}, {"n_startup_trials", 0}});
  EXPECT_TRUE(p50->should_prune(minimize(), running(9, {{0, 2.51}}), trials));
  EXPECT_FALSE(p50->should_prune(minimize(), running(9, {{0, 2.5}}), trials));
  auto p25 = make("percentile", {{"percentile", 25.0}, {"n_startup_trials", 0}});
  EXPECT_TRUE(p25->should_prune(minimize(), running(9, {{0, 1.76}}), trials));
  EXPECT_FALSE(p25->should_prune(minimize(), running(9, {{0, 1.75}}), trials));
  // Maximizing, the top 25 % are kept: the 75th percentile, 3.25, must be reached.
  EXPECT_TRUE(p25->should_prune(maximize(), running(9, {{0, 3.24}}), trials));
  EXPECT_FALSE(p25->should_prune(maximize(), running(9, {{0, 3.25}}), trials));
}

TEST(PercentilePruner, NeedsNMinTrialsWithAValueAtTheStep) {
  std::vector<FrozenTrial> trials = {complete(0, {{0, 1.0}}), complete(1, {{0, 2.0}})};
  auto pruner = make("percentile", {{"percentile", 50}, {"n_startup_trials", 0}, {"n_min_trials", 3}});
  EXPECT_FALSE(pruner->should_prune(minimize(), running(9, {{0, 10.0}}), trials));
  trials.push_back(complete(2, {{0, 3.0}}));
  EXPECT_TRUE(pruner->should_prune(minimize(), running(9, {{0, 10.0}}), trials));
}

// ---- Asynchronous successive halving --------------------------------------------------------------

// eta = 2, r_min = 1: rungs at steps 1, 2, 4, 8, ...
std::unique_ptr<Pruner> asha2() { return make("asha", {{"reduction_factor", 2}, {"min_resource", 1}}); }

TEST(SuccessiveHalvingPruner, RungsAreAtMinResourceTimesEtaToTheK) {
  SuccessiveHalvingOptions o;
  o.min_resource = 3;
  o.reduction_factor = 4;
  o.min_early_stopping_rate = 1;
  EXPECT_EQ(o.rung_step(0), 12);
  EXPECT_EQ(o.rung_step(1), 48);
  EXPECT_EQ(o.rung_step(2), 192);
  EXPECT_EQ(o.rung_step(100), std::numeric_limits<int64_t>::max());  // saturates
}

TEST(SuccessiveHalvingPruner, TheFirstTrialAtARungGoesOnAndTheSecondMustBeTheBest) {
  auto pruner = asha2();
  // Alone at rung 1: promoted (fewer than eta values: it must be the best, and it is).
  EXPECT_FALSE(pruner->should_prune(minimize(), running(0, {{0, 9.0}, {1, 5.0}}), {}));
  // Two values at rung 1 (5 and 6): index 2 / 2 - 1 = 0, the best only. 6 is stopped, 4 goes on.
  const std::vector<FrozenTrial> trials = {complete(0, {{0, 9.0}, {1, 5.0}, {2, 4.0}})};
  EXPECT_TRUE(pruner->should_prune(minimize(), running(1, {{0, 9.0}, {1, 6.0}}), trials));
  EXPECT_FALSE(pruner->should_prune(minimize(), running(1, {{0, 9.0}, {1, 4.0}}), trials));
  EXPECT_FALSE(pruner->should_prune(minimize(), running(1, {{0, 9.0}, {1, 5.0}}), trials));  // a tie goes on
}

TEST(SuccessiveHalvingPruner, PromotesTheTopOneOverEtaOfTheValuesAtTheRung) {
  auto pruner = asha2();
  // Rung 1 values of others: 1, 2, 3. With the new one, 4 values: index 4 / 2 - 1 = 1, the second
  // smallest. New 2.5: sorted 1, 2, 2.5, 3 -> second is 2 < 2.5: stopped. New 1.5: 1, 1.5, 2, 3 ->
  // second is 1.5: goes on.
  const std::vector<FrozenTrial> trials = {complete(0, {{1, 1.0}}), complete(1, {{1, 2.0}}),
                                           running(2, {{0, 7.0}, {1, 3.0}})};
  EXPECT_TRUE(pruner->should_prune(minimize(), running(3, {{0, 1.0}, {1, 2.5}}), trials));
  EXPECT_FALSE(pruner->should_prune(minimize(), running(3, {{0, 1.0}, {1, 1.5}}), trials));
  // Maximizing: the second largest of 1, 2, 3, v must be reached. v = 2.5: 3, 2.5 -> goes on;
  // v = 1.5: 3, 2 -> stopped.
  EXPECT_FALSE(pruner->should_prune(maximize(), running(3, {{1, 2.5}}), trials));
  EXPECT_TRUE(pruner->should_prune(maximize(), running(3, {{1, 1.5}}), trials));
}

TEST(SuccessiveHalvingPruner, DecidesOnlyAtTheFirstReportAtOrPastARung) {
  auto pruner = asha2();
  const std::vector<FrozenTrial> trials = {complete(0, {{0, 1.0}, {1, 1.0}, {2, 1.0}, {3, 1.0}, {4, 1.0}})};
  // Step 0 is before the first rung; step 3 lies between rungs 2 and 4, both already passed or
  // ahead: no decision however bad the value.
  EXPECT_FALSE(pruner->should_prune(minimize(), running(1, {{0, 50.0}}), trials));
  EXPECT_FALSE(pruner->should_prune(minimize(), running(1, {{0, 50.0}, {1, 0.5}, {2, 0.5}, {3, 50.0}}), trials));
  // Step 4 is rung 4: 50 against 1 is stopped.
  EXPECT_TRUE(pruner->should_prune(minimize(), running(1, {{1, 0.5}, {2, 0.5}, {3, 50.0}, {4, 50.0}}), trials));
}

TEST(SuccessiveHalvingPruner, AReportThatJumpsRungsIsCheckedAtEachOfThem) {
  auto pruner = asha2();
  // Trial 0 has rung values 1 -> 1.0, 2 -> 1.0, 4 -> 9.0 (its value at step 4). The new trial
  // jumps from step 0 to 4 with 5.0: rung 1: 5 vs 1 -> stopped there already.
  const std::vector<FrozenTrial> trials = {complete(0, {{1, 1.0}, {2, 1.0}, {4, 9.0}})};
  EXPECT_TRUE(pruner->should_prune(minimize(), running(1, {{0, 0.0}, {4, 5.0}}), trials));
  // With 0.5: passes rungs 1 and 2 (0.5 < 1), and rung 4 (0.5 < 9).
  EXPECT_FALSE(pruner->should_prune(minimize(), running(1, {{0, 0.0}, {4, 0.5}}), trials));
}

TEST(SuccessiveHalvingPruner, APrunedTrialCountsOnlyAtTheRungItWasStoppedAt) {
  auto pruner = asha2();
  // Trial 0 was stopped by the report at step 4 that followed step 0: at rung 1 (its value 0.1 was
  // judged there, as Optuna records it), not at rungs 2 and 4.
  const std::vector<FrozenTrial> trials = {curve(0, TrialState::kPruned, {{0, 9.0}, {4, 0.1}})};
  EXPECT_TRUE(pruner->should_prune(minimize(), running(1, {{0, 9.0}, {1, 0.2}}), trials));  // 0.2 vs 0.1 at rung 1
  // At rung 2 the new trial is alone: promoted.
  EXPECT_FALSE(pruner->should_prune(minimize(), running(1, {{1, 0.05}, {2, 0.2}}), trials));
}

TEST(SuccessiveHalvingPruner, BootstrapCountAndMinEarlyStoppingRate) {
  // bootstrap_count 2: a rung with 2 values or fewer (this trial's included) stops the trial.
  auto boot = make("asha", {{"reduction_factor", 2}, {"bootstrap_count", 2}});
  const std::vector<FrozenTrial> one = {complete(0, {{1, 5.0}})};
  EXPECT_TRUE(boot->should_prune(minimize(), running(1, {{1, 1.0}}), one));
  const std::vector<FrozenTrial> two = {complete(0, {{1, 5.0}}), complete(2, {{1, 6.0}})};
  EXPECT_FALSE(boot->should_prune(minimize(), running(1, {{1, 1.0}}), two));
  // min_early_stopping_rate 1: the first rung is at r_min * eta = 2, so step 1 decides nothing.
  auto late = make("asha", {{"reduction_factor", 2}, {"min_early_stopping_rate", 1}});
  EXPECT_FALSE(late->should_prune(minimize(), running(1, {{1, 99.0}}), one));
  const std::vector<FrozenTrial> at_two = {complete(0, {{2, 5.0}})};
  EXPECT_TRUE(late->should_prune(minimize(), running(1, {{1, 99.0}, {2, 99.0}}), at_two));
}

TEST(SuccessiveHalvingPruner, RefusesAFirstRungAtOrPastTheObjectivesLastStep) {
  auto pruner = make("asha", {{"min_resource", 100}});
  EXPECT_NO_THROW(pruner->validate(minimize()));  // the objective does not say
  EXPECT_NO_THROW(pruner->validate(PrunerContext{Direction::kMinimize, 101}));
  try {
    pruner->validate(PrunerContext{Direction::kMinimize, 100});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("pruner 'asha': [pruner] min_resource: the first rung, at step 100, is not "
                                    "before the objective's last step (100)"));
  }
}

// ---- Hyperband --------------------------------------------------------------------------------

TEST(HyperbandPruner, BracketsAndTheirSharesFollowHyperband) {
  HyperbandOptions o;  // r_min 1, eta 3
  HyperbandPruner pruner(o);
  // floor(log_3(R)) + 1.
  EXPECT_EQ(pruner.n_brackets(1), 1);
  EXPECT_EQ(pruner.n_brackets(8), 2);
  EXPECT_EQ(pruner.n_brackets(9), 3);
  EXPECT_EQ(pruner.n_brackets(10), 3);
  EXPECT_EQ(pruner.n_brackets(81), 5);
  EXPECT_EQ(pruner.n_brackets(0), 0);
  // R = 81: shares ceil(5 * 3^s / (s + 1)) for s = 4..0: 81, 34, 15, 8, 5 (total 143), as
  // Optuna's _calculate_trial_allocation_budget. Over many trial numbers each bracket gets about
  // its share.
  std::vector<int> count(5, 0);
  const int n = 143 * 200;
  for (int64_t i = 0; i < n; ++i) ++count[static_cast<size_t>(pruner.bracket(i, 81))];
  const std::vector<double> share = {81, 34, 15, 8, 5};
  for (size_t b = 0; b < 5; ++b) {
    EXPECT_NEAR(count[b] / static_cast<double>(n), share[b] / 143.0, 0.01) << "bracket " << b;
  }
  // Deterministic in the trial number alone.
  EXPECT_EQ(pruner.bracket(12345, 81), HyperbandPruner(o).bracket(12345, 81));
}

TEST(HyperbandPruner, IsSuccessiveHalvingWithinEachBracket) {
  HyperbandOptions o;
  o.max_resource = 9;  // brackets 0, 1, 2: first rungs at 1, 3, 9
  HyperbandPruner pruner(o);
  // Trial numbers by bracket.
  std::map<int64_t, std::vector<int64_t>> by_bracket;
  for (int64_t i = 0; i < 200; ++i) by_bracket[pruner.bracket(i, 9)].push_back(i);
  ASSERT_GE(by_bracket[0].size(), 3u);
  ASSERT_GE(by_bracket[1].size(), 2u);
  const int64_t a = by_bracket[0][0], b = by_bracket[0][1], c = by_bracket[1][0];
  // In bracket 0 (rung at step 1, eta 3), a trial alone with another one must be the best of two.
  const std::vector<FrozenTrial> trials = {complete(a, {{1, 1.0}, {3, 1.0}}), complete(c, {{1, 0.1}, {3, 0.1}})};
  EXPECT_TRUE(pruner.should_prune(minimize(), running(b, {{1, 2.0}}), trials));  // 2 vs 1 (trial c is elsewhere)
  EXPECT_FALSE(pruner.should_prune(minimize(), running(b, {{1, 0.5}}), trials));
  // In bracket 1 the first rung is at step 3: step 1 decides nothing; at 3, 0.2 vs 0.1 is stopped
  // only if trial c competes, and it does (same bracket); trial a (bracket 0) does not.
  const int64_t d = by_bracket[1][1];
  EXPECT_FALSE(pruner.should_prune(minimize(), running(d, {{1, 50.0}}), trials));
  EXPECT_TRUE(pruner.should_prune(minimize(), running(d, {{1, 50.0}, {3, 0.2}}), trials));
  EXPECT_FALSE(pruner.should_prune(minimize(), running(d, {{1, 50.0}, {3, 0.05}}), trials));
}

TEST(HyperbandPruner, MaxResourceComesFromTheObjectiveElseFromTheCompleteTrials) {
  HyperbandPruner pruner;  // max_resource "auto"
  // Nothing known yet: no pruning at all.
  const std::vector<FrozenTrial> none_complete = {running(0, {{1, 0.0}})};
  EXPECT_FALSE(pruner.should_prune(minimize(), running(5, {{1, 1e9}}), none_complete));
  // The objective says its last step: R = 9 (three brackets) from the start.
  EXPECT_NO_THROW(pruner.validate(PrunerContext{Direction::kMinimize, 8}));
  HyperbandOptions late;
  late.min_resource = 8;
  EXPECT_THROW(HyperbandPruner(late).validate(PrunerContext{Direction::kMinimize, 8}), InvalidArgument);
  // Without it (as Optuna) the complete trials' largest last step + 1, once one is complete: the
  // same decision as with R given.
  HyperbandOptions given;
  given.max_resource = 9;
  const HyperbandPruner fixed(given);
  std::vector<FrozenTrial> trials = {complete(100, {{1, 1.0}, {3, 1.0}, {8, 1.0}})};
  for (int64_t n = 0; n < 30; ++n) {
    const FrozenTrial t = running(n, {{1, 2.0}, {3, 2.0}});
    EXPECT_EQ(pruner.should_prune(minimize(), t, trials), fixed.should_prune(minimize(), t, trials)) << n;
    EXPECT_EQ(pruner.should_prune(PrunerContext{Direction::kMinimize, 8}, t, {}), fixed.should_prune(minimize(), t, {}))
        << n;
  }
}

}  // namespace
}  // namespace metadial::optim
