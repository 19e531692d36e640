// Latin hypercube design: a design of n_initial points is drawn from the study seed, trial n
// (n < n_initial) takes row n, later trials are uniform random from their own seed.
#pragma once

#include "metadial/optim/sampler.h"

namespace metadial::optim {

/// Options of LhsSampler ([sampler] table keys of the same names).
struct LhsSamplerOptions {
  int n_initial = 10;  ///< design size (>= 1)
  /// Reads options from a [sampler] table; throws InvalidArgument on unknown or ill-typed keys.
  static LhsSamplerOptions from_json(const SamplerOptions& options);
  /// Throws InvalidArgument when n_initial < 1.
  void validate() const;
};

class LhsSampler final : public Sampler {
 public:
  explicit LhsSampler(LhsSamplerOptions options = {});
  static std::unique_ptr<Sampler> create(const SamplerOptions& options);

  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return "lhs"; }
  bool uses_history() const override { return false; }
  const LhsSamplerOptions& options() const { return options_; }

 private:
  LhsSamplerOptions options_;
};

}  // namespace metadial::optim
