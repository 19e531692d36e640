// A synthetic learning-curve objective ("learning_curve") for testing and measuring pruners. A
// trial "trains" for `steps` steps and reports its loss after each one:
//
//   y(u, t) = q(u) + 1 / (1 + t),   q(u) = sum_i (u_i - 0.3)^2,   t = 0 .. steps - 1
//
// Every curve has the same shape, so configurations rank the same at every step: which trials a
// pruner should stop, and at which rung, is known in advance. Parameters x0..x{d-1} in [0,1] (as
// the test functions); the minimum 1/steps is at u = (0.3, ..., 0.3). A complete trial costs 1,
// one stopped after step t costs (t + 1) / steps. One fidelity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include <nlohmann/json.hpp>

#include "metadial/objective/test_functions.h"

namespace metadial::objective {

/// Settings of LearningCurve ([objective] keys of the same names).
struct LearningCurveOptions {
  int64_t steps = 100;  ///< steps of a complete trial, at least 2
  size_t dim = 2;       ///< parameters x0..x{dim-1}, 1..20
};

class LearningCurve final : public TestFunction {
 public:
  /// Throws InvalidArgument on steps < 2 or dim outside 1..20.
  explicit LearningCurve(LearningCurveOptions options = {});

  /// Reports y(u, t) at step t = 0, 1, ..., steps - 1 and returns the last one with cost 1;
  /// stopped after step t (TrialPruned), rethrows it with cost (t + 1) / steps.
  Evaluation evaluate(const space::Config& config, int fidelity, Reporter& reporter) override;
  bool reports_intermediate() const override { return true; }
  std::optional<int64_t> max_step() const override { return steps_ - 1; }

  int64_t steps() const { return steps_; }
  /// y(u, t); u is validated as value() does.
  double value_at(std::span<const double> u, int64_t step) const;

 protected:
  /// The value at the last step.
  double compute(std::span<const double> u, int fidelity) const override;

 private:
  int64_t steps_;
};

/// Reads the options {"steps": N, "dim": D} (InvalidArgument on unknown keys or bad values).
std::unique_ptr<LearningCurve> make_learning_curve(const nlohmann::json& options = nullptr);

}  // namespace metadial::objective
