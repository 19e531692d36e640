// TPE, after Optuna 3.1's TPESampler (samplers/_tpe/sampler.py) and _ParzenEstimator
// (parzen_estimator.py), univariate, consider_prior = True, in the search space's unit cube: an
// affine image of Optuna's internal scale for every kind of parameter (linear and log floats, log
// ints on [log(low - 0.5), log(high + 0.5)], linear ints as cells of width 1 / n), on which
// Optuna's bandwidths, all relative to the range, give the same estimators.
#include "metadial/optim/tpe_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "optim/detail/options.h"
#include "optim/detail/parzen.h"
#include "optim/detail/sampler_util.h"

namespace metadial::optim {
namespace {

using study::FrozenTrial;
using study::TrialState;

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Optuna's default_gamma: how many of n trials are "below".
size_t gamma(size_t n) { return std::min<size_t>(static_cast<size_t>(std::ceil(0.1 * static_cast<double>(n))), 25); }

/// Optuna's ranking key of a trial (smaller is better): complete (-inf, loss); pruned (-step,
/// loss at that step), or (1, 0) if it reported nothing.
using Score = std::pair<double, double>;

}  // namespace

void TpeSamplerOptions::validate() const {
  MD_CHECK(n_startup_trials >= 0, "tpe: n_startup_trials ", n_startup_trials, " must be >= 0");
  MD_CHECK(n_ei_candidates >= 1, "tpe: n_ei_candidates ", n_ei_candidates, " must be >= 1");
  MD_CHECK(std::isfinite(prior_weight) && prior_weight > 0, "tpe: prior_weight ", prior_weight, " must be > 0");
}

TpeSamplerOptions TpeSamplerOptions::from_json(const SamplerOptions& options) {
  detail::OptionReader reader(
      "tpe", options,
      {"n_startup_trials", "n_ei_candidates", "prior_weight", "consider_magic_clip", "consider_endpoints",
       "constant_liar"});
  TpeSamplerOptions o;
  o.n_startup_trials = static_cast<int>(reader.integer("n_startup_trials", o.n_startup_trials, 0, 1000000));
  o.n_ei_candidates = static_cast<int>(reader.integer("n_ei_candidates", o.n_ei_candidates, 1, 1000000));
  o.prior_weight = reader.number("prior_weight", o.prior_weight, 0.0, 1e300);
  if (!(o.prior_weight > 0)) reader.invalid("prior_weight", "must be > 0");
  o.consider_magic_clip = reader.boolean("consider_magic_clip", o.consider_magic_clip);
  o.consider_endpoints = reader.boolean("consider_endpoints", o.consider_endpoints);
  o.constant_liar = reader.boolean("constant_liar", o.constant_liar);
  return o;
}

TpeSampler::TpeSampler(TpeSamplerOptions options) : options_(options) { options_.validate(); }

std::unique_ptr<Sampler> TpeSampler::create(const SamplerOptions& options) {
  return std::make_unique<TpeSampler>(TpeSamplerOptions::from_json(options));
}

Suggestion TpeSampler::suggest(const SamplerContext& ctx, std::span<const FrozenTrial> history) {
  detail::check_context(ctx, "tpe");
  const space::SearchSpace& space = *ctx.space;
  const size_t d = space.size();
  Rng rng(ctx.seed);

  // The trials the model learns from, in number order, with their ranking keys.
  std::vector<std::vector<double>> points;
  std::vector<Score> scores;
  const double sign = ctx.direction == study::Direction::kMinimize ? 1.0 : -1.0;
  for (const auto& t : history) {
    if (t.fidelity != ctx.target_fidelity() || t.params.empty()) continue;
    Score score;
    if (t.is_complete()) {
      score = {-kInf, ctx.loss(t)};
    } else if (t.state == TrialState::kPruned) {
      if (t.intermediate.empty()) {
        score = {1.0, 0.0};
      } else {
        const auto& [step, value] = *t.intermediate.rbegin();
        score = {-static_cast<double>(step), sign * value};
      }
    } else if (t.state == TrialState::kRunning && options_.constant_liar) {
      score = {-kInf, kInf};
    } else {
      continue;
    }
    if (std::isnan(score.second)) continue;
    std::vector<double> u;
    try {
      u = space.encode(t.params);
    } catch (const InvalidArgument&) {
      continue;  // a configuration of another space (an edited study): not evidence here
    }
    points.push_back(std::move(u));
    scores.push_back(score);
  }
  const size_t n = points.size();
  if (n < static_cast<size_t>(options_.n_startup_trials)) {
    return detail::suggestion_at(ctx, detail::uniform_point(d, rng));
  }

  // Below: the gamma(n) best by score (stable: earlier trials first among equals); both groups
  // then in number order, as Optuna's np.sort of the indices.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  const size_t n_below = std::min(gamma(n), n);
  std::vector<size_t> below(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_below));
  std::vector<size_t> above(order.begin() + static_cast<std::ptrdiff_t>(n_below), order.end());
  std::sort(below.begin(), below.end());
  std::sort(above.begin(), above.end());

  std::vector<double> u(d);
  for (size_t i = 0; i < d; ++i) {
    const auto dim = detail::ParzenDimension::of(space, i);
    std::vector<double> obs_below, obs_above;
    for (size_t k : below) obs_below.push_back(points[k][i]);
    for (size_t k : above) obs_above.push_back(points[k][i]);
    const detail::ParzenEstimator l(dim, obs_below, options_);
    const detail::ParzenEstimator g(dim, obs_above, options_);
    double best_score = -kInf;
    double best = 0.5;
    bool any = false;
    for (int c = 0; c < options_.n_ei_candidates; ++c) {
      const double x = l.sample(rng);
      double score = l.log_pdf(x) - g.log_pdf(x);
      if (std::isnan(score)) score = -kInf;
      if (!any || score > best_score) {
        best_score = score;
        best = x;
        any = true;
      }
    }
    u[i] = best;
  }
  return detail::suggestion_at(ctx, u);
}

}  // namespace metadial::optim
