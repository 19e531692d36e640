// Running a policy on an environment: one dialogue, or many with summary statistics (success
// rate, average reward and turns with 95 % confidence intervals), as PyDial's evaluation reports.
// Dialogue k of an evaluation with seed s uses env.reset(derive_seed(s, {k})).
#pragma once

#include <cstdint>
#include <string>

#include "metadial/agents/policy.h"
#include "metadial/dialog/env.h"

namespace metadial::agents {

/// Outcome of one dialogue.
struct DialogueOutcome {
  bool success = false;
  double reward = 0.0;
  int turns = 0;
};

/// Runs one dialogue from env.reset(seed) to the end. When `transcript` is given, appends the
/// goal and every turn in human-readable form (dialog/render.h).
DialogueOutcome run_dialogue(dialog::DialogueEnv& env, Policy& policy, uint64_t seed, std::string* transcript = nullptr);

/// Means and 95 % confidence half-widths (1.96 standard errors) over dialogues.
struct EvalSummary {
  int dialogues = 0;
  double success_rate = 0.0, success_ci95 = 0.0;
  double avg_reward = 0.0, reward_ci95 = 0.0;
  double avg_turns = 0.0, turns_ci95 = 0.0;
};

/// Runs `dialogues` dialogues (>= 1).
EvalSummary evaluate(dialog::DialogueEnv& env, Policy& policy, int dialogues, uint64_t seed);

}  // namespace metadial::agents
