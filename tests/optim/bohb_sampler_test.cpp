// BOHB (bohb_sampler.h): which budget's model it uses, that it finds better configurations than
// random search inside the same Hyperband brackets on the synthetic learning curve, and the
// refusal of bad options. The checks every sampler passes are in sampler_suite_test.cpp.
#include "metadial/optim/bohb_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/objective/learning_curve.h"
#include "metadial/optim/pruner.h"
#include "metadial/optim/random_sampler.h"
#include "optim/sampler_testing.h"

namespace metadial::optim {
namespace {

using study::FrozenTrial;
using study::TrialState;
using testing::context;

constexpr int64_t kFinal = std::numeric_limits<int64_t>::max();

space::SearchSpace unit_square() {
  space::SearchSpace s;
  s.add_float("x0", 0.0, 1.0);
  s.add_float("x1", 0.0, 1.0);
  return s;
}

double dist2(const std::vector<double>& u, double c) {
  double q = 0;
  for (double x : u) q += (x - c) * (x - c);
  return q;
}

// 12 trials stopped after step 3 whose values favour (0.1, 0.1), then `n_complete` complete trials
// (no intermediate values) whose final values favour (0.9, 0.9); points on a spread-out grid.
std::vector<FrozenTrial> two_budget_history(const space::SearchSpace& s, int n_complete) {
  std::vector<FrozenTrial> h;
  int64_t number = 0;
  for (int i = 0; i < 12; ++i) {
    const std::vector<double> u{(i % 4 + 0.5) / 4.0, (i / 4 + 0.5) / 3.0};
    FrozenTrial t = testing::trial(number++, TrialState::kPruned, s.decode(u));
    for (int64_t step = 0; step <= 3; ++step) t.intermediate[step] = dist2(u, 0.1) + 1.0 / (1.0 + step);
    h.push_back(t);
  }
  for (int i = 0; i < n_complete; ++i) {
    const std::vector<double> u{(i % 4 + 0.25) / 4.0, 1.0 - (i / 4 + 0.5) / 2.0};
    h.push_back(testing::trial(number++, TrialState::kComplete, s.decode(u), dist2(u, 0.9)));
  }
  return h;
}

BohbSampler model_only() {
  BohbSamplerOptions o;
  o.random_fraction = 0.0;
  return BohbSampler(o);
}

// How many of 20 proposals (study seeds 0..19) land in the half x0 + x1 > 1.
int upper_half(BohbSampler& sampler, const space::SearchSpace& s, const std::vector<FrozenTrial>& h) {
  int n = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto u = s.encode(sampler.suggest(context(s, seed, static_cast<int64_t>(h.size())), h).config);
    if (u[0] + u[1] > 1.0) ++n;
  }
  return n;
}

TEST(BohbSampler, UsesTheModelOfTheLargestBudgetWithEnoughObservations) {
  const space::SearchSpace s = unit_square();  // d = 2: n_min = 3, a model needs 5 observations
  BohbSampler sampler = model_only();
  // 4 complete trials: too few for the last budget; the rungs at steps 1 and 3 have 12 each.
  const auto few = two_budget_history(s, 4);
  EXPECT_EQ(sampler.model_budget(context(s, 0, 16), few), 3);
  EXPECT_LE(upper_half(sampler, s, few), 2);  // the rung's model: near (0.1, 0.1)
  // 8 complete trials: the complete trials' model, whose good points are near (0.9, 0.9).
  const auto enough = two_budget_history(s, 8);
  EXPECT_EQ(sampler.model_budget(context(s, 0, 20), enough), kFinal);
  EXPECT_GE(upper_half(sampler, s, enough), 18);
}

TEST(BohbSampler, NeedsMinPointsInModelPlusTwoObservationsAtABudget) {
  const space::SearchSpace s = unit_square();
  const auto h = two_budget_history(s, 8);
  const std::span<const FrozenTrial> first4(h.data(), 4);
  EXPECT_EQ(model_only().model_budget(context(s, 0, 4), first4), std::nullopt);
  const std::span<const FrozenTrial> first5(h.data(), 5);
  EXPECT_EQ(model_only().model_budget(context(s, 0, 5), first5), 3);
  // min_points_in_model 7: 9 observations are needed; the rungs have 12, the complete trials 8.
  BohbSamplerOptions o;
  o.min_points_in_model = 7;
  EXPECT_EQ(BohbSampler(o).model_budget(context(s, 0, 20), h), 3);
  // Rungs at 2, 4, 8, ... (min_resource 2, eta 2): the stopped trials' steps 0..3 reach only 2.
  o = {};
  o.min_resource = 2;
  o.reduction_factor = 2;
  EXPECT_EQ(BohbSampler(o).model_budget(context(s, 0, 4 + 12), std::span<const FrozenTrial>(h.data(), 16)), 2);
}

TEST(BohbSampler, WithNoModelOrRandomFractionOneItIsUniformRandom) {
  const space::SearchSpace s = unit_square();
  const auto h = two_budget_history(s, 8);
  BohbSamplerOptions o;
  o.random_fraction = 1.0;
  BohbSampler all_random(o);
  // The proposal does not depend on the history: the same as with none.
  for (uint64_t seed = 0; seed < 5; ++seed) {
    EXPECT_EQ(all_random.suggest(context(s, seed, 20), h).config, all_random.suggest(context(s, seed, 20), {}).config);
  }
  // Trials without observations (failed, at another fidelity) give no model.
  auto ignored = h;
  for (auto& t : ignored) t.state = TrialState::kFailed;
  EXPECT_EQ(model_only().model_budget(context(s, 0, 20), ignored), std::nullopt);
  ignored = h;
  for (auto& t : ignored) t.fidelity = 1;  // above the context's single (target) fidelity 0
  EXPECT_EQ(model_only().model_budget(context(s, 0, 20), ignored), std::nullopt);
}

TEST(BohbSampler, MaximizingTurnsTheGoodPointsAround) {
  const space::SearchSpace s = unit_square();
  BohbSampler sampler = model_only();
  auto h = two_budget_history(s, 8);
  for (auto& t : h) {
    if (t.value) t.value = -*t.value;  // maximizing -dist2: still best near (0.9, 0.9)
  }
  int n = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto ctx = context(s, seed, 20);
    ctx.direction = study::Direction::kMaximize;
    const auto u = s.encode(sampler.suggest(ctx, h).config);
    if (u[0] + u[1] > 1.0) ++n;
  }
  EXPECT_GE(n, 18);
}

// A study-like loop with stopping-based Hyperband (the hyperband pruner, as `tune --pruner
// hyperband` runs it): each trial reports the learning curve's value at every step and is stopped
// when the pruner says so. Returns the best final value of the complete trials.
double run_hyperband(Sampler& sampler, const objective::LearningCurve& f, int n_trials, uint64_t seed,
                     std::vector<int64_t>* budgets = nullptr) {
  const space::SearchSpace space = *f.default_space();
  const HyperbandPruner pruner(
      HyperbandOptions{.min_resource = 1, .max_resource = std::nullopt, .reduction_factor = 3});
  PrunerContext pctx;
  pctx.max_step = f.max_step();
  std::vector<FrozenTrial> trials;
  double best = std::numeric_limits<double>::infinity();
  for (int n = 0; n < n_trials; ++n) {
    const SamplerContext ctx = context(space, seed, n);
    if (budgets) {
      if (auto* bohb = dynamic_cast<BohbSampler*>(&sampler))
        budgets->push_back(bohb->model_budget(ctx, trials).value_or(-1));
    }
    FrozenTrial t = testing::trial(n, TrialState::kRunning, sampler.suggest(ctx, trials).config);
    const std::vector<double> u = space.encode(t.params);
    t.state = TrialState::kComplete;
    for (int64_t step = 0; step <= f.steps() - 1; ++step) {
      t.intermediate[step] = f.value_at(u, step);
      if (step < f.steps() - 1) {
        FrozenTrial running = t;
        running.state = TrialState::kRunning;
        if (pruner.should_prune(pctx, running, trials)) {
          t.state = TrialState::kPruned;
          break;
        }
      }
    }
    if (t.state == TrialState::kComplete) {
      t.value = t.intermediate.rbegin()->second;
      best = std::min(best, *t.value);
    }
    trials.push_back(std::move(t));
  }
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(BohbSampler, BeatsRandomSearchInsideTheSameHyperbandBracketsOnALearningCurve) {
  // y(u, t) = |u - 0.3|^2 + 1 / (1 + t), 4 parameters, 27 steps: Hyperband's rungs at 1, 3, 9
  // (R = 27, eta = 3: 4 brackets). 100 trials, 15 seeds; the regret is y - 1/27.
  const objective::LearningCurve f(objective::LearningCurveOptions{.steps = 27, .dim = 4});
  const double optimum = 1.0 / 27.0;
  std::vector<double> bohb_regret, random_regret;
  std::vector<int64_t> budgets;
  int bohb_better = 0;
  for (uint64_t seed = 1; seed <= 15; ++seed) {
    BohbSampler bohb;
    RandomSampler random;
    bohb_regret.push_back(run_hyperband(bohb, f, 100, seed, seed == 1 ? &budgets : nullptr) - optimum);
    random_regret.push_back(run_hyperband(random, f, 100, seed) - optimum);
    bohb_better += bohb_regret.back() < random_regret.back();
  }
  // Measured: median regret 0.021 against 0.042, lower on 12 of the 15 seeds.
  EXPECT_LT(median(bohb_regret), 0.7 * median(random_regret))
      << "bohb " << median(bohb_regret) << " random " << median(random_regret);
  EXPECT_GE(bohb_better, 10);
  // The model moves up the budgets as observations arrive: first none, then the first rung (every
  // trial reaches step 1), then the complete trials (the first trials at a rung go on, so the first
  // few complete) once n_min + 2 = 7 of them are there.
  EXPECT_EQ(budgets.front(), -1);
  EXPECT_NE(std::find(budgets.begin(), budgets.end(), 1), budgets.end());
  EXPECT_EQ(budgets.back(), kFinal);
  EXPECT_TRUE(std::is_sorted(budgets.begin(), budgets.end()));
}

TEST(BohbSampler, BadOptionsAreRefusedInOneLineNamingTheKey) {
  SamplerRegistry registry;
  register_builtin_samplers(registry);
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"min_resource", 0},         {"reduction_factor", 1},
      {"min_points_in_model", -1}, {"top_n_percent", 100},
      {"top_n_percent", 0},        {"num_samples", 0},
      {"random_fraction", 1.5},    {"bandwidth_factor", 0},
      {"min_bandwidth", 0},        {"random_fraction", "a third"},
  };
  for (const auto& [key, value] : bad) {
    try {
      registry.create("bohb", {{key, value}});
      FAIL() << key << " = " << value << ": no exception";
    } catch (const InvalidArgument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("sampler 'bohb'"), std::string::npos) << what;
      EXPECT_NE(what.find(key), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  EXPECT_THROW(BohbSampler(BohbSamplerOptions{.reduction_factor = 1}), InvalidArgument);
  const auto ok = registry.create("bohb", {{"min_resource", 2}, {"reduction_factor", 4}, {"random_fraction", 0}});
  const auto& o = dynamic_cast<const BohbSampler&>(*ok).options();
  EXPECT_EQ(o.min_resource, 2);
  EXPECT_EQ(o.reduction_factor, 4);
  EXPECT_EQ(o.random_fraction, 0.0);
}

}  // namespace
}  // namespace metadial::optim
