// What a Bayesian-optimization sampler's model sees of the history (the gp and pfn samplers).
#pragma once

#include <set>
#include <span>
#include <vector>

#include "metadial/optim/sampler.h"
#include "metadial/study/trial.h"

namespace metadial::optim::detail {

struct Observations {
  std::vector<double> x;                // complete trials at the target fidelity, n x d (snapped)
  std::vector<double> y;                // their losses
  std::vector<double> running;          // running trials at the target fidelity, snapped
  std::set<std::vector<double>> tried;  // encode(params) of every trial at the target fidelity
};

/// The complete trials at the target fidelity (NaN and -infinity losses skipped; +infinity, a
/// diverged run, counted as the worst finite loss, 0 when there is none; losses above 1e100 in
/// magnitude scaled by a power of two, exactly, so a model's mean and variance do not overflow),
/// the running ones, and every tried point.
Observations collect_observations(const SamplerContext& ctx, std::span<const study::FrozenTrial> history);

}  // namespace metadial::optim::detail
