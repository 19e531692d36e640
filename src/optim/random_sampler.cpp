#include "metadial/optim/random_sampler.h"

#include "optim/detail/options.h"
#include "optim/detail/sampler_util.h"

namespace metadial::optim {

std::unique_ptr<Sampler> RandomSampler::create(const SamplerOptions& options) {
  detail::OptionReader reader("random", options, {});
  return std::make_unique<RandomSampler>();
}

Suggestion RandomSampler::suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> /*history*/) {
  detail::check_context(ctx, "random");
  Rng rng(ctx.seed);
  const std::vector<double> u = detail::uniform_point(ctx.space->size(), rng);
  return detail::suggestion_at(ctx, u);
}

}  // namespace metadial::optim
