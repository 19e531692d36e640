// The DQN dialogue target of the online controller (online/dqn_target.h) on a tiny network and a
// few dozen dialogues: reproducibility, clone(), the effect of each hyperparameter, the frozen
// network at learning rate 0, equivalence with the DQN trainer at a fixed tuple, the Q-value
// statistics against a direct computation, and the one-line errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cli/online_commands.h"
#include "metadial/agents/dqn/dqn_policy.h"
#include "metadial/agents/evaluate.h"
#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/env.h"
#include "metadial/online/baselines.h"
#include "metadial/online/dqn_target.h"
#include "metadial/train/dqn_trainer.h"

namespace metadial::online {
namespace {

std::shared_ptr<const dialog::Domain> restaurant() {
  static const auto d = dialog::Domain::builtin("restaurant");
  return d;
}

// A tiny network that starts learning after two dialogues or so.
DqnDialogOptions tiny() {
  DqnDialogOptions o;
  o.env = "env1";
  o.dqn.h1 = 16;
  o.dqn.h2 = 8;
  o.dqn.batch_size = 8;
  o.dqn.learn_start = 16;
  o.dqn.replay_capacity = 400;
  o.validation_dialogues = 20;
  o.test_dialogues = 20;
  return o;
}

const Tuple kTuple{{"learning_rate", 3e-3}, {"epsilon", 0.2}};

TEST(DqnDialogTarget, SameSeedGivesSameWeightsAndScoresOtherSeedOtherWeights) {
  DqnDialogTarget a(restaurant(), tiny()), b(restaurant(), tiny());
  a.reset(7);
  b.reset(7);
  a.train(kTuple, 40);
  b.train(kTuple, 40);
  EXPECT_GT(a.gradient_steps(), 0);
  EXPECT_EQ(a.parameters(), b.parameters());
  EXPECT_EQ(a.validation_score(), b.validation_score());
  EXPECT_EQ(a.test_score(), b.test_score());
  EXPECT_EQ(a.stats().features(), b.stats().features());
  EXPECT_EQ(a.steps_done(), 40);

  b.reset(8);
  b.train(kTuple, 40);
  EXPECT_NE(a.parameters(), b.parameters());
  // A reset goes back to the same start.
  b.reset(7);
  EXPECT_EQ(b.steps_done(), 0);
  b.train(kTuple, 40);
  EXPECT_EQ(a.parameters(), b.parameters());
}

TEST(DqnDialogTarget, CloneTrainsExactlyAsTheOriginalAndIndependently) {
  DqnDialogTarget t(restaurant(), tiny());
  t.reset(3);
  t.train(kTuple, 30);  // Adam moments, replay buffer and random streams are all under way
  ASSERT_GT(t.gradient_steps(), 0);
  const std::vector<float> before = t.parameters();
  auto c = t.clone();
  EXPECT_EQ(c->steps_done(), 30);
  const Tuple next{{"learning_rate", 1e-3}, {"epsilon", 0.1}};
  t.train(next, 30);
  c->train(next, 30);
  EXPECT_EQ(t.parameters(), dynamic_cast<DqnDialogTarget&>(*c).parameters());
  EXPECT_EQ(t.validation_score(), c->validation_score());
  EXPECT_EQ(t.stats().features(), c->stats().features());

  // Training the copy further leaves the original alone.
  auto d = t.clone();
  const std::vector<float> now = t.parameters();
  d->train(next, 20);
  EXPECT_EQ(t.parameters(), now);
  EXPECT_NE(dynamic_cast<DqnDialogTarget&>(*d).parameters(), now);
  EXPECT_NE(before, now);
}

TEST(DqnDialogTarget, LearningRateAndEpsilonEachChangeTraining) {
  auto trained = [](const Tuple& hp) {
    DqnDialogTarget t(restaurant(), tiny());
    t.reset(5);
    t.train(hp, 40);
    return t.parameters();
  };
  const auto base = trained(kTuple);
  EXPECT_NE(base, trained({{"learning_rate", 1e-2}, {"epsilon", 0.2}}));
  EXPECT_NE(base, trained({{"learning_rate", 3e-3}, {"epsilon", 0.6}}));
  EXPECT_EQ(base, trained(kTuple));
}

TEST(DqnDialogTarget, ZeroLearningRateLeavesTheQNetworkUnchanged) {
  DqnDialogTarget t(restaurant(), tiny());
  t.reset(11);
  const std::vector<float> initial = t.parameters();
  t.train({{"learning_rate", 0.0}, {"epsilon", 0.5}}, 40);
  EXPECT_GE(t.gradient_steps(), 10);  // learn() ran: Adam stepped with step size 0
  EXPECT_EQ(t.parameters(), initial);
  EXPECT_GT(t.stats().recent_loss, 0.0);
  // The same run at a positive learning rate moves the weights.
  t.train({{"learning_rate", 1e-3}, {"epsilon", 0.5}}, 2);
  EXPECT_NE(t.parameters(), initial);
}

// At a fixed tuple the target is the project's DQN trainer: the same weights, whether trained in
// one call or in intervals (train_frequency counts dialogues since reset, not per call).
TEST(DqnDialogTarget, FixedTupleTrainsExactlyAsTheDqnTrainer) {
  const uint64_t seed = 21;
  const int n = 45;  // odd, and split 17 + 28 below: both intervals straddle an update
  DqnDialogOptions o = tiny();
  agents::dqn::DqnOptions dq = o.dqn;
  dq.lr = 2e-3;
  dq.epsilon = 0.25;
  dq.epsilon_end = 0.25;
  dialog::DialogueEnv env(restaurant(), dialog::env_preset(o.env));
  agents::dqn::DqnPolicy ref(env, dq, derive_seed(seed, {train::kPolicyStream}));
  train::DqnTrainOptions to;
  to.dialogues = n;
  to.seed = seed;
  const train::TrainResult r = train::train_dqn(env, ref, to);
  ASSERT_GT(r.gradient_steps, 0);

  const Tuple hp{{"learning_rate", 2e-3}, {"epsilon", 0.25}};
  DqnDialogTarget one(restaurant(), o), split(restaurant(), o);
  one.reset(seed);
  one.train(hp, n);
  split.reset(seed);
  split.train(hp, 17);
  split.train(hp, n - 17);
  EXPECT_EQ(one.gradient_steps(), r.gradient_steps);
  EXPECT_EQ(one.parameters(), ref.parameters());
  EXPECT_EQ(split.parameters(), ref.parameters());
}

// validation_score() and stats() against a direct two-pass computation over the same dialogues,
// with an identically seeded policy (untrained: the target right after reset).
TEST(DqnDialogTarget, ValidationScoreAndQStatisticsMatchADirectComputation) {
  const uint64_t seed = 4;
  DqnDialogOptions o = tiny();
  o.eval_seed = 9;
  DqnDialogTarget t(restaurant(), o);
  t.reset(seed);
  const double v = t.validation_score();
  const TargetStats s = t.stats();

  dialog::DialogueEnv env(restaurant(), dialog::env_preset(o.env));
  agents::dqn::DqnPolicy p(env, o.dqn, derive_seed(seed, {kDqnPolicyStream}));
  std::vector<double> all;               // allowed Q-values, every turn
  double entropy = 0.0, max_prob = 0.0;  // summed over turns
  int turns = 0, successes = 0;
  std::vector<float> q(static_cast<size_t>(p.num_actions()));
  for (int k = 0; k < o.validation_dialogues; ++k) {
    env.reset(derive_seed(derive_seed(o.eval_seed, {kDqnValidationStream}), {static_cast<uint64_t>(k)}));
    while (!env.done()) {
      const agents::PolicyInput in = agents::PolicyInput::from(env);
      p.q_values(in.observation, q);
      std::vector<double> allowed;
      for (size_t a = 0; a < q.size(); ++a)
        if (in.action_mask[a]) allowed.push_back(q[a]);
      double z = 0.0;
      for (double x : allowed) z += std::exp(x);
      double h = 0.0, m = 0.0;
      for (double x : allowed) {
        const double pr = std::exp(x) / z;
        h -= pr * std::log(pr);
        m = std::max(m, pr);
      }
      entropy += h;
      max_prob += m;
      ++turns;
      all.insert(all.end(), allowed.begin(), allowed.end());
      env.step(p.act(in));
    }
    successes += env.success() ? 1 : 0;
  }
  double mean = 0.0;
  for (double x : all) mean += x / static_cast<double>(all.size());
  double var = 0.0;
  for (double x : all) var += (x - mean) * (x - mean) / static_cast<double>(all.size() - 1);

  EXPECT_DOUBLE_EQ(v, static_cast<double>(successes) / o.validation_dialogues);
  EXPECT_NEAR(s.output_mean, mean, 1e-9);
  EXPECT_NEAR(s.output_std, std::sqrt(var), 1e-7);
  EXPECT_NEAR(s.entropy, entropy / turns, 1e-9);
  EXPECT_NEAR(s.max_prob, max_prob / turns, 1e-9);
  EXPECT_GT(s.output_std, 0.0);
  EXPECT_EQ(s.recent_loss, 0.0);  // nothing trained yet
}

TEST(DqnDialogTarget, UnknownOrOutOfRangeHyperparameterIsOneLine) {
  DqnDialogTarget t(restaurant(), tiny());
  try {
    t.train({{"momentum", 0.9}}, 1);
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'momentum' is not accepted by the dqn-dialog target"), std::string::npos) << m;
    EXPECT_NE(m.find("epsilon, learning_rate"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
  EXPECT_THROW(t.train({{"epsilon", 1.5}}, 1), InvalidArgument);
  EXPECT_THROW(t.train({{"learning_rate", -1e-3}}, 1), InvalidArgument);
  EXPECT_EQ(t.steps_done(), 0);
  DqnDialogOptions bad = tiny();
  bad.defaults["momentum"] = 0.9;
  EXPECT_THROW(DqnDialogTarget(restaurant(), bad), InvalidArgument);
  bad = tiny();
  bad.env = "env9";
  EXPECT_THROW(DqnDialogTarget(restaurant(), bad), InvalidArgument);
}

TEST(DqnDialogTarget, BaselinesRunOnIt) {
  DqnDialogTarget t(restaurant(), tiny());
  RunOptions run{.total_steps = 30, .interval = 10, .seed = 2};
  const RunResult fixed = run_fixed(t, {}, run);
  EXPECT_EQ(fixed.steps, 30);
  ASSERT_EQ(fixed.schedule.size(), 3U);
  EXPECT_EQ(fixed.schedule[0].tuple, (Tuple{{"learning_rate", 1e-3}, {"epsilon", 0.3}}));
  ChoiceSpace space;
  space.add("learning_rate", {1e-3, 3e-3}).add("epsilon", {0.1, 0.3});
  const RunResult pbt = run_pbt(t, space, {.population = 2}, run);
  EXPECT_EQ(pbt.steps, 60);
  EXPECT_GE(pbt.test, 0.0);
  EXPECT_LE(pbt.test, 1.0);
}

// The `online` config: type = "dqn_dialog" and its one-line errors.
const std::string kDqnConfig = R"([target]
type = "dqn_dialog"
env = "env3"
domain = "movie"
validation = 30
test = 40
eval_seed = 5

[target.dqn]
h1 = 32
h2 = 16

[target.defaults]
learning_rate = 0.002
epsilon = 0.1

[run]
steps = 100
interval = 20
)";

TEST(DqnDialogConfig, ParsesTargetTableAndChoices) {
  const cli::OnlineConfig c = cli::parse_online_config(
      kDqnConfig + "[hyperparameters]\nlearning_rate = [0.001, 0.003]\nepsilon = [0.0, 0.2]\n", "c.toml");
  EXPECT_EQ(c.target_type, "dqn_dialog");
  EXPECT_EQ(c.dqn.env, "env3");
  EXPECT_EQ(c.domain, "movie");
  EXPECT_EQ(c.dqn.validation_dialogues, 30);
  EXPECT_EQ(c.dqn.test_dialogues, 40);
  EXPECT_EQ(c.dqn.eval_seed, 5U);
  EXPECT_EQ(c.dqn.dqn.h1, 32);
  EXPECT_EQ(c.dqn.dqn.h2, 16);
  EXPECT_EQ(c.dqn.defaults, (Tuple{{"learning_rate", 0.002}, {"epsilon", 0.1}}));
  EXPECT_EQ(c.choices.size(), 2U);
  auto t = cli::make_online_target(c);
  EXPECT_EQ(t->name(), "dqn-dialog");
  EXPECT_EQ(t->accepted(), (std::vector<std::string>{"epsilon", "learning_rate"}));
}

TEST(DqnDialogConfig, BadInputIsOneLineNamingFileAndLine) {
  auto error = [](const std::string& text) -> std::string {
    try {
      cli::parse_online_config(text, "c.toml");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string unknown = error(kDqnConfig + "[hyperparameters]\nmomentum = [0.0, 0.9]\n");
  EXPECT_NE(unknown.find("c.toml:21: [hyperparameters] hyperparameter 'momentum' is not accepted by the dqn-dialog"),
            std::string::npos)
      << unknown;
  EXPECT_EQ(unknown.find('\n'), std::string::npos);
  EXPECT_NE(error(kDqnConfig + "[hyperparameters]\nepsilon = [0.5, 2.0]\n").find("epsilon 2 must be in [0, 1]"),
            std::string::npos);
  EXPECT_NE(error(kDqnConfig + "[hyperparameters]\nepsilon = []\n").find("c.toml:21:"), std::string::npos);
  std::string c = kDqnConfig;
  c.replace(c.find("h2 = 16"), 7, "lr = 0.01");
  EXPECT_NE(error(c).find("c.toml:11: [target.dqn] lr:"), std::string::npos) << error(c);
  c = kDqnConfig;
  c.replace(c.find("env = \"env3\""), 12, "env = \"env7\"");
  EXPECT_NE(error(c).find("c.toml:3:"), std::string::npos) << error(c);
  c = kDqnConfig;
  c.replace(c.find("domain = \"movie\""), 16, "domain = \"hotel\"");
  EXPECT_NE(error(c).find("c.toml:4:"), std::string::npos) << error(c);
  c = kDqnConfig;
  c.replace(c.find("type = \"dqn_dialog\""), 19, "type = \"dqn\"");
  EXPECT_NE(error(c).find("c.toml:2: [target] type must be"), std::string::npos) << error(c);
  c = kDqnConfig;
  c.replace(c.find("eval_seed"), 9, "split_seed");
  EXPECT_NE(error(c).find("unknown key 'split_seed' in [target]"), std::string::npos) << error(c);
}

}  // namespace
}  // namespace metadial::online
