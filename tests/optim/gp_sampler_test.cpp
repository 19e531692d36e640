// GpSampler on problems with a known answer: Branin, a maximization, discrete spaces, and
// parallel workers (constant liar).
#include "metadial/optim/gp_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <set>

#include "metadial/optim/random_sampler.h"
#include "metadial/optim/sobol_sampler.h"
#include "optim/sampler_testing.h"

namespace metadial::optim {
namespace {

using study::TrialState;
using testing::context;
using testing::trial;

constexpr double kBraninMin = 0.397887357729738;

// Branin on the unit square: x1 = -5 + 15 u0, x2 = 15 u1.
double branin(const std::vector<double>& u) {
  const double pi = std::numbers::pi;
  const double x1 = -5.0 + 15.0 * u[0], x2 = 15.0 * u[1];
  const double a = x2 - 5.1 / (4 * pi * pi) * x1 * x1 + 5.0 / pi * x1 - 6.0;
  return a * a + 10.0 * (1.0 - 1.0 / (8.0 * pi)) * std::cos(x1) + 10.0;
}

space::SearchSpace unit_square() {
  space::SearchSpace s;
  s.add_float("u0", 0.0, 1.0);
  s.add_float("u1", 0.0, 1.0);
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(GpSampler, FindsBraninMinimumWithin30Trials) {
  const space::SearchSpace space = unit_square();
  std::vector<double> gp_regret, random_regret;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    GpSampler gp;
    RandomSampler random;
    gp_regret.push_back(testing::best_value(testing::run_loop(gp, space, 30, seed, branin)) - kBraninMin);
    random_regret.push_back(testing::best_value(testing::run_loop(random, space, 30, seed, branin)) - kBraninMin);
  }
  EXPECT_LT(median(gp_regret), 0.05);
  EXPECT_LT(median(gp_regret), median(random_regret));
  for (double r : gp_regret) EXPECT_LT(r, 1.0);
}

TEST(GpSampler, InitialTrialsFollowTheSobolDesign) {
  const space::SearchSpace space = unit_square();
  GpSampler gp;
  SobolSampler sobol;
  EXPECT_EQ(gp.options().initial_trials(2), 6);
  EXPECT_EQ(gp.options().initial_trials(6), 10);
  const auto hist = testing::run_loop(gp, space, 6, 11, branin);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(hist[static_cast<size_t>(i)].params, sobol.suggest(context(space, 11, i), {}).config);
}

TEST(GpSampler, MaximizesWhenDirectionIsMaximize) {
  space::SearchSpace space;
  space.add_float("x", -3.0, 3.0);
  GpSampler gp;
  std::vector<study::FrozenTrial> hist;
  double best = -1e300;
  for (int i = 0; i < 15; ++i) {
    SamplerContext ctx = context(space, 2, i);
    ctx.direction = study::Direction::kMaximize;
    const Suggestion s = gp.suggest(ctx, hist);
    const double x = std::get<double>(s.config.at("x"));
    const double value = -(x - 1.234) * (x - 1.234);  // maximum 0 at x = 1.234
    best = std::max(best, value);
    hist.push_back(trial(i, TrialState::kComplete, s.config, value));
  }
  EXPECT_GT(best, -1e-3);
}

TEST(GpSampler, NeverRepeatsAConfigurationInADiscreteSpace) {
  space::SearchSpace space;
  space.add_int("a", 0, 2);
  space.add_int("b", 10, 50, 20);
  space.add_categorical("c", {"x", "y"});  // 3 * 3 * 2 = 18 configurations
  GpSampler gp;
  const auto hist = testing::run_loop(gp, space, 18, 4, [](const std::vector<double>& u) {
    return (u[0] - 0.5) * (u[0] - 0.5) + u[1] + (u[2] < 0.5 ? 0.0 : 0.3);
  });
  std::set<space::Config> seen;
  for (const auto& t : hist) EXPECT_TRUE(seen.insert(t.params).second) << space::to_string(t.params);
}

TEST(GpSampler, RunningTrialPushesParallelProposalAway) {
  const space::SearchSpace space = unit_square();
  GpSampler gp;
  auto hist = testing::run_loop(gp, space, 12, 21, branin);
  const Suggestion first = gp.suggest(context(space, 21, 12), hist);
  // Another worker asks while trial 12 runs at `first`.
  hist.push_back(trial(12, TrialState::kRunning, first.config));
  const Suggestion second = gp.suggest(context(space, 21, 13), hist);
  const std::vector<double> a = space.encode(first.config), b = space.encode(second.config);
  EXPECT_GT(std::hypot(a[0] - b[0], a[1] - b[1]), 0.02);
}

TEST(GpSampler, InfiniteLossCountsAsWorstInsteadOfBreakingTheModel) {
  const space::SearchSpace space = unit_square();
  GpSampler gp;
  auto hist = testing::run_loop(gp, space, 10, 3, branin);
  hist[4].value = std::numeric_limits<double>::infinity();
  hist[6].value = std::numeric_limits<double>::quiet_NaN();
  const Suggestion s = gp.suggest(context(space, 3, 10), hist);
  const std::vector<double> u = space.encode(s.config);
  EXPECT_NE(s.config, hist[4].params);
  EXPECT_TRUE(u[0] >= 0 && u[0] <= 1 && u[1] >= 0 && u[1] <= 1);
}

// Issue 21, item 6: losses near the largest double overflowed the model's standardization (its
// mean and variance), after which every acquisition value was NaN and the proposals random.
TEST(GpSampler, LossesNearTheLargestDoubleStillGuideTheSearch) {
  space::SearchSpace s;
  s.add_float("x", -1e308, 1e308);
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    GpSampler gp;
    const auto hist = testing::run_loop(gp, s, 20, seed, [](const std::vector<double>& u) {
      return 1e308 * (2.0 * u[0] - 1.0);  // the value of x itself: minimum at x = -1e308
    });
    for (const auto& t : hist) ASSERT_TRUE(std::isfinite(std::get<double>(t.params.at("x"))));
    EXPECT_LT(testing::best_value(hist), -0.99e308) << "seed " << seed;
  }
}

TEST(GpSampler, EiAndLhsAndRandomInitVariantsRun) {
  const space::SearchSpace space = unit_square();
  for (const auto& [init, acq] :
       {std::pair{InitDesign::kLhs, AcquisitionKind::kEi}, {InitDesign::kRandom, AcquisitionKind::kLogEi}}) {
    GpSamplerOptions o;
    o.init = init;
    o.acquisition = acq;
    o.n_candidates = 500;
    GpSampler gp(o);
    const auto hist = testing::run_loop(gp, space, 20, 8, branin);
    EXPECT_LT(testing::best_value(hist) - kBraninMin, 2.0) << to_string(init) << " " << to_string(acq);
  }
}

}  // namespace
}  // namespace metadial::optim
