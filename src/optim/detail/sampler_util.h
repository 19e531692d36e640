// Small pieces the built-in samplers share.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/optim/sampler.h"

namespace metadial::optim::detail {

/// Keys of the random streams drawn from the study seed (derive_seed(study_seed, {key})); far
/// above any trial number, so they never meet the per-trial seeds derive_seed(study_seed, {n}).
inline constexpr uint64_t kSobolScrambleStream = 0x736f626f6c5f7363ULL;  // "sobol_sc"
inline constexpr uint64_t kLhsDesignStream = 0x6c68735f64657369ULL;      // "lhs_desi"

inline void check_context(const SamplerContext& ctx, const char* sampler) {
  MD_CHECK(ctx.space != nullptr, "sampler '", sampler, "': the context has no search space");
}

/// A uniform point of [0,1)^d.
inline std::vector<double> uniform_point(size_t d, Rng& rng) {
  std::vector<double> u(d);
  for (auto& x : u) x = uniform01(rng);
  return u;
}

/// The suggestion for unit-cube point u at the target fidelity.
inline Suggestion suggestion_at(const SamplerContext& ctx, std::span<const double> u) {
  return Suggestion{ctx.space->decode(u), -1};
}

}  // namespace metadial::optim::detail
