// The controller: its REINFORCE loss and gradient on a case computed by hand, learning the best
// choice of a synthetic target, save/load and determinism, and the run's input checks.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "metadial/core/error.h"
#include "metadial/online/controller.h"
#include "metadial/online/reinforce.h"
#include "nn/model_file_testing.h"
#include "support/torch_state.h"

namespace metadial::online {
namespace {

// One intra-op thread: set for the binary by tests/support/torch_test_environment.cpp.
class Online : public ::testing::Test {};
using ControllerTest = Online;
using Reinforce = Online;

// By hand: head 1 logits (0, ln 2) -> p = (1/3, 2/3), action 1; head 2 logits (0, 0, 0) -> p = 1/3
// each, action 2; advantage A = 2, entropy weight b = 0.5.
//   H1 = -(1/3 ln 1/3 + 2/3 ln 2/3) = 0.6365141683, H2 = ln 3
//   loss = -A (ln 2/3 - ln 3) - b (H1 + ln 3) = 2.1405915651
//   dloss/dz_j = -A (delta_ja - p_j) + b p_j (ln p_j + H):
//   head 1: (+0.5896503133, -0.5896503133); head 2: (2/3, 2/3, -4/3) (the entropy term is 0 at uniform p)
TEST_F(Reinforce, LossAndGradientMatchHandComputedCase) {
  torch::Tensor z1 = torch::tensor({0.0, std::log(2.0)}, torch::kDouble).requires_grad_(true);
  torch::Tensor z2 = torch::zeros({3}, torch::kDouble).requires_grad_(true);
  torch::Tensor loss = reinforce_loss({z1, z2}, {1, 2}, 2.0, 0.5);
  EXPECT_NEAR(loss.item<double>(), 2.140591565071087, 1e-12);
  loss.backward();
  EXPECT_NEAR(z1.grad()[0].item<double>(), 0.5896503132711172, 1e-12);
  EXPECT_NEAR(z1.grad()[1].item<double>(), -0.5896503132711172, 1e-12);
  EXPECT_NEAR(z2.grad()[0].item<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(z2.grad()[1].item<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(z2.grad()[2].item<double>(), -4.0 / 3, 1e-12);
}

TEST_F(Reinforce, RejectsActionOutOfRange) {
  EXPECT_THROW(reinforce_loss({torch::zeros({2})}, {2}, 1.0, 0.0), InvalidArgument);
}

ChoiceSpace toy_space() {
  ChoiceSpace s;
  s.add("learning_rate", {1e-4, 1e-3, 1e-2, 1e-1});
  s.add("momentum", {0.0, 0.9});
  return s;
}

// The synthetic target gains most per step at learning rate 1e-2 (index 2); the others gain
// 1.8 % of that or less, and noise is added. Within 300 decisions the controller, learning
// online, must put most of its probability on index 2 and choose it most of the time at the end.
TEST_F(ControllerTest, LearnsBestLearningRateOfSyntheticTargetWithin300Decisions) {
  SyntheticTarget target({.best_learning_rate = 1e-2, .gain = 1e-3, .width = 0.5, .noise = 2e-3});
  Controller c(toy_space(), {.hidden = 16, .learning_rate = 0.02, .entropy_weight = 0.01, .seed = 3});
  const RunResult r = run_controller(target, c, {.total_steps = 3000, .interval = 10, .seed = 1});
  ASSERT_EQ(r.schedule.size(), 300U);
  int best_at_end = 0;
  for (size_t i = 250; i < 300; ++i) best_at_end += r.schedule[i].tuple.at("learning_rate") == 1e-2 ? 1 : 0;
  EXPECT_GE(best_at_end, 40) << "chose lr 1e-2 in " << best_at_end << " of the last 50 decisions";
  const auto p = c.probabilities();
  EXPECT_GT(p[0][2], 0.8);
  // A uniformly random schedule would reach about 0.27 of the best possible score 3.0.
  EXPECT_GT(r.validation, 0.6 * 3.0);
}

TEST_F(ControllerTest, SameSeedSameScheduleOtherSeedOther) {
  auto schedule = [](uint64_t seed) {
    SyntheticTarget target({.noise = 1e-3});
    Controller c(toy_space(), {.seed = seed});
    const RunResult r = run_controller(target, c, {.total_steps = 200, .interval = 10, .seed = 1});
    std::vector<double> lr;
    for (const auto& e : r.schedule) lr.push_back(e.tuple.at("learning_rate"));
    return lr;
  };
  EXPECT_EQ(schedule(5), schedule(5));
  EXPECT_NE(schedule(5), schedule(6));
}

// Initial weights come from the controller's seed alone: construction neither reseeds nor draws
// from torch's global generator, and what the global generator holds does not matter.
TEST_F(ControllerTest, InitialWeightsComeFromTheSeedAndLeaveTorchsGeneratorAlone) {
  const TargetStats stats{.output_mean = 0.1, .output_std = 1.0, .entropy = 1.5, .max_prob = 0.4, .recent_loss = 2.0};
  auto first_probabilities = [&](uint64_t seed) {
    Controller c(toy_space(), {.hidden = 8, .seed = seed});
    c.act(stats, 0.5);
    return c.probabilities();
  };
  torch::manual_seed(1);
  const auto a = first_probabilities(5);
  torch::manual_seed(2);
  const torch::Tensor state = metadial::testing::global_generator_state();
  const auto b = first_probabilities(5);
  EXPECT_TRUE(torch::equal(state, metadial::testing::global_generator_state()));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, first_probabilities(6));
}

TEST_F(ControllerTest, SavedAndLoadedControllerActsTheSame) {
  SyntheticTarget target({.noise = 1e-3});
  Controller c(toy_space(), {.hidden = 8, .seed = 2});
  meta_train(c, target, 2, {.total_steps = 100, .interval = 10, .seed = 4});
  const auto path = std::filesystem::temp_directory_path() / "metadial_online_controller_test.pt";
  c.save(path.string());
  Controller d = Controller::load(path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(d.space().size(), 2U);
  EXPECT_EQ(d.options().hidden, 8);
  EXPECT_DOUBLE_EQ(d.baseline(), c.baseline());
  const RunOptions run{.total_steps = 100, .interval = 10, .seed = 9};
  SyntheticTarget t1, t2;
  const RunResult a = run_controller(t1, c, run, {.learn = false, .greedy = true});
  const RunResult b = run_controller(t2, d, run, {.learn = false, .greedy = true});
  ASSERT_EQ(a.schedule.size(), b.schedule.size());
  for (size_t i = 0; i < a.schedule.size(); ++i) EXPECT_EQ(a.schedule[i].tuple, b.schedule[i].tuple);
  EXPECT_EQ(a.method, "controller-frozen");
}

// The Adam state and the baseline travel with the weights: a loaded controller that goes on
// learning makes exactly the updates the original makes.
TEST_F(ControllerTest, LoadedControllerGoesOnLearningExactlyLikeTheOriginal) {
  SyntheticTarget target({.noise = 1e-3});
  Controller c(toy_space(), {.hidden = 8, .seed = 2});
  meta_train(c, target, 2, {.total_steps = 100, .interval = 10, .seed = 4});
  const auto path = std::filesystem::temp_directory_path() / "metadial_online_controller_adam_test.pt";
  c.save(path.string());
  Controller d = Controller::load(path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(d.updates(), c.updates());
  const RunOptions run{.total_steps = 200, .interval = 10, .seed = 9};
  SyntheticTarget t1({.noise = 1e-3}), t2({.noise = 1e-3});
  const RunResult a = run_controller(t1, c, run, {.learn = true, .greedy = true});
  const RunResult b = run_controller(t2, d, run, {.learn = true, .greedy = true});
  ASSERT_EQ(a.schedule.size(), b.schedule.size());
  for (size_t i = 0; i < a.schedule.size(); ++i) EXPECT_EQ(a.schedule[i].tuple, b.schedule[i].tuple);
  EXPECT_EQ(c.probabilities(), d.probabilities());
  EXPECT_EQ(c.baseline(), d.baseline());
}

TEST_F(ControllerTest, LoadRejectsFileThatIsNotAController) {
  const auto path = std::filesystem::temp_directory_path() / "metadial_online_not_a_controller.pt";
  { std::ofstream(path) << "hello"; }
  EXPECT_THROW(Controller::load(path.string()), DataError);
  std::filesystem::remove(path);
  EXPECT_THROW(Controller::load("/nonexistent/controller.pt"), InvalidArgument);
  EXPECT_THROW(Controller(toy_space()).save("/nonexistent/folder/controller.pt"), StorageError);
}

// 64 random bytes written into the weights, or a header whose sizes do not fit them (a hidden
// size of 10^9 would need gigabytes): one DataError naming the file, before anything is built.
TEST_F(ControllerTest, LoadRejectsRandomBytesInTheWeightsAndAbsurdSizes) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "metadial_online_corrupt_controller.pt").string();
  SyntheticTarget target({.noise = 1e-3});
  Controller c(toy_space(), {.hidden = 8, .seed = 2});
  meta_train(c, target, 1, {.total_steps = 50, .interval = 10, .seed = 4});  // with Adam state
  auto error_of = [&] {
    try {
      Controller::load(path);
    } catch (const DataError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("'" + path + "'"), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      return m;
    }
    ADD_FAILURE() << "no DataError";
    return std::string();
  };
  c.save(path);
  metadial::testing::scramble_parameters(path);
  EXPECT_NE(error_of().find("corrupt controller parameters (checksum mismatch"), std::string::npos);
  for (int hidden : {9, 1000000000}) {
    c.save(path);
    metadial::testing::edit_model_header(path, [&](nlohmann::json& h) { h["options"]["hidden"] = hidden; });
    EXPECT_NE(error_of().find("the controller its header describes has"), std::string::npos) << hidden;
  }
  c.save(path);
  metadial::testing::edit_model_header(path, [](nlohmann::json& h) { h["adam"][0] = nullptr; });
  EXPECT_NE(error_of().find("Adam state for"), std::string::npos);
  std::filesystem::remove(path);
}

TEST_F(ControllerTest, RunRejectsIntervalLongerThanTraining) {
  SyntheticTarget target;
  Controller c(toy_space());
  try {
    run_controller(target, c, {.total_steps = 100, .interval = 200});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("larger than the training length"), std::string::npos) << e.what();
  }
}

TEST_F(ControllerTest, RunRejectsHyperparameterTheTargetDoesNotAccept) {
  SyntheticTarget target;
  ChoiceSpace s;
  s.add("dropout", {0.0, 0.5});
  Controller c(s);
  try {
    run_controller(target, c, {.total_steps = 100, .interval = 10});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'dropout' is not accepted by the synthetic target"), std::string::npos)
        << e.what();
  }
}

TEST(RewardTest, ChangeAndErrorRatioByHand) {
  EXPECT_DOUBLE_EQ(reward_of(Reward::kChange, 0.5, 0.6), 0.1);
  // log((1 - 0.5 + 0.001) / (1 - 0.6 + 0.001)) = log(0.501 / 0.401)
  EXPECT_NEAR(reward_of(Reward::kErrorRatio, 0.5, 0.6), std::log(0.501 / 0.401), 1e-15);
  EXPECT_EQ(reward_from_string("error_ratio"), Reward::kErrorRatio);
  EXPECT_THROW(reward_from_string("accuracy"), InvalidArgument);
}

// With greedy_after = 0.5 the second half of the run takes the policy's most probable choices:
// a frozen controller then repeats one tuple there (its input changes, but with a bias of
// probability 0.99 on index 3 the mode stays put).
TEST_F(ControllerTest, GreedyAfterTakesTheModeInTheLastPart) {
  SyntheticTarget target;
  Controller c(toy_space(), {.seed = 1});
  c.bias_towards({3, 1}, 0.99);
  const RunResult r =
      run_controller(target, c, {.total_steps = 200, .interval = 10}, {.learn = false, .greedy_after = 0.5});
  for (size_t i = 10; i < 20; ++i) EXPECT_EQ(r.schedule[i].tuple.at("learning_rate"), 0.1) << i;
  EXPECT_THROW(run_controller(target, c, {.total_steps = 200, .interval = 10}, {.greedy_after = 2.0}),
               InvalidArgument);
}

TEST(ChoiceSpace, RejectsEmptyAndRepeatedChoices) {
  ChoiceSpace s;
  EXPECT_THROW(s.add("learning_rate", {}), InvalidArgument);
  EXPECT_THROW(s.add("learning_rate", {0.1, 0.1}), InvalidArgument);
  s.add("learning_rate", {0.1});
  EXPECT_THROW(s.add("learning_rate", {0.2}), InvalidArgument);
}

TEST(ChoiceSpace, NearestAndSearchSpaceRoundTrip) {
  ChoiceSpace s = toy_space();
  EXPECT_EQ(s.nearest({{"learning_rate", 0.004}, {"momentum", 0.8}}), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(s.nearest({{"learning_rate", 0.002}}), (std::vector<int64_t>{1, 0}));
  const space::SearchSpace ss = s.search_space();
  ASSERT_EQ(ss.size(), 2U);
  const Tuple t = s.from_config({{"learning_rate", int64_t{3}}, {"momentum", int64_t{1}}});
  EXPECT_EQ(t, (Tuple{{"learning_rate", 0.1}, {"momentum", 0.9}}));
  EXPECT_EQ(s.total_choices(), 6);
}

}  // namespace
}  // namespace metadial::online
