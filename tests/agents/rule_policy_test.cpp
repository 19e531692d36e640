#include "metadial/agents/rule_policy.h"

#include <gtest/gtest.h>

#include "dialog/toy_domain.h"
#include "metadial/agents/evaluate.h"
#include "metadial/core/error.h"

namespace metadial::agents {
namespace {

using dialog::Domain;
using dialog::DialogueEnv;
using dialog::env_preset;

TEST(RulePolicy, SolvesTheToyDomainWithoutErrors) {
  // Two slots, four entities, some goals unmatched (green large): every dialogue succeeds.
  auto d = dialog::testing::toy_domain();
  DialogueEnv env(d, env_preset("env1"));
  RulePolicy rule;
  const EvalSummary s = evaluate(env, rule, 300, 1);
  EXPECT_DOUBLE_EQ(s.success_rate, 1.0);
  EXPECT_DOUBLE_EQ(s.success_ci95, 0.0);
  EXPECT_LT(s.avg_turns, 6.0);
  EXPECT_NEAR(s.avg_reward, 20.0 - s.avg_turns, 1e-9);
}

TEST(RulePolicy, ReachesTheIssueTargetOnEnv1AndDegradesWithErrors) {
  auto d = Domain::builtin("restaurant");
  RulePolicy rule;
  auto run = [&](const char* preset) {
    DialogueEnv env(d, env_preset(preset));
    return evaluate(env, rule, 500, 2024);
  };
  const EvalSummary e1 = run("env1"), e3 = run("env3"), e5 = run("env5"), e6 = run("env6");
  EXPECT_GE(e1.success_rate, 0.95);
  EXPECT_GT(e1.avg_reward, 15.0);
  // More noise: longer dialogues, lower reward, and (for env5 / env6) lower success.
  EXPECT_LT(e3.avg_reward, e1.avg_reward - e1.reward_ci95 - e3.reward_ci95);
  EXPECT_LT(e6.avg_reward, e3.avg_reward - e3.reward_ci95 - e6.reward_ci95);
  EXPECT_LE(e3.success_rate, e1.success_rate);
  EXPECT_LT(e6.success_rate, e1.success_rate);
  EXPECT_LT(e5.success_rate, e3.success_rate);
  EXPECT_GT(e6.success_rate, 0.8);
}

TEST(RulePolicy, SolvesTheMovieDomain) {
  auto d = Domain::builtin("movie");
  DialogueEnv env(d, env_preset("env1"));
  RulePolicy rule;
  EXPECT_GE(evaluate(env, rule, 300, 3).success_rate, 0.95);
}

TEST(RulePolicy, RandomPolicyIsFarWorse) {
  auto d = Domain::builtin("restaurant");
  for (const char* preset : {"env1", "env2", "env3"}) {
    DialogueEnv env(d, env_preset(preset));
    RulePolicy rule;
    RandomPolicy random(5);
    const EvalSummary r = evaluate(env, rule, 300, 4), x = evaluate(env, random, 300, 4);
    EXPECT_GT(r.success_rate - x.success_rate, 0.4) << preset;
    EXPECT_GT(r.avg_reward - x.avg_reward, 15.0) << preset;
  }
}

TEST(RulePolicy, TakesOnlyUnmaskedActionsWhenMasksAreOn) {
  auto d = Domain::builtin("restaurant");
  DialogueEnv env(d, env_preset("env3"));
  RulePolicy rule;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    env.reset(seed);
    rule.begin_dialogue();
    while (!env.done()) {
      const int a = rule.act(PolicyInput::from(env));
      ASSERT_EQ(env.action_mask()[static_cast<size_t>(a)], 1) << d->actions().name(a);
      env.step(a);
    }
  }
}

TEST(RulePolicy, NeedsTheBeliefState) {
  RulePolicy rule;
  PolicyInput in;
  EXPECT_THROW(rule.act(in), InvalidArgument);
  RulePolicyOptions bad;
  bad.request_below = 0.9F;
  EXPECT_THROW(RulePolicy{bad}, InvalidArgument);
}

TEST(Evaluate, IsDeterministicAndTranscriptsAreReadable) {
  auto d = Domain::builtin("restaurant");
  DialogueEnv env(d, env_preset("env6"));
  RulePolicy rule;
  const EvalSummary a = evaluate(env, rule, 100, 9), b = evaluate(env, rule, 100, 9);
  EXPECT_EQ(a.success_rate, b.success_rate);
  EXPECT_EQ(a.avg_reward, b.avg_reward);
  EXPECT_EQ(a.avg_turns, b.avg_turns);
  std::string t1, t2;
  const DialogueOutcome o = run_dialogue(env, rule, 11, &t1);
  run_dialogue(env, rule, 11, &t2);
  EXPECT_EQ(t1, t2);
  EXPECT_NE(t1.find("goal: constraints:"), std::string::npos);
  EXPECT_NE(t1.find(o.success ? "dialogue over: success" : "dialogue over: failure"), std::string::npos);
  EXPECT_THROW(evaluate(env, rule, 0, 1), InvalidArgument);
}

TEST(Evaluate, ConfidenceIntervalIsTheNormalApproximation) {
  // A policy that always says bye: every dialogue fails after 1 turn (reward -1) when bye is
  // allowed; the intervals of a constant are zero.
  class Bye final : public Policy {
   public:
    std::string name() const override { return "bye"; }
    int act(const PolicyInput& in) override { return in.domain->actions().index("bye"); }
  };
  auto d = Domain::builtin("restaurant");
  DialogueEnv env(d, env_preset("env2"));
  Bye bye;
  const EvalSummary s = evaluate(env, bye, 50, 1);
  EXPECT_DOUBLE_EQ(s.success_rate, 0.0);
  EXPECT_DOUBLE_EQ(s.avg_reward, -1.0);
  EXPECT_DOUBLE_EQ(s.avg_turns, 1.0);
  EXPECT_DOUBLE_EQ(s.reward_ci95, 0.0);
}

}  // namespace
}  // namespace metadial::agents
