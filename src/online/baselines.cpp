#include "metadial/online/baselines.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/sampler.h"

namespace metadial::online {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Trains target from reset(run.seed) with tuple_at(step) for each interval.
template <typename TupleAt>
RunResult run_schedule(Target& target, const RunOptions& run, const std::string& method, TupleAt tuple_at) {
  run.validate();
  const auto t0 = std::chrono::steady_clock::now();
  target.reset(run.seed);
  RunResult res;
  res.method = method;
  double previous = target.validation_score();
  for (int64_t step = 0; step < run.total_steps; step += run.interval) {
    const int64_t k = std::min(run.interval, run.total_steps - step);
    const Tuple t = tuple_at(step);
    target.train(t, k);
    const double v = target.validation_score();
    res.schedule.push_back({step, t, v, v - previous});
    previous = v;
  }
  res.validation = previous;
  res.test = target.test_score();
  res.steps = run.total_steps;
  res.wall_s = seconds_since(t0);
  return res;
}

size_t draw_index(Rng& rng, size_t n) {
  return std::min(static_cast<size_t>(uniform01(rng) * static_cast<double>(n)), n - 1);
}

}  // namespace

RunResult run_fixed(Target& target, const Tuple& tuple, const RunOptions& run) {
  const Tuple t = resolve(tuple, target.defaults(), target.name());
  return run_schedule(target, run, "fixed", [&](int64_t) { return t; });
}

RunResult run_cosine(Target& target, const Tuple& base, double lr_max, double lr_min, const RunOptions& run) {
  MD_CHECK(lr_min >= 0 && lr_max > lr_min, "cosine schedule: need 0 <= lr_min < lr_max, got lr_min ", lr_min,
           ", lr_max ", lr_max);
  Tuple t = resolve(base, target.defaults(), target.name());
  MD_CHECK(t.count("learning_rate") == 1, "cosine schedule: the ", target.name(), " target has no learning_rate");
  const double total = static_cast<double>(run.total_steps);
  return run_schedule(target, run, "cosine", [&](int64_t step) {
    const double c = 0.5 * (1 + std::cos(std::numbers::pi * static_cast<double>(step) / total));
    t["learning_rate"] = std::max(lr_min + (lr_max - lr_min) * c, std::max(lr_min, 1e-12));
    return t;
  });
}

double SearchResult::best_test_after(size_t n) const {
  MD_CHECK(n >= 1 && n <= trials.size(), "best_test_after: n = ", n, " not in [1, ", trials.size(), "]");
  size_t b = 0;
  for (size_t i = 1; i < n; ++i)
    if (trials[i].validation > trials[b].validation) b = i;
  return trials[b].test;
}

SearchResult search_fixed(const Target& prototype, const ChoiceSpace& space, optim::Sampler& sampler, int n_trainings,
                          const RunOptions& run, uint64_t search_seed) {
  MD_CHECK(n_trainings >= 1, "a search needs at least one training, got ", n_trainings);
  run.validate();
  space.check_accepted(prototype.accepted(), prototype.name());
  const space::SearchSpace ss = space.search_space();
  MD_CHECK(!ss.empty(), "nothing to search: every hyperparameter has a single choice");
  const auto t0 = std::chrono::steady_clock::now();
  SearchResult res;
  std::vector<study::FrozenTrial> history;
  for (int i = 0; i < n_trainings; ++i) {
    optim::SamplerContext ctx;
    ctx.space = &ss;
    ctx.direction = study::Direction::kMaximize;
    ctx.trial_number = i;
    ctx.seed = derive_seed(search_seed, {static_cast<uint64_t>(i)});
    ctx.study_seed = search_seed;
    ctx.budget_left = std::numeric_limits<double>::infinity();
    const optim::Suggestion s = sampler.suggest(ctx, history);
    const Tuple tuple = space.from_config(s.config);
    std::unique_ptr<Target> t = prototype.clone();
    const RunResult r = run_fixed(*t, tuple, run);
    res.trials.push_back({tuple, r.validation, r.test});
    res.steps += r.steps;
    study::FrozenTrial ft;
    ft.id = i;
    ft.number = i;
    ft.state = study::TrialState::kComplete;
    ft.params = s.config;
    ft.fidelity = 0;
    ft.value = r.validation;
    ft.cost = 1.0;
    history.push_back(std::move(ft));
    if (r.validation > res.trials[res.best].validation) res.best = res.trials.size() - 1;
  }
  res.wall_s = seconds_since(t0);
  return res;
}

void PbtOptions::validate() const {
  MD_CHECK(population >= 2, "PBT option 'population': ", population, ", must be >= 2");
  MD_CHECK(quantile > 0 && quantile <= 0.5, "PBT option 'quantile': ", quantile, ", must be in (0, 0.5]");
  MD_CHECK(resample_probability >= 0 && resample_probability <= 1, "PBT option 'resample_probability': ",
           resample_probability, ", must be in [0, 1]");
}

std::vector<int64_t> pbt_explore(const ChoiceSpace& space, std::vector<int64_t> indices, double resample_probability,
                                 uint64_t seed) {
  MD_CHECK(indices.size() == space.size(), "pbt_explore: ", indices.size(), " indices for ", space.size(),
           " hyperparameters");
  Rng rng(seed);
  for (size_t i = 0; i < space.size(); ++i) {
    const std::vector<double>& values = space.at(i).values;
    if (uniform01(rng) < resample_probability) {
      indices[i] = static_cast<int64_t>(draw_index(rng, values.size()));
      continue;
    }
    const bool up = uniform01(rng) < 0.5;
    const double current = values[static_cast<size_t>(indices[i])];
    const double wanted = current * (up ? 1.2 : 0.8);
    const int64_t snapped = space.nearest({{space.at(i).name, wanted}})[i];
    if (snapped != indices[i]) {
      indices[i] = snapped;
      continue;
    }
    // Snapped back to the same choice: move to the nearest choice in the perturbation's direction.
    int64_t next = indices[i];
    for (size_t j = 0; j < values.size(); ++j) {
      const bool beyond = up ? values[j] > current : values[j] < current;
      if (beyond && (next == indices[i] || std::abs(values[j] - current) <
                                               std::abs(values[static_cast<size_t>(next)] - current))) {
        next = static_cast<int64_t>(j);
      }
    }
    indices[i] = next;
  }
  return indices;
}

RunResult run_pbt(const Target& prototype, const ChoiceSpace& space, const PbtOptions& pbt, const RunOptions& run) {
  pbt.validate();
  run.validate();
  space.check_accepted(prototype.accepted(), prototype.name());
  const auto t0 = std::chrono::steady_clock::now();
  const auto p = static_cast<size_t>(pbt.population);
  Rng rng(derive_seed(pbt.seed, {0x9B7}));
  std::vector<std::unique_ptr<Target>> members;
  std::vector<std::vector<int64_t>> idx(p);
  std::vector<std::vector<ScheduleEntry>> schedules(p);
  std::vector<double> score(p, 0.0);
  for (size_t m = 0; m < p; ++m) {
    members.push_back(prototype.clone());
    members[m]->reset(derive_seed(run.seed, {m}));
    score[m] = members[m]->validation_score();
    for (size_t i = 0; i < space.size(); ++i) {
      idx[m].push_back(static_cast<int64_t>(draw_index(rng, space.at(i).values.size())));
    }
  }
  const auto n_q = std::max<size_t>(1, static_cast<size_t>(std::floor(static_cast<double>(p) * pbt.quantile)));
  uint64_t explore_count = 0;
  for (int64_t step = 0; step < run.total_steps; step += run.interval) {
    const int64_t k = std::min(run.interval, run.total_steps - step);
    for (size_t m = 0; m < p; ++m) {
      const Tuple t = space.tuple(idx[m]);
      members[m]->train(t, k);
      const double v = members[m]->validation_score();
      schedules[m].push_back({step, resolve(t, members[m]->defaults(), members[m]->name()), v, v - score[m]});
      score[m] = v;
    }
    if (step + k >= run.total_steps) break;
    std::vector<size_t> order(p);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    for (size_t r = 0; r < n_q; ++r) {
      const size_t loser = order[p - 1 - r];
      const size_t winner = order[draw_index(rng, n_q)];
      members[loser] = members[winner]->clone();
      score[loser] = score[winner];
      schedules[loser] = schedules[winner];
      idx[loser] = pbt_explore(space, idx[winner], pbt.resample_probability, derive_seed(pbt.seed, {0xE1, explore_count++}));
    }
  }
  size_t best = 0;
  for (size_t m = 1; m < p; ++m)
    if (score[m] > score[best]) best = m;
  RunResult res;
  res.method = "pbt";
  res.validation = score[best];
  res.test = members[best]->test_score();
  res.steps = static_cast<int64_t>(p) * run.total_steps;
  res.schedule = schedules[best];
  res.wall_s = seconds_since(t0);
  return res;
}

}  // namespace metadial::online
