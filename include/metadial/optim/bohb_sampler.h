// BOHB ("bohb"; Falkner, Klein and Hutter 2018, "BOHB: Robust and efficient hyperparameter
// optimization at scale"): Hyperband's brackets with the random configurations replaced by draws
// from a kernel density model, one model per budget, as HpBandSter's BOHB config generator.
//
// Here the brackets are the hyperband pruner's (pruner.h: `--sampler bohb --pruner hyperband`,
// stopping-based: every trial is a full-length run stopped at a rung of its bracket), and this
// sampler only proposes: its budgets are the pruner's rungs r_k = min_resource * eta^k (give it
// the same min_resource and reduction_factor) and a last one, the complete trials. A trial's
// observation at rung k is its intermediate value at the first step it reported at or past r_k
// (what the pruner reads); at the last budget, its final value.
//
//   random    with probability random_fraction, a uniform random point (as the paper's rho)
//   budget    the largest budget with at least n_min + 2 observations (n_min = min_points_in_model,
//             0 meaning d + 1); none yet: a uniform random point
//   split     n_l = max(n_min, floor(top_n_percent / 100 * n)) best observations are "good",
//             n_g = max(n_min, n - n_l) worst ones "bad" (they overlap while n < 2 n_min, as in
//             the paper)
//   model     l(x), g(x): product-kernel KDEs over the unit cube of the space (statsmodels'
//             KDEMultivariate as HpBandSter uses it): Gaussian kernels for numerical dimensions,
//             Aitchison-Aitken for categorical ones, bandwidths by the normal reference rule
//             1.06 sd n^(-1/(4+d)), at least min_bandwidth
//   propose   num_samples draws from l'(x), l with its numerical bandwidths times bandwidth_factor
//             (truncated to [0, 1]; a categorical value kept with probability 1 - bandwidth, else
//             uniform); the one with the largest l(x) / g(x)
//
// Integer parameters are modelled as continuous in the cube and rounded by the space (HpBandSter
// uses an ordinal kernel for them). Failed trials, trials at a lower fidelity and values that are
// not finite are not used; running trials count with the values they reported. Everything is
// rebuilt from the history; randomness comes from ctx.seed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "metadial/optim/sampler.h"

namespace metadial::optim {

/// Options of BohbSampler ([sampler] keys of the same names); HpBandSter's defaults.
struct BohbSamplerOptions {
  int64_t min_resource = 1;            ///< r_min: the step of the first rung (the pruner's), >= 1
  int64_t reduction_factor = 3;        ///< eta >= 2: rungs eta times apart (the pruner's)
  int min_points_in_model = 0;         ///< n_min; 0: d + 1
  double top_n_percent = 15.0;         ///< q in percent, in (0, 100): the share of good observations
  int num_samples = 64;                ///< draws from l'(x) per proposal, >= 1
  double random_fraction = 1.0 / 3.0;  ///< rho in [0, 1]: the share of uniform random proposals
  double bandwidth_factor = 3.0;       ///< b_w > 0: widens l(x) for drawing candidates
  double min_bandwidth = 1e-3;         ///< > 0: the least bandwidth of a kernel

  /// Reads options from a [sampler] table; throws InvalidArgument on unknown, ill-typed or
  /// out-of-range keys.
  static BohbSamplerOptions from_json(const SamplerOptions& options);
  void validate() const;
};

class BohbSampler final : public Sampler {
 public:
  explicit BohbSampler(BohbSamplerOptions options = {});
  static std::unique_ptr<Sampler> create(const SamplerOptions& options);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return "bohb"; }
  const BohbSamplerOptions& options() const { return options_; }

  /// The budget whose model a proposal would use (ignoring random_fraction): a rung's step, or
  /// INT64_MAX for the complete trials' final values; std::nullopt while no budget has enough
  /// observations.
  std::optional<int64_t> model_budget(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) const;

 private:
  BohbSamplerOptions options_;
};

}  // namespace metadial::optim
