// The `lstm` and `lstm-mf` samplers: a meta-trained two-level LSTM optimizer (model.h) proposing
// the next configuration (and, for `lstm-mf`, the fidelity) in `metadial tune`.
//
//   [sampler]
//   model = "models/lstm-d2-mf.pt"   # written by `metadial meta-train optimizer`
//   greedy = false                   # true: the policy's mean point / most probable fidelity
//
// The study's search space must have as many dimensions as the model (its unit-cube encoding:
// one per parameter); otherwise the sampler refuses with one line naming both. The LSTM state is
// rebuilt by replaying the complete trials of the history in trial order (a resumed study sees
// exactly what an uninterrupted one would); a cache keyed by that replayed prefix makes each
// suggestion cost one step. Values enter as losses (negated when maximizing). `lstm` feeds only
// target-fidelity trials and always asks for the target fidelity; `lstm-mf` needs a model trained
// with as many fidelities as the objective has, feeds every fidelity and picks one (the study
// charges its cost). Proposals are sampled from the policy with ctx.seed, so the same history
// and seed give the same proposal.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metadial/optim/learned/model.h"
#include "metadial/optim/sampler.h"

namespace metadial::optim::learned {

class LstmSampler final : public Sampler {
 public:
  /// `multi_fidelity`: the `lstm-mf` behaviour. Throws InvalidArgument when `multi_fidelity`
  /// and the model has a single fidelity.
  LstmSampler(std::shared_ptr<const LearnedOptimizer> model, bool multi_fidelity, bool greedy = false,
              std::string source = "(in memory)");
  /// Loads the model named in the options ([sampler] model, greedy).
  static std::unique_ptr<Sampler> create(const SamplerOptions& options, bool multi_fidelity);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return multi_fidelity_ ? "lstm-mf" : "lstm"; }
  const LearnedOptimizer& model() const { return *model_; }

 private:
  /// A replayed trial, identified by (number, fidelity, value): comparing these is enough to
  /// know whether the cache holds a prefix of the history (params never change once proposed).
  struct Fed {
    int64_t number;
    int fidelity;
    double y;
    bool operator==(const Fed&) const = default;
  };
  std::shared_ptr<const LearnedOptimizer> model_;
  bool multi_fidelity_;
  bool greedy_;
  std::string source_;
  std::mutex mu_;
  std::vector<Fed> fed_;      ///< the prefix the cached rollout has seen
  std::unique_ptr<Rollout> rollout_;
};

/// Adds "lstm" and "lstm-mf" to a registry.
void register_learned_samplers(SamplerRegistry& registry);

}  // namespace metadial::optim::learned
