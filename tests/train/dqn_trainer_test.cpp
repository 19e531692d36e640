#include "metadial/train/dqn_trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dialog/toy_domain.h"
#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"

namespace metadial::train {
namespace {

using agents::dqn::DqnOptions;
using agents::dqn::DqnPolicy;

// Small and quick: the toy domain's observations are short, dialogues a few turns.
DqnOptions toy_options() {
  DqnOptions o;
  o.h1 = 64;
  o.h2 = 32;
  return o;
}

void expect_same_curve(const TrainResult& a, const TrainResult& b) {
  ASSERT_EQ(a.curve.size(), b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) {
    EXPECT_EQ(a.curve[i].dialogues, b.curve[i].dialogues);
    EXPECT_EQ(a.curve[i].train_success, b.curve[i].train_success);
    EXPECT_EQ(a.curve[i].train_reward, b.curve[i].train_reward);
    EXPECT_EQ(a.curve[i].loss, b.curve[i].loss);
    ASSERT_EQ(a.curve[i].eval.has_value(), b.curve[i].eval.has_value());
    if (a.curve[i].eval) {
      EXPECT_EQ(a.curve[i].eval->avg_reward, b.curve[i].eval->avg_reward);
    }
  }
  EXPECT_EQ(a.turns, b.turns);
  EXPECT_EQ(a.gradient_steps, b.gradient_steps);
}

TEST(TrainDqn, CurveHasAPointPerWindowAndEvaluationsWhereDue) {
  dialog::DialogueEnv env(dialog::testing::toy_domain(), dialog::env_preset("env1"));
  DqnPolicy policy(env, toy_options(), 1);
  DqnTrainOptions t;
  t.dialogues = 250;
  t.window = 50;
  t.eval_every = 100;
  t.eval_dialogues = 20;
  std::vector<int> seen;
  const TrainResult r = train_dqn(env, policy, t, [&](const CurvePoint& p) { seen.push_back(p.dialogues); });
  EXPECT_EQ(seen, (std::vector<int>{50, 100, 150, 200, 250}));
  ASSERT_EQ(r.curve.size(), 5U);
  EXPECT_FALSE(r.curve[0].eval.has_value());
  EXPECT_TRUE(r.curve[1].eval.has_value());
  EXPECT_FALSE(r.curve[2].eval.has_value());
  EXPECT_TRUE(r.curve[3].eval.has_value());
  EXPECT_TRUE(r.curve[4].eval.has_value());  // the end of the run
  EXPECT_EQ(r.curve[1].eval->dialogues, 20);
  EXPECT_EQ(r.dialogues, 250);
  EXPECT_EQ(policy.info().trained_dialogues, 250);
  // Epsilon: 0.3 at the start, linear to 0 at the end of the run.
  EXPECT_NEAR(r.curve[0].epsilon, 0.3 * (1.0 - 49.0 / 250.0), 1e-12);
  // One update every 2 dialogues once learn_start (640) transitions are stored.
  EXPECT_GT(r.gradient_steps, 0);
  EXPECT_LE(r.gradient_steps, 125);
  EXPECT_EQ(r.turns, policy.replay().total_added());
  EXPECT_THROW(train_dqn(env, policy, DqnTrainOptions{.dialogues = 0}), InvalidArgument);
}

TEST(TrainDqn, SameSeedGivesTheSameCurveAndPolicyOtherSeedAnother) {
  auto domain = dialog::testing::toy_domain();
  auto run = [&](uint64_t seed, std::vector<float>* params) {
    dialog::DialogueEnv env(domain, dialog::env_preset("env3"));  // with channel noise
    DqnPolicy policy(env, toy_options(), derive_seed(seed, {kPolicyStream}));
    DqnTrainOptions t;
    t.dialogues = 300;
    t.window = 100;
    t.eval_every = 150;
    t.eval_dialogues = 20;
    t.seed = seed;
    TrainResult r = train_dqn(env, policy, t);
    *params = policy.parameters();
    return r;
  };
  std::vector<float> pa, pb, pc;
  const TrainResult a = run(5, &pa), b = run(5, &pb), c = run(6, &pc);
  expect_same_curve(a, b);
  EXPECT_EQ(pa, pb);
  EXPECT_NE(pa, pc);
  EXPECT_NE(a.turns, c.turns);
}

TEST(TrainDqn, ReachesHighSuccessOnTheToyDomainWithinAFewHundredDialogues) {
  dialog::DialogueEnv env(dialog::testing::toy_domain(), dialog::env_preset("env1"));
  agents::RandomPolicy random(1);
  const agents::EvalSummary floor = agents::evaluate(env, random, 300, 99);
  DqnPolicy policy(env, toy_options(), 2);
  DqnTrainOptions t;
  t.dialogues = 400;
  t.seed = 2;
  train_dqn(env, policy, t);
  const agents::EvalSummary s = agents::evaluate(env, policy, 300, 99);
  // Random: about 60 % success in long dialogues (reward about 2); the DQN: short, successful ones.
  EXPECT_LT(floor.avg_reward, 5.0);
  EXPECT_GE(s.success_rate, 0.95);
  EXPECT_LT(s.avg_turns, 4.0);
  EXPECT_GT(s.avg_reward, floor.avg_reward + 10.0);
}

TEST(TrainDqn, CancelStopsBeforeTheNextDialogue) {
  dialog::DialogueEnv env(dialog::testing::toy_domain(), dialog::env_preset("env1"));
  DqnPolicy policy(env, toy_options(), 1);
  const std::atomic<bool> cancel{true};
  const TrainResult r = train_dqn(env, policy, DqnTrainOptions{.dialogues = 100}, {}, &cancel);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.dialogues, 0);
}

DqnExperiment toy_experiment(int threads) {
  DqnExperiment ex;
  ex.domain = dialog::testing::toy_domain();
  ex.env = dialog::env_preset("env3");
  ex.dqn = toy_options();
  ex.train.dialogues = 150;
  ex.train.window = 50;
  ex.train.seed = 9;
  ex.seeds = 3;
  ex.threads = threads;
  ex.test_dialogues = 50;
  return ex;
}

TEST(DqnExperiment, SameOutcomesWhateverTheNumberOfThreads) {
  std::vector<int> order;
  const auto one = run_dqn_experiment(toy_experiment(1));
  const auto three = run_dqn_experiment(toy_experiment(3), [&](const SeedOutcome& o) { order.push_back(o.index); });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(one.size(), 3U);
  ASSERT_EQ(three.size(), 3U);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(one[i].seed, three[i].seed);
    expect_same_curve(one[i].train, three[i].train);
    EXPECT_EQ(one[i].test.avg_reward, three[i].test.avg_reward);
    EXPECT_EQ(one[i].test.dialogues, 50);
  }
  EXPECT_NE(one[0].seed, one[1].seed);
  EXPECT_NE(one[0].train.turns, one[1].train.turns);
}

TEST(DqnExperiment, AnExceptionFromOnDoneCancelsTheRunsAndPropagates) {
  DqnExperiment ex = toy_experiment(2);
  ex.seeds = 6;
  int calls = 0;
  EXPECT_THROW(run_dqn_experiment(ex,
                                  [&](const SeedOutcome&) {
                                    ++calls;
                                    throw TrialPruned("pruned");
                                  }),
               TrialPruned);
  EXPECT_EQ(calls, 1);
  ex.seeds = 0;
  EXPECT_THROW(run_dqn_experiment(ex), InvalidArgument);
}

TEST(DqnTraining, StagesTrainWhatOneGoTrains) {
  auto domain = dialog::testing::toy_domain();
  DqnTrainOptions t;
  t.dialogues = 200;
  t.window = 40;
  t.seed = 3;
  dialog::DialogueEnv env_a(domain, dialog::env_preset("env3"));
  DqnPolicy a(env_a, toy_options(), 4);
  const TrainResult one_go = train_dqn(env_a, a, t);
  dialog::DialogueEnv env_b(domain, dialog::env_preset("env3"));
  DqnPolicy b(env_b, toy_options(), 4);
  DqnTraining staged(env_b, b, t);
  EXPECT_TRUE(staged.train_until(70));
  EXPECT_EQ(staged.dialogues_done(), 70);
  EXPECT_TRUE(staged.train_until(70));    // nothing to do
  EXPECT_TRUE(staged.train_until(1000));  // clamped to the run's 200
  const TrainResult r = staged.finish();
  EXPECT_EQ(r.dialogues, 200);
  expect_same_curve(one_go, r);
  EXPECT_EQ(one_go.curve.back().epsilon, r.curve.back().epsilon);
  EXPECT_EQ(a.parameters(), b.parameters());
  EXPECT_EQ(b.info().trained_dialogues, 200);
}

TEST(DqnExperiment, LockstepValidatesEveryKDialoguesAndGivesThePlainOutcomes) {
  DqnExperiment ex = toy_experiment(2);
  const auto plain = run_dqn_experiment(ex);
  auto lockstep = [&](std::vector<LockstepPoint>* points) {
    return run_dqn_experiment_lockstep(ex, LockstepOptions{.every = 40, .validation_dialogues = 15},
                                       [&](const LockstepPoint& p) { points->push_back(p); });
  };
  std::vector<LockstepPoint> pa, pb;
  const auto a = lockstep(&pa);
  ex.threads = 3;
  const auto b = lockstep(&pb);
  ASSERT_EQ(pa.size(), 3U);  // 40, 80, 120 of 150
  for (size_t k = 0; k < pa.size(); ++k) {
    EXPECT_EQ(pa[k].dialogues, 40 * static_cast<int>(k + 1));
    ASSERT_EQ(pa[k].validation.size(), 3U);
    ASSERT_EQ(pb[k].validation.size(), 3U);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(pa[k].validation[i].dialogues, 15);
      EXPECT_EQ(pa[k].validation[i].avg_reward, pb[k].validation[i].avg_reward);  // whatever the threads
    }
  }
  ASSERT_EQ(a.size(), 3U);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a[i].seed, plain[i].seed);
    expect_same_curve(a[i].train, plain[i].train);
    EXPECT_EQ(a[i].test.avg_reward, plain[i].test.avg_reward);
    EXPECT_EQ(a[i].test.success_rate, plain[i].test.success_rate);
    EXPECT_EQ(b[i].test.avg_reward, plain[i].test.avg_reward);
  }
}

TEST(DqnExperiment, AnExceptionFromALockstepPointStopsEveryRun) {
  int calls = 0;
  EXPECT_THROW(run_dqn_experiment_lockstep(toy_experiment(2), LockstepOptions{.every = 50, .validation_dialogues = 5},
                                           [&](const LockstepPoint& p) {
                                             ++calls;
                                             EXPECT_EQ(p.dialogues, 50);
                                             throw TrialPruned("pruned");
                                           }),
               TrialPruned);
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(run_dqn_experiment_lockstep(toy_experiment(2), LockstepOptions{.every = 0}, {}), InvalidArgument);
}

TEST(MeanCi95, MatchesHandComputedValues) {
  // mean 2, sample sd 1, n 3: 1.96 / sqrt(3).
  const MeanCi m = mean_ci95({1.0, 2.0, 3.0});
  EXPECT_DOUBLE_EQ(m.mean, 2.0);
  EXPECT_NEAR(m.ci95, 1.96 / std::sqrt(3.0), 1e-12);
  EXPECT_DOUBLE_EQ(mean_ci95({4.0}).ci95, 0.0);
}

}  // namespace
}  // namespace metadial::train
