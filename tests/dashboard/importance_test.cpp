// Parameter importance (metadial/dashboard/importance.h) on functions whose answer is known.
#include <gtest/gtest.h>

#include <cmath>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/dashboard/importance.h"
#include "metadial/space/search_space.h"

namespace metadial::dashboard {
namespace {

std::vector<std::vector<double>> uniform_points(size_t n, size_t d, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<double>> x(n, std::vector<double>(d));
  for (auto& p : x) {
    for (auto& v : p) v = uniform01(rng);
  }
  return x;
}

// f(x) = 2 x0 + x1 on the uniform cube, x2 ignored: the main effects' variances are 4/12 and 1/12
// of a total 5/12, so x0 explains 0.8 of the variance, x1 0.2 and x2 nothing.
TEST(FanovaImportance, LinearFunctionGetsItsKnownSharesAndTheIgnoredParameterNone) {
  const auto x = uniform_points(600, 3, 11);
  std::vector<double> y;
  for (const auto& p : x) y.push_back(2.0 * p[0] + p[1]);
  const auto imp = fanova_importance(x, y, ForestOptions{.seed = 1});
  ASSERT_EQ(imp.size(), 3u);
  EXPECT_NEAR(imp[0], 0.8, 0.06);
  EXPECT_NEAR(imp[1], 0.2, 0.06);
  EXPECT_LT(imp[2], 0.01);
}

// An interaction only (x0 XOR x1 in halves): no main effect explains it, so both get about 0.
TEST(FanovaImportance, APureInteractionHasNoMainEffect) {
  const auto x = uniform_points(800, 2, 5);
  std::vector<double> y;
  for (const auto& p : x) y.push_back((p[0] < 0.5) == (p[1] < 0.5) ? 1.0 : 0.0);
  const auto imp = fanova_importance(x, y, ForestOptions{.seed = 2});
  EXPECT_LT(imp[0], 0.05);
  EXPECT_LT(imp[1], 0.05);
}

TEST(FanovaImportance, ConstantValuesGiveZerosAndBadInputIsRefused) {
  const auto x = uniform_points(20, 2, 5);
  EXPECT_EQ(fanova_importance(x, std::vector<double>(20, 3.0), {}), (std::vector<double>{0.0, 0.0}));
  EXPECT_THROW(fanova_importance(x, std::vector<double>(19, 1.0), {}), InvalidArgument);
  std::vector<double> y(20, 1.0);
  y[3] = std::nan("");
  EXPECT_THROW(fanova_importance(x, y, {}), InvalidArgument);
}

TEST(FanovaImportance, SameSeedSameAnswerOtherSeedOther) {
  const auto x = uniform_points(200, 3, 9);
  std::vector<double> y;
  for (const auto& p : x) y.push_back(std::sin(6 * p[0]) + p[1] * p[2]);
  const auto a = fanova_importance(x, y, ForestOptions{.seed = 4});
  EXPECT_EQ(a, fanova_importance(x, y, ForestOptions{.seed = 4}));
  EXPECT_NE(a, fanova_importance(x, y, ForestOptions{.seed = 5}));
}

// A study over a log-scaled float, an int and a categorical parameter; the value depends on the
// learning rate (on its log scale) and the optimizer, never on `layers`:
//   f = t^2 + 4 [opt = sgd],  t = log10(lr) + 3 uniform on [-2, 2] (lr log-uniform on [1e-5, 1e-1]).
// Var(t^2) = E t^4 - (E t^2)^2 = 16/5 - 16/9 = 64/45; Var(4 [sgd]) = 16 (1/3)(2/3) = 32/9; no
// interaction, so lr explains (64/45) / (64/45 + 32/9) = 2/7 of the variance, opt 5/7, layers 0.
TEST(StudyImportance, FindsTheIrrelevantParameterOfAStudy) {
  space::SearchSpace space;
  space.add_float("lr", 1e-5, 1e-1, true).add_int("layers", 1, 8).add_categorical("opt", {"adam", "sgd", "rmsprop"});
  Rng rng(21);
  std::vector<study::FrozenTrial> trials;
  for (int i = 0; i < 300; ++i) {
    std::vector<double> u = {uniform01(rng), uniform01(rng), uniform01(rng)};
    study::FrozenTrial t;
    t.number = i;
    t.state = study::TrialState::kComplete;
    t.params = space.decode(u);
    const double loglr = std::log10(std::get<double>(t.params["lr"]));
    const std::string opt = std::get<std::string>(t.params["opt"]);
    t.value = (loglr + 3) * (loglr + 3) + (opt == "sgd" ? 4.0 : 0.0);
    trials.push_back(t);
  }
  // A failed trial and one at another fidelity with too few trials are left out.
  study::FrozenTrial failed;
  failed.number = 300;
  failed.state = study::TrialState::kFailed;
  trials.push_back(failed);
  const StudyImportance imp = study_importance(space, trials, ForestOptions{.seed = 0});
  EXPECT_EQ(imp.n_trials, 300);
  EXPECT_EQ(imp.fidelity, 0);
  ASSERT_EQ(imp.params.size(), 3u);
  EXPECT_EQ(imp.params[1].param, "layers");
  EXPECT_NEAR(imp.params[0].importance, 2.0 / 7.0, 0.06);
  EXPECT_LT(imp.params[1].importance, 0.02);
  EXPECT_NEAR(imp.params[2].importance, 5.0 / 7.0, 0.06);
  // Too few complete trials: nothing to say.
  trials.resize(5);
  EXPECT_TRUE(study_importance(space, trials, ForestOptions{}).params.empty());
}

}  // namespace
}  // namespace metadial::dashboard
