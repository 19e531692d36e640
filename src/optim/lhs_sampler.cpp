#include "metadial/optim/lhs_sampler.h"

#include "metadial/optim/qmc.h"
#include "optim/detail/options.h"
#include "optim/detail/sampler_util.h"

namespace metadial::optim {

LhsSamplerOptions LhsSamplerOptions::from_json(const SamplerOptions& options) {
  detail::OptionReader reader("lhs", options, {"n_initial"});
  LhsSamplerOptions o;
  o.n_initial = static_cast<int>(reader.integer("n_initial", o.n_initial, 1, 1'000'000));
  return o;
}

void LhsSamplerOptions::validate() const {
  MD_CHECK(n_initial >= 1, "sampler 'lhs': n_initial must be >= 1 (got ", n_initial, ")");
}

LhsSampler::LhsSampler(LhsSamplerOptions options) : options_(options) { options_.validate(); }

std::unique_ptr<Sampler> LhsSampler::create(const SamplerOptions& options) {
  return std::make_unique<LhsSampler>(LhsSamplerOptions::from_json(options));
}

Suggestion LhsSampler::suggest(const SamplerContext& ctx, std::span<const study::FrozenTrial> /*history*/) {
  detail::check_context(ctx, "lhs");
  const size_t d = ctx.space->size();
  const auto n = static_cast<size_t>(options_.n_initial);
  if (ctx.trial_number >= 0 && static_cast<size_t>(ctx.trial_number) < n) {
    Rng design_rng(derive_seed(ctx.study_seed, {detail::kLhsDesignStream}));
    const std::vector<double> design = latin_hypercube(n, d, design_rng);
    const auto row = static_cast<size_t>(ctx.trial_number);
    return detail::suggestion_at(ctx, std::span<const double>(design).subspan(row * d, d));
  }
  Rng rng(ctx.seed);
  return detail::suggestion_at(ctx, detail::uniform_point(d, rng));
}

}  // namespace metadial::optim
