// A Gaussian-process regression model for Bayesian optimization, reusable by every sampler
// that needs a surrogate (GP-BO, multi-fidelity baselines, Hyp-RL baselines).
//
// Model: y = f(x) + eps, f ~ GP(0, k), eps ~ N(0, noise), with the Matern-5/2 ARD kernel
//   k(x, x') = amplitude * (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r),
//   r^2 = sum_i (x_i - x'_i)^2 / lengthscale_i^2,
// on targets standardized to mean 0 and sd 1 (GpOptions::standardize; predictions are given
// back in the original units). Hyperparameters are fitted by maximizing the log marginal
// likelihood plus a weak log prior on the lengthscales (MAP), in log space, with L-BFGS-B
// inside box bounds and several starts (see GpOptions for the bounds and the prior).
//
// Inputs are meant to lie in the unit cube (bounds and prior assume so). The numerical work
// (Eigen, LBFGSpp) stays in gp.cpp; this header shows only standard types.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "metadial/core/random.h"

namespace metadial::optim {

/// Kernel and noise hyperparameters, in natural (not log) units.
struct GpHyperparameters {
  double amplitude = 1.0;            ///< signal variance of the kernel
  std::vector<double> lengthscales;  ///< one per input dimension
  double noise = 1e-3;               ///< variance of the Gaussian observation noise

  /// Log-parameters in the order the gradient uses: [log amplitude, log l_1..l_d, log noise].
  std::vector<double> to_log() const;
  static GpHyperparameters from_log(std::span<const double> theta);
};

/// Settings of a GaussianProcess. The bounds apply to standardized targets and unit-cube inputs:
/// a lengthscale below 0.01 would let the model interpolate between two neighbouring points of a
/// 100-point grid with nothing, and above 20 (20 cube widths) the kernel is flat over the cube
/// anyway (the dimension is irrelevant); an amplitude of 0.05..20 brackets the unit variance of
/// standardized data generously; a noise variance of 1e-6 keeps the Cholesky factor well
/// conditioned (jitter) and 0.5 stops the model from explaining more than half of the variance
/// of the data as noise, which would leave BO nothing to model.
struct GpOptions {
  bool standardize = true;   ///< fit on (y - mean) / sd
  int n_restarts = 5;        ///< L-BFGS-B starts: one from the default point, the rest random
  int max_iterations = 100;  ///< per L-BFGS-B start
  double min_lengthscale = 0.01, max_lengthscale = 20.0;
  double min_amplitude = 0.05, max_amplitude = 20.0;
  double min_noise = 1e-6, max_noise = 0.5;
  /// Gaussian prior on log lengthscale, N(sqrt(2) + log(d) / 2, 3): the dimension-scaled prior of
  /// Hvarfner, Hellsten & Nardi (2024), BoTorch's default since 0.12, taken as a density on the
  /// log-parameter. Weak (3 nats between l = 0.1 and its mode), it keeps lengthscales of
  /// dimensions the data says little about long instead of arbitrarily short.
  bool lengthscale_prior = true;
  /// Validates the bounds (min < max, positive); throws InvalidArgument.
  void validate() const;
};

/// Posterior of f at one point, in the units of the targets.
struct GpPrediction {
  double mean = 0.0;
  double variance = 0.0;  ///< latent (noise-free) variance; add noise() for a new observation
};

/// A GP over a `dim`-dimensional input space. Move-only.
class GaussianProcess {
 public:
  explicit GaussianProcess(size_t dim, GpOptions options = {});
  ~GaussianProcess();
  GaussianProcess(GaussianProcess&&) noexcept;
  GaussianProcess& operator=(GaussianProcess&&) noexcept;
  GaussianProcess(const GaussianProcess&) = delete;
  GaussianProcess& operator=(const GaussianProcess&) = delete;

  /// Fits the hyperparameters to (x, y) (x row-major, n x dim; n >= 1) by MAP with random
  /// restarts drawn from `rng`, then conditions on the data. Throws InvalidArgument on sizes
  /// that do not match or on non-finite values.
  void fit(std::span<const double> x, std::span<const double> y, Rng& rng);
  /// Conditions on (x, y) with the given hyperparameters (no fitting).
  void condition(std::span<const double> x, std::span<const double> y, const GpHyperparameters& h);

  size_t dim() const;
  size_t size() const;  ///< number of observations conditioned on
  const GpOptions& options() const;
  const GpHyperparameters& hyperparameters() const;
  /// Noise variance in the units of the targets (hyperparameters().noise * sd^2).
  double noise() const;

  /// Log marginal likelihood of the (standardized) targets under the current hyperparameters.
  double log_marginal_likelihood() const;
  /// Log marginal likelihood of the current data under `h`, and if `grad` is given its
  /// gradient with respect to h.to_log() (size dim + 2).
  double log_marginal_likelihood(const GpHyperparameters& h, std::vector<double>* grad) const;

  /// Posterior at x (size dim).
  GpPrediction predict(std::span<const double> x) const;
  /// Posterior at x and the gradients of mean and variance with respect to x (size dim each).
  GpPrediction predict(std::span<const double> x, std::span<double> d_mean, std::span<double> d_variance) const;
  /// Posterior means and variances at m points (xs row-major, m x dim); faster than m calls.
  void predict_batch(std::span<const double> xs, std::span<double> means, std::span<double> variances) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace metadial::optim
