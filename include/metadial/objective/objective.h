// What a trial evaluates. An Objective maps (configuration, fidelity) to (value, cost);
// it may report intermediate values through the Reporter, which also tells it when to stop: the
// study's pruner may end the trial there (Reporter::report throws TrialPruned).
//
// Thread safety: optimize() with jobs > 1 calls evaluate() concurrently from several threads
// on one Objective; implementations must allow that (built-ins keep no mutable state).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metadial/space/search_space.h"

namespace metadial::objective {

/// Channel from a running evaluation back to the study.
class Reporter {
 public:
  virtual ~Reporter() = default;
  /// Records an intermediate value at a step. Throws TrialPruned if the study prunes the
  /// trial, and metadial::Error if the trial ran past its deadline.
  virtual void report(int64_t step, double value) = 0;
  /// Seconds left before the trial's deadline (infinity when it has none).
  virtual double seconds_left() const = 0;
  /// The trial's number within its study and its storage id (for logs and environment).
  virtual int64_t trial_number() const = 0;
  virtual int64_t trial_id() const = 0;
};

/// A Reporter that records nothing and never stops (for direct calls and tests).
class NullReporter final : public Reporter {
 public:
  void report(int64_t, double) override {}
  double seconds_left() const override;
  int64_t trial_number() const override { return 0; }
  int64_t trial_id() const override { return 0; }
};

/// Result of one evaluation. `cost` is what the study's cost budget is charged
/// (the fidelity's cost for test functions, the measured or reported cost for commands).
struct Evaluation {
  double value = 0.0;
  double cost = 1.0;
};

/// One fidelity of an objective: a name and its cost per evaluation.
struct Fidelity {
  std::string name;
  double cost = 1.0;
};

class Objective {
 public:
  virtual ~Objective() = default;
  /// Evaluates a configuration at a fidelity (0 = cheapest, n_fidelities()-1 = the target).
  /// Throws metadial::Error (or anything) on failure; returning NaN also counts as failure.
  virtual Evaluation evaluate(const space::Config& config, int fidelity, Reporter& reporter) = 0;
  /// The fidelities, cheapest first; the last one is the target. At least one.
  virtual std::vector<Fidelity> fidelities() const { return {Fidelity{"full", 1.0}}; }
  /// The objective's own search space, if it defines one (built-in functions do).
  virtual std::optional<space::SearchSpace> default_space() const { return std::nullopt; }
  /// The known optimum at the target fidelity, if any (simple regret = best - optimum).
  virtual std::optional<double> known_optimum() const { return std::nullopt; }
  /// Whether smaller values are better (true for every built-in test function).
  virtual bool minimize() const { return true; }
  /// Whether evaluate() reports intermediate values (a learning curve), so that a pruner can act.
  virtual bool reports_intermediate() const { return false; }
  /// The step at which an evaluation at the target fidelity ends (its last report, or the step its
  /// result would have), when the objective knows it: a trial is never pruned there or later, and
  /// it sets Hyperband's default max_resource (max_step + 1).
  virtual std::optional<int64_t> max_step() const { return std::nullopt; }
  virtual std::string name() const = 0;
};

}  // namespace metadial::objective
