#include "optim/detail/observations.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "metadial/space/search_space.h"

namespace metadial::optim::detail {

Observations collect_observations(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) {
  const space::SearchSpace& space = *ctx.space;
  const int target = ctx.target_fidelity();
  Observations obs;
  for (const auto& t : history) {
    if (t.params.empty() || (t.fidelity != target && t.fidelity >= 0)) continue;
    const std::vector<double> u = space.encode(t.params);
    obs.tried.insert(u);
    const std::vector<double> s = space.snap(u);
    if (t.is_complete()) {
      const double loss = ctx.loss(t);
      if (std::isnan(loss) || loss == -std::numeric_limits<double>::infinity()) continue;
      obs.x.insert(obs.x.end(), s.begin(), s.end());
      obs.y.push_back(loss);
    } else if (t.state == study::TrialState::kRunning) {
      obs.running.insert(obs.running.end(), s.begin(), s.end());
    }
  }
  // A loss of +infinity (a diverged run) counts as the worst finite loss, so the model keeps
  // away from it without its scale being destroyed; with no finite loss at all, as 0.
  double worst = -std::numeric_limits<double>::infinity();
  for (double v : obs.y) {
    if (std::isfinite(v)) worst = std::max(worst, v);
  }
  for (double& v : obs.y) {
    if (!std::isfinite(v)) v = std::isfinite(worst) ? worst : 0.0;
  }
  // Losses near the largest double (an objective over a range like [-1e308, 1e308]) overflow a
  // model's mean and variance, and its proposals became NaN or random: scale them by a power of
  // two (exact) below kLargestLoss. Proposals do not depend on the loss's unit; ordinary losses
  // are left untouched.
  constexpr double kLargestLoss = 1e100;
  double largest = 0.0;
  for (double v : obs.y) largest = std::max(largest, std::abs(v));
  if (largest > kLargestLoss) {
    const int e = std::ilogb(largest);
    for (double& v : obs.y) v = std::ldexp(v, -e);
  }
  return obs;
}

}  // namespace metadial::optim::detail
