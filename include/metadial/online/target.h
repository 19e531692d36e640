// What the online controller drives: a Target is a network in training whose hyperparameters may
// change every few steps. The controller (controller.h) and every baseline (baselines.h) go
// through this one interface and are charged the same way: one training step = one step.
//
//   ChoiceSpace   the hyperparameters the controller sets and the values it may pick from
//                 (from a config's [hyperparameters] table); its search_space() is the same
//                 choice grid as a space::SearchSpace of integer indices, for the samplers
//   Target        reset(seed) -> train(tuple, K steps) -> validation_score() / stats() -> ...
//   SyntheticTarget  a toy target whose gain per step is highest for one learning rate (tests)
//
// Torch-free: the LibTorch targets live behind pimpl (image_target.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "metadial/space/search_space.h"

namespace metadial::online {

/// Hyperparameter name -> value, e.g. {learning_rate: 0.01, batch_size: 64}.
using Tuple = std::map<std::string, double>;

/// "{batch_size: 64, learning_rate: 0.01}".
std::string to_string(const Tuple& t);

/// One hyperparameter and the values it may take.
struct HyperChoice {
  std::string name;
  std::vector<double> values;
};

/// The hyperparameters the controller sets, in a fixed order, each with its list of choices.
class ChoiceSpace {
 public:
  /// Adds a hyperparameter; throws InvalidArgument on an empty name or choice list, a duplicate
  /// name, a non-finite or repeated value.
  ChoiceSpace& add(std::string name, std::vector<double> values);

  size_t size() const { return choices_.size(); }
  bool empty() const { return choices_.empty(); }
  const std::vector<HyperChoice>& choices() const { return choices_; }
  const HyperChoice& at(size_t i) const { return choices_.at(i); }
  /// Total number of choices over all hyperparameters (the width of a one-hot tuple).
  int64_t total_choices() const;

  /// The tuple of the given choice indices (one per hyperparameter, in order).
  Tuple tuple(std::span<const int64_t> indices) const;
  /// Per hyperparameter, the index of the choice nearest to t's value (in log distance when both
  /// are positive); a hyperparameter missing from t takes index 0.
  std::vector<int64_t> nearest(const Tuple& t) const;
  /// The choice grid as a search space: one integer parameter "name" in [0, k-1] per hyperparameter.
  space::SearchSpace search_space() const;
  /// The tuple of a configuration of search_space().
  Tuple from_config(const space::Config& c) const;

  /// Throws InvalidArgument naming the first hyperparameter `target_name` does not accept
  /// (`accepted` holds its names) and listing what it accepts.
  void check_accepted(const std::vector<std::string>& accepted, const std::string& target_name) const;

 private:
  std::vector<HyperChoice> choices_;
};

/// What the controller sees of a target after an interval: statistics of the final-layer
/// outputs on the validation set and of the training loss.
struct TargetStats {
  double output_mean = 0.0;  ///< mean of the logits
  double output_std = 0.0;   ///< standard deviation of the logits
  double entropy = 0.0;      ///< mean entropy of the softmax (nats)
  double max_prob = 0.0;     ///< mean largest softmax probability
  double recent_loss = 0.0;  ///< mean training loss over the last train() call

  /// The five numbers in the order above.
  std::vector<double> features() const;
};

/// Number of entries of TargetStats::features().
inline constexpr int kStatFeatures = 5;

/// A network in training whose hyperparameters may change between calls to train().
/// Stateful: copying is explicit (clone()).
class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  /// The hyperparameters train() accepts, with the values used where a tuple omits one.
  virtual Tuple defaults() const = 0;
  /// Fresh weights, optimizer state and data order from `seed`; steps_done() back to 0.
  virtual void reset(uint64_t seed) = 0;
  /// Trains `steps` steps with the hyperparameters of `hp` (defaults for missing ones).
  /// Throws InvalidArgument on a name defaults() lacks or a value out of its domain.
  virtual void train(const Tuple& hp, int64_t steps) = 0;
  /// Validation score (accuracy; higher is better); also refreshes stats().
  virtual double validation_score() = 0;
  /// Test score (accuracy) of the current weights.
  virtual double test_score() = 0;
  /// Statistics from the last validation_score() and train() calls.
  virtual TargetStats stats() const = 0;
  /// Training steps since reset().
  virtual int64_t steps_done() const = 0;
  /// An independent copy with the same weights, optimizer state, step count and data order
  /// (population-based training copies the top members this way).
  virtual std::unique_ptr<Target> clone() const = 0;

  /// The names of defaults().
  std::vector<std::string> accepted() const;
};

/// Options of SyntheticTarget.
struct SyntheticOptions {
  double best_learning_rate = 0.01;  ///< the learning rate with the largest gain per step
  double gain = 1e-3;                ///< score gained per step at the best learning rate
  double width = 0.5;                ///< decades of learning rate over which the gain halves (about)
  double noise = 0.0;                ///< standard deviation of the noise added per train() call
};

/// A toy target with a known best choice: each step adds gain * exp(-(log10(lr / best) / width)^2)
/// to the score (plus Gaussian noise per train() call); the other hyperparameters ("momentum")
/// are accepted and ignored. Test score = validation score.
class SyntheticTarget final : public Target {
 public:
  explicit SyntheticTarget(SyntheticOptions options = {});
  std::string name() const override { return "synthetic"; }
  Tuple defaults() const override { return {{"learning_rate", 1e-3}, {"momentum", 0.0}}; }
  void reset(uint64_t seed) override;
  void train(const Tuple& hp, int64_t steps) override;
  double validation_score() override { return score_; }
  double test_score() override { return score_; }
  TargetStats stats() const override;
  int64_t steps_done() const override { return steps_; }
  std::unique_ptr<Target> clone() const override { return std::make_unique<SyntheticTarget>(*this); }
  /// Expected gain per step of a learning rate.
  double gain_per_step(double learning_rate) const;

 private:
  SyntheticOptions options_;
  uint64_t seed_ = 0;
  int64_t steps_ = 0;
  int64_t calls_ = 0;
  double score_ = 0.0;
  double last_loss_ = 1.0;
};

/// Resolves a tuple against a target's defaults: every default, overridden by t's values.
/// Throws InvalidArgument on a name the defaults lack (naming the target and what it accepts).
Tuple resolve(const Tuple& t, const Tuple& defaults, const std::string& target_name);

}  // namespace metadial::online
