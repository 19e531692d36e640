// The DQN dialogue policy as a target of the online controller: a DqnPolicy (agents/dqn) trained
// against the simulated user of a dialogue environment (dialog/env.h), whose learning rate and
// exploration rate may change between train() calls.
//
//   step             one training dialogue: epsilon-greedy actions at the tuple's epsilon, every
//                    transition into the replay buffer, and after every train_frequency-th
//                    dialogue (counted since reset) train_iters minibatch steps of Adam at the
//                    tuple's learning rate, as train/dqn_trainer.h does. A dialogue, not a
//                    gradient step, is the unit because every DQN budget and learning curve of
//                    the project is counted in dialogues (a 2000-dialogue training), exploration
//                    acts per dialogue, and the simulator is most of the cost; K = 100 steps is
//                    50 gradient steps with PyDial's train_frequency 2.
//   hyperparameters  learning_rate (Adam, >= 0; 0 freezes the Q-network) and epsilon (exploration,
//                    in [0, 1]); the rest of DqnOptions (sizes, gamma, batch, replay, tau, ...) is
//                    fixed for the run by DqnDialogOptions::dqn
//   scores           greedy success rate on validation_dialogues fixed dialogues (reward and
//                    selection) and on test_dialogues other fixed dialogues; both sets come from
//                    eval_seed, the same for every reset seed, so runs are compared on the same users
//   stats            the final layer outputs Q-values, not logits; over every turn of the
//                    validation dialogues, with Q restricted to the actions the mask allows:
//                    output_mean / output_std = mean and standard deviation of those Q-values,
//                    entropy / max_prob = mean entropy and largest probability of softmax(Q) (a
//                    Boltzmann policy at temperature 1, Q in reward_scale units),
//                    recent_loss = mean TD minibatch loss of the last train() call (the previous
//                    value while the replay buffer is still below learn_start)
//
// Seeds: reset(seed) seeds the policy (weights, exploration, minibatches) from derive_seed(seed,
// {kDqnPolicyStream}) and trains on dialogue k = env.reset(derive_seed(seed, {kDqnTrainStream, k}))
// (the streams of train/dqn_trainer.h, so a constant tuple trains exactly as train_dqn() with that
// learning rate and a constant epsilon); validation dialogue k is env.reset(derive_seed(
// derive_seed(eval_seed, {kDqnValidationStream}), {k})), test dialogues likewise with
// kDqnTestStream. Torch stays out of this header (the policy is behind a pimpl).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metadial/agents/dqn/options.h"
#include "metadial/core/random.h"
#include "metadial/dialog/domain.h"
#include "metadial/online/target.h"

namespace metadial::online {

/// Sub-streams of the seeds (see the top of this file).
inline constexpr uint64_t kDqnPolicyStream = stream("pol");
inline constexpr uint64_t kDqnTrainStream = stream("train");
inline constexpr uint64_t kDqnValidationStream = stream("val");
inline constexpr uint64_t kDqnTestStream = stream("test");

/// Options of DqnDialogTarget.
struct DqnDialogOptions {
  std::string env = "env1";        ///< environment preset, env1..env6
  agents::dqn::DqnOptions dqn;     ///< network and learning settings; lr and epsilon* are ignored
  int validation_dialogues = 100;  ///< greedy dialogues of validation_score()
  int test_dialogues = 500;        ///< greedy dialogues of test_score()
  uint64_t eval_seed = 0;          ///< seeds of the validation and test dialogues
  /// Values used where a tuple omits a hyperparameter (the "fixed default" baseline): PyDial's
  /// learning rate and starting exploration rate (held constant here).
  Tuple defaults{{"learning_rate", 1e-3}, {"epsilon", 0.3}};
  std::string name = "dqn-dialog";  ///< in messages and reports

  /// Throws InvalidArgument on an unknown env preset, bad DQN options, dialogue counts < 1, or
  /// defaults other than exactly learning_rate and epsilon within their domains.
  void validate() const;
};

/// Throws InvalidArgument when a tuple's value is outside its domain: learning_rate in [0, 10),
/// epsilon in [0, 1].
void check_dqn_tuple(const Tuple& t);

/// The DQN dialogue target. Copies (clone()) share the read-only domain.
class DqnDialogTarget final : public Target {
 public:
  DqnDialogTarget(std::shared_ptr<const dialog::Domain> domain, DqnDialogOptions options = {});
  ~DqnDialogTarget() override;
  DqnDialogTarget(const DqnDialogTarget&) = delete;
  DqnDialogTarget& operator=(const DqnDialogTarget&) = delete;

  std::string name() const override;
  Tuple defaults() const override;
  void reset(uint64_t seed) override;
  /// `steps` training dialogues (see the top of this file).
  void train(const Tuple& hp, int64_t steps) override;
  double validation_score() override;
  double test_score() override;
  TargetStats stats() const override;
  int64_t steps_done() const override;
  std::unique_ptr<Target> clone() const override;

  /// The Q-network's parameters, flattened (DqnPolicy::parameters()), for tests and reports.
  std::vector<float> parameters() const;
  /// Minibatch gradient steps since reset().
  int64_t gradient_steps() const;

 private:
  struct Impl;
  explicit DqnDialogTarget(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace metadial::online
