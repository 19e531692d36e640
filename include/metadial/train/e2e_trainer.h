// Interactive learning of the end-to-end agent (Liu et al. 2018, Algorithm 1, lines 2-12):
//   run_imitation: the agent talks to the simulated user with its own policy (sampling
//     actions); a teacher that knows the goal corrects the tracked state (the turn annotations
//     are the true state) and the action at each turn (E2eAgent::teacher_action); after every
//     `batch` dialogues the corrected dialogues join the aggregated set and the model takes
//     supervised updates (equation 4) on them plus as many corpus dialogues (lines 3-6).
//   run_reinforce: REINFORCE with softmax exploration (equation 5): +success_reward at the end
//     of a successful dialogue, 0 for a failure, -turn_penalty per turn, at most max_turns
//     turns, one update per mini-batch of `batch` dialogues, discount gamma, advantage = return
//     minus the batch's mean return; end-to-end or policy-only updates.
// Both report learning curves: after every `eval_every` dialogues (0 = only at the end) a
// greedy evaluation on `eval_dialogues` fixed-seed dialogues with the simulated user.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "metadial/agents/e2e/e2e_agent.h"
#include "metadial/dialog/corpus.h"

namespace metadial::train {

/// Evaluation points of a learning curve.
struct E2eCurvePoint {
  int dialogues = 0;          ///< interactive training dialogues so far
  double train_success = 0.0; ///< success rate of the training dialogues since the last point
  agents::e2e::InteractiveReport eval;
};

/// Imitation-learning settings.
struct E2eImitationOptions {
  int dialogues = 500;          ///< taught dialogues (the paper: 500 or 1000)
  int batch = 25;               ///< update after every 25 dialogues (paper)
  int passes = 1;               ///< supervised passes per update
  int eval_every = 100;
  agents::e2e::InteractiveOptions interaction;  ///< templates, user, max turns, seed
  int eval_dialogues = 100;
  void validate() const;
};

/// REINFORCE settings.
struct E2eReinforceOptions {
  int dialogues = 1000;
  int batch = 25;               ///< paper: mini-batches of 25
  double gamma = 0.95;
  double success_reward = 15.0; ///< paper: +15
  double turn_penalty = 1.0;    ///< paper: -1 per turn
  double learning_rate = 1e-3;
  bool end_to_end = true;       ///< false: policy-only updates
  int eval_every = 100;
  agents::e2e::InteractiveOptions interaction;
  int eval_dialogues = 100;
  void validate() const;
};

/// Algorithm 1, lines 2-7. `corpus` is the supervised corpus D the corrected dialogues join.
std::vector<E2eCurvePoint> run_imitation(agents::e2e::E2eAgent& agent, const std::vector<dialog::CorpusDialogue>& corpus,
                                         const E2eImitationOptions& options,
                                         const std::function<void(const E2eCurvePoint&)>& on_point = {});

/// Algorithm 1, lines 8-12.
std::vector<E2eCurvePoint> run_reinforce(agents::e2e::E2eAgent& agent, const E2eReinforceOptions& options,
                                         const std::function<void(const E2eCurvePoint&)>& on_point = {});

}  // namespace metadial::train
