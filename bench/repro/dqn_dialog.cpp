// DQN on the simulated dialogue benchmark (PyDial's env1..env6; restaurant domain unless --domain): success
// rate and reward of the rule policy and of the DQN (PyDial's default hyperparameters unless
// --set) after 1000..4000 training dialogues, over independent seeds, each checkpoint evaluated
// greedily on the same test dialogues; plus the wall time of one 4000-dialogue training on one
// core. Writes bench/results/dqn_dialog.md, dqn_dialog.csv (one row per env x checkpoint x
// seed), dqn_dialog_curve.csv (means) and dqn_dialog.svg (gnuplot, if present); for another
// domain than restaurant the files are dqn_dialog_<domain>.*.
//
//   ./build/release/bench/repro_dqn_dialog [--envs env1,env3,env6] [--domain restaurant] [--kb-entities 100]
//       [--seeds 10] [--dialogues 4000]
//       [--every 500] [--test-dialogues 500] [--threads 2] [--seed 0] [--set name=value ...]
//       [--out bench/results] [--timing 1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "repro_common.h"
#include "metadial/agents/evaluate.h"
#include "metadial/agents/rule_policy.h"
#include "metadial/core/error.h"
#include "metadial/dialog/env.h"
#include "metadial/nn/threads.h"
#include "metadial/train/dialogue_objective.h"
#include "metadial/train/dqn_trainer.h"

using namespace metadial;

namespace {

using metadial::repro::load_average;
using metadial::repro::split;

// The 1-minute load average (other jobs on the machine inflate wall times).
struct Args {
  std::vector<std::string> envs = {"env1", "env3", "env6"};
  int seeds = 10;
  int dialogues = 4000;
  int every = 500;
  int test_dialogues = 500;
  int threads = 2;
  uint64_t seed = 0;
  bool timing = true;
  std::string out = "bench/results";
  agents::dqn::DqnOptions dqn;
  std::vector<std::string> sets;
  std::string domain = "restaurant";
  int kb_entities = 100;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw InvalidArgument("missing value after " + k);
      return argv[++i];
    };
    if (k == "--envs") a.envs = split(next(), ',');
    else if (k == "--seeds") a.seeds = std::stoi(next());
    else if (k == "--dialogues") a.dialogues = std::stoi(next());
    else if (k == "--every") a.every = std::stoi(next());
    else if (k == "--test-dialogues") a.test_dialogues = std::stoi(next());
    else if (k == "--threads") a.threads = std::stoi(next());
    else if (k == "--seed") a.seed = std::stoull(next());
    else if (k == "--timing") a.timing = next() != "0";
    else if (k == "--out") a.out = next();
    else if (k == "--domain") a.domain = next();
    else if (k == "--kb-entities") a.kb_entities = std::stoi(next());
    else if (k == "--set") {
      const std::string kv = next();
      const auto eq = kv.find('=');
      if (eq == std::string::npos) throw InvalidArgument("--set expects name=value, got '" + kv + "'");
      a.dqn.set(kv.substr(0, eq), std::string_view(kv).substr(eq + 1));
      a.sets.push_back(kv);
    } else {
      throw InvalidArgument("unknown argument '" + k + "'");
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) try {
  metadial::nn::set_torch_threads(1);  // once, for the process (--threads: parallel runs, one torch thread each)
  const Args args = parse(argc, argv);
  const std::string load_at_start = load_average();
  const auto domain = train::make_domain(args.domain, "", args.kb_entities);
  std::vector<int> checkpoints;
  for (int d = args.every; d <= args.dialogues; d += args.every) checkpoints.push_back(d);

  // Files: dqn_dialog.* for the restaurant domain, dqn_dialog_<domain>.* for another.
  const std::string stem = args.out + "/dqn_dialog" + (args.domain == "restaurant" ? "" : "_" + args.domain);
  std::ofstream raw(stem + ".csv");
  raw << "env,policy,dialogues,seed,success,reward,turns\n";
  std::ofstream curve(stem + "_curve.csv");
  curve << "dialogues";
  for (const auto& e : args.envs) curve << "," << e << "_success," << e << "_success_ci95," << e << "_rule_success";
  curve << "\n";
  std::map<std::string, std::map<int, std::pair<train::MeanCi, train::MeanCi>>> table;  // env -> dialogues -> (success, reward)
  std::map<std::string, agents::EvalSummary> rule;
  std::map<std::string, double> env_seconds;
  std::map<std::string, double> train_seconds;

  for (const auto& env_name : args.envs) {
    dialog::DialogueEnv env(domain, dialog::env_preset(env_name));
    agents::RulePolicy rp;
    rule[env_name] = agents::evaluate(env, rp, args.test_dialogues, derive_seed(args.seed, {train::kEvalStream}));
    raw << fmt::format("{},rule,0,-,{:.4f},{:.4f},{:.4f}\n", env_name, rule[env_name].success_rate,
                       rule[env_name].avg_reward, rule[env_name].avg_turns);

    train::DqnExperiment ex;
    ex.domain = domain;
    ex.env = dialog::env_preset(env_name);
    ex.dqn = args.dqn;
    ex.train.dialogues = args.dialogues;
    ex.train.window = args.every;
    ex.train.eval_every = args.every;
    ex.train.eval_dialogues = args.test_dialogues;
    ex.train.seed = args.seed;
    ex.seeds = args.seeds;
    ex.threads = args.threads;
    ex.test_dialogues = 0;  // the last checkpoint is the test
    const auto t0 = std::chrono::steady_clock::now();
    const auto outcomes = train::run_dqn_experiment(ex, [&](const train::SeedOutcome& o) {
      const auto& last = o.train.curve.back();
      std::fprintf(stderr, "%s seed %d: success %.3f reward %.2f (%.1f s)\n", env_name.c_str(), o.index,
                   last.eval->success_rate, last.eval->avg_reward, o.train.seconds);
    });
    env_seconds[env_name] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double secs = 0.0;
    for (const auto& o : outcomes) secs += o.train.seconds;
    train_seconds[env_name] = secs / static_cast<double>(outcomes.size());
    for (int d : checkpoints) {
      std::vector<double> s, r;
      for (const auto& o : outcomes) {
        for (const auto& p : o.train.curve) {
          if (p.dialogues != d || !p.eval) continue;
          s.push_back(p.eval->success_rate);
          r.push_back(p.eval->avg_reward);
          raw << fmt::format("{},dqn,{},{},{:.4f},{:.4f},{:.4f}\n", env_name, d, o.index, p.eval->success_rate,
                             p.eval->avg_reward, p.eval->avg_turns);
        }
      }
      table[env_name][d] = {train::mean_ci95(s), train::mean_ci95(r)};
    }
  }
  for (int d : checkpoints) {
    curve << d;
    for (const auto& e : args.envs) {
      curve << fmt::format(",{:.4f},{:.4f},{:.4f}", table[e][d].first.mean, table[e][d].first.ci95, rule[e].success_rate);
    }
    curve << "\n";
  }
  curve.close();
  raw.close();

  // Wall time of one 4000-dialogue training with default sizes on one core (no evaluation).
  double one_core = 0.0;
  if (args.timing) {
    dialog::DialogueEnv env(domain, dialog::env_preset("env1"));
    agents::dqn::DqnPolicy policy(env, args.dqn, derive_seed(args.seed, {train::kPolicyStream}));
    train::DqnTrainOptions t;
    t.dialogues = args.dialogues;
    t.seed = args.seed;
    const auto r = train::train_dqn(env, policy, t);
    one_core = r.seconds;
    std::fprintf(stderr, "one run, %d dialogues, one thread: %.1f s (%lld turns, %lld gradient steps)\n",
                 args.dialogues, r.seconds, static_cast<long long>(r.turns), static_cast<long long>(r.gradient_steps));
  }

  std::ofstream md(stem + ".md");
  md << "# DQN on the simulated dialogue benchmark (" << args.domain << " domain, " << domain->kb().size()
     << " entities)\n\n";
  md << fmt::format(
      "DQN with {} hyperparameters{}, {} seeds; after every {} training dialogues each seed's greedy policy is "
      "evaluated on the same {} test dialogues. Mean over seeds +- 95 % CI (1.96 standard errors across seeds). "
      "Epsilon decays linearly over the whole {}-dialogue run, so the checkpoint at 1000 dialogues still explored "
      "while training. Rule policy: the same test dialogues.\n\n",
      args.sets.empty() ? "PyDial's default" : "default", args.sets.empty() ? "" : " except " + fmt::format("{}", fmt::join(args.sets, ", ")),
      args.seeds, args.every, args.test_dialogues, args.dialogues);
  md << "Reproduce: `build/release/bench/repro_dqn_dialog --envs " << fmt::format("{}", fmt::join(args.envs, ","))
     << " --seeds " << args.seeds << " --dialogues " << args.dialogues << " --threads " << args.threads;
  if (args.domain != "restaurant") md << " --domain " << args.domain;
  if (args.kb_entities != 100) md << " --kb-entities " << args.kb_entities;
  for (const auto& kv : args.sets) md << " --set " << kv;
  md << "`.\n\n";
  md << "## Success rate\n\n| env | rule |";
  for (int d : checkpoints) {
    if (d % 1000 == 0) md << " DQN " << d << " |";
  }
  md << "\n|---|---|";
  for (int d : checkpoints) {
    if (d % 1000 == 0) md << "---|";
  }
  md << "\n";
  for (const auto& e : args.envs) {
    md << fmt::format("| {} | {:.1f} % +- {:.1f} |", e, 100 * rule[e].success_rate, 100 * rule[e].success_ci95);
    for (int d : checkpoints) {
      if (d % 1000 == 0) md << fmt::format(" {:.1f} % +- {:.1f} |", 100 * table[e][d].first.mean, 100 * table[e][d].first.ci95);
    }
    md << "\n";
  }
  md << "\n## Reward (20 x success - turns)\n\n| env | rule |";
  for (int d : checkpoints) {
    if (d % 1000 == 0) md << " DQN " << d << " |";
  }
  md << "\n|---|---|";
  for (int d : checkpoints) {
    if (d % 1000 == 0) md << "---|";
  }
  md << "\n";
  for (const auto& e : args.envs) {
    md << fmt::format("| {} | {:.2f} +- {:.2f} |", e, rule[e].avg_reward, rule[e].reward_ci95);
    for (int d : checkpoints) {
      if (d % 1000 == 0) md << fmt::format(" {:.2f} +- {:.2f} |", table[e][d].second.mean, table[e][d].second.ci95);
    }
    md << "\n";
  }
  md << fmt::format("\n## Time\n\n{} threads; per env: {} seeds x {} dialogues with {} evaluations of {} dialogues "
                    "each. Load average of the machine at the start {}, at the end {} (other jobs running at the "
                    "same time inflate these wall times).\n\n| env | wall time (all seeds) | mean time of one seed "
                    "(training + evaluations) |\n|---|---|---|\n",
                    args.threads, args.seeds, args.dialogues, checkpoints.size(), args.test_dialogues, load_at_start,
                    load_average());
  for (const auto& e : args.envs) md << fmt::format("| {} | {:.0f} s | {:.1f} s |\n", e, env_seconds[e], train_seconds[e]);
  if (args.timing) {
    md << fmt::format("\nOne {}-dialogue training on env1 (default sizes h1 300, h2 100), one thread, no evaluation: "
                      "{:.1f} s.\n",
                      args.dialogues, one_core);
  }
  const std::string base = stem.substr(args.out.size() + 1);
  md << "\nLearning curve: `" << base << ".svg` (data `" << base << "_curve.csv`; per seed `" << base << ".csv`).\n";
  md.close();

  const std::string gp = stem + ".gp";
  {
    std::ofstream g(gp);
    g << "set terminal svg size 800,450 dynamic background rgb 'white'\n"
      << "set output '" << stem << ".svg'\n"
      << "set datafile separator ','\n"
      << "set key bottom right\n"
      << "set xlabel 'training dialogues'\nset ylabel 'test success rate'\nset yrange [0.5:1.02]\n"
      << "set title 'DQN on the " << args.domain << " domain (" << args.seeds << " seeds, mean +- 95 % CI)'\n"
      << "plot ";
    for (size_t i = 0; i < args.envs.size(); ++i) {
      const auto c = 2 + 3 * i;
      const std::string file = "'" + stem + "_curve.csv'";
      g << (i ? ", " : "") << file << " using 1:" << c << ":" << c + 1 << " with yerrorlines lw 2 lc " << i + 1
        << " title '" << args.envs[i] << " DQN', " << file << " using 1:" << c + 2 << " with lines dt 2 lc " << i + 1
        << " title '" << args.envs[i] << " rule'";
    }
    g << "\n";
  }
  if (std::system(("command -v gnuplot >/dev/null 2>&1 && gnuplot '" + gp + "'").c_str()) != 0) {
    std::cerr << "gnuplot not found or failed: no plot (the CSV files are there)\n";
  }
  std::cout << std::ifstream(stem + ".md").rdbuf();
  return 0;
} catch (const std::exception& e) {
  std::cerr << "repro_dqn_dialog: " << e.what() << "\n";
  return 2;
}
