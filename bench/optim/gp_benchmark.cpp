// GP-BO suggestion time against history size and dimension, and its two parts (the
// hyperparameter fit, and scoring candidates). Target: BM_GpSuggest/100/6 under 50 ms.
//
//   cmake --build build/release --target bench_optim && ./build/release/bench/bench_optim
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/optim/gp.h"
#include "metadial/optim/gp_sampler.h"
#include "metadial/optim/random_sampler.h"

namespace {

using namespace metadial;

// A smooth function of the unit cube (a sum of sines with a bowl).
double smooth(const std::vector<double>& u) {
  double v = 0;
  for (size_t i = 0; i < u.size(); ++i)
    v += std::sin(3.0 * u[i] + static_cast<double>(i)) + (u[i] - 0.4) * (u[i] - 0.4);
  return v;
}

struct Problem {
  space::SearchSpace space;
  std::vector<study::FrozenTrial> history;
  std::vector<double> x, y;
};

Problem make_problem(int n, int d) {
  Problem p;
  for (int i = 0; i < d; ++i) p.space.add_float("x" + std::to_string(i), 0.0, 1.0);
  Rng rng(42);
  for (int i = 0; i < n; ++i) {
    std::vector<double> u(static_cast<size_t>(d));
    for (auto& c : u) c = uniform01(rng);
    study::FrozenTrial t;
    t.number = i;
    t.state = study::TrialState::kComplete;
    t.params = p.space.decode(u);
    t.value = smooth(u);
    p.history.push_back(t);
    p.x.insert(p.x.end(), u.begin(), u.end());
    p.y.push_back(*t.value);
  }
  return p;
}

void BM_GpSuggest(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const Problem p = make_problem(n, d);
  optim::GpSampler sampler;
  uint64_t k = 0;
  for (auto _ : state) {
    optim::SamplerContext ctx;
    ctx.space = &p.space;
    ctx.trial_number = n;
    ctx.study_seed = 1;
    ctx.seed = derive_seed(1, {k++});
    benchmark::DoNotOptimize(sampler.suggest(ctx, p.history));
  }
}
BENCHMARK(BM_GpSuggest)->ArgsProduct({{10, 50, 100, 200}, {2, 6}})->Unit(benchmark::kMillisecond);

void BM_GpFit(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const Problem p = make_problem(n, d);
  optim::GpOptions opt;
  opt.n_restarts = optim::GpSamplerOptions{}.n_restarts;
  uint64_t k = 0;
  for (auto _ : state) {
    optim::GaussianProcess gp(static_cast<size_t>(d), opt);
    Rng rng(k++);
    gp.fit(p.x, p.y, rng);
    benchmark::DoNotOptimize(gp.log_marginal_likelihood());
  }
}
BENCHMARK(BM_GpFit)->ArgsProduct({{50, 100, 200}, {6}})->Unit(benchmark::kMillisecond);

void BM_GpPredictBatch(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const Problem p = make_problem(n, d);
  optim::GaussianProcess gp(static_cast<size_t>(d));
  Rng rng(1);
  gp.fit(p.x, p.y, rng);
  constexpr size_t kM = 2000;
  std::vector<double> xs(kM * static_cast<size_t>(d)), means(kM), vars(kM);
  for (auto& c : xs) c = uniform01(rng);
  for (auto _ : state) {
    gp.predict_batch(xs, means, vars);
    benchmark::DoNotOptimize(means.data());
  }
}
BENCHMARK(BM_GpPredictBatch)->ArgsProduct({{100, 200}, {6}})->Unit(benchmark::kMillisecond);

}  // namespace
