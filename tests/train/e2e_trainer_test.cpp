#include "metadial/train/e2e_trainer.h"

#include <gtest/gtest.h>

#include <memory>

#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"

namespace metadial::train {
namespace {

using agents::e2e::E2eAgent;
using agents::e2e::Episode;

struct Fixture {
  std::shared_ptr<const dialog::Domain> domain = dialog::Domain::builtin("movie");
  dialog::CorpusSplits corpus;
  std::unique_ptr<E2eAgent> agent;
  explicit Fixture(int epochs) {
    auto policy = std::make_shared<agents::RulePolicy>();
    dialog::CorpusOptions o;
    o.num_train = 40;
    o.num_dev = 5;
    o.num_test = 5;
    o.seed = 9;
    dialog::CorpusGenerator gen(domain, o, [policy](const dialog::DialogueEnv& env, bool begin) {
      if (begin) policy->begin_dialogue();
      return policy->act(agents::PolicyInput::from(env));
    });
    corpus = gen.generate_all();
    agents::e2e::AgentOptions a;
    a.tracker.word_dim = 16;
    a.tracker.utter_hidden = 16;
    a.tracker.dialog_hidden = 24;
    a.tracker.act_dim = 8;
    a.tracker.slot_hidden = 16;
    a.tracker.dropout = 0.1;
    a.tracker.learning_rate = 1e-2;
    a.tracker.batch_dialogues = 4;
    a.tracker.epochs = epochs;
    a.policy_hidden = 16;
    const auto onto = dialog::CorpusOntology::from({&corpus.train, &corpus.dev, &corpus.test});
    agent = std::make_unique<E2eAgent>(domain, onto, corpus.train, a);
    agent->train_supervised(corpus.train, {});
  }
  std::vector<Episode> episodes(int n, bool sample) {
    agents::e2e::InteractiveOptions io;
    io.templates = dialog::TemplateSet::kTraining;
    io.sample = sample;
    std::vector<Episode> out;
    for (int d = 0; d < n; ++d) out.push_back(agent->run_dialogue(100 + static_cast<uint64_t>(d), io));
    return out;
  }
};

TEST(ReinforceStep, PositiveAdvantageRaisesTheTakenActionsAndPolicyOnlyLeavesTheTracker) {
  Fixture f(1);
  const auto eps = f.episodes(4, /*sample=*/true);
  size_t n = 0;
  for (const auto& e : eps) n += e.actions.size();
  ASSERT_GT(n, 0U);
  const std::vector<double> plus(n, 1.0);
  const double ll0 = f.agent->log_likelihood(eps);
  const double tracker0 = f.agent->parameter_norm(true), policy0 = f.agent->parameter_norm(false);
  f.agent->reinforce_step(eps, plus, /*end_to_end=*/false, 1e-2);
  const double ll1 = f.agent->log_likelihood(eps);
  EXPECT_GT(ll1, ll0);
  EXPECT_EQ(f.agent->parameter_norm(true), tracker0);
  EXPECT_NE(f.agent->parameter_norm(false), policy0);
  f.agent->reinforce_step(eps, plus, /*end_to_end=*/true, 1e-2);
  EXPECT_NE(f.agent->parameter_norm(true), tracker0);
  EXPECT_GT(f.agent->log_likelihood(eps), ll1);
  // Negative advantages push the other way.
  const double ll2 = f.agent->log_likelihood(eps);
  f.agent->reinforce_step(eps, std::vector<double>(n, -1.0), true, 1e-2);
  EXPECT_LT(f.agent->log_likelihood(eps), ll2);
  EXPECT_THROW(f.agent->reinforce_step(eps, {1.0}, true, 1e-2), InvalidArgument);
}

TEST(TeacherAction, RequestsMissingGoalSlotsThenOffersThenSaysBye) {
  Fixture f(1);
  const auto& names = f.agent->action_names();
  for (const Episode& ep : f.episodes(5, true)) {
    for (size_t k = 0; k < ep.dialogue.turns.size(); ++k) {
      const int a = f.agent->teacher_action(ep, k);
      ASSERT_GE(a, 0);
      const std::string& label = names[static_cast<size_t>(a)];
      if (k + 1 == ep.dialogue.turns.size() && ep.user_finished) {
        EXPECT_EQ(label, "GOOD_BYE:");
      } else if (label.rfind("REQUEST:", 0) == 0) {
        // A goal slot the user has not stated yet.
        const std::string slot = label.substr(8);
        const auto& o = f.domain->ontology();
        const int sid = o.slot_id(slot);
        const int v = ep.goal.constraints[static_cast<size_t>(o.informable_index(sid))];
        ASSERT_GE(v, 0);
        EXPECT_NE(ep.dialogue.turns[k].state_value(slot), o.value_name(sid, v));
      } else {
        EXPECT_EQ(label, "OFFER:name");
      }
    }
  }
}

TEST(E2eTrainer, ImitationAndReinforceRunAndReportCurves) {
  Fixture f(2);
  E2eImitationOptions il;
  il.dialogues = 10;
  il.batch = 5;
  il.eval_every = 5;
  il.eval_dialogues = 4;
  il.interaction.templates = dialog::TemplateSet::kTraining;
  const auto c1 = run_imitation(*f.agent, f.corpus.train, il);
  ASSERT_EQ(c1.size(), 2U);
  EXPECT_EQ(c1[1].dialogues, 10);
  EXPECT_EQ(c1[1].eval.dialogues, 4);
  E2eReinforceOptions rl;
  rl.dialogues = 10;
  rl.batch = 5;
  rl.eval_every = 0;
  rl.eval_dialogues = 4;
  rl.end_to_end = false;
  const auto c2 = run_reinforce(*f.agent, rl);
  ASSERT_EQ(c2.size(), 1U);
  EXPECT_GE(c2[0].eval.success_rate, 0.0);
  EXPECT_LE(c2[0].eval.avg_turns, 15.0);
  rl.gamma = 1.5;
  EXPECT_THROW(run_reinforce(*f.agent, rl), InvalidArgument);
}

}  // namespace
}  // namespace metadial::train
