// How the `lstm` / `lstm-mf` samplers make a study's seed matter (issue 14, part 3), without
// retraining: a model whose policy is (nearly) deterministic -- the `--deterministic` gradient
// models, or any model with greedy = true -- would otherwise run the same trajectory for every
// seed.
//
//   symmetry     the model works in a view of the unit cube chosen by the study's seed: its axes
//                permuted and some of them mirrored (x_k -> 1 - x_k). The meta-training prior
//                (a stationary, isotropic GP prior on [0,1]^d) is invariant under these 2^d d!
//                maps, so every view is an equally good optimizer on the prior; on one fixed
//                function they start from different corners and follow different paths.
//   first point  the first proposal of a study (the model has seen nothing yet) is uniform in the
//                cube, drawn from that trial's seed: this gives every seed its own run even where
//                the views are few (d = 1: 2 views) or a model proposes the same first point in
//                every view (the centre).
//
// Both apply only where the proposals are deterministic (a `--deterministic` gradient model, or
// greedy = true): a stochastic model's proposals already depend on the seed through its sampling
// noise, and its runs stay what they were (the reproduced tables were made with them).
//
// Both are functions of the seeds alone, so the same seed still gives the same numbers, and the
// history's points are mapped into the model's view when replayed, so a resumed study goes on
// exactly as an uninterrupted one.
#pragma once

#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "metadial/core/random.h"

namespace metadial::optim::learned::detail {

/// A symmetry of the unit cube: model coordinate k is study coordinate perm[k], mirrored if flip[k].
class CubeView {
 public:
  CubeView() = default;
  /// The identity view of a d-dimensional cube (the model sees the study's coordinates).
  static CubeView identity(int d) {
    CubeView v;
    v.perm_.resize(static_cast<size_t>(d));
    std::iota(v.perm_.begin(), v.perm_.end(), 0);
    v.flip_.assign(static_cast<size_t>(d), 0);
    return v;
  }
  /// The view of study seed `study_seed` for a d-dimensional cube (uniform over the 2^d d! maps).
  CubeView(int d, uint64_t study_seed) : perm_(static_cast<size_t>(d)), flip_(static_cast<size_t>(d)) {
    Rng rng(derive_seed(study_seed, {stream("cubeview")}));
    std::iota(perm_.begin(), perm_.end(), 0);
    shuffle(perm_, rng);
    for (auto& f : flip_) f = uniform01(rng) < 0.5 ? 1 : 0;
  }
  /// Study point -> the model's view.
  void to_model(std::span<const double> x, std::span<double> out) const {
    for (size_t k = 0; k < perm_.size(); ++k) {
      const double v = x[static_cast<size_t>(perm_[k])];
      out[k] = flip_[k] ? 1.0 - v : v;
    }
  }
  /// The model's view -> study point.
  void from_model(std::span<const double> y, std::span<double> out) const {
    for (size_t k = 0; k < perm_.size(); ++k) out[static_cast<size_t>(perm_[k])] = flip_[k] ? 1.0 - y[k] : y[k];
  }
  bool operator==(const CubeView&) const = default;

 private:
  std::vector<int> perm_;
  std::vector<char> flip_;
};

/// The first point of a study: uniform in [0,1]^d from the first trial's seed.
inline std::vector<double> first_point(int d, uint64_t trial_seed) {
  Rng rng(derive_seed(trial_seed, {stream("first")}));
  std::vector<double> x(static_cast<size_t>(d));
  for (auto& v : x) v = uniform01(rng);
  return x;
}

}  // namespace metadial::optim::learned::detail
