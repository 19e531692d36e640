// The dialogue environment: a simulated user behind a noisy channel and a belief tracker, seen
// by a policy as an observation vector (plus an action mask and, for handcrafted policies, the
// belief state) and driven by summary actions. reset(seed) -> observation; step(action) ->
// observation, reward, done, success. Rewards follow PyDial's benchmark: -1 per turn, +20 at
// the end of a successful dialogue (so the return is 20 * success - turns), at most 25 turns.
//
// Presets env1..env6 (PyDial benchmark, Casanueva et al. 2017):
//   env1: error 0 %,  masks on,  standard user      env4: error 15 %, masks off, standard user
//   env2: error 0 %,  masks off, standard user      env5: error 15 %, masks on,  unfriendly user
//   env3: error 15 %, masks on,  standard user      env6: error 30 %, masks on,  standard user
//
// Behind the interface: the goal generator (goal.h), the agenda-based user (user_simulator.h),
// the semantic channel with its N-best list (error_model.h; PyDial's nbestsize 5) and the focus
// belief tracker (belief_tracker.h, which also defines the observation layout). Success is
// PyDial's objective measure (user_simulator.h). Dialogue seeds: reset(seed) derives separate
// streams for the goal, the user and the channel, so a different policy meets the same goal.
//
// One environment is single-threaded; run many (one per thread) on one shared Domain. A step
// does no heap allocation and no string work.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metadial/core/random.h"
#include "metadial/dialog/acts.h"
#include "metadial/dialog/belief_tracker.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/error_model.h"
#include "metadial/dialog/goal.h"
#include "metadial/dialog/user_simulator.h"

namespace metadial::dialog {

/// Environment settings. Start from env_preset() and change what you need.
struct EnvOptions {
  std::string name = "custom";     ///< preset name, for display
  double error_rate = 0.0;         ///< semantic error rate
  bool action_masks = true;        ///< expose PyDial's masks to the policy
  UserOptions user = UserOptions::standard();
  GoalOptions goal;
  TrackerOptions tracker;
  NBestModel nbest_model = NBestModel::kRanked;
  int nbest_size = 5;              ///< PyDial benchmark: nbestsize = 5
  int max_turns = 25;
  double success_reward = 20.0;
  double turn_penalty = 1.0;
  /// InvalidArgument naming the bad field.
  void validate() const;
};

/// Preset "env1".."env6"; InvalidArgument listing the names otherwise.
EnvOptions env_preset(std::string_view name);
/// {"env1", ..., "env6"}.
std::vector<std::string> env_preset_names();

/// Result of one step. `observation` stays valid until the next reset/step.
struct StepResult {
  std::span<const float> observation;
  double reward = 0.0;
  bool done = false;
  bool success = false;
};

/// Everything that happened in one turn, for display (render.h) and tests.
struct TurnRecord {
  int turn = 0;            ///< 0 = the user's opening turn
  int action = -1;         ///< summary action (-1 for the opening turn)
  SystemAct system_act;    ///< the full system act
  UserTurn user_turn;      ///< what the user said
  NBestList nbest;         ///< what the system heard
  double reward = 0.0;
  bool done = false;
  bool success = false;
};

/// The simulated dialogue environment.
class DialogueEnv {
 public:
  DialogueEnv(std::shared_ptr<const Domain> domain, EnvOptions options);
  DialogueEnv(const DialogueEnv&) = delete;
  DialogueEnv& operator=(const DialogueEnv&) = delete;
  DialogueEnv(DialogueEnv&&) = default;
  DialogueEnv& operator=(DialogueEnv&&) = default;

  /// Starts a dialogue: samples a goal, lets the user open. Same seed, same dialogue (for the
  /// same actions).
  std::span<const float> reset(uint64_t seed);
  /// Takes summary action `action`. InvalidArgument if out of range or the dialogue is over.
  /// Masked actions are executed too (through their fallback mapping).
  StepResult step(int action);

  int observation_size() const { return tracker_.observation_size(); }
  int num_actions() const { return domain_->actions().size(); }
  std::span<const float> observation() const { return observation_; }
  /// 1 = the policy may take the action. PyDial's mask when action_masks is on, else all 1.
  std::span<const uint8_t> action_mask() const { return options_.action_masks ? std::span<const uint8_t>(mask_) : std::span<const uint8_t>(all_ones_); }
  /// PyDial's mask, whether or not it is exposed.
  std::span<const uint8_t> executable_mask() const { return mask_; }
  const BeliefState& belief() const { return belief_; }

  const Domain& domain() const { return *domain_; }
  const std::shared_ptr<const Domain>& domain_ptr() const { return domain_; }
  const EnvOptions& options() const { return options_; }
  const AgendaUser& user() const { return user_; }
  /// The user's goal now (after any relaxation).
  const Goal& goal() const { return user_.goal(); }
  /// The goal drawn at reset.
  const Goal& initial_goal() const { return initial_goal_; }
  const TurnRecord& last_turn() const { return record_; }
  /// Number of system turns taken so far.
  int turn() const { return turn_; }
  bool done() const { return done_; }
  bool success() const { return success_; }
  double total_reward() const { return total_reward_; }

 private:
  void finish_turn();

  std::shared_ptr<const Domain> domain_;
  EnvOptions options_;
  GoalGenerator goals_;
  AgendaUser user_;
  ErrorModel error_model_;
  BeliefTracker tracker_;
  BeliefState belief_;
  std::vector<float> observation_;
  std::vector<uint8_t> mask_;
  std::vector<uint8_t> all_ones_;
  Rng goal_rng_;
  Rng user_rng_;
  Rng channel_rng_;
  Goal initial_goal_;
  TurnRecord record_;
  int turn_ = 0;
  bool done_ = true;
  bool success_ = false;
  double total_reward_ = 0.0;
};

}  // namespace metadial::dialog
