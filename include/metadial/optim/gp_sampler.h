// Bayesian optimization with a Gaussian process ("gp"): after an initial space-filling design,
// each trial fits a GP (Matern-5/2 ARD, see gp.h) to the complete trials at the target fidelity
// and proposes the maximizer of (log) expected improvement.
//
//   inputs   space.snap(space.encode(params)): int and categorical dimensions are piecewise
//            constant, the GP sees only the canonical point of each configuration
//   targets  ctx.loss(t) (value, negated when maximizing), standardized inside the GP
//            (a loss of +infinity counts as the worst finite loss, NaN and -infinity are skipped)
//   ignored  failed, pruned and running trials, and trials at lower fidelities; with
//            constant_liar, a running trial's point is added to the model as a fake observation
//            at the best loss so far (the "constant liar" of Ginsbourger et al. 2010), so
//            parallel workers asking at the same time spread out instead of proposing one point
//   search   n_candidates points (3/4 uniform, 1/4 perturbations of the best observed points),
//            snapped; the best n_local refined by L-BFGS-B on the analytic gradient over the
//            float dimensions (discrete ones held at their snapped values), then snapped again;
//            a point already tried at the target fidelity is never proposed twice (the best
//            untried candidate is taken instead)
//
// All state is rebuilt from the history: randomness (restarts, candidates) comes from ctx.seed,
// the initial design from the study seed.
#pragma once

#include <string>

#include "metadial/optim/acquisition.h"
#include "metadial/optim/sampler.h"

namespace metadial::optim {

/// Initial design of GpSampler.
enum class InitDesign { kSobol, kLhs, kRandom };

/// Options of GpSampler ([sampler] table keys of the same names).
struct GpSamplerOptions {
  /// Trials taken from the initial design; 0 = default: min(10, 2 (d + 1)), Ax's "2 per
  /// dimension" rule at small d, capped at Optuna GPSampler's 10 startup trials so a 6-d search
  /// starts modelling after 10 trials. The model also waits for 2 complete trials.
  int n_initial = 0;
  InitDesign init = InitDesign::kSobol;                   ///< "sobol" | "lhs" | "random"
  int n_candidates = 2000;                                ///< points scored before local refinement
  int n_restarts = 3;                                     ///< L-BFGS-B starts of the hyperparameter fit
  int n_local = 5;                                        ///< best candidates refined by L-BFGS-B
  AcquisitionKind acquisition = AcquisitionKind::kLogEi;  ///< "logei" | "ei"
  bool constant_liar = true;                              ///< running trials as fake observations at the best loss

  /// Reads options from a [sampler] table; throws InvalidArgument on unknown or ill-typed keys.
  static GpSamplerOptions from_json(const SamplerOptions& options);
  /// Throws InvalidArgument on out-of-range values.
  void validate() const;
  /// n_initial, or its default for a d-dimensional space.
  int initial_trials(size_t d) const;
};

const char* to_string(InitDesign design);

class GpSampler final : public Sampler {
 public:
  explicit GpSampler(GpSamplerOptions options = {});
  static std::unique_ptr<Sampler> create(const SamplerOptions& options);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return "gp"; }
  const GpSamplerOptions& options() const { return options_; }

 private:
  GpSamplerOptions options_;
};

}  // namespace metadial::optim
