// Uniform random search: each trial draws a point of the unit cube from its own seed.
#pragma once

#include "metadial/optim/sampler.h"

namespace metadial::optim {

/// Proposes uniform points of the unit cube from Rng(ctx.seed). No options.
class RandomSampler final : public Sampler {
 public:
  RandomSampler() = default;
  /// Reads options (none are known; any key is an InvalidArgument).
  static std::unique_ptr<Sampler> create(const SamplerOptions& options);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return "random"; }
  bool uses_history() const override { return false; }
};

}  // namespace metadial::optim
