#include "metadial/agents/evaluate.h"

#include <cmath>
#include <vector>

#include "metadial/core/error.h"
#include "metadial/dialog/render.h"

namespace metadial::agents {

DialogueOutcome run_dialogue(dialog::DialogueEnv& env, Policy& policy, uint64_t seed, std::string* transcript) {
  env.reset(seed);
  policy.begin_dialogue();
  if (transcript) {
    *transcript += "goal: " + dialog::render_goal(env.domain(), env.goal()) + "\n";
    *transcript += dialog::render_last_turn(env);
  }
  while (!env.done()) {
    env.step(policy.act(PolicyInput::from(env)));
    if (transcript) *transcript += dialog::render_last_turn(env);
  }
  if (transcript && !(env.goal() == env.initial_goal())) {
    *transcript += "final goal (relaxed): " + dialog::render_goal(env.domain(), env.goal()) + "\n";
  }
  return {env.success(), env.total_reward(), env.turn()};
}

namespace {
void mean_ci(const std::vector<double>& x, double* mean, double* ci) {
  const double n = static_cast<double>(x.size());
  double s = 0.0;
  for (double v : x) s += v;
  *mean = s / n;
  double ss = 0.0;
  for (double v : x) ss += (v - *mean) * (v - *mean);
  *ci = x.size() > 1 ? 1.96 * std::sqrt(ss / (n - 1.0) / n) : 0.0;
}
}  // namespace

EvalSummary evaluate(dialog::DialogueEnv& env, Policy& policy, int dialogues, uint64_t seed) {
  MD_CHECK(dialogues >= 1, "evaluate: dialogues ", dialogues, " must be >= 1");
  std::vector<double> success, reward, turns;
  for (int k = 0; k < dialogues; ++k) {
    const DialogueOutcome out = run_dialogue(env, policy, derive_seed(seed, {static_cast<uint64_t>(k)}));
    success.push_back(out.success ? 1.0 : 0.0);
    reward.push_back(out.reward);
    turns.push_back(out.turns);
  }
  EvalSummary s;
  s.dialogues = dialogues;
  mean_ci(success, &s.success_rate, &s.success_ci95);
  mean_ci(reward, &s.avg_reward, &s.reward_ci95);
  mean_ci(turns, &s.avg_turns, &s.turns_ci95);
  return s;
}

}  // namespace metadial::agents
