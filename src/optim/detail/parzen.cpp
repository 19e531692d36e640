#include "optim/detail/parzen.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <numeric>
#include <type_traits>
#include <variant>

namespace metadial::optim::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
/// An int parameter with more values than this is modelled as continuous (a cell's mass would be
/// below what a difference of erfc resolves).
constexpr int64_t kMaxGridCells = int64_t{1} << 20;

/// Phi(zb) - Phi(za) for za <= zb, from the tail that keeps its precision.
double gauss_mass(double za, double zb) {
  constexpr double kSqrt1_2 = 0.70710678118654752440;
  if (za >= 0) return 0.5 * (std::erfc(za * kSqrt1_2) - std::erfc(zb * kSqrt1_2));
  if (zb <= 0) return 0.5 * (std::erfc(-zb * kSqrt1_2) - std::erfc(-za * kSqrt1_2));
  return 1.0 - 0.5 * (std::erfc(-za * kSqrt1_2) + std::erfc(zb * kSqrt1_2));
}

/// log(sum_i exp(x_i)); -inf for no term or all -inf.
double log_sum_exp(const std::vector<double>& x) {
  double m = -kInf;
  for (double v : x) m = std::max(m, v);
  if (m == -kInf) return -kInf;
  double s = 0.0;
  for (double v : x) s += std::exp(v - m);
  return m + std::log(s);
}

/// An index drawn with probability proportional to `weights` (normalized).
size_t draw(const std::vector<double>& weights, Rng& rng) {
  const double r = uniform01(rng);
  double c = 0.0;
  for (size_t i = 0; i < weights.size(); ++i) {
    c += weights[i];
    if (r < c) return i;
  }
  return weights.size() - 1;
}

}  // namespace

ParzenDimension ParzenDimension::of(const space::SearchSpace& space, size_t i) {
  return std::visit(
      [&](const auto& p) -> ParzenDimension {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, space::CategoricalParam>) {
          return {Kind::kCategorical, p.choices.size()};
        } else if constexpr (std::is_same_v<P, space::IntParam>) {
          const int64_t n = space.cardinality(i);
          if (!p.log && n <= kMaxGridCells) return {Kind::kGrid, static_cast<size_t>(n)};
          return {};
        } else {
          return {};
        }
      },
      space.param(i).dist);
}

std::vector<double> tpe_default_weights(size_t n) {
  std::vector<double> w(n, 1.0);
  if (n < 25) return w;
  const size_t ramp = n - 25;  // np.linspace(1 / n, 1, ramp)
  const double lo = 1.0 / static_cast<double>(n);
  for (size_t i = 0; i < ramp; ++i) {
    w[i] = ramp == 1 ? lo : lo + (1.0 - lo) * static_cast<double>(i) / static_cast<double>(ramp - 1);
  }
  return w;
}

ParzenEstimator::ParzenEstimator(const ParzenDimension& dim, const std::vector<double>& observations,
                                 const TpeSamplerOptions& options)
    : dim_(dim) {
  weights_ = tpe_default_weights(observations.size());
  weights_.push_back(options.prior_weight);
  const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  for (double& w : weights_) w /= total;
  if (dim.kind == ParzenDimension::Kind::kCategorical) {
    fit_categorical(observations, options);
  } else {
    fit_numerical(observations, options);
  }
}

size_t ParzenEstimator::cell_of(double x) const {
  const auto k = static_cast<double>(dim_.cells);
  return std::min(static_cast<size_t>(std::max(0.0, std::floor(x * k))), dim_.cells - 1);
}

double ParzenEstimator::centre(size_t cell) const {
  return (static_cast<double>(cell) + 0.5) / static_cast<double>(dim_.cells);
}

// Optuna's _calculate_numerical_params on [0, 1]: each observation's bandwidth is the larger gap to
// its neighbours among the observations and the prior's mean (with 0 and 1 as outer neighbours);
// without consider_endpoints the first and last take the gap to their inner neighbour; clipped to
// [1 / min(100, m + 1), 1] (magic clip; m components); the prior (0.5, 1) last.
void ParzenEstimator::fit_numerical(const std::vector<double>& observations, const TpeSamplerOptions& options) {
  mus_ = observations;
  mus_.push_back(0.5);
  const size_t m = mus_.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return mus_[a] < mus_[b]; });
  std::vector<double> ends(m + 2);
  ends[0] = 0.0;
  ends[m + 1] = 1.0;
  for (size_t i = 0; i < m; ++i) ends[i + 1] = mus_[order[i]];
  std::vector<double> sorted_sigmas(m);
  for (size_t i = 0; i < m; ++i) sorted_sigmas[i] = std::max(ends[i + 1] - ends[i], ends[i + 2] - ends[i + 1]);
  if (!options.consider_endpoints && m >= 2) {
    sorted_sigmas[0] = ends[2] - ends[1];
    sorted_sigmas[m - 1] = ends[m] - ends[m - 1];
  }
  sigmas_.assign(m, 0.0);
  for (size_t i = 0; i < m; ++i) sigmas_[order[i]] = sorted_sigmas[i];
  const double min_sigma = options.consider_magic_clip ? 1.0 / std::min(100.0, 1.0 + static_cast<double>(m)) : 1e-12;
  for (double& s : sigmas_) s = std::clamp(s, min_sigma, 1.0);
  sigmas_[m - 1] = 1.0;  // the prior
}

// Optuna's _calculate_categorical_params: prior_weight / (n + 1) on every choice plus 1 on the
// observed one, per component, normalized (the prior's row is uniform).
void ParzenEstimator::fit_categorical(const std::vector<double>& observations, const TpeSamplerOptions& options) {
  const size_t n = observations.size();
  const double base = options.prior_weight / static_cast<double>(n + 1);
  choice_probs_.assign(n + 1, std::vector<double>(dim_.cells, base));
  for (size_t j = 0; j < n; ++j) choice_probs_[j][cell_of(observations[j])] += 1.0;
  for (auto& row : choice_probs_) {
    const double s = std::accumulate(row.begin(), row.end(), 0.0);
    for (double& p : row) p /= s;
  }
}

double ParzenEstimator::sample(Rng& rng) const {
  const size_t j = draw(weights_, rng);
  if (dim_.kind == ParzenDimension::Kind::kCategorical) return centre(draw(choice_probs_[j], rng));
  // Truncated normal on [0, 1] by rejection: mu is in [0, 1] and sigma <= 1, so at least a third
  // of the mass is inside.
  double x = 0.5;
  bool inside = false;
  for (int tries = 0; tries < 1000 && !inside; ++tries) {
    x = mus_[j] + sigmas_[j] * standard_normal(rng);
    inside = x >= 0.0 && x <= 1.0;
  }
  if (!inside) x = uniform01(rng);
  if (dim_.kind == ParzenDimension::Kind::kGrid) x = centre(cell_of(x));
  return x;
}

double ParzenEstimator::log_pdf(double x) const {
  if (dim_.kind == ParzenDimension::Kind::kCategorical) {
    const size_t c = cell_of(x);
    double p = 0.0;
    for (size_t j = 0; j < weights_.size(); ++j) p += weights_[j] * choice_probs_[j][c];
    return std::log(p);
  }
  std::vector<double> terms(weights_.size());
  for (size_t j = 0; j < weights_.size(); ++j) {
    const double mu = mus_[j], sigma = sigmas_[j];
    const double log_inside = std::log(gauss_mass(-mu / sigma, (1.0 - mu) / sigma));
    double log_p = 0.0;
    if (dim_.kind == ParzenDimension::Kind::kGrid) {
      const double half = 0.5 / static_cast<double>(dim_.cells);
      const double lo = std::max(x - half, 0.0), hi = std::min(x + half, 1.0);
      log_p = std::log(gauss_mass((lo - mu) / sigma, (hi - mu) / sigma));
    } else {
      const double z = (x - mu) / sigma;
      log_p = -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2.0 * std::numbers::pi);
    }
    terms[j] = std::log(weights_[j]) + log_p - log_inside;
  }
  return log_sum_exp(terms);
}

}  // namespace metadial::optim::detail
