// The tree-structured Parzen estimator ("tpe"; Bergstra et al. 2011, "Algorithms for
// hyper-parameter optimization"), as Optuna's TPESampler with its defaults (univariate).
//
//   startup   the first n_startup_trials trials are uniform random points (as the random sampler)
//   split     the complete trials at the target fidelity and the pruned ones are ranked (complete
//             first by loss, then pruned ones by the step they reached, later first, then by their
//             value there); the best gamma(n) = min(ceil(0.1 n), 25) are "below", the rest "above"
//   model     per parameter, in the unit cube of the search space, l(x) from the below trials and
//             g(x) from the above ones: a mixture of one truncated normal on [0, 1] per trial plus
//             a prior (centre 0.5, width 1, weight prior_weight); each trial's bandwidth is the
//             larger distance to its neighbours (the end ones: to their one neighbour), clipped to
//             [1 / min(100, n + 1), 1] ("magic clip"); Optuna's weights (older trials of a group
//             of more than 25 ramp down). An int parameter of at most 2^20 values is a grid: a
//             density is the mass of its cell; a log-scaled int is continuous on its log scale and
//             rounded, as Optuna does; a categorical one has per-trial weights prior_weight/(n + 1)
//             on every choice plus 1 on its own
//   propose   n_ei_candidates draws from l, per parameter; the one with the largest l(x) / g(x)
//
// The truncated normals' densities are normalized (divided by their sigma), as in Optuna from 3.5
// on; Optuna 3.1 (Debian 12's) leaves the 1 / sigma out (optuna issue #5109), which favours the
// wide components. tests/optim/tpe_reference.py compares the estimators with Optuna's.
//
// Failed and running trials, and trials at a lower fidelity, are not used. Everything is rebuilt
// from the history; randomness comes from ctx.seed, so the same seed and history give the same
// proposal.
#pragma once

#include <string>

#include "metadial/optim/sampler.h"

namespace metadial::optim {

/// Options of TpeSampler ([sampler] keys of the same names); Optuna's defaults.
struct TpeSamplerOptions {
  int n_startup_trials = 10;        ///< random trials before the model is used
  int n_ei_candidates = 24;         ///< draws from l(x) per parameter
  double prior_weight = 1.0;        ///< weight of the prior component, > 0
  bool consider_magic_clip = true;  ///< bandwidths at least 1 / min(100, n + 1)
  bool consider_endpoints = false;  ///< the end trials' bandwidths may reach to 0 and 1
  /// Running trials (other workers') rank as worse than every complete one (Optuna's
  /// constant_liar, scored (-inf, +inf)): concurrent asks steer away from each other's points.
  /// Optuna's default is false; ours true (every sampler sees the running trials).
  bool constant_liar = true;

  /// Reads options from a [sampler] table; throws InvalidArgument on unknown, ill-typed or
  /// out-of-range keys.
  static TpeSamplerOptions from_json(const SamplerOptions& options);
  void validate() const;
};

class TpeSampler final : public Sampler {
 public:
  explicit TpeSampler(TpeSamplerOptions options = {});
  static std::unique_ptr<Sampler> create(const SamplerOptions& options);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return "tpe"; }
  const TpeSamplerOptions& options() const { return options_; }

 private:
  TpeSamplerOptions options_;
};

}  // namespace metadial::optim
