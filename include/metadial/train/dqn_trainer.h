// Training DQN dialogue policies against the simulated user: one run (N dialogues with
// epsilon-greedy exploration, an update every train_frequency dialogues, a learning curve) and
// many independent runs (seeds) on threads, each evaluated greedily on test dialogues.
//
// Seeds: run seed s trains on dialogues env.reset(derive_seed(s, {kTrainStream, k})) with a
// policy seeded from derive_seed(s, {kPolicyStream}); the periodic and final evaluations use
// dialogue seeds of their own (evaluate.h), the same for every run and every configuration, so
// two configurations are compared on the same test users. The same seed gives the same curve
// and the same policy, whatever the number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "metadial/agents/dqn/dqn_policy.h"
#include "metadial/agents/evaluate.h"
#include "metadial/core/random.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/env.h"

namespace metadial::train {

/// How one training run goes (the DQN's own hyperparameters are in DqnOptions).
struct DqnTrainOptions {
  int dialogues = 4000;       ///< training dialogues (>= 1)
  int window = 100;           ///< learning-curve point every this many dialogues (training averages)
  int eval_every = 0;         ///< greedy evaluation every this many dialogues (0 = none)
  int eval_dialogues = 100;   ///< dialogues per periodic evaluation
  uint64_t seed = 0;          ///< training dialogues and exploration
  uint64_t eval_seed = 0;     ///< periodic evaluations use dialogue seeds from this
  /// InvalidArgument naming the bad field.
  void validate() const;
};

/// One learning-curve point.
struct CurvePoint {
  int dialogues = 0;             ///< training dialogues done
  double train_success = 0.0;    ///< success rate over the last window of training dialogues
  double train_reward = 0.0;     ///< average reward over that window
  double train_turns = 0.0;
  double epsilon = 0.0;          ///< exploration rate at the last dialogue of the window
  double loss = 0.0;             ///< mean minibatch loss over the window (0 before learning)
  std::optional<agents::EvalSummary> eval;  ///< greedy evaluation, when one was due
};

/// Result of one training run.
struct TrainResult {
  std::vector<CurvePoint> curve;
  int dialogues = 0;        ///< dialogues trained (fewer than asked when cancelled)
  int64_t turns = 0;        ///< environment steps taken while training
  int64_t gradient_steps = 0;
  double seconds = 0.0;
  bool cancelled = false;
};

/// Sub-stream keys of a run seed.
inline constexpr uint64_t kTrainStream = stream("train");
inline constexpr uint64_t kPolicyStream = stream("pol");
inline constexpr uint64_t kEvalStream = stream("eval");
inline constexpr uint64_t kTestStream = stream("test");

/// Trains `policy` on `env` for options.dialogues dialogues. `on_point` sees each curve point
/// as it is made; `cancel` (checked between dialogues) stops the run early.
TrainResult train_dqn(dialog::DialogueEnv& env, agents::dqn::DqnPolicy& policy, const DqnTrainOptions& options,
                      const std::function<void(const CurvePoint&)>& on_point = {},
                      const std::atomic<bool>* cancel = nullptr);

/// One training run of options.dialogues dialogues, trained in stages: train_until(k) goes on to
/// dialogue k. The exploration schedule is the whole run's (epsilon at dialogue k of
/// options.dialogues), so a run trained in stages trains the same dialogues, with the same
/// epsilon, curve and policy, as train_dqn() in one go (which is one stage to the end).
class DqnTraining {
 public:
  /// Borrows `env` and `policy`, which must outlive it. InvalidArgument on bad options or a policy
  /// that does not fit the environment.
  DqnTraining(dialog::DialogueEnv& env, agents::dqn::DqnPolicy& policy, const DqnTrainOptions& options);
  DqnTraining(const DqnTraining&) = delete;
  DqnTraining& operator=(const DqnTraining&) = delete;
  DqnTraining(DqnTraining&&) noexcept = default;
  DqnTraining& operator=(DqnTraining&&) noexcept = default;

  /// Trains dialogues up to `until` (at most options.dialogues; nothing if already there).
  /// `on_point` and `cancel` as for train_dqn(); false if cancelled (the run then ends there).
  bool train_until(int until, const std::function<void(const CurvePoint&)>& on_point = {},
                   const std::atomic<bool>* cancel = nullptr);
  /// Dialogues trained so far.
  int dialogues_done() const { return result_.dialogues; }
  /// The run's result; adds the dialogues trained to the policy's info. Call once, at the end.
  TrainResult finish();

 private:
  dialog::DialogueEnv* env_;
  agents::dqn::DqnPolicy* policy_;
  DqnTrainOptions options_;
  TrainResult result_;
  // The current window of the learning curve.
  double w_success_ = 0.0, w_reward_ = 0.0, w_turns_ = 0.0, w_loss_ = 0.0;
  int w_n_ = 0, w_losses_ = 0;
};

/// Dialogue seed base of the final test evaluation for base seed `seed` (same for every run).
uint64_t test_seed(uint64_t seed);

/// Many independent trainings of one configuration.
struct DqnExperiment {
  std::shared_ptr<const dialog::Domain> domain;  ///< shared read-only by every thread
  dialog::EnvOptions env;
  agents::dqn::DqnOptions dqn;
  DqnTrainOptions train;      ///< train.seed is the base seed: run i uses derive_seed(train.seed, {i})
  int seeds = 10;             ///< independent runs
  int threads = 2;            ///< runs trained at once
  int test_dialogues = 500;   ///< greedy test dialogues per run after training (0 = none)
  bool keep_policies = false; ///< keep each run's trained policy in its SeedOutcome
  void validate() const;
};

/// Outcome of one run of an experiment.
struct SeedOutcome {
  int index = 0;
  uint64_t seed = 0;
  TrainResult train;
  agents::EvalSummary test;
  std::shared_ptr<agents::dqn::DqnPolicy> policy;  ///< when keep_policies
};

/// Runs the experiment's seeds on `threads` threads. `on_done` is called on the calling thread,
/// in seed order, as runs finish; if it throws (e.g. TrialPruned), the runs in flight are
/// cancelled and the exception propagates. Returns the outcomes in seed order.
std::vector<SeedOutcome> run_dqn_experiment(const DqnExperiment& experiment,
                                            const std::function<void(const SeedOutcome&)>& on_done = {});

/// The runs of a lockstep experiment at one of its validation points.
struct LockstepPoint {
  int dialogues = 0;                            ///< training dialogues every run has done
  std::vector<agents::EvalSummary> validation;  ///< each run's greedy validation, in seed order
};

/// How a lockstep experiment validates its runs.
struct LockstepOptions {
  int every = 500;                ///< a validation point every this many training dialogues (>= 1)
  int validation_dialogues = 50;  ///< greedy dialogues per run at each point (>= 1)
  /// InvalidArgument naming the bad field.
  void validate() const;
};

/// Runs the experiment's seeds in lockstep, on `threads` threads: every run trains to the next
/// multiple of options.every, then each is evaluated greedily on the validation dialogues, and
/// `on_point` (on the calling thread, no run in flight) sees them; then on to the next multiple,
/// to train.dialogues. The validation dialogues are the same for every run, configuration and
/// point (evaluate() with seed derive_seed(train.seed, {kEvalStream}), the periodic evaluations'
/// dialogues, not the test's), run on an environment of their own: they change nothing in the
/// runs, whose outcomes are run_dqn_experiment()'s, number for number. If `on_point` throws (e.g.
/// TrialPruned), the exception propagates and no run goes on.
std::vector<SeedOutcome> run_dqn_experiment_lockstep(const DqnExperiment& experiment, const LockstepOptions& options,
                                                     const std::function<void(const LockstepPoint&)>& on_point);

/// Mean and 95 % confidence half-width (1.96 standard errors) of values, e.g. over seeds.
struct MeanCi {
  double mean = 0.0;
  double ci95 = 0.0;
};
MeanCi mean_ci95(const std::vector<double>& values);

}  // namespace metadial::train
