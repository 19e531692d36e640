// The DQN dialogue policy (Mnih et al. 2015, as PyDial's DQNPolicy): a Q-network MLP
// observation -> h1 -> h2 -> one Q-value per summary action (ReLU), a target network that
// follows it by soft updates, experience replay and Adam, in LibTorch.
//
// Action masks: act() and act_explore() never choose an action the PolicyInput's mask forbids
// (the env's mask when masks are on, all 1 otherwise), and the bootstrap target max_a' Q(s', a')
// runs over the actions allowed in s' only.
//
// The training loop (which dialogue, when to learn, the exploration schedule) is the trainer's
// (train/dqn_trainer.h, online/dqn_target.h); this class is the network, the replay buffer and
// one learning step, and run_training_dialogue() is one exploring dialogue that fills the buffer.
// Acting uses a hand-written forward pass over the (sparse) observation, with no tensor
// allocation; learning uses torch autograd on minibatches. Everything random (initial weights,
// exploration, minibatches) comes from the seed: the same seed gives the same policy.
//
// Model files: a text header (magic line, JSON with the architecture, sizes, hyperparameters,
// the environment and the summary action names) followed by torch::save() of the Q-network's
// parameters. load() rejects with one DataError line a file that is not a model, a truncated
// one, or one whose parameters do not fit the architecture its header states.
//
// Not thread-safe: one policy per thread. LibTorch's thread count is the program's to set
// (nn::set_torch_threads(1) suits these small networks).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "metadial/agents/dqn/options.h"
#include "metadial/agents/dqn/replay_buffer.h"
#include "metadial/agents/evaluate.h"
#include "metadial/agents/policy.h"
#include "metadial/dialog/env.h"

namespace metadial::agents::dqn {

/// What a model file records besides the weights (informative, and checked against an env).
struct ModelInfo {
  std::string env;                        ///< environment preset the model was trained on ("env1")
  std::string domain;                     ///< domain name ("restaurant")
  std::vector<std::string> action_names;  ///< summary action names, in order (empty: unknown)
  int64_t trained_dialogues = 0;
  uint64_t seed = 0;
};

/// The DQN policy: Q-network, target network, replay buffer, optimizer.
class DqnPolicy final : public Policy {
 public:
  /// A fresh network for observations of `observation_size` floats and `num_actions` actions.
  /// InvalidArgument if the options are out of range.
  DqnPolicy(int observation_size, int num_actions, const DqnOptions& options, uint64_t seed);
  /// Sized for `env`, with ModelInfo (env name, domain, action names) taken from it.
  DqnPolicy(const dialog::DialogueEnv& env, const DqnOptions& options, uint64_t seed);
  ~DqnPolicy() override;
  DqnPolicy(DqnPolicy&&) noexcept;
  DqnPolicy& operator=(DqnPolicy&&) noexcept;
  DqnPolicy(const DqnPolicy&) = delete;
  DqnPolicy& operator=(const DqnPolicy&) = delete;

  std::string name() const override { return "dqn"; }
  /// Greedy action: argmax of Q over the allowed actions (lowest index on ties).
  int act(const PolicyInput& input) override;
  /// Epsilon-greedy: with probability `epsilon` a uniformly random allowed action, else act().
  int act_explore(const PolicyInput& input, double epsilon);
  /// Q-values of the online network for one observation (`out`: num_actions() floats).
  void q_values(std::span<const float> observation, std::span<float> out) const;

  /// Stores a transition; `reward` is the environment's (scaled by reward_scale here).
  void remember(std::span<const float> observation, int action, double reward,
                std::span<const float> next_observation, std::span<const uint8_t> next_mask, bool done);
  /// Whether the replay buffer holds enough transitions to learn (>= learn_start and >= batch_size).
  bool can_learn() const;
  /// One minibatch gradient step on the online network and a soft target update; returns the
  /// minibatch loss. InvalidArgument if the buffer holds fewer than batch_size transitions.
  double learn();
  int64_t gradient_steps() const;
  const ReplayBuffer& replay() const;

  /// Adam's step size for the following learn() calls; 0 freezes the online network (the
  /// target network still moves towards it). options().lr keeps the value the policy was built
  /// with. InvalidArgument unless 0 <= lr < 10.
  void set_learning_rate(double lr);
  /// Adam's current step size.
  double learning_rate() const;
  /// An independent deep copy: online and target networks, Adam's moments and step size, the
  /// replay buffer, the exploration and minibatch random streams, counters and info. The copy
  /// acts and learns exactly as the original would from here on.
  DqnPolicy clone() const;

  const DqnOptions& options() const;
  int observation_size() const;
  int num_actions() const;
  ModelInfo& info();
  const ModelInfo& info() const;
  /// The online network's parameters, flattened (layer by layer, weight then bias).
  std::vector<float> parameters() const;

  /// DataError (one line naming `what`, e.g. the model path) if this model does not fit `env`:
  /// other observation size, other number of actions, or other summary action names.
  void check_compatible(const dialog::DialogueEnv& env, const std::string& what) const;

  /// Writes the model file (online network + header). DataError if it cannot be written.
  void save(const std::string& path) const;
  /// Reads a model file (greedy policy; the replay buffer starts empty). DataError, naming
  /// the path, if it is missing, not a model, truncated, or inconsistent with its header.
  static DqnPolicy load(const std::string& path);

 private:
  struct Impl;
  explicit DqnPolicy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// One training dialogue from env.reset(seed): epsilon-greedy actions (act_explore), every
/// transition stored with remember(); no learning step (the caller decides when to learn()).
/// The outcome's `turns` transitions were stored.
DialogueOutcome run_training_dialogue(dialog::DialogueEnv& env, DqnPolicy& policy, double epsilon, uint64_t seed);

/// Index of the largest q[a] with mask[a] != 0 (lowest index on ties); -1 if none allowed.
int masked_argmax(std::span<const float> q, std::span<const uint8_t> mask);

}  // namespace metadial::agents::dqn
