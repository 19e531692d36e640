// The meta-RL controller of seed 004: an LSTM policy that, every K training steps of a target,
// emits one choice per hyperparameter; the change of the target's validation score over the
// next K steps is its reward.
//
//   input   squash(output statistics, recent training loss) ++ progress t/T ++ one-hot of the
//           previous tuple (squash(x) = sign(x) log(1 + |x|))
//   policy  LSTMCell(input, hidden) -> one linear head per hyperparameter -> softmax
//   update  REINFORCE after every decision (reinforce.h): loss = -A sum_i log p_i(a_i)
//           - entropy_weight sum_i H(p_i), A = (r - b) / sd, b a moving average of the rewards
//           (decay baseline_decay), sd a moving RMS of r - b; Adam; the LSTM state is carried
//           across decisions and cut from the graph after each update
//   start    uniform over the choices, or (ControllerOptions::prior > 0) biased towards the
//            target's default tuple, so one online run starts from the defaults and explores
//   reward   v1 - v0 of the validation score (Reward::kChange, the seed's), or the log error
//            ratio (Reward::kErrorRatio)
//
// The same controller learns during one target's training (run_controller with learn = true),
// can be meta-trained over several runs (meta_train) and reused frozen (learn = false, saved and
// loaded with save()/load()). Torch stays behind a pimpl.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "metadial/online/run.h"
#include "metadial/online/target.h"

namespace metadial::online {

/// Settings of the controller (kept apart from its state: weights, baseline, LSTM state).
struct ControllerOptions {
  int hidden = 32;               ///< LSTM width
  double learning_rate = 0.01;   ///< Adam step size
  double entropy_weight = 0.01;  ///< weight of the entropy bonus
  double baseline_decay = 0.9;   ///< moving-average decay of the reward baseline
  bool normalize_advantage = true;  ///< divide r - b by a moving RMS of r - b
  /// When > 0, run_controller() starts a fresh (never trained) controller with this probability
  /// on the choices nearest the target's defaults (bias_towards()); 0 = uniform start.
  double prior = 0.0;
  uint64_t seed = 0;             ///< initial weights and the sampling stream

  /// Throws InvalidArgument on hidden < 1, learning_rate <= 0, entropy_weight < 0, decay not in [0, 1).
  void validate() const;
  nlohmann::json to_json() const;
  static ControllerOptions from_json(const nlohmann::json& j);
};

/// The LSTM policy over per-hyperparameter choices. Move-only.
class Controller {
 public:
  Controller(ChoiceSpace space, ControllerOptions options = {});
  ~Controller();
  Controller(Controller&&) noexcept;
  Controller& operator=(Controller&&) noexcept;
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  const ChoiceSpace& space() const;
  const ControllerOptions& options() const;
  /// Width of the input vector: kStatFeatures + 1 + space().total_choices().
  int64_t input_size() const;

  /// Starts an episode: zero LSTM state, `previous` = the choice indices in force before it.
  void begin_episode(std::vector<int64_t> previous);
  /// Chooses the next tuple's indices from the target's statistics and the progress t/T in
  /// [0, 1]: sampled from the policy, or its most probable choices when `greedy`.
  std::vector<int64_t> act(const TargetStats& stats, double progress, bool greedy = false);
  /// The softmax probabilities of the last act(), one vector per hyperparameter.
  std::vector<std::vector<double>> probabilities() const;
  /// REINFORCE update on the last act() with its reward; returns the loss. Throws
  /// InvalidArgument if act() was not called since the last learn().
  double learn(double reward);
  /// Sets the output biases so that, at a zero LSTM output, choice indices[i] of hyperparameter i
  /// has probability `probability` and the others share the rest. Throws InvalidArgument on a
  /// probability outside (0, 1) or an index out of range.
  void bias_towards(const std::vector<int64_t>& indices, double probability);
  /// Number of learn() updates so far (saved with the controller).
  int64_t updates() const;
  /// The moving baseline (0 before the first reward).
  double baseline() const;

  /// Saves weights, choice space and options to one checksummed model file (nn/model_file.h,
  /// magic METADIAL-CONTROLLER); load() restores them (the Adam state and the baseline are saved
  /// too, so meta-training can go on). save() throws StorageError when the file cannot be
  /// written; load() throws InvalidArgument when there is no file, DataError (one line naming
  /// the file) for a file that is not a controller, is cut short or altered, or whose weights do
  /// not fit its header.
  void save(const std::string& path) const;
  static Controller load(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What the controller is rewarded with after an interval that took validation score v0 to v1.
enum class Reward {
  kChange,      ///< v1 - v0 (the seed's reward)
  kErrorRatio,  ///< log((1 - v0) / (1 - v1)) for scores in [0, 1]: the relative error reduction,
                ///< which shrinks less over training than v1 - v0 (a steadier signal)
};

/// "change" | "error_ratio"; the parser throws InvalidArgument on anything else.
const char* to_string(Reward r);
Reward reward_from_string(const std::string& s);
/// The reward of an interval from v0 to v1.
double reward_of(Reward kind, double v0, double v1);

/// How the controller is used in a run.
struct ControllerRunOptions {
  Reward reward = Reward::kChange;
  bool learn = true;    ///< update the policy after every decision (online); false = frozen
  bool greedy = false;  ///< take the most probable choices instead of sampling
  /// From this fraction of the training on, take the most probable choices (the last intervals
  /// decide the final network; exploring there costs final accuracy). 1 = sample to the end.
  double greedy_after = 1.0;
};

/// One training of `target` from reset(run.seed) whose hyperparameters `controller` sets every
/// run.interval steps; the controller learns as it goes unless frozen. Throws InvalidArgument
/// when the controller's hyperparameters are not all accepted by the target, or on bad options.
RunResult run_controller(Target& target, Controller& controller, const RunOptions& run,
                         const ControllerRunOptions& how = {});

/// Meta-training: `runs` online runs of clones of `prototype` on seeds derive_seed(run.seed, {i}),
/// the controller learning throughout (how.learn is taken as true). Returns the runs' results in order.
std::vector<RunResult> meta_train(Controller& controller, const Target& prototype, int runs, const RunOptions& run,
                                  const ControllerRunOptions& how = {});

}  // namespace metadial::online
