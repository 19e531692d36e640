// Dialogue policies: the interface every policy implements (handcrafted, random, DQN, ...) and
// what a policy sees of the environment. A neural policy reads the observation vector and the
// action mask; a handcrafted one may read the belief state and the domain instead.
// Trainable policies add their own update / save / load on top of this interface.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "metadial/core/random.h"
#include "metadial/dialog/belief_tracker.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/env.h"

namespace metadial::agents {

/// What a policy sees at one turn. Borrowed views, valid until the environment steps.
struct PolicyInput {
  std::span<const float> observation;      ///< DialogueEnv::observation()
  std::span<const uint8_t> action_mask;    ///< 1 = allowed (all 1 when masks are off)
  const dialog::BeliefState* belief = nullptr;
  const dialog::Domain* domain = nullptr;

  /// The current view of `env`.
  static PolicyInput from(const dialog::DialogueEnv& env) {
    return {env.observation(), env.action_mask(), &env.belief(), &env.domain()};
  }
};

/// A dialogue policy: summary action from the current view.
class Policy {
 public:
  virtual ~Policy() = default;
  /// Short name for reports ("rule", "random", "dqn").
  virtual std::string name() const = 0;
  /// Called before the first act of each dialogue.
  virtual void begin_dialogue() {}
  /// The summary action to take (an index into the domain's SummaryActionSet).
  virtual int act(const PolicyInput& input) = 0;
};

/// Uniformly random among the allowed actions: the floor any learned policy must beat.
class RandomPolicy final : public Policy {
 public:
  explicit RandomPolicy(uint64_t seed) : rng_(derive_seed(seed, {stream("rand")})) {}
  std::string name() const override { return "random"; }
  int act(const PolicyInput& input) override;

 private:
  Rng rng_;
};

}  // namespace metadial::agents
