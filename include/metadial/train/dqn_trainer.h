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

/// Mean and 95 % confidence half-width (1.96 standard errors) of values, e.g. over seeds.
struct MeanCi {
  double mean = 0.0;
  double ci95 = 0.0;
};
MeanCi mean_ci95(const std::vector<double>& values);

}  // namespace metadial::train
