// Baselines for the online controller, on the same Target interface and charged the same way
// (training steps, every network counted):
//
//   run_fixed      one training with one fixed tuple (the target's defaults: "fixed default")
//   run_cosine     one training whose learning rate follows a cosine decay, the rest fixed
//   search_fixed   the best fixed tuple of N full trainings proposed by a sampler of optim/
//                  (random search, GP-BO, ...) over ChoiceSpace::search_space(), chosen by
//                  validation score; the study engine sits above online/ in the layering, so
//                  this drives the sampler directly with the trial records it reads
//   run_pbt        population-based training (Jaderberg et al. 2017): P members trained side by
//                  side; every interval the bottom quarter (by validation score) copies the weights
//                  and hyperparameters of a random member of the top quarter, then each copied
//                  hyperparameter is resampled from its choices (probability resample_probability)
//                  or multiplied by 0.8 or 1.2 and snapped to the nearest choice (moving one choice
//                  over when that snaps back to the same value)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "metadial/online/run.h"
#include "metadial/online/target.h"

namespace metadial::optim {
class Sampler;
}

namespace metadial::online {

/// One training from reset(run.seed) with `tuple` throughout (schedule entries every interval).
RunResult run_fixed(Target& target, const Tuple& tuple, const RunOptions& run);

/// One training whose learning rate at step s is lr_min + (lr_max - lr_min) (1 + cos(pi s / L)) / 2,
/// updated every interval; the other hyperparameters are `base`'s. Throws InvalidArgument when
/// lr_min < 0 or lr_max <= lr_min.
RunResult run_cosine(Target& target, const Tuple& base, double lr_max, double lr_min, const RunOptions& run);

/// One full training of a search, in the order run.
struct SearchTrial {
  Tuple tuple;
  double validation = 0.0;
  double test = 0.0;
};

/// What a search of fixed tuples found.
struct SearchResult {
  std::vector<SearchTrial> trials;  ///< every training, in order
  size_t best = 0;                  ///< index of the best validation score
  int64_t steps = 0;                ///< training steps spent in all
  double wall_s = 0.0;
  /// Test score of the best-by-validation trial among the first n (n >= 1).
  double best_test_after(size_t n) const;
  const SearchTrial& best_trial() const { return trials.at(best); }
};

/// `n_trainings` full trainings of clones of `prototype` (seed run.seed each, so tuples are
/// compared on the same initial weights and data order), tuples proposed by `sampler` over
/// space.search_space() (maximizing the validation score), with study seed `search_seed`.
SearchResult search_fixed(const Target& prototype, const ChoiceSpace& space, optim::Sampler& sampler, int n_trainings,
                          const RunOptions& run, uint64_t search_seed);

/// Options of population-based training.
struct PbtOptions {
  int population = 8;                 ///< members trained side by side (>= 2)
  double quantile = 0.25;             ///< the bottom / top fraction that is replaced / copied
  double resample_probability = 0.25; ///< per hyperparameter: resample instead of perturbing
  uint64_t seed = 0;                  ///< initial tuples, exploit and explore draws

  /// Throws InvalidArgument on population < 2 or probabilities outside [0, 1], quantile outside (0, 0.5].
  void validate() const;
};

/// Population-based training of clones of `prototype` (member i reset from derive_seed(run.seed,
/// {i}), initial tuples drawn uniformly from `space`); exploit/explore every run.interval steps.
/// Result: the best member's final validation and test scores and its schedule (inherited
/// history included); steps = population * total_steps.
RunResult run_pbt(const Target& prototype, const ChoiceSpace& space, const PbtOptions& pbt, const RunOptions& run);

/// The PBT explore step on one tuple's choice indices (exposed for tests).
std::vector<int64_t> pbt_explore(const ChoiceSpace& space, std::vector<int64_t> indices, double resample_probability,
                                 uint64_t seed);

}  // namespace metadial::online
