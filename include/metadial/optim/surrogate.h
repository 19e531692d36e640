// A surrogate model of a loss over the unit cube, and the one acquisition search that every
// surrogate-based sampler can share: score many candidates by log expected improvement in one
// batch, then refine the best few by rounds of Gaussian perturbation with a shrinking radius (no
// gradients, so a surrogate needs nothing but batched predictions; the learned PFN of
// optim/learned/pfn.h has none to give).
//
//   Surrogate      predict_batch(xs) -> posterior mean and latent variance at each point
//   GpSurrogate    the GaussianProcess (gp.h) behind that interface
//   maximize_log_ei(surrogate, best, anchors, options, rng, space)
//     candidates   n_candidates points: 3/4 uniform in the cube, 1/4 perturbations of the anchors
//                  (the caller's best observed points) with sd 10^U[-3, -1]; all scored in one call
//     refinement   the n_local best distinct candidates each get `per_round` Gaussian perturbations
//                  of sd radius, radius * shrink, ... for `rounds` rounds (all starts in one call per
//                  round); a start moves to its best perturbation when that improves it
//     result       every scored point with its log-EI, best first
// With a search space, points are snapped to it (space.snap) before scoring and a discrete
// dimension is perturbed by redrawing it uniformly with probability 1/d instead of by noise.
//
// Torch-free; the GP sampler keeps its own L-BFGS-B refinement on the analytic gradient (gp.h).
#pragma once

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "metadial/core/random.h"

namespace metadial::space {
class SearchSpace;
}

namespace metadial::optim {

class GaussianProcess;

/// A model of a loss over [0,1]^dim: posterior means and (latent) variances in batches.
class Surrogate {
 public:
  virtual ~Surrogate() = default;
  virtual size_t dim() const = 0;
  /// Means and variances at m points (xs: m x dim, row-major; means, variances: m each).
  virtual void predict_batch(std::span<const double> xs, std::span<double> means,
                             std::span<double> variances) const = 0;
};

/// A fitted GaussianProcess as a Surrogate. Borrows the GP, which must outlive it.
class GpSurrogate final : public Surrogate {
 public:
  explicit GpSurrogate(const GaussianProcess& gp) : gp_(&gp) {}
  size_t dim() const override;
  void predict_batch(std::span<const double> xs, std::span<double> means, std::span<double> variances) const override;

 private:
  const GaussianProcess* gp_;
};

/// Settings of maximize_log_ei().
struct AcquisitionSearchOptions {
  int n_candidates = 512;        ///< points scored in the first batch (>= 1)
  int n_local = 4;               ///< best distinct candidates refined (>= 0)
  int rounds = 4;                ///< refinement rounds (>= 0)
  int per_round = 32;            ///< perturbations per start and round (>= 1)
  double radius = 0.1;           ///< sd of the first round's perturbations (cube widths, > 0)
  double shrink = 0.5;           ///< radius factor per round, in (0, 1]

  /// Throws InvalidArgument on out-of-range values.
  void validate() const;
};

/// A point of the cube and its acquisition value.
struct ScoredPoint {
  double value = 0.0;  ///< log EI (-infinity where the surrogate gave no finite value)
  std::vector<double> x;
};

/// Maximizes log EI below `best` (the best loss observed) of `surrogate` as described above;
/// `anchors` (k x dim, row-major; may be empty) are the points whose neighbourhoods are searched
/// too. Returns every point scored, best first (stable for ties). `space` may be null (no
/// snapping, every dimension continuous); otherwise its size must be surrogate.dim().
std::vector<ScoredPoint> maximize_log_ei(const Surrogate& surrogate, double best, std::span<const double> anchors,
                                         const AcquisitionSearchOptions& options, Rng& rng,
                                         const space::SearchSpace* space = nullptr);

}  // namespace metadial::optim
