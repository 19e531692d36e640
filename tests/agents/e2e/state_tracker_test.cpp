#include "metadial/agents/e2e/state_tracker.h"

#include <gtest/gtest.h>

#include <memory>

#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"
#include "support/torch_state.h"

namespace metadial::agents::e2e {
namespace {

dialog::CorpusSplits small_corpus(int train, int test, dialog::TemplateSet set = dialog::TemplateSet::kTraining) {
  auto domain = dialog::Domain::builtin("movie");
  auto policy = std::make_shared<RulePolicy>();
  dialog::CorpusOptions o;
  o.num_train = train;
  o.num_dev = test;
  o.num_test = test;
  o.seed = 11;
  o.templates = set;
  dialog::CorpusGenerator gen(domain, o, [policy](const dialog::DialogueEnv& env, bool begin) {
    if (begin) policy->begin_dialogue();
    return policy->act(PolicyInput::from(env));
  });
  return gen.generate_all();
}

TrackerOptions tiny() {
  TrackerOptions o;
  o.word_dim = 24;
  o.utter_hidden = 24;
  o.dialog_hidden = 32;
  o.act_dim = 8;
  o.slot_hidden = 24;
  o.dropout = 0.1;
  o.epochs = 4;
  o.learning_rate = 3e-3;
  o.seed = 1;
  return o;
}

TEST(StateTracker, LearnsTheGeneratedMovieCorpusWellAboveChance) {
  const auto c = small_corpus(80, 20);
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  TrackerOptions o = tiny();
  o.epochs = 12;
  o.batch_dialogues = 4;
  o.learning_rate = 1e-2;
  StateTracker t(onto, c.train, o);
  const DstReport before = t.evaluate(c.test);
  const double loss0 = t.loss(c.train);
  const auto curve = t.train(c.train, c.dev);
  ASSERT_EQ(curve.size(), 12U);
  const DstReport after = t.evaluate(c.test);
  EXPECT_LT(t.loss(c.train), 0.5 * loss0);
  EXPECT_EQ(after.slots.size(), 5U);
  EXPECT_EQ(after.turns, before.turns);
  // Untrained, almost no turn has every slot right; after 12 short epochs most do (the tiny model reaches 0.89 here).
  EXPECT_LT(before.joint_accuracy, 0.3);
  EXPECT_GT(after.joint_accuracy, 0.6) << "loss " << t.loss(c.train);
  for (const auto& e : curve) std::printf("epoch %d loss %.3f dev %.3f\n", e.epoch, e.loss, e.dev_joint);
  std::printf("test joint accuracy %.3f -> %.3f\n", before.joint_accuracy, after.joint_accuracy);
  for (double a : after.slot_accuracy) EXPECT_GT(a, 0.8);
}

// Initial weights come from options.seed alone: construction neither reseeds nor draws from
// torch's global generator, and what the global generator holds does not matter.
TEST(StateTracker, InitialWeightsComeFromTheSeedAndLeaveTorchsGeneratorAlone) {
  const auto c = small_corpus(10, 2);
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  TrackerOptions o = tiny();
  torch::manual_seed(1);
  StateTracker a(onto, c.train, o);
  torch::manual_seed(2);
  const torch::Tensor state = metadial::testing::global_generator_state();
  StateTracker b(onto, c.train, o);
  EXPECT_TRUE(torch::equal(state, metadial::testing::global_generator_state()));
  const double loss = a.loss(c.train);
  EXPECT_EQ(loss, b.loss(c.train));
  o.seed = 2;
  StateTracker other(onto, c.train, o);
  EXPECT_NE(loss, other.loss(c.train));
}

TEST(StateTracker, PredictGivesOneStatePerTurnWithOntologyValues) {
  const auto c = small_corpus(10, 2);
  const auto onto = dialog::CorpusOntology::from({&c.train, &c.dev, &c.test});
  TrackerOptions o = tiny();
  o.epochs = 1;
  StateTracker t(onto, c.train, o);
  const auto states = t.predict(c.test[0]);
  ASSERT_EQ(states.size(), c.test[0].turns.size());
  for (const auto& turn : states) {
    ASSERT_EQ(turn.size(), onto.slots.size());
    for (size_t s = 0; s < turn.size(); ++s) {
      if (turn[s].empty()) continue;
      const auto& vs = onto.values[s];
      EXPECT_NE(std::find(vs.begin(), vs.end(), turn[s]), vs.end());
    }
  }
}

TEST(StateTracker, UnknownSlotValueNamesTheDialogue) {
  auto c = small_corpus(5, 1);
  const auto onto = dialog::CorpusOntology::from({&c.train});
  StateTracker t(onto, c.train, tiny());
  auto bad = c.train;
  bad[0].turns[0].dialogue_state.push_back({"colour", "red"});
  try {
    t.evaluate(bad);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("dialogue 'movie_train_0', turn 0: dialogue_state slot 'colour'"), std::string::npos)
        << e.what();
  }
  auto bad2 = c.train;
  bad2[0].turns[0].dialogue_state[0].value = "no such value";
  EXPECT_THROW(t.evaluate(bad2), DataError);
  TrackerOptions o = tiny();
  o.dropout = 1.5;
  EXPECT_THROW(StateTracker(onto, c.train, o), InvalidArgument);
}

}  // namespace
}  // namespace metadial::agents::e2e
