// The `pfn` sampler: Bayesian optimization on a learned surrogate, the PFN of pfn.h (PFNs4BO,
// Müller et al. 2023), meta-trained by `metadial meta-train pfn`.
//
//   [sampler]
//   model = "models/pfn.pt"   # default: pfn.pt in default_models_dir() ($METADIAL_MODELS, else ./models)
//   n_initial = 0             # initial (scrambled Sobol) trials; 0: min(10, 2 (d + 1)), as `gp`
//   n_candidates = 256        # points scored by log EI in the first batch
//   n_local = 4               # best candidates refined by 4 rounds of 16 Gaussian perturbations each
//   constant_liar = true      # running trials as fake observations at the best loss, as `gp`
//   power_transform = true    # losses through a Yeo-Johnson transform fitted to them (below)
//
// After the initial design (a Sobol sequence scrambled by the study seed, so every study seed
// gives its own run), each trial conditions the PFN on the complete trials at the target fidelity
// (inputs snapped as `gp` does, losses as ctx.loss, +infinity as the worst finite loss) and
// proposes the maximizer of log expected improvement found by the shared acquisition search
// (optim/surrogate.h: candidates in one forward pass, then perturbation rounds, one forward pass
// each; no gradients). With power_transform, the losses are first standardized and passed through
// the Yeo-Johnson transform whose parameter maximizes their Gaussian likelihood (as PFNs4BO and
// BoTorch transform outputs): a monotone map, so the best point stays the best, that makes a
// heavy-tailed loss (Branin's bowl, up to 300 for a minimum of 0.4) look like the GP samples the
// PFN was trained on; EI is computed on the transformed scale. A point already tried is never proposed twice. Single fidelity: trials at
// other fidelities are ignored and the target fidelity is asked for. The model handles spaces of
// up to its max_dim (6) dimensions; a larger space is refused in one line. Randomness comes from
// ctx.seed: the same history and seeds give the same proposal.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "metadial/optim/learned/pfn.h"
#include "metadial/optim/sampler.h"
#include "metadial/optim/surrogate.h"

namespace metadial::optim::learned {

/// Options of PfnSampler ([sampler] keys of the same names, model aside).
struct PfnSamplerOptions {
  int n_initial = 0;        ///< 0: min(10, 2 (d + 1))
  int n_candidates = 256;
  int n_local = 4;
  bool constant_liar = true;
  bool power_transform = true;

  /// Throws InvalidArgument on out-of-range values.
  void validate() const;
  int initial_trials(size_t d) const;
  /// The acquisition search these options ask for.
  AcquisitionSearchOptions search() const;
};

/// The losses standardized and Yeo-Johnson transformed with the likelihood-maximizing parameter
/// (on a grid of [-2, 4] by 0.1); fewer than 3 values or a constant loss: unchanged. Monotone.
std::vector<double> power_transform(std::span<const double> y);

/// The default PFN model: pfn.pt in `dir`.
std::string default_pfn_model_path(const std::string& dir);

class PfnSampler final : public Sampler {
 public:
  /// A sampler over a loaded model; `source` names it in messages.
  PfnSampler(std::shared_ptr<const PfnModel> model, PfnSamplerOptions options = {}, std::string source = "(in memory)");
  /// A sampler that loads `path` at its first suggestion (so that creating it in a config check
  /// does not read the file twice; a missing file is reported there).
  PfnSampler(std::string path, PfnSamplerOptions options);
  /// Reads [sampler] model, n_initial, n_candidates, n_local, constant_liar.
  static std::unique_ptr<Sampler> create(const SamplerOptions& options);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return "pfn"; }
  const PfnSamplerOptions& options() const { return options_; }

 private:
  const PfnModel& model();
  std::mutex mu_;
  std::shared_ptr<const PfnModel> model_;
  std::string path_;
  std::string source_;
  PfnSamplerOptions options_;
};

}  // namespace metadial::optim::learned
