// Meta-training data for learned black-box optimizers: random functions on [0,1]^d drawn from
// Gaussian-process priors through random Fourier features (Rahimi & Recht 2007), as Chen et al.
// (2017, "Learning to learn without gradient descent by gradient descent") train their LSTM
// optimizers, and multi-fidelity families of such functions (the two-level LSTM's training data).
//
//   f(x) = offset + sum_j weight_j cos(omega_j . x + phase_j),   j = 1..D
//
// With omega_j drawn from the kernel's spectral density, phase_j ~ U[0, 2 pi) and
// weight_j ~ N(0, 2 sigma^2 / D), Cov(f(x), f(x')) = k(x - x') exactly (over draws), so a sample is
// a cheap, smooth, everywhere-differentiable function. RBF: omega ~ N(0, I / l^2). Matern-nu:
// omega = z / l * sqrt(2 nu / chi2_{2 nu}) (a multivariate Student-t), nu = 3/2 or 5/2.
// Normalized samples are shifted and scaled to mean 0, sd 1 over uniform points of the cube, and
// carry an estimate of their minimum (best of those points refined by projected gradient
// descent) for regret.
//
// Two more families widen the meta-training prior (issue 14), each drawn per function:
//   anisotropy a > 1: per-dimension lengthscales l_k = l * a^U[-1, 1] (ARD; a = 1: isotropic);
//   bumps (with probability bump_fraction): f(x) = sum_{i=1..n} w_i exp(-1/2 sum_k ((x_k - c_ik) / s_ik)^2)
//     + background * g(x), n ~ U{1..max_bumps}, c_i ~ U[0,1]^d, s_ik log-uniform in
//     [min_bump_width, max_bump_width], w_i = -U[0.3, 1] (a basin) with probability 0.8 and
//     +U[0.3, 1] (a hill) otherwise, g a sample of the GP family above: narrow basins of several
//     depths on a smooth background, none of them a named benchmark's closed form.
// Both are then normalized like the GP family.
//
// Multi-fidelity: the target f_M is a normalized sample; a lower fidelity m is
//   f_m = rho_m f_M + sqrt(1 - rho_m^2) g_m + bias_m,
// where g_m is an independent sample of the same kernel made orthogonal to f_M (and renormalized)
// on the normalization points, so the correlation of f_m with f_M over the cube is rho_m, and
// bias_m ~ N(0, bias_sd^2). Both terms are RFF sums, so f_m is one RffFunction too.
// This module is torch-free: the learned optimizer's trainer evaluates it in plain C++.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "metadial/core/random.h"

namespace metadial::meta {

/// Covariance functions of the prior.
enum class PriorKernel { kRbf, kMatern32, kMatern52 };

/// "rbf", "matern32", "matern52".
const char* to_string(PriorKernel kernel);
/// Parses to_string()'s names; throws InvalidArgument naming the known ones.
PriorKernel kernel_from_string(const std::string& name);

/// k(r) / sigma^2 of `kernel` at scaled distance r = |x - x'| / l (Matern with sqrt(2 nu) r).
double kernel_correlation(PriorKernel kernel, double r);

/// Settings of the function distribution p(f).
struct GpPriorOptions {
  int dim = 1;                                                   ///< d, 1..16
  std::vector<PriorKernel> kernels = {PriorKernel::kRbf, PriorKernel::kMatern52};  ///< drawn uniformly
  double min_lengthscale = 0.1;   ///< lengthscale drawn log-uniformly in [min, max] (unit-cube widths)
  double max_lengthscale = 0.4;
  bool dim_scaled = true;         ///< multiply the lengthscale range by sqrt(dim) (longer in more
                                  ///< dimensions, as the dimension-scaled priors of BO do)
  double min_variance = 0.5;      ///< sigma^2 drawn log-uniformly in [min, max] (before normalization)
  double max_variance = 2.0;
  int n_features = 64;            ///< D
  bool normalize = true;          ///< mean 0, sd 1 over the normalization points
  int n_normalize = 128;          ///< uniform points for normalization and the minimum estimate
  int refine_steps = 0;           ///< projected-gradient steps refining the minimum (0: none)
  double anisotropy = 1.0;        ///< >= 1: per-dimension lengthscale factors a^U[-1, 1]
  double bump_fraction = 0.0;     ///< probability that a function is of the bumps family
  int max_bumps = 8;              ///< bumps family: number of bumps U{1..max_bumps}
  double min_bump_width = 0.05;   ///< bumps family: per-dimension widths log-uniform in [min, max]
  double max_bump_width = 0.4;
  double bump_background = 0.3;   ///< bumps family: weight of the GP background

  /// Throws InvalidArgument on out-of-range values.
  void validate() const;
};

/// One sampled function (a sum of D cosine features), with what it was drawn from.
struct RffFunction {
  int dim = 0;
  std::vector<double> omega;   ///< D x dim, row-major
  std::vector<double> phase;   ///< D
  std::vector<double> weight;  ///< D
  double offset = 0.0;
  std::vector<double> bump_centre;  ///< n_bumps x dim, row-major (Gaussian bumps; empty: none)
  std::vector<double> bump_scale;   ///< n_bumps x dim: 1 / width
  std::vector<double> bump_weight;  ///< n_bumps

  PriorKernel kernel = PriorKernel::kRbf;
  std::string family = "gp";  ///< "gp" or "bumps"
  double lengthscale = 0.0;   ///< of the prior it was drawn from (the base, before anisotropy)
  double variance = 0.0;      ///< sigma^2 of that prior (before normalization)
  double minimum = 0.0;       ///< estimated global minimum over the cube (normalized samples)
  std::vector<double> argmin; ///< where (size dim)

  size_t n_features() const { return phase.size(); }
  size_t n_bumps() const { return bump_weight.size(); }
  /// f(x), x of size dim.
  double value(std::span<const double> x) const;
  /// f(x) and its gradient (size dim).
  double value(std::span<const double> x, std::span<double> grad) const;
  /// a * this + b * other + c: one RffFunction with both feature and bump sets (same dim).
  RffFunction combine(double a, const RffFunction& other, double b, double c) const;
};

/// Draws one function. Throws InvalidArgument on invalid options.
RffFunction sample_gp_function(const GpPriorOptions& options, Rng& rng);

/// Lower fidelities of a multi-fidelity family.
struct FidelityOptions {
  int fidelities = 2;                ///< M >= 1 (1: the target only)
  std::vector<double> costs;         ///< cheapest first; empty = 10^m (1, 10, 100, ...)
  double low_correlation = 0.8;      ///< rho of the cheapest fidelity; rho_m rises linearly to 1
  double bias_sd = 0.2;              ///< sd of the constant bias of a lower fidelity

  /// Throws InvalidArgument on out-of-range values.
  void validate() const;
  /// The costs, defaults filled in.
  std::vector<double> cost_vector() const;
  /// rho_m for m = 0..M-1 (the last is 1).
  std::vector<double> correlations() const;
};

/// A family f_0 (cheapest) .. f_{M-1} (target) with its costs.
struct MultiFidelityFunction {
  std::vector<RffFunction> levels;  ///< levels.back() is the target
  std::vector<double> costs;

  int n_fidelities() const { return static_cast<int>(levels.size()); }
  const RffFunction& target() const { return levels.back(); }
};

/// Draws a family: a normalized target (options.normalize is implied) and M - 1 lower fidelities.
MultiFidelityFunction sample_multi_fidelity(const GpPriorOptions& options, const FidelityOptions& fidelity, Rng& rng);

/// Pearson correlation of two functions over n uniform points of the cube.
double correlation(const RffFunction& a, const RffFunction& b, int n, Rng& rng);

}  // namespace metadial::meta
