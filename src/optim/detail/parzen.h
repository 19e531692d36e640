// One parameter's Parzen estimator of TPE (tpe_sampler.h), in the search space's unit cube: what
// Optuna 3.1's _ParzenEstimator computes for one parameter (univariate, consider_prior = True).
#pragma once

#include <cstddef>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/optim/tpe_sampler.h"
#include "metadial/space/search_space.h"

namespace metadial::optim::detail {

/// How one parameter is modelled.
struct ParzenDimension {
  enum class Kind {
    kContinuous,   ///< a density on [0, 1] (floats, log-scaled ints, ints of more than 2^20 values)
    kGrid,         ///< `cells` equal cells: a density is the mass of a value's cell (linear ints)
    kCategorical,  ///< `cells` choices
  };
  Kind kind = Kind::kContinuous;
  size_t cells = 0;

  /// The model of parameter i of `space`.
  static ParzenDimension of(const space::SearchSpace& space, size_t i);
};

/// Optuna's default_weights for n observations in number order: 1 each while n < 25; else a ramp
/// from 1/n to 1 over the n - 25 oldest, then 1 for the 25 newest.
std::vector<double> tpe_default_weights(size_t n);

/// A weighted mixture of one component per observation and a prior (last): truncated normals on
/// [0, 1] for numerical dimensions, distributions over the choices for a categorical one.
class ParzenEstimator {
 public:
  /// `observations`: unit-cube coordinates, in trial-number order.
  ParzenEstimator(const ParzenDimension& dim, const std::vector<double>& observations,
                  const TpeSamplerOptions& options);

  /// A draw (a cell's or a choice's centre for discrete dimensions).
  double sample(Rng& rng) const;
  /// The log density at x (log mass of its cell or choice for discrete dimensions).
  double log_pdf(double x) const;

  /// The components' normalized weights, means and bandwidths (the prior last; no means and
  /// bandwidths for a categorical dimension).
  const std::vector<double>& weights() const { return weights_; }
  const std::vector<double>& mus() const { return mus_; }
  const std::vector<double>& sigmas() const { return sigmas_; }

 private:
  size_t cell_of(double x) const;
  double centre(size_t cell) const;
  void fit_numerical(const std::vector<double>& observations, const TpeSamplerOptions& options);
  void fit_categorical(const std::vector<double>& observations, const TpeSamplerOptions& options);

  ParzenDimension dim_;
  std::vector<double> weights_;
  std::vector<double> mus_, sigmas_;
  std::vector<std::vector<double>> choice_probs_;  ///< per component, for a categorical dimension
};

}  // namespace metadial::optim::detail
