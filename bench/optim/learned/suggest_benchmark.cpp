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
#include <benchmark/benchmark.h>

#include <memory>
#include <span>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/optim/learned/model.h"
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

std::vector<study::FrozenTrial> history(const space::SearchSpace& s, int n) {
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
    t.fidelity = i % 2;
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
  auto h = history(s, cold ? 20 : 100);
  if (!multi_fidelity) {
    for (auto& t : h) t.fidelity = 0;
  }
  const int m = multi_fidelity ? 2 : 1;
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

}  // namespace
