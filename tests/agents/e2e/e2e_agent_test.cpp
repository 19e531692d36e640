#include "metadial/agents/e2e/e2e_agent.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "agents/e2e/features.h"
#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"

namespace metadial::agents::e2e {
namespace {

dialog::CorpusSplits corpus(const std::shared_ptr<const dialog::Domain>& domain, int train, int test) {
  auto policy = std::make_shared<RulePolicy>();
  dialog::CorpusOptions o;
  o.num_train = train;
  o.num_dev = test;
  o.num_test = test;
  o.seed = 5;
  dialog::CorpusGenerator gen(domain, o, [policy](const dialog::DialogueEnv& env, bool begin) {
    if (begin) policy->begin_dialogue();
    return policy->act(PolicyInput::from(env));
  });
  return gen.generate_all();
}

AgentOptions tiny() {
  AgentOptions o;
  o.tracker.word_dim = 24;
  o.tracker.utter_hidden = 24;
  o.tracker.dialog_hidden = 32;
  o.tracker.act_dim = 8;
  o.tracker.slot_hidden = 24;
  o.tracker.dropout = 0.1;
  o.tracker.learning_rate = 1e-2;
  o.tracker.batch_dialogues = 4;
  o.tracker.epochs = 10;
  o.tracker.seed = 2;
  o.policy_hidden = 32;
  return o;
}

TEST(Equation4, MatchesAHandComputedValue) {
  // One slot, two turns: logits (0, 0) with label 0 -> -log 1/2; (ln 3, 0) with label 0 ->
  // -log 3/4. Actions: (0, 0, 0) with label 2 -> -log 1/3; the second turn's label is -1 (left
  // out). lambda_slot 2, lambda_action 0.5: 2 (ln 2 + ln 4/3) + 0.5 ln 3 = 2.5109640.
  const torch::Tensor slot = torch::tensor({0.0F, 0.0F, std::log(3.0F), 0.0F}).view({2, 2});
  const torch::Tensor labels = torch::tensor({int64_t{0}, int64_t{0}});
  const torch::Tensor act = torch::zeros({2, 3});
  const torch::Tensor act_labels = torch::tensor({int64_t{2}, int64_t{-1}});
  const double l = equation4_loss({slot}, {labels}, act, act_labels, {2.0}, 0.5).item<double>();
  EXPECT_NEAR(l, 2.0 * (std::log(2.0) + std::log(4.0 / 3.0)) + 0.5 * std::log(3.0), 1e-5);
  EXPECT_NEAR(l, 2.5109640, 1e-5);
  EXPECT_THROW(equation4_loss({slot}, {labels}, act, act_labels, {}, 0.5), InvalidArgument);
}

TEST(E2eAgent, KbSummaryAndActionMappingFollowTheTrackedState) {
  auto domain = dialog::Domain::builtin("movie");
  const auto c = corpus(domain, 30, 2);
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  E2eAgent agent(domain, onto, c.train, tiny());
  // Nothing tracked: no constraint, every entity matches (100 > 5), log(1+n)/log(1+N) = 1.
  const std::vector<std::string> none(onto.slots.size());
  EXPECT_EQ(agent.kb_summary(none), (std::vector<float>{0, 0, 0, 0, 1, 1}));
  // The movie of entity 0: at least one match.
  const dialog::Ontology& o = domain->ontology();
  const int movie = o.slot_id("movie");
  const std::string title(o.value_name(movie, domain->kb().value(0, o.informable_index(movie))));
  std::vector<std::string> state = none;
  const int ms = onto.slot_index("movie");
  ASSERT_GE(ms, 0);
  state[static_cast<size_t>(ms)] = title;
  const auto f = agent.kb_summary(state);
  EXPECT_EQ(f[0], 1.0F);
  EXPECT_EQ(f[1], 0.0F);
  // CONFIRM:movie confirms the tracked title; OFFER offers an entity showing it.
  const auto& names = agent.action_names();
  for (size_t a = 0; a < names.size(); ++a) {
    const dialog::SystemAct act = agent.to_system_act(static_cast<int>(a), state, none);
    if (names[a] == "CONFIRM:movie") {
      EXPECT_EQ(act.type, dialog::SystemActType::kConfirm);
      EXPECT_EQ(act.value, o.value_id(movie, title));
    }
    if (names[a] == "OFFER:name") {
      ASSERT_EQ(act.type, dialog::SystemActType::kOffer);
      EXPECT_EQ(domain->kb().value(act.entity, o.informable_index(movie)), o.value_id(movie, title));
    }
    if (names[a] == "GOOD_BYE:") {
      EXPECT_EQ(act.type, dialog::SystemActType::kBye);
    }
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "OFFER:name"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "GOOD_BYE:"), names.end());
}

TEST(E2eAgent, SupervisedTrainingLearnsActionsAndTalksToTheUser) {
  auto domain = dialog::Domain::builtin("movie");
  const auto c = corpus(domain, 80, 20);
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  E2eAgent agent(domain, onto, c.train, tiny());
  const double loss0 = agent.supervised_loss(c.train);
  const double acc0 = agent.action_accuracy(c.test);
  agent.train_supervised(c.train, c.dev);
  const double acc = agent.action_accuracy(c.test);
  EXPECT_LT(agent.supervised_loss(c.train), 0.5 * loss0);
  EXPECT_GT(acc, acc0);
  EXPECT_GT(acc, 0.5);  // the tiny model reaches 0.60 here (the rule expert also reads its own counters)
  InteractiveOptions io;
  io.dialogues = 20;
  io.templates = dialog::TemplateSet::kTraining;
  const InteractiveReport r = agent.evaluate(io);
  std::printf("action accuracy %.3f -> %.3f; interactive success %.2f turns %.2f joint %.3f\n", acc0, acc, r.success_rate,
              r.avg_turns, r.joint_accuracy);
  EXPECT_EQ(r.dialogues, 20);
  EXPECT_LE(r.avg_turns, 15.0);
  EXPECT_GT(r.success_rate, 0.2);
  const Episode ep = agent.run_dialogue(3, io);
  EXPECT_EQ(ep.tracked.size(), ep.dialogue.turns.size());
  EXPECT_EQ(static_cast<int>(ep.actions.size()), ep.turns);
}

TEST(E2eAgent, RejectsAnOntologyOfAnotherDomain) {
  auto movie = dialog::Domain::builtin("movie");
  auto restaurant = dialog::Domain::builtin("restaurant");
  const auto c = corpus(movie, 3, 1);
  const auto onto = dialog::CorpusOntology::from({&c.train});
  EXPECT_THROW(E2eAgent(restaurant, onto, c.train, tiny()), InvalidArgument);
}

}  // namespace
}  // namespace metadial::agents::e2e
