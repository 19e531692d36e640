// Rule-policy reference numbers on the simulated dialogue benchmark (PyDial's env1..env6):
// success rate, average reward and turns over 500 dialogues per environment, for the restaurant
// and movie domains, and the simulator's throughput (dialogue turns per second on one core).
//
//   ./build/release/bench/repro_dialog_rule [dialogues=500] [seed=0]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "metadial/agents/evaluate.h"
#include "metadial/agents/rule_policy.h"
#include "metadial/dialog/env.h"

using namespace metadial;

int main(int argc, char** argv) {
  const int dialogues = argc > 1 ? std::atoi(argv[1]) : 500;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  std::printf("rule policy, %d dialogues per environment, seed %llu (95%% CI)\n\n", dialogues,
              static_cast<unsigned long long>(seed));
  std::printf("%-10s %-5s %-18s %-18s %-14s %-18s\n", "domain", "env", "success", "reward", "turns",
              "random: success");
  for (const char* domain_name : {"restaurant", "movie"}) {
    auto domain = dialog::Domain::builtin(domain_name);
    for (const auto& env_name : dialog::env_preset_names()) {
      dialog::DialogueEnv env(domain, dialog::env_preset(env_name));
      agents::RulePolicy rule;
      const auto s = agents::evaluate(env, rule, dialogues, seed);
      agents::RandomPolicy random(seed);
      const auto r = agents::evaluate(env, random, dialogues, seed);
      std::printf("%-10s %-5s %5.1f%% +- %4.1f     %6.2f +- %4.2f    %5.2f +- %4.2f   %5.1f%% (reward %6.2f)\n",
                  domain_name, env_name.c_str(), 100 * s.success_rate, 100 * s.success_ci95, s.avg_reward,
                  s.reward_ci95, s.avg_turns, s.turns_ci95, 100 * r.success_rate, r.avg_reward);
    }
  }
  // Throughput: rule policy on env3 (errors on, masks on), restaurant.
  for (const char* env_name : {"env1", "env3", "env6"}) {
    auto domain = dialog::Domain::builtin("restaurant");
    dialog::DialogueEnv env(domain, dialog::env_preset(env_name));
    agents::RulePolicy rule;
    long turns = 0;
    int n = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double secs = 0.0;
    while (secs < 1.0) {
      for (int k = 0; k < 1000; ++k) turns += agents::run_dialogue(env, rule, derive_seed(seed, {99, static_cast<uint64_t>(n++)})).turns;
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    std::printf("\nthroughput (restaurant %s, rule policy, one core): %.0f turns/s, %.0f dialogues/s", env_name,
                turns / secs, n / secs);
  }
  std::printf("\n");
  return 0;
}
