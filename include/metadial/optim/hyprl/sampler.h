// The `hyprl` sampler: a meta-trained Hyp-RL policy proposing the next configuration of a grid
// space in `metadial tune`.
//
//   [sampler]
//   model = "models/svm.pt"                 # written by `metadial meta-train hyprl`
//   meta_features = [0.13, 0.0, ...]        # the data set's meta-features, as many as the
//                                           # model reads; or the path of a meta-data file
//                                           # whose meta-features to use; omit for a model
//                                           # trained without meta-features
//   first = "policy"                        # or "random": the paper's random first trial
//
// The study's search space must be the grid the model was trained on (the tabular objective's
// default space); otherwise the sampler refuses with a message naming both grids. Every trial
// of the history is mapped to its grid row; complete trials are fed to the LSTM in trial
// order, and no row of any trial (running, failed or pruned ones included) is proposed again.
// When every row has been tried, a uniformly random row is proposed. Deterministic given the
// history (the random first trial and that fallback come from ctx.seed).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "metadial/optim/hyprl/policy.h"
#include "metadial/optim/sampler.h"

namespace metadial::optim::hyprl {

/// Options of HyprlSampler ([sampler] keys model, meta_features, first).
struct HyprlSamplerOptions {
  std::string model;                  ///< path of the model file
  std::vector<double> meta_features;  ///< the target data set's meta-features
  bool random_first = false;          ///< first = "random"

  /// Reads a [sampler] table; a string meta_features is read as a meta-data file with
  /// `layout`. Throws InvalidArgument on unknown or ill-typed keys or a missing model.
  static HyprlSamplerOptions from_json(const SamplerOptions& options,
                                       const objective::TabularLayout& layout = objective::TabularLayout::svm());
};

class HyprlSampler final : public Sampler {
 public:
  /// Throws InvalidArgument when the meta-features do not match what the policy reads.
  HyprlSampler(std::shared_ptr<const Policy> policy, std::vector<double> meta_features, bool random_first = false);
  /// Loads the model named in the options (the factory registered as "hyprl"). Leaves LibTorch's
  /// thread count alone: the program sets it (nn::set_torch_threads; 1 suits this small network,
  /// a study parallelizes over trials instead).
  static std::unique_ptr<Sampler> create(const SamplerOptions& options);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return "hyprl"; }
  const Policy& policy() const { return *policy_; }

 private:
  std::shared_ptr<const Policy> policy_;
  std::vector<double> meta_features_;
  bool random_first_;
  std::string source_ = "(in memory)";  ///< the model file, for messages
};

/// Adds "hyprl" (HyprlSampler::create) to a registry.
void register_hyprl_sampler(SamplerRegistry& registry);

}  // namespace metadial::optim::hyprl
