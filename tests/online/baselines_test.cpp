// Baselines on the synthetic target with a known best learning rate (1e-2): the cosine schedule's
// values, the PBT explore step, PBT and the fixed-tuple searches finding the best choice.
#include <gtest/gtest.h>

#include <set>

#include "metadial/core/error.h"
#include "metadial/online/baselines.h"
#include "metadial/optim/gp_sampler.h"
#include "metadial/optim/random_sampler.h"

namespace metadial::online {
namespace {

ChoiceSpace toy_space() {
  ChoiceSpace s;
  s.add("learning_rate", {1e-4, 1e-3, 1e-2, 1e-1});
  s.add("momentum", {0.0, 0.9});
  return s;
}

TEST(Baselines, CosineScheduleStartsAtMaxAndHalvesAtMidpoint) {
  SyntheticTarget t;
  const RunResult r = run_cosine(t, {}, 0.1, 0.0, {.total_steps = 100, .interval = 25});
  ASSERT_EQ(r.schedule.size(), 4U);
  EXPECT_DOUBLE_EQ(r.schedule[0].tuple.at("learning_rate"), 0.1);
  EXPECT_NEAR(r.schedule[1].tuple.at("learning_rate"), 0.1 * (1 + std::cos(M_PI / 4)) / 2, 1e-15);
  EXPECT_NEAR(r.schedule[2].tuple.at("learning_rate"), 0.05, 1e-15);
  EXPECT_EQ(r.steps, 100);
  EXPECT_EQ(r.method, "cosine");
  EXPECT_THROW(run_cosine(t, {}, 0.1, 0.2, {.total_steps = 100, .interval = 25}), InvalidArgument);
}

TEST(Baselines, FixedRunScoresItsTupleGainTimesSteps) {
  SyntheticTarget t({.best_learning_rate = 1e-2, .gain = 1e-3});
  const RunResult r = run_fixed(t, {{"learning_rate", 1e-2}}, {.total_steps = 100, .interval = 30});
  EXPECT_NEAR(r.validation, 0.1, 1e-12);
  ASSERT_EQ(r.schedule.size(), 4U);
  EXPECT_EQ(r.schedule[3].step, 90);
  EXPECT_NEAR(r.schedule[3].reward, 0.01, 1e-12);  // the last interval has 10 steps
}

// Without resampling, explore moves every hyperparameter one choice up or down: 0.01 * 0.8 and
// 0.01 * 1.2 snap back to 0.01, so it goes to 1e-3 or 1e-1; momentum 0 * 1.2 = 0 goes to 0.9.
TEST(Baselines, PbtExploreMovesToNeighbourChoiceOrResamples) {
  const ChoiceSpace s = toy_space();
  std::set<int64_t> lr_seen;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const auto e = pbt_explore(s, {2, 0}, 0.0, seed);
    EXPECT_TRUE(e[0] == 1 || e[0] == 3) << e[0];
    EXPECT_TRUE(e[1] == 0 || e[1] == 1);
    lr_seen.insert(e[0]);
  }
  EXPECT_EQ(lr_seen, (std::set<int64_t>{1, 3}));
  // From the top choice, going up stays at the top.
  bool stayed = false;
  for (uint64_t seed = 0; seed < 50; ++seed) stayed |= pbt_explore(s, {3, 1}, 0.0, seed)[0] == 3;
  EXPECT_TRUE(stayed);
  std::set<int64_t> resampled;
  for (uint64_t seed = 0; seed < 100; ++seed) resampled.insert(pbt_explore(s, {0, 0}, 1.0, seed)[0]);
  EXPECT_EQ(resampled, (std::set<int64_t>{0, 1, 2, 3}));
}

// A population of 8 starting from random tuples: exploit/explore spreads lr = 1e-2, and the best
// member ends within 10 % of the best possible score (gain 1e-3 x 2000 steps = 2.0).
TEST(Baselines, PbtConvergesToBestLearningRate) {
  SyntheticTarget proto({.best_learning_rate = 1e-2, .gain = 1e-3, .noise = 1e-3});
  const RunResult r = run_pbt(proto, toy_space(), {.population = 8, .seed = 5}, {.total_steps = 2000, .interval = 50});
  EXPECT_EQ(r.steps, 8 * 2000);
  EXPECT_EQ(r.schedule.size(), 40U);
  EXPECT_EQ(r.schedule.back().tuple.at("learning_rate"), 1e-2);
  EXPECT_GT(r.validation, 1.8);
  EXPECT_THROW(run_pbt(proto, toy_space(), {.population = 1}, {.total_steps = 100, .interval = 10}), InvalidArgument);
}

TEST(Baselines, RandomSearchAndGpFindBestFixedTuple) {
  SyntheticTarget proto({.best_learning_rate = 1e-2, .gain = 1e-3});
  optim::RandomSampler random;
  const SearchResult rs = search_fixed(proto, toy_space(), random, 20, {.total_steps = 100, .interval = 50}, 3);
  EXPECT_EQ(rs.steps, 2000);
  EXPECT_EQ(rs.best_trial().tuple.at("learning_rate"), 1e-2);
  EXPECT_NEAR(rs.best_test_after(20), 0.1, 1e-12);
  EXPECT_LE(rs.best_test_after(1), rs.best_test_after(20));
  optim::GpSampler gp;
  const SearchResult g = search_fixed(proto, toy_space(), gp, 8, {.total_steps = 100, .interval = 50}, 3);
  EXPECT_EQ(g.best_trial().tuple.at("learning_rate"), 1e-2);
}

}  // namespace
}  // namespace metadial::online
