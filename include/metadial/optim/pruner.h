// Pruners stop unpromising trials early, from the intermediate values (learning curves) trials
// report. When a running trial reports a value, the study asks its pruner whether to stop it; if
// so Reporter::report throws TrialPruned, the trial is stored as pruned with the cost it spent
// so far, and the study goes on. Pruned trials count towards the trial budget.
//
// A pruner has settings and no run state: it decides from the study's stored trials (their states
// and intermediate values) and the study's direction alone, so several threads (--jobs), several
// processes on one storage and a study resumed after kill -9 get the decisions one uninterrupted
// run would get from the same stored trials. Steps are the objective's: training steps, epochs,
// dialogues, fidelity levels; the resource of successive halving is the step.
//
//   none        never prunes
//   median      Optuna's MedianPruner: percentile with percentile = 50
//   percentile  Optuna's PercentilePruner: after n_startup_trials complete trials and from step
//               n_warmup_steps on, at the first report of every interval_steps, stop a trial
//               whose best value so far is worse than the given percentile of the complete
//               trials' values at the same step (when at least n_min_trials have one there)
//   asha        asynchronous successive halving (Li et al. 2020, "A system for massively
//               parallel hyperparameter tuning"; Optuna's SuccessiveHalvingPruner): rungs at
//               steps r_k = min_resource * eta^(min_early_stopping_rate + k); a trial reaching
//               rung k continues only if its value there is among the best 1/eta of the values
//               every trial had at that rung (the best one while fewer than eta have one)
//   hyperband   Hyperband (Li et al. 2018) as brackets of asha (Optuna's HyperbandPruner): bracket
//               b runs asha with min_early_stopping_rate = b among the trials of its bracket; a
//               trial's bracket follows from a hash of its number, weighted by the brackets' sizes
//
// A rung's value of a trial is its value at the first step it reported at or past the rung (what
// Optuna stores as the trial's "completed_rung_k" attribute; here it is read off the stored
// intermediate values, so nothing but the values needs storing).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/study/trial.h"

namespace metadial::optim {

/// What a pruner knows besides the trials.
struct PrunerContext {
  study::Direction direction = study::Direction::kMinimize;
  /// The objective's last step at the target fidelity, when it says (Objective::max_step()): the
  /// study never asks at or past it (a trial that got there is done), and Hyperband's default
  /// max_resource is max_step + 1.
  std::optional<int64_t> max_step;
};

class Pruner {
 public:
  virtual ~Pruner() = default;
  /// Whether `trial` (running; its intermediate values up to the report just made, the last
  /// step being that report's) should stop now. `trials` are the study's trials as stored, in
  /// number order, of every state; they may hold `trial` itself (as stored), which a pruner
  /// recognizes by its number. Must be safe to call from several threads at once.
  virtual bool should_prune(const PrunerContext& ctx, const study::FrozenTrial& trial,
                            std::span<const study::FrozenTrial> trials) const = 0;
  /// Checks the settings against the study before its first trial (e.g. a first rung past the
  /// objective's last step); throws InvalidArgument naming the key.
  virtual void validate(const PrunerContext& ctx) const { (void)ctx; }
  virtual std::string name() const = 0;
  /// False for a pruner that never prunes ("none"): the study then neither reads trials for it nor
  /// asks it.
  virtual bool prunes() const { return true; }
};

/// Never prunes.
class NopPruner final : public Pruner {
 public:
  static std::unique_ptr<Pruner> create(const nlohmann::json& options);
  bool should_prune(const PrunerContext&, const study::FrozenTrial&,
                    std::span<const study::FrozenTrial>) const override {
    return false;
  }
  std::string name() const override { return "none"; }
  bool prunes() const override { return false; }
};

/// Options of PercentilePruner ([pruner] keys of the same names); Optuna's defaults.
struct PercentilePrunerOptions {
  double percentile = 50.0;      ///< in [0, 100]: the share of trials kept at a step (50: median)
  int64_t n_startup_trials = 5;  ///< no pruning until this many trials are complete
  int64_t n_warmup_steps = 0;    ///< no pruning of a trial before this step
  int64_t interval_steps = 1;    ///< steps between checks, counted from n_warmup_steps
  int64_t n_min_trials = 1;      ///< complete trials with a value at the step, needed to prune there

  /// Throws InvalidArgument on a value out of range.
  void validate() const;
};

/// "median" (percentile fixed at 50) or "percentile".
class PercentilePruner final : public Pruner {
 public:
  PercentilePruner(std::string name, PercentilePrunerOptions options);
  /// [pruner] keys: percentile (required), n_startup_trials, n_warmup_steps, interval_steps,
  /// n_min_trials.
  static std::unique_ptr<Pruner> create_percentile(const nlohmann::json& options);
  /// The same keys but percentile (50).
  static std::unique_ptr<Pruner> create_median(const nlohmann::json& options);

  bool should_prune(const PrunerContext& ctx, const study::FrozenTrial& trial,
                    std::span<const study::FrozenTrial> trials) const override;
  std::string name() const override { return name_; }
  const PercentilePrunerOptions& options() const { return options_; }

 private:
  std::string name_;
  PercentilePrunerOptions options_;
};

/// Options of SuccessiveHalvingPruner ([pruner] keys of the same names). Optuna's defaults, but
/// min_resource: 1 instead of "auto" (a guess from the complete trials would change as trials
/// complete, and with it decisions already taken).
struct SuccessiveHalvingOptions {
  int64_t min_resource = 1;             ///< r_min: the step of the first rung, >= 1
  int64_t reduction_factor = 4;         ///< eta >= 2: rungs eta times apart, 1/eta promoted
  int64_t min_early_stopping_rate = 0;  ///< s: the first rung is at r_min * eta^s
  int64_t bootstrap_count = 0;          ///< a trial is stopped at a rung that has fewer values than this

  void validate() const;
  /// The step of rung k (saturating at INT64_MAX).
  int64_t rung_step(int64_t k) const;
};

/// "asha".
class SuccessiveHalvingPruner final : public Pruner {
 public:
  explicit SuccessiveHalvingPruner(SuccessiveHalvingOptions options = {});
  /// [pruner] keys: min_resource, reduction_factor, min_early_stopping_rate, bootstrap_count.
  static std::unique_ptr<Pruner> create(const nlohmann::json& options);

  bool should_prune(const PrunerContext& ctx, const study::FrozenTrial& trial,
                    std::span<const study::FrozenTrial> trials) const override;
  /// Refuses a first rung at or past the objective's last step (it would never prune).
  void validate(const PrunerContext& ctx) const override;
  std::string name() const override { return "asha"; }
  const SuccessiveHalvingOptions& options() const { return options_; }

 private:
  SuccessiveHalvingOptions options_;
};

/// Options of HyperbandPruner ([pruner] keys of the same names); Optuna's defaults.
struct HyperbandOptions {
  int64_t min_resource = 1;
  /// R: the most steps a trial runs; none ("auto"): the objective's max_step + 1 when it says,
  /// else (as Optuna) the largest last step of the complete trials + 1, no pruning before one is
  /// complete. At most 2^40.
  std::optional<int64_t> max_resource;
  int64_t reduction_factor = 3;
  int64_t bootstrap_count = 0;

  void validate() const;
};

/// "hyperband".
class HyperbandPruner final : public Pruner {
 public:
  explicit HyperbandPruner(HyperbandOptions options = {});
  /// [pruner] keys: min_resource, max_resource (an integer or "auto"), reduction_factor,
  /// bootstrap_count.
  static std::unique_ptr<Pruner> create(const nlohmann::json& options);

  bool should_prune(const PrunerContext& ctx, const study::FrozenTrial& trial,
                    std::span<const study::FrozenTrial> trials) const override;
  /// Refuses min_resource above max_resource (given, or the objective's max_step + 1).
  void validate(const PrunerContext& ctx) const override;
  std::string name() const override { return "hyperband"; }
  const HyperbandOptions& options() const { return options_; }

  /// Number of brackets for max_resource R: floor(log_eta(R / min_resource)) + 1 (0 if R < min_resource).
  int64_t n_brackets(int64_t max_resource) const;
  /// The bracket of trial `number` among n_brackets(R) brackets; bracket b gets a share
  /// ceil(n eta^(n-1-b) / (n-b)) of the trials (Hyperband's n_i), b = 0 being the most aggressive.
  int64_t bracket(int64_t number, int64_t max_resource) const;

 private:
  /// R for this study, if it can be known yet.
  std::optional<int64_t> max_resource(const PrunerContext& ctx, std::span<const study::FrozenTrial> trials) const;
  HyperbandOptions options_;
};

using PrunerOptions = nlohmann::json;
using PrunerFactory = std::function<std::unique_ptr<Pruner>(const PrunerOptions&)>;

/// Name -> factory. Built-ins are added by register_builtin_pruners(), never by static init.
class PrunerRegistry {
 public:
  void add(const std::string& name, PrunerFactory factory);
  bool contains(const std::string& name) const { return factories_.count(name) > 0; }
  /// Creates a pruner; throws InvalidArgument naming the known pruners if `name` is unknown, and
  /// on unknown, ill-typed or out-of-range options ("pruner 'asha': [pruner] reduction_factor ...").
  std::unique_ptr<Pruner> create(const std::string& name, const PrunerOptions& options = {}) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, PrunerFactory> factories_;
};

/// Adds none, median, percentile, asha and hyperband.
void register_builtin_pruners(PrunerRegistry& registry);

}  // namespace metadial::optim
