// The checks of the typed sampler suite (tests/optim/sampler_suite_test.cpp) for the learned
// samplers `lstm` and `lstm-mf` with their shipped default models (models/lstm-inc-d*.pt). They
// cannot join that suite: it is built into the torch-free test executable, and its mixed 4-d space
// has no shipped model (the defaults exist for d = 1, 2, 3, 6 and model a unit cube). So the same
// properties are checked here, on the shipped 2-d and 3-d models: valid proposals, same seed same
// proposal, other seed another, an empty history, failed / pruned / running trials, a context
// without a space, an unknown option. (hyprl is not here: it proposes the greedy row of its
// model's tabular grid, the same whatever the seed unless random_first is set or the grid is
// exhausted, so "other seed, other proposal" does not apply; its checks of valid rows, running
// trials and bad options are in tests/optim/hyprl/hyprl_test.cpp.)
#include <gtest/gtest.h>

#include <string>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/learned/sampler.h"

namespace metadial::optim::learned {
namespace {

const std::string kShippedModels = std::string(METADIAL_SOURCE_DIR) + "/models";

space::SearchSpace box(int d) {
  space::SearchSpace s;
  for (int k = 0; k < d; ++k) s.add_float("x" + std::to_string(k), -2.0 + k, 3.0 + 2 * k);
  return s;
}

SamplerContext context(const space::SearchSpace& s, bool mf, int64_t trial, uint64_t study_seed) {
  SamplerContext ctx;
  ctx.space = &s;
  if (mf) ctx.fidelities = {{"low", 1.0}, {"high", 10.0}};
  ctx.trial_number = trial;
  ctx.seed = derive_seed(study_seed, {static_cast<uint64_t>(trial)});
  ctx.study_seed = study_seed;
  return ctx;
}

double loss(const space::SearchSpace& s, const space::Config& c) {
  double v = 0.0;
  for (double u : s.encode(c)) v += (u - 0.3) * (u - 0.3);
  return v;
}

void expect_valid(const space::SearchSpace& s, const Suggestion& sug, bool mf) {
  ASSERT_EQ(sug.config.size(), s.size());
  for (const auto& p : s.params()) {
    const auto& f = std::get<space::FloatParam>(p.dist);
    const double x = std::get<double>(sug.config.at(p.name));
    EXPECT_GE(x, f.low) << p.name;
    EXPECT_LE(x, f.high) << p.name;
  }
  if (mf) {
    EXPECT_TRUE(sug.fidelity == 0 || sug.fidelity == 1) << sug.fidelity;
  } else {
    EXPECT_EQ(sug.fidelity, -1);
  }
}

std::vector<study::FrozenTrial> run(bool mf, const space::SearchSpace& s, int n, uint64_t seed) {
  LstmSampler sampler(LstmSampler::kDefaultModel, mf, false, kShippedModels);
  std::vector<study::FrozenTrial> h;
  for (int t = 0; t < n; ++t) {
    const Suggestion sug = sampler.suggest(context(s, mf, t, seed), h);
    expect_valid(s, sug, mf);
    study::FrozenTrial tr;
    tr.id = tr.number = t;
    tr.state = study::TrialState::kComplete;
    tr.params = sug.config;
    tr.fidelity = sug.fidelity < 0 ? (mf ? 1 : 0) : sug.fidelity;
    tr.value = loss(s, sug.config);
    h.push_back(tr);
  }
  return h;
}

class LearnedSamplerSuite : public ::testing::TestWithParam<bool> {};  // multi-fidelity?

TEST_P(LearnedSamplerSuite, NameMatchesRegistryKeyAndUnknownOptionsAreRefused) {
  const bool mf = GetParam();
  const std::string name = mf ? "lstm-mf" : "lstm";
  EXPECT_EQ(LstmSampler(LstmSampler::kDefaultModel, mf, false, kShippedModels).name(), name);
  SamplerRegistry registry;
  register_learned_samplers(registry);
  try {
    registry.create(name, {{"n_inital", 3}});
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'n_inital' in [sampler]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sampler '" + name + "'"), std::string::npos) << e.what();
  }
}

TEST_P(LearnedSamplerSuite, ProposalsAreValidAndReproducibleInTwoAndThreeDimensions) {
  const bool mf = GetParam();
  for (int d : {2, 3}) {
    const space::SearchSpace s = box(d);
    const auto a = run(mf, s, 12, 3);
    const auto b = run(mf, s, 12, 3);
    const auto c = run(mf, s, 12, 4);
    int differ = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].params, b[i].params) << "d " << d << " trial " << i;
      differ += a[i].params != c[i].params;
    }
    EXPECT_GE(differ, 6) << "d " << d;
    // A fresh sampler given a prefix of the history proposes what the run proposed next.
    for (int64_t n : {0, 5, 11}) {
      LstmSampler fresh(LstmSampler::kDefaultModel, mf, false, kShippedModels);
      const Suggestion sug = fresh.suggest(context(s, mf, n, 3), std::span(a.data(), static_cast<size_t>(n)));
      EXPECT_EQ(sug.config, a[static_cast<size_t>(n)].params) << "d " << d << " trial " << n;
    }
  }
}

TEST_P(LearnedSamplerSuite, WorksWithFailedPrunedAndRunningTrials) {
  const bool mf = GetParam();
  const space::SearchSpace s = box(2);
  auto h = run(mf, s, 12, 5);
  h[2].state = study::TrialState::kFailed;
  h[2].value.reset();
  h[4].state = study::TrialState::kPruned;
  h[4].value.reset();
  h[7].state = study::TrialState::kRunning;
  h[7].value.reset();
  study::FrozenTrial no_params;
  no_params.id = no_params.number = 12;
  no_params.state = study::TrialState::kRunning;
  h.push_back(no_params);
  LstmSampler sampler(LstmSampler::kDefaultModel, mf, false, kShippedModels);
  expect_valid(s, sampler.suggest(context(s, mf, 13, 5), h), mf);
  EXPECT_THROW(sampler.suggest(SamplerContext{}, {}), InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Shipped, LearnedSamplerSuite, ::testing::Values(false, true),
                         [](const auto& p) { return std::string(p.param ? "LstmMf" : "Lstm"); });

}  // namespace
}  // namespace metadial::optim::learned
