// TPE on small problems whose answer is known; the properties every sampler has are in
// sampler_suite_test.cpp.
#include "metadial/optim/tpe_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "metadial/optim/random_sampler.h"
#include "optim/detail/parzen.h"
#include "optim/sampler_testing.h"
#include "optim/tpe_reference.h"

namespace metadial::optim {
namespace {

using study::TrialState;
using testing::context;
using testing::run_loop;
using testing::trial;

double quadratic(const std::vector<double>& u) {
  double v = 0.0;
  for (double x : u) v += (x - 0.3) * (x - 0.3);
  return v;
}

space::SearchSpace cube(size_t d) {
  space::SearchSpace s;
  for (size_t i = 0; i < d; ++i) s.add_float("x" + std::to_string(i), 0.0, 1.0);
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// The estimators against Optuna's _ParzenEstimator on the same observations (tpe_reference.py):
// weights, means and bandwidths (Optuna's bandwidth rule and magic clip, its weight ramp past 25
// observations), and the log density: continuous, of an int's cell, of a choice.
TEST(ParzenEstimator, MatchesOptunasParzenEstimator) {
  for (const auto& ref : testing::parzen_reference()) {
    SCOPED_TRACE(ref.name);
    detail::ParzenDimension dim;
    dim.kind = ref.kind == 0   ? detail::ParzenDimension::Kind::kContinuous
               : ref.kind == 1 ? detail::ParzenDimension::Kind::kGrid
                               : detail::ParzenDimension::Kind::kCategorical;
    dim.cells = static_cast<size_t>(ref.cells);
    const detail::ParzenEstimator pe(dim, ref.observations, TpeSamplerOptions{});
    ASSERT_EQ(pe.weights().size(), ref.weights.size());
    for (size_t i = 0; i < ref.weights.size(); ++i) EXPECT_NEAR(pe.weights()[i], ref.weights[i], 1e-12) << i;
    ASSERT_EQ(pe.mus().size(), ref.mus.size());
    for (size_t i = 0; i < ref.mus.size(); ++i) {
      EXPECT_NEAR(pe.mus()[i], ref.mus[i], 1e-12) << i;
      EXPECT_NEAR(pe.sigmas()[i], ref.sigmas[i], 1e-12) << i;
    }
    // Optuna's density is on its own scale: a float on [0, 1] is the unit cube itself; cells and
    // choices are probabilities, whatever the scale.
    for (size_t i = 0; i < ref.points.size(); ++i) EXPECT_NEAR(pe.log_pdf(ref.points[i]), ref.log_pdf[i], 1e-9) << i;
  }
}

TEST(ParzenEstimator, DrawsStayInTheUnitIntervalOnTheGridAndFollowTheDensity) {
  detail::ParzenDimension grid{detail::ParzenDimension::Kind::kGrid, 4};
  const detail::ParzenEstimator pe(grid, {0.125, 0.125, 0.125, 0.875}, TpeSamplerOptions{});
  Rng rng(1);
  std::vector<int> count(4, 0);
  for (int i = 0; i < 4000; ++i) {
    const double x = pe.sample(rng);
    const auto cell = static_cast<size_t>(x * 4.0);
    ASSERT_LT(cell, 4u);
    EXPECT_DOUBLE_EQ(x, (static_cast<double>(cell) + 0.5) / 4.0);
    ++count[cell];
  }
  for (size_t c = 0; c < 4; ++c) {
    EXPECT_NEAR(count[c] / 4000.0, std::exp(pe.log_pdf((static_cast<double>(c) + 0.5) / 4.0)), 0.03) << c;
  }
}

TEST(TpeSampler, BeatsRandomSearchOnAQuadraticInTheMedianOverSeeds) {
  const space::SearchSpace space = cube(3);
  std::vector<double> tpe_best, random_best;
  int tpe_wins = 0;
  for (uint64_t seed = 0; seed < 15; ++seed) {
    TpeSampler tpe;
    RandomSampler random;
    const double t = testing::best_value(run_loop(tpe, space, 50, seed, quadratic));
    const double r = testing::best_value(run_loop(random, space, 50, seed, quadratic));
    tpe_best.push_back(t);
    random_best.push_back(r);
    tpe_wins += t < r;
  }
  EXPECT_LT(median(tpe_best), 0.5 * median(random_best));
  EXPECT_GE(tpe_wins, 11);
}

TEST(TpeSampler, StartsWithTheRandomSamplersPointsThenModels) {
  const space::SearchSpace space = cube(2);
  TpeSampler tpe;
  RandomSampler random;
  const auto with_tpe = run_loop(tpe, space, 14, 5, quadratic);
  const auto with_random = run_loop(random, space, 14, 5, quadratic);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(with_tpe[i].params, with_random[i].params) << "trial " << i;
  for (size_t i = 10; i < 14; ++i) EXPECT_NE(with_tpe[i].params, with_random[i].params) << "trial " << i;
  // n_startup_trials counts complete and pruned trials at the target fidelity only.
  std::vector<study::FrozenTrial> history(with_random.begin(), with_random.begin() + 10);
  history[3].state = TrialState::kFailed;
  history[3].value.reset();
  const Suggestion s = TpeSampler().suggest(context(space, 5, 10), history);
  EXPECT_EQ(s.config, RandomSampler().suggest(context(space, 5, 10), {}).config);
  history[3] = with_random[3];
  history[3].state = TrialState::kPruned;
  history[3].intermediate = {{4, 0.5}};
  EXPECT_NE(TpeSampler().suggest(context(space, 5, 10), history).config,
            RandomSampler().suggest(context(space, 5, 10), {}).config);
}

// Issue 16: a running trial (another worker's) ranks below every complete one (constant_liar, on
// by default): it moves the proposal, as a complete trial with the worst value there would; with
// constant_liar = false it is ignored, as Optuna's default.
TEST(TpeSampler, ARunningTrialCountsAsTheWorstWithTheConstantLiar) {
  const space::SearchSpace space = cube(2);
  RandomSampler random;
  const auto done = run_loop(random, space, 12, 3, quadratic);
  // The running trial sits at the best point: the best candidates of l(x) are drawn near it, and g(x)
  // now has mass there too.
  const auto best = std::min_element(done.begin(), done.end(), [](const auto& a, const auto& b) { return *a.value < *b.value; });
  auto with_running = done;
  with_running.push_back(*best);
  with_running.back().number = 12;
  with_running.back().state = TrialState::kRunning;
  with_running.back().value.reset();
  auto with_worst = with_running;
  with_worst.back().state = TrialState::kComplete;
  with_worst.back().value = 1e9;
  const auto ctx = context(space, 3, 13);
  const Suggestion alone = TpeSampler().suggest(ctx, done);
  const Suggestion liar = TpeSampler().suggest(ctx, with_running);
  EXPECT_NE(liar.config, alone.config);
  EXPECT_EQ(liar.config, TpeSampler().suggest(ctx, with_worst).config);
  TpeSamplerOptions off;
  off.constant_liar = false;
  EXPECT_EQ(TpeSampler(off).suggest(ctx, with_running).config, alone.config);
  EXPECT_FALSE(TpeSamplerOptions::from_json({{"constant_liar", false}}).constant_liar);
}

TEST(TpeSampler, TheSameSeedGivesTheSameStudy) {
  const space::SearchSpace space = cube(2);
  TpeSampler a, b;
  const auto ha = run_loop(a, space, 25, 11, quadratic);
  const auto hb = run_loop(b, space, 25, 11, quadratic);
  for (size_t i = 0; i < ha.size(); ++i) EXPECT_EQ(ha[i].params, hb[i].params) << "trial " << i;
  TpeSampler c;
  const auto hc = run_loop(c, space, 25, 12, quadratic);
  EXPECT_NE(ha.back().params, hc.back().params);
}

TEST(TpeSampler, FindsTheBestChoiceAndIntegerInAMixedSpace) {
  // Loss: 0 for kernel "b", 1 otherwise, plus (layers - 6)^2 / 25 and (log10 lr + 3)^2 / 4.
  space::SearchSpace space;
  space.add_categorical("kernel", {"a", "b", "c", "d"});
  space.add_int("layers", 1, 11);
  space.add_float("lr", 1e-5, 1e-1, /*log=*/true);
  auto loss = [&](const space::Config& c) {
    const double kernel = std::get<std::string>(c.at("kernel")) == "b" ? 0.0 : 1.0;
    const double layers = static_cast<double>(std::get<int64_t>(c.at("layers")) - 6);
    const double lr = std::log10(std::get<double>(c.at("lr"))) + 3.0;
    return kernel + layers * layers / 25.0 + lr * lr / 4.0;
  };
  int b_late = 0, near_six_late = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    TpeSampler tpe;
    std::vector<study::FrozenTrial> history;
    for (int64_t n = 0; n < 60; ++n) {
      const Suggestion s = tpe.suggest(context(space, seed, n), history);
      history.push_back(trial(n, TrialState::kComplete, s.config, loss(s.config)));
      if (n >= 40) {
        b_late += std::get<std::string>(s.config.at("kernel")) == "b";
        near_six_late += std::abs(std::get<int64_t>(s.config.at("layers")) - 6) <= 2;
      }
    }
  }
  // Random search would give "b" a quarter of the time and layers within 6 +- 2 five times in 11.
  EXPECT_GT(b_late, 60) << "of 100";
  EXPECT_GT(near_six_late, 70) << "of 100";
}

TEST(TpeSampler, MaximizesWhenTheStudyDoes) {
  const space::SearchSpace space = cube(2);
  TpeSampler tpe;
  std::vector<study::FrozenTrial> history;
  for (int64_t n = 0; n < 50; ++n) {
    SamplerContext ctx = context(space, 3, n);
    ctx.direction = study::Direction::kMaximize;
    const Suggestion s = tpe.suggest(ctx, history);
    history.push_back(trial(n, TrialState::kComplete, s.config, -quadratic(space.encode(s.config))));
  }
  double best = -1e300;
  for (const auto& t : history) best = std::max(best, *t.value);
  EXPECT_GT(best, -0.01);
}

}  // namespace
}  // namespace metadial::optim
