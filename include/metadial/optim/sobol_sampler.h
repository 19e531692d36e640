// Quasi-random search on a scrambled Sobol sequence: trial n takes point n of one sequence whose
// scramble is drawn from the study seed, so the trials of a study fill the cube evenly (the
// first 2^k of them form a net) whatever order workers ask in, and a resumed study continues
// the same sequence.
//
// Spaces of more than SobolSequence::kMaxDim (64) dimensions: the first 64 coordinates come from
// the sequence, the rest are uniform random from the trial's seed.
#pragma once

#include "metadial/optim/sampler.h"

namespace metadial::optim {

/// Options of SobolSampler ([sampler] table keys of the same names).
struct SobolSamplerOptions {
  /// Scramble (random linear matrix scramble + digital shift from the study seed). Without it,
  /// trial 0 is the corner of all lower bounds, as in the plain sequence.
  bool scramble = true;
  /// Reads options from a [sampler] table; throws InvalidArgument on unknown or ill-typed keys.
  static SobolSamplerOptions from_json(const SamplerOptions& options);
};

class SobolSampler final : public Sampler {
 public:
  explicit SobolSampler(SobolSamplerOptions options = {}) : options_(options) {}
  static std::unique_ptr<Sampler> create(const SamplerOptions& options);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return "sobol"; }
  bool uses_history() const override { return false; }
  const SobolSamplerOptions& options() const { return options_; }

 private:
  SobolSamplerOptions options_;
};

}  // namespace metadial::optim
