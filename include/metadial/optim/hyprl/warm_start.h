// A simple transfer baseline for Hyp-RL's comparison: start a sampler (GP-BO) from the grid
// configurations that were best on average over other data sets, then let it continue.
//
// best_on_average() ranks the rows of a benchmark's grid by their mean normalized response over
// some data sets ((response - worst) / (best - worst) per data set, in the layout's direction),
// and WarmStartSampler proposes the given configurations first (trial numbers 0..k-1, skipping
// any already in the history), then defers to the inner sampler. Give the inner GP sampler
// n_initial = k, so that it models from trial k on.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "metadial/objective/tabular.h"
#include "metadial/optim/sampler.h"

namespace metadial::optim::hyprl {

/// The `k` rows with the highest mean normalized response over `datasets` (indices into
/// b.datasets), best first; ties broken by the lower row.
std::vector<size_t> best_on_average(const objective::TabularBenchmark& b, std::span<const size_t> datasets, size_t k);

class WarmStartSampler final : public Sampler {
 public:
  WarmStartSampler(std::vector<space::Config> initial, std::unique_ptr<Sampler> inner);
  Suggestion suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> history) override;
  std::string name() const override { return "warm+" + inner_->name(); }

 private:
  std::vector<space::Config> initial_;
  std::unique_ptr<Sampler> inner_;
};

}  // namespace metadial::optim::hyprl
