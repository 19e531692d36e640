// Simulator throughput: whole dialogues with the rule policy (turns per second on one core,
// the number the DQN workload depends on), and the parts of one turn.
//
//   ./build/release/bench/bench_dialog
#include <benchmark/benchmark.h>

#include "metadial/agents/evaluate.h"
#include "metadial/agents/rule_policy.h"
#include "metadial/dialog/env.h"

namespace {

using namespace metadial;

// Arg: 1 = env1, 3 = env3, 6 = env6 (restaurant domain).
void BM_RulePolicyDialogue(benchmark::State& state) {
  auto domain = dialog::Domain::builtin("restaurant");
  dialog::DialogueEnv env(domain, dialog::env_preset("env" + std::to_string(state.range(0))));
  agents::RulePolicy rule;
  uint64_t seed = 0;
  int64_t turns = 0;
  for (auto _ : state) {
    const auto out = agents::run_dialogue(env, rule, seed++);
    turns += out.turns;
    benchmark::DoNotOptimize(out.reward);
  }
  state.counters["turns_per_s"] = benchmark::Counter(static_cast<double>(turns), benchmark::Counter::kIsRate);
  state.counters["turns_per_dialogue"] = static_cast<double>(turns) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RulePolicyDialogue)->Arg(1)->Arg(3)->Arg(6);

// The movie domain (larger belief, 20 actions) on env3.
void BM_RulePolicyDialogueMovie(benchmark::State& state) {
  auto domain = dialog::Domain::builtin("movie");
  dialog::DialogueEnv env(domain, dialog::env_preset("env3"));
  agents::RulePolicy rule;
  uint64_t seed = 0;
  int64_t turns = 0;
  for (auto _ : state) turns += agents::run_dialogue(env, rule, seed++).turns;
  state.counters["turns_per_s"] = benchmark::Counter(static_cast<double>(turns), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RulePolicyDialogueMovie);

// One env step (user + channel + tracker + observation + mask) with a fixed action sequence.
void BM_EnvStep(benchmark::State& state) {
  auto domain = dialog::Domain::builtin("restaurant");
  dialog::DialogueEnv env(domain, dialog::env_preset("env3"));
  const int actions[] = {0, 3, 6, 1, 4, 9};
  uint64_t seed = 0;
  size_t k = 0;
  env.reset(seed);
  for (auto _ : state) {
    if (env.done()) env.reset(++seed);
    benchmark::DoNotOptimize(env.step(actions[k++ % 6]).reward);
  }
}
BENCHMARK(BM_EnvStep);

// The N-best generation of one user turn.
void BM_ErrorModel(benchmark::State& state) {
  const auto o = dialog::Ontology::builtin("restaurant");
  dialog::ErrorModel em(o, {dialog::NBestModel::kRanked, 0.3, 5});
  dialog::UserTurn t;
  t.push({dialog::UserActType::kInform, 2, 5});
  t.push({dialog::UserActType::kInform, 1, 1});
  Rng rng(1);
  dialog::NBestList nb;
  for (auto _ : state) {
    em.corrupt(t, rng, nb);
    benchmark::DoNotOptimize(nb.size);
  }
}
BENCHMARK(BM_ErrorModel);

}  // namespace
