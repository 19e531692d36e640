// Speed of the learned optimizer's suggestions (issue 4: one suggestion at d = 6 under 0.2 ms).
//
//   BM_RolloutStep/<d>        one step of the two-level LSTM in plain C++: propose, fidelity
//                             probabilities, observe (64 + 32 hidden units, M = 2)
//   BM_LstmMfSuggest/<d>      LstmSampler::suggest in a study loop: each call sees one more
//                             completed trial than the last (1..100, then again from 1), the replay
//                             cached (what each call of `metadial tune` costs once the cache is warm)
//   BM_LstmMfSuggestCold/<d>  the same with the cache rebuilt (20 steps replayed) every call
//   BM_LstmSuggest/<d>        the single-fidelity `lstm` sampler as BM_LstmMfSuggest (a model of
//                             the defaults' shape: incumbent-centred proposals, 64 hidden units)
//   BM_PfnCondition/<n>       PfnModel::condition: the history of n observations (d = 3) through
//                             the transformer of models/pfn.pt's shape (untrained weights)
//   BM_PfnPredict/<m>         PfnModel::predict of m query points given 100 observations: one batch
//                             of the pfn sampler's acquisition search (256 candidates, then 64 per
//                             refinement round)
//   BM_PfnSuggest             PfnSampler::suggest after 100 observations (d = 3): the time that
//                             bench/repro/learned_runtime.cpp compares with GP-BO
#include <benchmark/benchmark.h>

#include <memory>
#include <span>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/optim/learned/model.h"
#include "metadial/optim/learned/pfn.h"
#include "metadial/optim/learned/pfn_sampler.h"
#include "metadial/optim/learned/sampler.h"
#include "metadial/space/search_space.h"

namespace {

using namespace metadial;
using optim::learned::LearnedOptimizer;

std::shared_ptr<const LearnedOptimizer> make_model(int d, int fidelities = 2) {
  optim::learned::ModelOptions o;
  o.dim = d;
  o.fidelities = fidelities;
  if (fidelities == 2) {
    o.costs = {1.0, 10.0};
    o.cost_scale = 200.0;
  } else {  // the shape of the `lstm` defaults (models/lstm-inc-d<d>.pt)
    o.costs = {1.0};
    o.proposal = optim::learned::Proposal::kIncumbent;
  }
  return std::make_shared<const LearnedOptimizer>(o, 1);
}

space::SearchSpace cube(int d) {
  space::SearchSpace s;
  for (int k = 0; k < d; ++k) s.add_float("x" + std::to_string(k), 0.0, 1.0);
  return s;
}

// n completed trials, alternating between the two fidelities (or all at fidelity 0 with one).
std::vector<study::FrozenTrial> history(const space::SearchSpace& s, int n, int fidelities = 2) {
  std::vector<study::FrozenTrial> h;
  Rng rng(3);
  for (int i = 0; i < n; ++i) {
    study::FrozenTrial t;
    t.number = i;
    t.state = study::TrialState::kComplete;
    std::vector<double> u(s.size());
    for (auto& v : u) v = uniform01(rng);
    t.params = s.decode(u);
    t.value = standard_normal(rng);
    t.fidelity = i % fidelities;
    h.push_back(t);
  }
  return h;
}

void BM_RolloutStep(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const auto model = make_model(d);
  optim::learned::Rollout r(*model);
  std::vector<double> mu(static_cast<size_t>(d)), sd(static_cast<size_t>(d)), x(static_cast<size_t>(d), 0.5);
  double y = 0.0;
  for (auto _ : state) {
    r.propose(mu, sd);
    for (size_t k = 0; k < x.size(); ++k) x[k] = optim::learned::squash(mu[k]);
    const auto p = r.fidelity_probs(x);
    y = 0.9 * y + p[0];
    r.observe(x, 1, y);
    if (r.steps() > 1000) r = optim::learned::Rollout(*model);
  }
}
BENCHMARK(BM_RolloutStep)->Arg(1)->Arg(2)->Arg(3)->Arg(6);

void suggest(benchmark::State& state, bool cold, bool multi_fidelity = true) {
  const int d = static_cast<int>(state.range(0));
  const auto s = cube(d);
  const int m = multi_fidelity ? 2 : 1;
  const auto h = history(s, cold ? 20 : 100, m);
  optim::SamplerContext ctx;
  ctx.space = &s;
  ctx.fidelities = multi_fidelity ? std::vector<objective::Fidelity>{{"low", 1.0}, {"high", 10.0}}
                                  : std::vector<objective::Fidelity>{{"full", 1.0}};
  auto sampler = std::make_unique<optim::learned::LstmSampler>(make_model(d, m), multi_fidelity);
  size_t n = 0;
  for (auto _ : state) {
    if (cold) sampler = std::make_unique<optim::learned::LstmSampler>(make_model(d, m), multi_fidelity);
    ++ctx.seed;
    // Warm: the history grows by one trial per call, as in a study; cold: the full 20 every call.
    n = cold ? h.size() : n % h.size() + 1;
    benchmark::DoNotOptimize(sampler->suggest(ctx, std::span(h).first(n)));
  }
}
void BM_LstmMfSuggest(benchmark::State& state) { suggest(state, false); }
void BM_LstmMfSuggestCold(benchmark::State& state) { suggest(state, true); }
BENCHMARK(BM_LstmMfSuggest)->Arg(1)->Arg(6)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LstmMfSuggestCold)->Arg(6)->Unit(benchmark::kMicrosecond);
void BM_LstmSuggest(benchmark::State& state) { suggest(state, false, false); }
BENCHMARK(BM_LstmSuggest)->Arg(1)->Arg(3)->Arg(6)->Unit(benchmark::kMicrosecond);

// The PFN of models/pfn.pt's shape with untrained weights, and a history of n points at d = 3.
const optim::learned::PfnModel& pfn() {
  static const optim::learned::PfnModel model(optim::learned::PfnOptions{}, 1);
  return model;
}
std::pair<std::vector<double>, std::vector<double>> pfn_history(size_t n, size_t d) {
  Rng rng(5);
  std::vector<double> x(n * d), y(n);
  for (auto& v : x) v = uniform01(rng);
  for (auto& v : y) v = standard_normal(rng);
  return {x, y};
}

void BM_PfnCondition(benchmark::State& state) {
  const auto [x, y] = pfn_history(static_cast<size_t>(state.range(0)), 3);
  for (auto _ : state) benchmark::DoNotOptimize(pfn().condition(3, x, y));
}
BENCHMARK(BM_PfnCondition)->Arg(20)->Arg(100)->Unit(benchmark::kMicrosecond);

void BM_PfnPredict(benchmark::State& state) {
  const auto [x, y] = pfn_history(100, 3);
  const auto h = pfn().condition(3, x, y);
  const auto m = static_cast<size_t>(state.range(0));
  const auto [q, unused] = pfn_history(m, 3);
  std::vector<double> means(m), vars(m);
  for (auto _ : state) pfn().predict(*h, q, means, vars);
}
BENCHMARK(BM_PfnPredict)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);

void BM_PfnSuggest(benchmark::State& state) {
  const auto s = cube(3);
  const auto h = history(s, 100, 1);
  optim::SamplerContext ctx;
  ctx.space = &s;
  ctx.fidelities = {{"full", 1.0}};
  ctx.trial_number = 100;
  optim::learned::PfnSampler sampler(std::shared_ptr<const optim::learned::PfnModel>(&pfn(), [](auto*) {}), {}, "bench");
  for (auto _ : state) {
    ++ctx.seed;
    benchmark::DoNotOptimize(sampler.suggest(ctx, h));
  }
}
BENCHMARK(BM_PfnSuggest)->Unit(benchmark::kMillisecond);

}  // namespace
