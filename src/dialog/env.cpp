#include "metadial/dialog/env.h"

#include "metadial/core/error.h"

namespace metadial::dialog {

void EnvOptions::validate() const {
  MD_CHECK(error_rate >= 0.0 && error_rate < 1.0, "env '", name, "': error_rate ", error_rate, " not in [0, 1)");
  MD_CHECK(max_turns >= 1, "env '", name, "': max_turns ", max_turns, " must be >= 1");
  MD_CHECK(nbest_size >= 1 && nbest_size <= kMaxNBest, "env '", name, "': nbest_size ", nbest_size,
           " not in [1, ", kMaxNBest, "]");
  user.validate();
  goal.validate();
  tracker.validate();
}

EnvOptions env_preset(std::string_view name) {
  struct Preset {
    const char* name;
    double error;
    bool masks;
    bool unfriendly;
  };
  static constexpr Preset kPresets[] = {{"env1", 0.0, true, false},  {"env2", 0.0, false, false},
                                        {"env3", 0.15, true, false}, {"env4", 0.15, false, false},
                                        {"env5", 0.15, true, true},  {"env6", 0.30, true, false}};
  for (const Preset& p : kPresets) {
    if (name == p.name) {
      EnvOptions o;
      o.name = p.name;
      o.error_rate = p.error;
      o.action_masks = p.masks;
      o.user = p.unfriendly ? UserOptions::unfriendly() : UserOptions::standard();
      return o;
    }
  }
  throw InvalidArgument(detail::concat("unknown environment '", name, "' (expected env1, env2, env3, env4, env5 or env6)"));
}

std::vector<std::string> env_preset_names() { return {"env1", "env2", "env3", "env4", "env5", "env6"}; }

namespace {
ErrorModelOptions channel_options(const EnvOptions& o) {
  ErrorModelOptions e;
  e.error_rate = o.error_rate;
  e.model = o.nbest_model;
  e.nbest_size = o.nbest_size;
  return e;
}
std::shared_ptr<const Domain> checked(std::shared_ptr<const Domain> d) {
  MD_CHECK(d != nullptr, "DialogueEnv: null domain");
  return d;
}
const EnvOptions& validated(const EnvOptions& o) {
  o.validate();
  return o;
}
}  // namespace

DialogueEnv::DialogueEnv(std::shared_ptr<const Domain> domain, EnvOptions options)
    : domain_(checked(std::move(domain))),
      options_(validated(options)),
      goals_(*domain_, options_.goal),
      user_(*domain_, options_.user),
      error_model_(domain_->ontology(), channel_options(options_)),
      tracker_(*domain_, options_.tracker) {
  observation_.assign(static_cast<size_t>(tracker_.observation_size()), 0.0F);
  mask_.assign(static_cast<size_t>(num_actions()), 1);
  all_ones_.assign(static_cast<size_t>(num_actions()), 1);
  tracker_.reset(belief_);
}

std::span<const float> DialogueEnv::reset(uint64_t seed) {
  goal_rng_.seed(derive_seed(seed, {1}));
  user_rng_.seed(derive_seed(seed, {2}));
  channel_rng_.seed(derive_seed(seed, {3}));
  initial_goal_ = goals_.sample(goal_rng_);
  user_.start(initial_goal_, user_rng_);
  tracker_.reset(belief_);
  turn_ = 0;
  done_ = false;
  success_ = false;
  total_reward_ = 0.0;

  record_ = TurnRecord{};
  record_.system_act = SystemAct{};  // hello
  record_.user_turn = user_.respond(record_.system_act, user_rng_);
  error_model_.corrupt(record_.user_turn, channel_rng_, record_.nbest);
  tracker_.update(belief_, record_.nbest, record_.system_act);
  finish_turn();
  return observation_;
}

StepResult DialogueEnv::step(int action) {
  MD_CHECK(!done_, "DialogueEnv::step: the dialogue is over (call reset)");
  MD_CHECK(action >= 0 && action < num_actions(), "DialogueEnv::step: action ", action, " out of range [0, ",
           num_actions(), ")");
  ++turn_;
  record_.turn = turn_;
  record_.action = action;
  record_.system_act = domain_->actions().to_master(action, belief_);
  tracker_.note_system_act(belief_, record_.system_act, action);
  double reward = -options_.turn_penalty;
  if (record_.system_act.type == SystemActType::kBye) {
    user_.respond(record_.system_act, user_rng_);
    record_.user_turn = UserTurn{};
    record_.nbest.size = 0;
    done_ = true;
  } else {
    record_.user_turn = user_.respond(record_.system_act, user_rng_);
    error_model_.corrupt(record_.user_turn, channel_rng_, record_.nbest);
    tracker_.update(belief_, record_.nbest, record_.system_act);
    done_ = user_.finished();
  }
  if (turn_ >= options_.max_turns) done_ = true;
  if (done_) {
    success_ = user_.success();
    if (success_) reward += options_.success_reward;
  }
  total_reward_ += reward;
  record_.reward = reward;
  finish_turn();
  return {observation_, reward, done_, success_};
}

void DialogueEnv::finish_turn() {
  record_.done = done_;
  record_.success = success_;
  tracker_.observation(belief_, observation_);
  domain_->actions().mask(belief_, mask_);
}

}  // namespace metadial::dialog
