#include "metadial/optim/sobol_sampler.h"

#include <algorithm>

#include "metadial/optim/qmc.h"
#include "optim/detail/options.h"
#include "optim/detail/sampler_util.h"

namespace metadial::optim {

SobolSamplerOptions SobolSamplerOptions::from_json(const SamplerOptions& options) {
  detail::OptionReader reader("sobol", options, {"scramble"});
  SobolSamplerOptions o;
  o.scramble = reader.boolean("scramble", o.scramble);
  return o;
}

std::unique_ptr<Sampler> SobolSampler::create(const SamplerOptions& options) {
  return std::make_unique<SobolSampler>(SobolSamplerOptions::from_json(options));
}

Suggestion SobolSampler::suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> /*history*/) {
  detail::check_context(ctx, "sobol");
  const size_t d = ctx.space->size();
  MD_CHECK(ctx.trial_number >= 0, "sampler 'sobol': trial number ", ctx.trial_number, " is negative");
  Rng rng(ctx.seed);
  std::vector<double> u = detail::uniform_point(d, rng);  // used beyond kMaxDim dimensions
  const auto index = static_cast<uint64_t>(ctx.trial_number);
  const size_t d_sobol = std::min(d, SobolSequence::kMaxDim);
  if (d_sobol > 0 && index < (uint64_t{1} << SobolSequence::kBits)) {
    std::optional<uint64_t> scramble;
    if (options_.scramble) scramble = derive_seed(ctx.study_seed, {detail::kSobolScrambleStream});
    const SobolSequence seq(d_sobol, scramble);
    const std::vector<double> p = seq.point(index);
    std::copy(p.begin(), p.end(), u.begin());
  }
  return detail::suggestion_at(ctx, u);
}

}  // namespace metadial::optim
