// Meta-training a Hyp-RL policy with DQN across the data sets of a tabular benchmark.
//
// An episode is one data set, drawn uniformly from the training sets, and `horizon` steps: the
// first configuration is drawn at random (as in the paper), the next ones by the epsilon-greedy
// policy among the untried rows. The reward of a step is the response of the configuration
// chosen (Reward::kResponse, the paper's; larger = better, negated for a layout that minimizes);
// kNormalized rescales it to [0, 1] per data set (min -> 0, best -> 1) so that easy and hard
// data sets weigh alike, and kImprovement pays the increase of the best normalized response so
// far, so that an episode's return is its final best (1 - normalized regret).
//
// DQN (Mnih et al. 2015) with a replay buffer of whole episodes, a target network copied every
// `target_update_every` updates, epsilon-greedy exploration decayed linearly, Huber loss, Adam,
// gradient clipping, and double Q-learning (van Hasselt et al. 2016): the online network picks
// the next state's action among the untried rows, the target network values it. An update
// replays `batch_episodes` episodes through the LSTM at once and learns from every step of
// them (the random first step included: Q-learning is off-policy, so the policy also learns
// which configuration to try first).
//
// Everything is driven by `seed`: the same benchmark, split and options give the same policy.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metadial/objective/tabular.h"
#include "metadial/optim/hyprl/policy.h"

namespace metadial::optim::hyprl {

enum class Reward { kResponse, kNormalized, kImprovement };
const char* to_string(Reward r);
/// "response" | "normalized" | "improvement"; throws InvalidArgument otherwise.
Reward reward_from_string(const std::string& s);

/// Settings of meta-training (hyperparameters only; the run state lives in the trainer).
struct TrainerOptions {
  int horizon = 50;                  ///< T: configurations per episode
  int episodes = 20000;              ///< episodes to play
  double gamma = 0.9;                ///< discount
  double learning_rate = 1e-3;       ///< Adam
  int batch_episodes = 16;           ///< episodes replayed per update (x horizon transitions)
  int parallel_episodes = 16;        ///< episodes played side by side (one network call per step)
  int replay_capacity = 4000;        ///< episodes kept in the replay buffer
  int warmup_episodes = 200;         ///< episodes played before the first update
  double updates_per_episode = 0.25; ///< updates per episode played
  double epsilon_start = 1.0;
  double epsilon_end = 0.05;
  double epsilon_decay = 0.5;        ///< fraction of the episodes over which epsilon decays
  int target_update_every = 200;     ///< updates between copies to the target network
  bool double_q = true;
  Reward reward = Reward::kResponse;
  double grad_clip = 10.0;           ///< max gradient norm
  int eval_every = 2000;             ///< episodes between held-out evaluations (0: only at the end)
  uint64_t seed = 0;
  PolicyOptions policy;

  /// Throws InvalidArgument on out-of-range values.
  void validate() const;
  nlohmann::json to_json() const;
};

/// Greedy performance on some data sets: normalized regret (best response - best found) /
/// (best - worst response) after 1, 10, 20 and all `horizon` trials, averaged over data sets.
struct EvalSummary {
  double regret_at_1 = 0.0;
  double regret_at_10 = 0.0;
  double regret_at_20 = 0.0;
  double regret_at_horizon = 0.0;
  int horizon = 0;
  size_t n_datasets = 0;
};

/// What train() reports after every batch of episodes played, with a held-out evaluation every
/// `eval_every` episodes and at the end.
struct TrainingProgress {
  int episodes = 0;      ///< played so far
  int total_episodes = 0;
  int64_t updates = 0;
  double epsilon = 0.0;
  double loss = 0.0;      ///< mean Huber loss of the updates since the last report (0: none)
  double elapsed_s = 0.0;
  std::optional<EvalSummary> eval;  ///< on the evaluation data sets (when there are some)
};

/// Meta-trains a policy on `train` (indices into b.datasets), evaluating it greedily on `eval`
/// along the way. Throws InvalidArgument on an empty or out-of-range split or a data set both
/// trained and evaluated on. The returned policy's card records the options, data sets and time.
Policy train(const objective::TabularBenchmark& b, std::span<const size_t> train, std::span<const size_t> eval,
             const TrainerOptions& options, const std::function<void(const TrainingProgress&)>& on_progress = {});

/// Greedy rollouts of `policy` (first row chosen by the policy) on the data sets `which`.
EvalSummary evaluate(const Policy& policy, const objective::TabularBenchmark& b, std::span<const size_t> which,
                    int horizon);

/// Normalized regret after each of the first n trials of `rows` on `dataset` (in [0, 1]).
std::vector<double> normalized_regret_curve(const objective::TabularDataset& dataset, bool maximize,
                                            std::span<const size_t> rows);

/// Splits 0..n-1 into k folds of near-equal size after a seeded shuffle (each index in exactly
/// one fold). Throws InvalidArgument unless 2 <= k <= n.
std::vector<std::vector<size_t>> make_folds(size_t n, int k, uint64_t seed);

}  // namespace metadial::optim::hyprl
