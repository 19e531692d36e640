#include "metadial/train/e2e_trainer.h"

#include <numeric>

#include "metadial/core/error.h"
#include "metadial/core/random.h"
#include "metadial/core/returns.h"

namespace metadial::train {
namespace {

agents::e2e::InteractiveOptions eval_options(const agents::e2e::InteractiveOptions& base, int dialogues) {
  agents::e2e::InteractiveOptions o = base;
  o.dialogues = dialogues;
  o.sample = false;
  o.seed = derive_seed(base.seed, {stream("eval")});  // fixed evaluation dialogues, apart from training ones
  return o;
}

}  // namespace

void E2eImitationOptions::validate() const {
  MD_CHECK(dialogues >= 0 && batch >= 1 && passes >= 1 && eval_every >= 0 && eval_dialogues >= 1,
           "imitation options: dialogues ", dialogues, ", batch ", batch, ", passes ", passes, ", eval_every ", eval_every,
           ", eval_dialogues ", eval_dialogues, " (need dialogues >= 0, batch, passes, eval_dialogues >= 1)");
}

void E2eReinforceOptions::validate() const {
  MD_CHECK(dialogues >= 0 && batch >= 1 && eval_every >= 0 && eval_dialogues >= 1, "reinforce options: dialogues ",
           dialogues, ", batch ", batch, ", eval_every ", eval_every, ", eval_dialogues ", eval_dialogues);
  MD_CHECK(gamma >= 0.0 && gamma <= 1.0, "reinforce options: gamma ", gamma, " not in [0, 1]");
  MD_CHECK(learning_rate > 0.0, "reinforce options: learning_rate ", learning_rate, " must be > 0");
}

namespace {

// The loop both interactive stages share: `dialogues` dialogues with the agent's own sampled
// policy (dialogue seeds from `stream`), `update` on every batch of `batch` episodes (and on the
// last, shorter one), a greedy evaluation every `eval_every` dialogues and at the end.
std::vector<E2eCurvePoint> interactive_loop(agents::e2e::E2eAgent& agent,
                                            const agents::e2e::InteractiveOptions& interaction, int dialogues,
                                            int batch_size, int eval_every, int eval_dialogues, uint64_t stream,
                                            const std::function<void(std::vector<agents::e2e::Episode>&)>& update,
                                            const std::function<void(const E2eCurvePoint&)>& on_point) {
  std::vector<E2eCurvePoint> curve;
  agents::e2e::InteractiveOptions play = interaction;
  play.sample = true;  // the agent's own stochastic policy (softmax exploration)
  std::vector<agents::e2e::Episode> batch;
  int successes = 0, since = 0;
  auto point = [&](int d) {
    E2eCurvePoint p;
    p.dialogues = d;
    p.train_success = since ? static_cast<double>(successes) / since : 0.0;
    p.eval = agent.evaluate(eval_options(interaction, eval_dialogues));
    curve.push_back(p);
    if (on_point) on_point(p);
    successes = since = 0;
  };
  for (int d = 1; d <= dialogues; ++d) {
    batch.push_back(agent.run_dialogue(derive_seed(interaction.seed, {stream, static_cast<uint64_t>(d)}), play));
    successes += batch.back().success ? 1 : 0;
    ++since;
    if (static_cast<int>(batch.size()) == batch_size || d == dialogues) {
      update(batch);
      batch.clear();
    }
    if (eval_every > 0 && d % eval_every == 0) point(d);
  }
  if (curve.empty() || curve.back().dialogues != dialogues) point(dialogues);
  return curve;
}

}  // namespace

std::vector<E2eCurvePoint> run_imitation(agents::e2e::E2eAgent& agent, const std::vector<dialog::CorpusDialogue>& corpus,
                                         const E2eImitationOptions& o,
                                         const std::function<void(const E2eCurvePoint&)>& on_point) {
  o.validate();
  return interactive_loop(
      agent, o.interaction, o.dialogues, o.batch, o.eval_every, o.eval_dialogues, stream("il"),
      [&](std::vector<agents::e2e::Episode>& batch) { agent.train_on_teaching(batch, corpus, o.passes); }, on_point);
}

std::vector<E2eCurvePoint> run_reinforce(agents::e2e::E2eAgent& agent, const E2eReinforceOptions& o,
                                         const std::function<void(const E2eCurvePoint&)>& on_point) {
  o.validate();
  auto update = [&](std::vector<agents::e2e::Episode>& batch) {
    std::vector<double> returns;
    for (const auto& ep : batch) {
      std::vector<double> r(ep.actions.size(), -o.turn_penalty);
      if (!r.empty() && ep.success) r.back() += o.success_reward;
      const auto g = reward_to_go(r, o.gamma);
      returns.insert(returns.end(), g.begin(), g.end());
    }
    if (returns.empty()) return;
    const double mean = std::accumulate(returns.begin(), returns.end(), 0.0) / static_cast<double>(returns.size());
    for (double& g : returns) g -= mean;
    agent.reinforce_step(batch, returns, o.end_to_end, o.learning_rate);
  };
  return interactive_loop(agent, o.interaction, o.dialogues, o.batch, o.eval_every, o.eval_dialogues, stream("rl"), update,
                          on_point);
}

}  // namespace metadial::train
