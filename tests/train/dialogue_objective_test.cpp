#include "metadial/train/dialogue_objective.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dialog/toy_domain.h"
#include "metadial/core/error.h"
#include "metadial/optim/pruner.h"
#include "metadial/optim/random_sampler.h"
#include "metadial/storage/in_memory.h"
#include "metadial/study/study.h"

namespace metadial::train {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

// Records the intermediate values a trial reports.
class RecordingReporter final : public objective::Reporter {
 public:
  void report(int64_t step, double value) override { reports.emplace_back(step, value); }
  double seconds_left() const override { return 1e9; }
  int64_t trial_number() const override { return 0; }
  int64_t trial_id() const override { return 0; }
  std::vector<std::pair<int64_t, double>> reports;
};

// A small objective on the toy domain's ontology (its own generated knowledge base).
nlohmann::json toy_options_json(const std::string& ontology) {
  return {{"ontology", ontology},     {"kb_entities", 8},           {"dialogues", 120},
          {"seeds", 3},               {"threads", 2},               {"test_dialogues", 40},
          {"fidelities", {0.25, 1.0}}, {"report_every", 40},         {"validation_dialogues", 20},
          {"dqn", {{"h1", 32}, {"h2", 16}}}};
}

class DialogueObjectiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("metadial_toy_" + std::to_string(::getpid()) + ".json")).string();
    std::ofstream(path_) << dialog::testing::kToyOntology;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST(DialogueObjectiveOptions, DefaultsFollowThePaper) {
  const auto o = DialogueObjectiveOptions::from_json(nlohmann::json::object());
  EXPECT_EQ(o.env, "env1");
  EXPECT_EQ(o.dialogues, 4000);
  EXPECT_EQ(o.seeds, 10);
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(o.test_dialogues, 500);
  EXPECT_EQ(o.metric, "success");
  EXPECT_EQ(o.dialogues_at(0), 4000);
}

TEST(DialogueObjectiveOptions, RejectsBadOptionsWithOneLineNamingTheKey) {
  auto err = [](const nlohmann::json& j) { return error_of([&] { DialogueObjectiveOptions::from_json(j); }); };
  EXPECT_THAT(err({{"episodes", 10}}),
              HasSubstr("dqn-dialogue: unknown key 'episodes' in [objective] (expected one of: dialogues, domain, dqn, "
                        "env, fidelities, kb_entities, kb_seed, metric, ontology, report_every, seed, seeds, "
                        "test_dialogues, threads, validation_dialogues)"));
  EXPECT_THAT(err({{"report_every", -1}}), HasSubstr("dqn-dialogue: [objective] report_every must be >= 0, got -1"));
  EXPECT_THAT(err({{"validation_dialogues", 0}}),
              HasSubstr("dqn-dialogue: [objective] validation_dialogues must be >= 1, got 0"));
  EXPECT_THAT(err({{"env", "env7"}}), HasSubstr("env7"));
  EXPECT_THAT(err({{"metric", "turns"}}), HasSubstr("'metric' = 'turns' must be 'success' or 'reward'"));
  EXPECT_THAT(err({{"fidelities", {1.0, 0.5}}}), HasSubstr("must increase"));
  EXPECT_THAT(err({{"fidelities", {0.0, 1.0}}}), HasSubstr("in (0, 1]"));
  EXPECT_THAT(err({{"dialogues", 2.5}}), HasSubstr("dqn-dialogue: [objective] dialogues must be an integer, got a float"));
  EXPECT_THAT(err({{"seeds", 0}}), HasSubstr("dqn-dialogue: [objective] seeds must be >= 1, got 0"));
  EXPECT_THAT(err({{"dqn", {{"depth", 3}}}}),
              HasSubstr("dqn-dialogue: unknown key 'depth' in [objective.dqn] (expected one of: batch_size, double_q,"));
  EXPECT_THAT(err({{"env", 1}}), HasSubstr("dqn-dialogue: [objective] env must be a string, got an integer"));
  EXPECT_THAT(err({{"seed", -1}}), HasSubstr("dqn-dialogue: [objective] seed must be >= 0, got -1"));
  EXPECT_THAT(err({{"fidelities", nlohmann::json::array()}}), HasSubstr("[objective] fidelities must be a non-empty array"));
  EXPECT_THAT(err({{"dqn", 3}}), HasSubstr("dqn-dialogue: [objective] dqn must be a table, got an integer"));
  EXPECT_THAT(err({{"dqn", {{"h1", 2.5}}}}), HasSubstr("dqn-dialogue: [objective.dqn] h1 must be an integer, got a float"));
  EXPECT_THAT(err({{"dqn", {{"lr", "fast"}}}}), HasSubstr("dqn-dialogue: [objective.dqn] lr must be a number, got a string"));
  EXPECT_THAT(err({{"dqn", {{"h1", 0}}}}), HasSubstr("dqn-dialogue: DQN hyperparameter 'h1' = 0 must be in [1, 100000]"));
  EXPECT_THROW(DialogueObjectiveOptions::from_json({{"dqn", {{"h1", 2.5}}}}), InvalidArgument);
}

TEST(DialogueObjectiveOptions, ReadsEveryKeyAndTheDqnTable) {
  const auto o = DialogueObjectiveOptions::from_json(
      {{"env", "env2"}, {"domain", "movie"}, {"kb_entities", 7}, {"kb_seed", 3}, {"dialogues", 200}, {"seeds", 4},
       {"threads", 1}, {"test_dialogues", 50}, {"metric", "reward"}, {"fidelities", {0.5, 1}}, {"seed", 9},
       {"dqn", {{"h1", 32}, {"gamma", 1}, {"double_q", true}, {"huber", 1}}}});
  EXPECT_EQ(o.env, "env2");
  EXPECT_EQ(o.domain, "movie");
  EXPECT_EQ(o.kb_entities, 7);
  EXPECT_EQ(o.kb_seed, 3U);
  EXPECT_EQ(o.dialogues, 200);
  EXPECT_EQ(o.seeds, 4);
  EXPECT_EQ(o.threads, 1);
  EXPECT_EQ(o.test_dialogues, 50);
  EXPECT_EQ(o.metric, "reward");
  EXPECT_EQ(o.fidelities, (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(o.seed, 9U);
  EXPECT_EQ(o.dqn.h1, 32);
  EXPECT_DOUBLE_EQ(o.dqn.gamma, 1.0);
  EXPECT_TRUE(o.dqn.double_q);
  EXPECT_TRUE(o.dqn.huber);
  EXPECT_EQ(o.dqn.h2, 100);
  EXPECT_EQ(DialogueObjectiveOptions::from_json(nullptr).dialogues, 4000);
}

TEST(DqnDialogueObjective, CheckSpaceAcceptsThePapersSpaceAndRejectsOthers) {
  space::SearchSpace paper;
  paper.add_float("epsilon", 0.1, 1.0).add_int("h1", 100, 500).add_int("h2", 30, 200);
  EXPECT_NO_THROW(DqnDialogueObjective::check_space(paper));
  space::SearchSpace unknown;
  unknown.add_float("learning_rate", 1e-4, 1e-2, true);
  EXPECT_THAT(error_of([&] { DqnDialogueObjective::check_space(unknown); }),
              HasSubstr("[space] parameter 'learning_rate' is not a DQN hyperparameter (known: h1, h2, epsilon"));
  space::SearchSpace float_h1;
  float_h1.add_float("h1", 100, 500);
  EXPECT_THAT(error_of([&] { DqnDialogueObjective::check_space(float_h1); }), HasSubstr("type = \"int\""));
  space::SearchSpace too_wide;
  too_wide.add_float("epsilon", 0.1, 1.5);
  EXPECT_THAT(error_of([&] { DqnDialogueObjective::check_space(too_wide); }),
              HasSubstr("[space] parameter 'epsilon': DQN hyperparameter 'epsilon' = 1.5 must be in [0, 1]"));
}

TEST(DqnDialogueObjective, RegistryFactoryChecksTheConfigSpace) {
  objective::ObjectiveRegistry registry;
  space::SearchSpace bad;
  bad.add_int("layers", 1, 3);
  register_dialogue_objectives(registry, bad);
  EXPECT_THAT(error_of([&] { registry.create("dqn-dialogue", nlohmann::json{{"dialogues", 10}}); }),
              HasSubstr("'layers' is not a DQN hyperparameter"));
  objective::ObjectiveRegistry plain;
  register_dialogue_objectives(plain);
  const auto obj = plain.create("dqn-dialogue", nlohmann::json{{"dialogues", 10}, {"fidelities", {0.5, 1.0}}});
  EXPECT_FALSE(obj->minimize());
  EXPECT_EQ(obj->name(), "dqn-dialogue");
  ASSERT_EQ(obj->fidelities().size(), 2U);
  EXPECT_EQ(obj->fidelities()[0].name, "5 dialogues");
  EXPECT_DOUBLE_EQ(obj->fidelities()[0].cost, 0.5);
  EXPECT_DOUBLE_EQ(obj->fidelities()[1].cost, 1.0);
}

TEST_F(DialogueObjectiveTest, MalformedOntologyIsADataErrorNamingTheFile) {
  std::ofstream(path_) << R"({"domain": "toy", "slots": [)";
  try {
    DqnDialogueObjective obj(DialogueObjectiveOptions::from_json(toy_options_json(path_)));
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path_));
  }
}

TEST_F(DialogueObjectiveTest, EvaluateTrainsEverySeedReportsEachAndCostsTheFraction) {
  DqnDialogueObjective obj(DialogueObjectiveOptions::from_json(toy_options_json(path_)));
  const space::Config config = {{"epsilon", 0.5}, {"h1", int64_t{40}}};
  const DqnExperiment ex = obj.experiment(config, 0);
  EXPECT_EQ(ex.train.dialogues, 30);  // 0.25 x 120
  EXPECT_EQ(ex.dqn.h1, 40);           // the trial's value
  EXPECT_EQ(ex.dqn.h2, 16);           // the config's fixed value
  EXPECT_DOUBLE_EQ(ex.dqn.epsilon, 0.5);
  EXPECT_EQ(obj.experiment(config, 1).train.dialogues, 120);

  RecordingReporter rep;
  const objective::Evaluation e = obj.evaluate(config, 1, rep);
  EXPECT_DOUBLE_EQ(e.cost, 1.0);
  EXPECT_GE(e.value, 0.0);
  EXPECT_LE(e.value, 1.0);
  // The value is the mean test success of the runs, which are reproducible: the lockstep training
  // that reports along the way gives the numbers of the plain experiment.
  const auto outcomes = run_dqn_experiment(obj.experiment(config, 1));
  EXPECT_DOUBLE_EQ(obj.value_of(outcomes), e.value);
  double sum = 0.0;
  for (const auto& o : outcomes) sum += o.test.success_rate;
  EXPECT_DOUBLE_EQ(e.value, sum / 3.0);

  // The learning curve: every report_every training dialogues to the target's 120.
  ASSERT_EQ(rep.reports.size(), 3U);
  EXPECT_EQ(rep.reports[0].first, 40);
  EXPECT_EQ(rep.reports[1].first, 80);
  EXPECT_EQ(rep.reports[2].first, 120);
  for (const auto& [step, value] : rep.reports) {
    EXPECT_GE(value, 0.0) << "step " << step;
    EXPECT_LE(value, 1.0) << "step " << step;
  }

  // A lower fidelity (its own, compressed exploration schedule) reports nothing.
  RecordingReporter low;
  EXPECT_DOUBLE_EQ(obj.evaluate(config, 0, low).cost, 0.25);
  EXPECT_TRUE(low.reports.empty());
  objective::NullReporter null;
  EXPECT_THROW(obj.evaluate({{"width", int64_t{3}}}, 0, null), InvalidArgument);
}

TEST_F(DialogueObjectiveTest, TheLearningCurveIsReproducibleAndChangesNothingInTheValue) {
  nlohmann::json j = toy_options_json(path_);
  j["report_every"] = 50;  // not a divisor of 120: reports at 50 and 100
  j["fidelities"] = {1.0};
  DqnDialogueObjective obj(DialogueObjectiveOptions::from_json(j));
  EXPECT_TRUE(obj.reports_intermediate());
  EXPECT_EQ(obj.max_step(), 120);
  const space::Config config = {{"epsilon", 0.8}};
  RecordingReporter a, b;
  const double va = obj.evaluate(config, 0, a).value;
  const double vb = obj.evaluate(config, 0, b).value;
  EXPECT_EQ(va, vb);
  EXPECT_EQ(a.reports, b.reports);
  ASSERT_EQ(a.reports.size(), 2U);
  EXPECT_EQ(a.reports[0].first, 50);
  EXPECT_EQ(a.reports[1].first, 100);

  j["report_every"] = 0;
  DqnDialogueObjective silent(DialogueObjectiveOptions::from_json(j));
  EXPECT_FALSE(silent.reports_intermediate());
  EXPECT_EQ(silent.max_step(), 120);
  RecordingReporter none;
  EXPECT_EQ(silent.evaluate(config, 0, none).value, va);
  EXPECT_TRUE(none.reports.empty());

  j["report_every"] = 121;  // past the target: no report
  EXPECT_FALSE(DqnDialogueObjective(DialogueObjectiveOptions::from_json(j)).reports_intermediate());
}

// Prunes every trial at its first report.
class PruneAll final : public optim::Pruner {
 public:
  bool should_prune(const optim::PrunerContext&, const study::FrozenTrial&,
                    std::span<const study::FrozenTrial>) const override {
    return true;
  }
  std::string name() const override { return "all"; }
};

TEST_F(DialogueObjectiveTest, APrunedTrialIsStoredPrunedWithTheShareOfTrainingItRan) {
  nlohmann::json j = toy_options_json(path_);
  j["seeds"] = 2;
  DqnDialogueObjective obj(DialogueObjectiveOptions::from_json(j));  // target 120 dialogues, reports every 40
  space::SearchSpace space;
  space.add_float("epsilon", 0.1, 1.0);
  storage::InMemoryStorage storage;
  study::Study st = study::Study::create_or_load(storage, "s", space, study::Direction::kMaximize);
  optim::RandomSampler sampler;  // always the target fidelity
  const PruneAll pruner;
  study::OptimizeOptions options;
  options.n_trials = 2;
  const study::OptimizeResult r = study::optimize(st, obj, sampler, pruner, options);
  EXPECT_EQ(r.n_pruned, 2);
  EXPECT_EQ(r.n_complete, 0);
  for (const auto& t : st.trials()) {
    EXPECT_EQ(t.state, study::TrialState::kPruned);
    EXPECT_DOUBLE_EQ(t.cost, 40.0 / 120.0);
    ASSERT_EQ(t.intermediate.size(), 1U);
    EXPECT_EQ(t.intermediate.begin()->first, 40);
  }
  EXPECT_NEAR(r.total_cost, 2.0 * 40.0 / 120.0, 1e-12);
}

TEST_F(DialogueObjectiveTest, RewardMetricAveragesTheTestRewards) {
  nlohmann::json j = toy_options_json(path_);
  j["metric"] = "reward";
  j["seeds"] = 2;
  j["fidelities"] = {0.25};
  DqnDialogueObjective obj(DialogueObjectiveOptions::from_json(j));
  objective::NullReporter null;
  const double v = obj.evaluate({}, 0, null).value;
  const auto outcomes = run_dqn_experiment(obj.experiment({}, 0));
  EXPECT_DOUBLE_EQ(v, (outcomes[0].test.avg_reward + outcomes[1].test.avg_reward) / 2.0);
  EXPECT_LT(v, 20.0);
}

}  // namespace
}  // namespace metadial::train
