// The `lstm` and `lstm-mf` samplers: a meta-trained two-level LSTM optimizer (model.h) proposing
// the next configuration (and, for `lstm-mf`, the fidelity) in `metadial tune`.
//
//   [sampler]
//   model = "models/lstm-mf-d2.pt"   # written by `metadial meta-train optimizer`; default below
//   greedy = false                   # true: the policy's mean point / most probable fidelity
//   n_initial = 0                    # the first N trials from a scrambled Sobol sequence (as the
//                                    # `sobol` sampler, at the target fidelity); the model then
//                                    # replays them like any other trial and proposes from trial N on
//
// Without `model`, the sampler uses the shipped default model for the study's dimension (and, for
// `lstm-mf`, its number of fidelities) from default_models_dir() ($METADIAL_MODELS, else
// ./models): default_model_path() names it; a dimension without one is refused in one line that
// names the dimensions that have one and the command that trains the missing one.
//
// The study's search space must have as many dimensions as the model (its unit-cube encoding:
// one per parameter); otherwise the sampler refuses with one line naming both. The LSTM state is
// rebuilt by replaying the complete trials of the history in trial order (a resumed study sees
// exactly what an uninterrupted one would); a cache keyed by that replayed prefix makes each
// suggestion cost one step. Trials still running (other workers') are replayed with the best loss
// seen so far in place of their value (a constant liar), so that concurrent asks of one model
// propose different points. Values enter as losses (negated when maximizing). `lstm` feeds only
// target-fidelity trials and always asks for the target fidelity; `lstm-mf` needs a model trained
// with as many fidelities as the objective has, feeds every fidelity and picks one (the study
// charges its cost).
//
// Seeds: every study seed gives its own run, for every model (deterministic ones and greedy = true
// included): the model sees the cube through a symmetry chosen by the study seed (axes permuted
// and mirrored; the GP prior it was trained on does not change under these), and the first point
// of a study, before any result, is uniform from the first trial's seed. Proposals are sampled from
// the policy with ctx.seed, so the same history and seeds give the same proposal.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metadial/optim/learned/model.h"
#include "metadial/optim/sampler.h"

namespace metadial::optim::learned {

/// The folder default models are read from: $METADIAL_MODELS when set, else "models" (relative to
/// the working directory, as the examples' model paths).
std::string default_models_dir();

/// The shipped default model for a `dim`-dimensional space with `fidelities` fidelities (1: the
/// `lstm` sampler; 2 or more: `lstm-mf`) in `dir`, e.g. "models/lstm-d3.pt". Throws
/// InvalidArgument, one line naming the dimensions that have one in `dir` and the command that
/// trains the missing one, when there is none.
std::string default_model_path(int dim, int fidelities, const std::string& dir = default_models_dir());

class LstmSampler final : public Sampler {
 public:
  /// Tag of the constructor that uses the default model of the study's space.
  struct DefaultModel {};
  static constexpr DefaultModel kDefaultModel{};

  /// `multi_fidelity`: the `lstm-mf` behaviour. Throws InvalidArgument when `multi_fidelity`
  /// and the model has a single fidelity.
  LstmSampler(std::shared_ptr<const LearnedOptimizer> model, bool multi_fidelity, bool greedy = false,
              std::string source = "(in memory)");
  /// Uses default_model_path(dim, fidelities, models_dir) of the study's space, loaded at the
  /// first suggestion (where the dimension is known); that suggestion throws if there is none.
  LstmSampler(DefaultModel, bool multi_fidelity, bool greedy, std::string models_dir);
  /// Loads the model named in the options ([sampler] model, greedy); without `model`, the default
  /// model of the study's space from default_models_dir().
  static std::unique_ptr<Sampler> create(const SamplerOptions& options, bool multi_fidelity);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return multi_fidelity_ ? "lstm-mf" : "lstm"; }
  /// The model (for a default-model sampler: once the first suggestion has chosen it).
  const LearnedOptimizer& model() const;
  /// Trials 0..n-1 come from a scrambled Sobol sequence ([sampler] n_initial; 0: the model's from the first).
  void set_initial_trials(int n) { n_initial_ = n; }

 private:
  /// A replayed trial, identified by (number, fidelity, value): comparing these is enough to
  /// know whether the cache holds a prefix of the history (params never change once proposed).
  struct Fed {
    int64_t number;
    int fidelity;
    double y;
    bool operator==(const Fed&) const = default;
  };
  void check_fidelities() const;
  std::shared_ptr<const LearnedOptimizer> model_;
  bool multi_fidelity_;
  bool greedy_;
  std::string source_;
  std::string models_dir_;  ///< where the default model is looked up
  bool use_default_ = false;
  int n_initial_ = 0;
  std::mutex mu_;
  std::vector<Fed> fed_;  ///< the prefix the cached rollout has seen
  std::unique_ptr<Rollout> rollout_;
  uint64_t study_seed_ = 0;  ///< the study seed of the cached rollout (it chooses the cube's view)
};

/// Adds "lstm", "lstm-mf" and "pfn" (pfn_sampler.h) to a registry.
void register_learned_samplers(SamplerRegistry& registry);

}  // namespace metadial::optim::learned
