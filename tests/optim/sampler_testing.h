// Helpers for sampler tests: building histories of FrozenTrials and running a sampler in a
// study-like loop (trial n gets seed derive_seed(study_seed, {n}), as the study engine does).
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/optim/sampler.h"

namespace metadial::optim::testing {

inline SamplerContext context(const space::SearchSpace& space, uint64_t study_seed, int64_t number) {
  SamplerContext ctx;
  ctx.space = &space;
  ctx.trial_number = number;
  ctx.study_seed = study_seed;
  ctx.seed = derive_seed(study_seed, {static_cast<uint64_t>(number)});
  return ctx;
}

inline study::FrozenTrial trial(int64_t number, study::TrialState state, space::Config params,
                                std::optional<double> value = std::nullopt, int fidelity = 0) {
  study::FrozenTrial t;
  t.id = number;
  t.number = number;
  t.state = state;
  t.params = std::move(params);
  t.value = value;
  t.fidelity = fidelity;
  return t;
}

/// Runs `n` sequential trials of `sampler` on `f` (a loss of the unit-cube point of a config).
inline std::vector<study::FrozenTrial> run_loop(Sampler& sampler, const space::SearchSpace& space, int n,
                                                uint64_t study_seed,
                                                const std::function<double(const std::vector<double>&)>& f) {
  std::vector<study::FrozenTrial> history;
  for (int i = 0; i < n; ++i) {
    const SamplerContext ctx = context(space, study_seed, i);
    const Suggestion s = sampler.suggest(ctx, history);
    history.push_back(trial(i, study::TrialState::kComplete, s.config, f(space.encode(s.config))));
  }
  return history;
}

/// Lowest value of the complete trials.
inline double best_value(std::span<const study::FrozenTrial> history) {
  double best = 1e300;
  for (const auto& t : history) {
    if (t.is_complete()) best = std::min(best, *t.value);
  }
  return best;
}

}  // namespace metadial::optim::testing
