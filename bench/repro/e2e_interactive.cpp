// Reproduction of Liu et al. 2018, Figures 3-6, on our simulator: interactive learning curves
// of the end-to-end agent with the extended user templates (unseen in supervised training):
//   SL                      the supervised model alone (flat line)
//   SL + RL                 REINFORCE, end-to-end
//   SL + IL<a> + RL         <a> taught dialogues (imitation), then REINFORCE end-to-end
//   SL + IL<b> + RL
//   SL + RL (policy only)   REINFORCE updating the policy network only
// x-axis: RL dialogues; y: success rate, turns of successful dialogues, per-turn joint state
// accuracy, each measured greedily on the same eval dialogues.
//
// Run from the repository root:
//   repro_e2e_interactive [--train N] [--sl-epochs N] [--il-a N] [--il-b N] [--rl N]
//                         [--eval N] [--eval-every N] [--paper-sizes] [--seed S] [--rl-lr X] [--gamma G]
// Defaults are sized for a shared 2-core machine (reduced model sizes: word 64, LSTMs 64/96,
// slot MLP 64, policy 100; a small supervised corpus so that the SL model has room to improve).
// Writes bench/results/e2e_interactive.{csv,md,gp,svg}.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "metadial/agents/e2e/e2e_agent.h"
#include "metadial/agents/rule_policy.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"
#include "metadial/nn/threads.h"
#include "metadial/train/e2e_trainer.h"

using namespace metadial;

namespace {

struct Row {
  std::string variant;
  int rl_dialogues;
  double success, turns_success, joint;
};

}  // namespace

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process: small networks, one torch thread
  int n_train = 150, sl_epochs = 4, il_a = 100, il_b = 200, rl = 600, n_eval = 100, eval_every = 100;
  uint64_t seed = 1;
  bool paper = false;
  double rl_lr = 1e-3, gamma = 0.95;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string("0"); };
    if (a == "--train") n_train = std::stoi(next());
    else if (a == "--sl-epochs") sl_epochs = std::stoi(next());
    else if (a == "--il-a") il_a = std::stoi(next());
    else if (a == "--il-b") il_b = std::stoi(next());
    else if (a == "--rl") rl = std::stoi(next());
    else if (a == "--eval") n_eval = std::stoi(next());
    else if (a == "--eval-every") eval_every = std::stoi(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--paper-sizes") paper = true;
    else if (a == "--rl-lr") rl_lr = std::stod(next());
    else if (a == "--gamma") gamma = std::stod(next());
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  const auto t_all = std::chrono::steady_clock::now();
  auto domain = dialog::Domain::builtin("movie");
  auto rule = std::make_shared<agents::RulePolicy>();
  dialog::CorpusOptions co;
  co.num_train = n_train;
  co.num_dev = 50;
  co.num_test = 0;
  co.seed = seed;
  co.templates = dialog::TemplateSet::kTraining;
  dialog::CorpusGenerator gen(domain, co, [rule](const dialog::DialogueEnv& env, bool begin) {
    if (begin) rule->begin_dialogue();
    return rule->act(agents::PolicyInput::from(env));
  });
  const auto corpus = gen.generate_all();
  const auto onto = dialog::CorpusOntology::from({&corpus.train, &corpus.dev});
  agents::e2e::AgentOptions ao;
  ao.tracker.epochs = sl_epochs;
  ao.tracker.seed = seed;
  if (!paper) {
    ao.tracker.word_dim = 64;
    ao.tracker.utter_hidden = 64;
    ao.tracker.dialog_hidden = 96;
    ao.tracker.slot_hidden = 64;
  }
  agents::e2e::InteractiveOptions io;
  io.templates = dialog::TemplateSet::kExtended;
  io.seed = derive_seed(seed, {0x696eULL});
  // The supervised model, trained afresh (deterministically) for each variant.
  double sl_seconds = 0.0;
  auto make_sl = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    auto agent = std::make_unique<agents::e2e::E2eAgent>(domain, onto, corpus.train, ao);
    agent->train_supervised(corpus.train, corpus.dev);
    sl_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return agent;
  };
  std::vector<Row> rows;
  std::vector<std::string> timing;
  auto add = [&](const std::string& v, int d, const agents::e2e::InteractiveReport& r) {
    rows.push_back({v, d, r.success_rate, r.avg_turns_success, r.joint_accuracy});
    std::printf("%-24s %5d  success %.3f  turns %.2f  joint %.3f\n", v.c_str(), d, r.success_rate, r.avg_turns_success,
                r.joint_accuracy);
    std::fflush(stdout);
  };
  auto rl_run = [&](const std::string& name, int il, bool end_to_end) {
    auto agent = make_sl();
    const double sl_s = sl_seconds;
    double il_s = 0.0;
    if (il > 0) {
      const auto t0 = std::chrono::steady_clock::now();
      train::E2eImitationOptions ilo;
      ilo.dialogues = il;
      ilo.eval_every = 0;
      ilo.eval_dialogues = 1;
      ilo.interaction = io;
      train::run_imitation(*agent, corpus.train, ilo);
      il_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const auto t0 = std::chrono::steady_clock::now();
    train::E2eReinforceOptions ro;
    ro.dialogues = rl;
    ro.eval_every = eval_every;
    ro.eval_dialogues = n_eval;
    ro.end_to_end = end_to_end;
    ro.learning_rate = rl_lr;
    ro.gamma = gamma;
    ro.interaction = io;
    agents::e2e::InteractiveOptions eo = io;
    eo.dialogues = n_eval;
    eo.seed = derive_seed(io.seed, {metadial::stream("eval")});
    add(name, 0, agent->evaluate(eo));
    train::run_reinforce(*agent, ro, [&](const train::E2eCurvePoint& p) { add(name, p.dialogues, p.eval); });
    const double rl_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    timing.push_back(fmt::format("| {} | {:.0f} | {:.0f} | {:.0f} |", name, sl_s, il_s, rl_s));
  };
  {
    auto agent = make_sl();
    agents::e2e::InteractiveOptions eo = io;
    eo.dialogues = n_eval;
    eo.seed = derive_seed(io.seed, {metadial::stream("eval")});
    const auto r = agent->evaluate(eo);
    for (int d = 0; d <= rl; d += std::max(eval_every, 1)) add("SL", d, r);
    timing.push_back(fmt::format("| SL | {:.0f} | 0 | 0 |", sl_seconds));
  }
  rl_run("SL+RL", 0, true);
  rl_run(fmt::format("SL+IL{}+RL", il_a), il_a, true);
  rl_run(fmt::format("SL+IL{}+RL", il_b), il_b, true);
  rl_run("SL+RL policy-only", 0, false);

  const std::string dir = "bench/results";
  std::ofstream csv(dir + "/e2e_interactive.csv");
  csv << "variant,rl_dialogues,success_rate,turns_successful,joint_accuracy\n";
  for (const auto& r : rows) {
    csv << fmt::format("{},{},{:.4f},{:.3f},{:.4f}\n", r.variant, r.rl_dialogues, r.success, r.turns_success, r.joint);
  }
  csv.close();
  // One block per variant for gnuplot (index i).
  std::ofstream blocks(dir + "/e2e_interactive_blocks.csv");
  std::vector<std::string> variants;
  for (const auto& r : rows) {
    if (variants.empty() || variants.back() != r.variant) {
      if (!variants.empty()) blocks << "\n\n";
      variants.push_back(r.variant);
    }
    blocks << fmt::format("{},{:.4f},{:.3f},{:.4f}\n", r.rl_dialogues, r.success, r.turns_success, r.joint);
  }
  blocks.close();
  const std::string gp = dir + "/e2e_interactive.gp";
  {
    std::ofstream g(gp);
    g << "set terminal svg size 1200,400 dynamic background rgb 'white'\nset output '" << dir << "/e2e_interactive.svg'\n"
      << "set datafile separator ','\nset multiplot layout 1,3\nset xlabel 'RL dialogues'\nset key bottom right font ',9'\n";
    const char* cols[] = {"2", "3", "4"};
    const char* titles[] = {"task success rate", "turns (successful dialogues)", "joint state accuracy"};
    for (int c = 0; c < 3; ++c) {
      g << "set title '" << titles[c] << "'\nplot ";
      for (size_t v = 0; v < variants.size(); ++v) {
        g << (v ? ", " : "") << "'" << dir << "/e2e_interactive_blocks.csv' index " << v << " using 1:" << cols[c]
          << " with linespoints lw 2 title '" << variants[v] << "'";
      }
      g << "\n";
    }
    g << "unset multiplot\n";
  }
  if (std::system(("command -v gnuplot >/dev/null 2>&1 && gnuplot '" + gp + "'").c_str()) != 0) {
    std::cerr << "gnuplot not found or failed: no plot (the CSV files are there)\n";
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
  std::ofstream md(dir + "/e2e_interactive.md");
  md << "# Interactive learning of the end-to-end agent (Liu et al. 2018, Figures 3-6)\n\n";
  md << fmt::format("Command: `repro_e2e_interactive --train {} --sl-epochs {} --il-a {} --il-b {} --rl {} --eval {} "
                    "--eval-every {} --seed {} --rl-lr {} --gamma {}{}`; total wall time {:.0f} s on the shared 2-core machine "
                    "(one torch thread).\n\n",
                    n_train, sl_epochs, il_a, il_b, rl, n_eval, eval_every, seed, rl_lr, gamma, paper ? " --paper-sizes" : "", total);
  md << fmt::format("Setup: movie domain, supervised corpus of {} rule-expert dialogues with the training user templates; "
                    "interaction (IL, RL and evaluation) with the extended templates; evaluation on {} fixed dialogues, "
                    "greedy actions. Sizes: {}. RL: +15 success, -1 per turn, at most 15 turns, mini-batches of 25, "
                    "gamma {}, Adam {}; IL: updates every 25 taught dialogues.\n\n",
                    n_train, n_eval, paper ? "the paper's" : "reduced (word 64, LSTMs 64 / 96, slot MLP 64, policy 100)", gamma, rl_lr);
  md << "| variant | RL dialogues | success rate | turns (successful) | joint state accuracy |\n|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    if (r.rl_dialogues == 0 || r.rl_dialogues == rl) {
      md << fmt::format("| {} | {} | {:.3f} | {:.2f} | {:.3f} |\n", r.variant, r.rl_dialogues, r.success, r.turns_success, r.joint);
    }
  }
  md << "\nWall time per stage (s):\n\n| variant | SL | IL | RL (incl. evaluations) |\n|---|---|---|---|\n";
  for (const auto& t : timing) md << t << "\n";
  md << "\nFull curves: e2e_interactive.csv; plot: e2e_interactive.svg.\n";
  return 0;
}
