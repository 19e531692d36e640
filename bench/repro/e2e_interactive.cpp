// Reproduction of Liu et al. 2018, Figures 3-6, on our simulator: interactive learning curves
// of the end-to-end agent with the extended user templates (unseen in supervised training):
//   SL                      the supervised model alone (flat line)
//   SL + RL                 REINFORCE, end-to-end
//   SL + IL<a> + RL         <a> taught dialogues (imitation), then REINFORCE end-to-end
//   SL + IL<b> + RL
//   SL + RL (policy only)   REINFORCE updating the policy network only
// x-axis: RL dialogues; y: success rate, turns of successful dialogues, per-turn joint state
// accuracy, each measured greedily on the same eval dialogues (the user's side; each agent's own
// dialogues), and per-turn joint state accuracy on one fixed set of rule-expert dialogues with the
// interaction's (extended) templates and user, the same for every variant: the like-for-like
// comparison of the trackers (each agent's own dialogues differ in length and content).
//
// Run from the repository root:
//   repro_e2e_interactive [--train N] [--sl-epochs N] [--il-a N] [--il-b N] [--rl N]
//                         [--eval N] [--eval-every N] [--paper-sizes] [--seed S] [--rl-lr X] [--gamma G]
//                         [--user simm|standard|FILE.toml] [--turn-penalty X] [--out PREFIX]
//   repro_e2e_interactive --merge --seeds 1,2,3 --out PREFIX     (PREFIX_seed<S>.csv -> PREFIX.*)
// Defaults are sized for a shared 2-core machine (reduced model sizes: word 64, LSTMs 64/96,
// slot MLP 64, policy 100; a small supervised corpus so that the SL model has room to improve).
// --user: the simulated user of the corpus and of the interaction (default simm: the profile mix
// of issue 22, dialog/user_profiles.h; standard: the user before it). --turn-penalty: for an
// ablation only (the paper's reward is +15 / -1 per turn). Writes PREFIX.{csv,md,gp,svg}
// (default PREFIX bench/results/e2e_interactive), the CSV row by row as the points come;
// --merge: mean and standard deviation over the seeds' CSVs, the ordering at the end of RL,
// and the plot.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <sstream>
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
#include "metadial/core/error.h"
#include "metadial/dialog/corpus_generator.h"
#include "metadial/dialog/domain.h"
#include "metadial/dialog/user_profiles.h"
#include "metadial/nn/threads.h"
#include "metadial/train/e2e_trainer.h"

using namespace metadial;

namespace {

struct Row {
  std::string variant;
  int rl_dialogues;
  double success, turns_success, joint, joint_fixed;
};

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(line);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

// The gnuplot script and the SVG: one block per variant of `blocks` (x, success, turns, joint,
// and with error columns when `errors`).
void plot(const std::string& prefix, const std::vector<std::string>& variants, bool errors) {
  const std::string gp = prefix + ".gp";
  std::ofstream g(gp);
  g << "set terminal svg size 1600,400 dynamic background rgb 'white'\nset output '" << prefix << ".svg'\n"
    << "set datafile separator ','\nset multiplot layout 1,4\nset xlabel 'RL dialogues'\nset key bottom right font ',9'\n";
  const char* cols[] = {"2", "3", "4", "5"};
  const char* errs[] = {"6", "7", "8", "9"};
  const char* titles[] = {"task success rate", "turns (successful dialogues)", "joint state accuracy (own dialogues)",
                          "joint state accuracy (fixed dialogues)"};
  for (int c = 0; c < 4; ++c) {
    g << "set title '" << titles[c] << (errors ? " (mean +- sd over seeds)" : "") << "'\nplot ";
    for (size_t v = 0; v < variants.size(); ++v) {
      g << (v ? ", " : "") << "'" << prefix << "_blocks.csv' index " << v << " using 1:" << cols[c];
      if (errors) g << ":" << errs[c] << " with yerrorlines";
      else g << " with linespoints";
      g << " lw 2 title '" << variants[v] << "'";
    }
    g << "\n";
  }
  g << "unset multiplot\n";
  g.close();
  if (std::system(("command -v gnuplot >/dev/null 2>&1 && gnuplot '" + gp + "'").c_str()) != 0) {
    std::cerr << "gnuplot not found or failed: no plot (the CSV files are there)\n";
  }
}

// --merge: PREFIX_seed<S>.csv for each seed -> PREFIX.{csv,md,gp,svg}.
int merge(const std::string& prefix, const std::vector<std::string>& seeds) {
  // variant -> rl dialogues -> per-seed values
  std::vector<std::string> variants;
  std::map<std::string, std::map<int, std::vector<std::array<double, 4>>>> data;
  std::string command;
  for (const auto& sd : seeds) {
    const std::string file = prefix + "_seed" + sd + ".csv";
    std::ifstream in(file);
    if (!in) {
      std::fprintf(stderr, "%s: cannot read the file (run the seed first)\n", file.c_str());
      return 2;
    }
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const auto f = split(line, ',');
      if (f.size() < 6) {
        std::fprintf(stderr, "%s: a row without the fixed-dialogue joint accuracy (written before it existed: run the seed again)\n",
                     file.c_str());
        return 2;
      }
      if (std::find(variants.begin(), variants.end(), f[0]) == variants.end()) variants.push_back(f[0]);
      data[f[0]][std::stoi(f[1])].push_back({std::stod(f[2]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5])});
    }
    std::ifstream md(prefix + "_seed" + sd + ".md");
    std::string l;
    while (std::getline(md, l)) {
      if (l.rfind("Command:", 0) == 0) command += "- seed " + sd + ": " + l.substr(9) + "\n";
    }
  }
  auto stats = [](const std::vector<std::array<double, 4>>& v, int k) {
    double m = 0.0, q = 0.0;
    for (const auto& x : v) m += x[static_cast<size_t>(k)];
    m /= static_cast<double>(v.size());
    for (const auto& x : v) q += (x[static_cast<size_t>(k)] - m) * (x[static_cast<size_t>(k)] - m);
    const double sd = v.size() > 1 ? std::sqrt(q / static_cast<double>(v.size() - 1)) : 0.0;
    return std::pair<double, double>{m, sd};
  };
  std::ofstream csv(prefix + ".csv");
  csv << "variant,rl_dialogues,seeds,success_mean,success_sd,turns_successful_mean,turns_successful_sd,joint_mean,joint_sd,"
         "joint_fixed_mean,joint_fixed_sd\n";
  std::ofstream blocks(prefix + "_blocks.csv");
  int last = 0;
  for (size_t v = 0; v < variants.size(); ++v) {
    if (v) blocks << "\n\n";
    for (const auto& [d, vals] : data[variants[v]]) {
      last = std::max(last, d);
      const auto [sm, ss] = stats(vals, 0);
      const auto [tm, ts] = stats(vals, 1);
      const auto [jm, js] = stats(vals, 2);
      const auto [fm, fs] = stats(vals, 3);
      csv << fmt::format("{},{},{},{:.4f},{:.4f},{:.3f},{:.3f},{:.4f},{:.4f},{:.4f},{:.4f}\n", variants[v], d, vals.size(), sm, ss,
                         tm, ts, jm, js, fm, fs);
      blocks << fmt::format("{},{:.4f},{:.3f},{:.4f},{:.4f},{:.4f},{:.3f},{:.4f},{:.4f}\n", d, sm, tm, jm, fm, ss, ts, js, fs);
    }
  }
  blocks.close();
  plot(prefix, variants, true);
  std::ostringstream md;
  md << "| variant | RL dialogues | seeds | success rate | turns (successful) | joint state accuracy (own dialogues) | "
        "joint state accuracy (fixed dialogues) | success per seed |\n"
        "|---|---|---|---|---|---|---|---|\n";
  std::map<std::string, double> end;
  for (const auto& v : variants) {
    for (const auto& [d, vals] : data[v]) {
      if (d != 0 && d != last) continue;
      const auto [sm, ss] = stats(vals, 0);
      const auto [tm, ts] = stats(vals, 1);
      const auto [jm, js] = stats(vals, 2);
      const auto [fm, fs] = stats(vals, 3);
      std::string per;
      for (const auto& x : vals) per += fmt::format("{}{:.3f}", per.empty() ? "" : " / ", x[0]);
      md << fmt::format("| {} | {} | {} | {:.3f} +- {:.3f} | {:.2f} +- {:.2f} | {:.3f} +- {:.3f} | {:.3f} +- {:.3f} | {} |\n", v, d,
                        vals.size(), sm, ss, tm, ts, jm, js, fm, fs, per);
      if (d == last) end[v] = sm;
    }
  }
  md << "\n(mean +- standard deviation over the seeds)\n\nOrdering at the end of the RL stage (mean success):\n\n";
  std::vector<std::string> chain;
  for (const auto& v : variants) {
    if (v != "SL+RL policy-only") chain.push_back(v);
  }
  for (size_t k = 0; k + 1 < chain.size(); ++k) {
    md << fmt::format("- {} ({:.3f}) < {} ({:.3f}): {}\n", chain[k], end[chain[k]], chain[k + 1], end[chain[k + 1]],
                      end[chain[k]] < end[chain[k + 1]] ? "yes" : "**no**");
  }
  if (end.count("SL+RL") && end.count("SL+RL policy-only")) {
    md << fmt::format("- end-to-end SL+RL ({:.3f}) > policy-only ({:.3f}): {}\n", end["SL+RL"], end["SL+RL policy-only"],
                      end["SL+RL"] > end["SL+RL policy-only"] ? "yes" : "**no**");
  }
  if (!chain.empty()) {
    md << fmt::format("- {} >= 0.80: {}\n", chain.back(), end[chain.back()] >= 0.80 ? "yes" : "**no**");
  }
  md << "\nRuns (one process per seed):\n\n" << command;
  std::ofstream f(prefix + ".md");
  f << "# Interactive learning of the end-to-end agent with the profiled simulated user (merged seeds)\n\n" << md.str();
  f << "\nCurves: " << prefix.substr(prefix.find_last_of('/') + 1) << ".csv (per seed: _seed<S>.csv); plot: "
    << prefix.substr(prefix.find_last_of('/') + 1) << ".svg.\n";
  std::fputs(md.str().c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process: small networks, one torch thread
  int n_train = 150, sl_epochs = 4, il_a = 100, il_b = 200, rl = 600, n_eval = 100, eval_every = 100;
  uint64_t seed = 1;
  bool paper = false, do_merge = false;
  double rl_lr = 1e-3, gamma = 0.95, turn_penalty = 1.0;
  std::string prefix = "bench/results/e2e_interactive", user_name = "simm", seeds;
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
    else if (a == "--turn-penalty") turn_penalty = std::stod(next());
    else if (a == "--user") user_name = next();
    else if (a == "--out") prefix = next();
    else if (a == "--merge") do_merge = true;
    else if (a == "--seeds") seeds = next();
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (do_merge) return merge(prefix, split(seeds, ','));
  dialog::UserOptions user;
  try {
    user = user_name == "simm" || user_name == "standard" ? dialog::UserOptions::from_name(user_name)
                                                          : dialog::load_user_profiles(user_name);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
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
  co.user = user;
  dialog::CorpusGenerator gen(domain, co, [rule](const dialog::DialogueEnv& env, bool begin) {
    if (begin) rule->begin_dialogue();
    return rule->act(agents::PolicyInput::from(env));
  });
  const auto corpus = gen.generate_all();
  const auto onto = dialog::CorpusOntology::from({&corpus.train, &corpus.dev});
  // The fixed dialogues of the like-for-like tracker measure: rule-expert dialogues with the
  // interaction's templates and user, their own seed stream; values outside the training ontology
  // cannot occur (the ontology is the domain's values, as the tracker's).
  std::vector<dialog::CorpusDialogue> fixed;
  {
    dialog::CorpusOptions fo = co;
    fo.num_train = 0;
    fo.num_dev = 0;
    fo.num_test = n_eval;
    fo.seed = derive_seed(seed, {metadial::stream("fixeddst")});
    fo.templates = dialog::TemplateSet::kExtended;
    dialog::CorpusGenerator fgen(domain, fo, [rule](const dialog::DialogueEnv& env, bool begin) {
      if (begin) rule->begin_dialogue();
      return rule->act(agents::PolicyInput::from(env));
    });
    fixed = fgen.generate_all().test;
  }
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
  io.user = user;
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
  std::ofstream csv(prefix + ".csv");
  csv << "variant,rl_dialogues,success_rate,turns_successful,joint_accuracy,joint_accuracy_fixed\n" << std::flush;
  auto add = [&](const std::string& v, int d, const agents::e2e::InteractiveReport& r, double jf) {
    rows.push_back({v, d, r.success_rate, r.avg_turns_success, r.joint_accuracy, jf});
    csv << fmt::format("{},{},{:.4f},{:.3f},{:.4f},{:.4f}\n", v, d, r.success_rate, r.avg_turns_success, r.joint_accuracy, jf)
        << std::flush;
    std::printf("%-24s %5d  success %.3f  turns %.2f  joint %.3f  joint(fixed) %.3f\n", v.c_str(), d, r.success_rate,
                r.avg_turns_success, r.joint_accuracy, jf);
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
    ro.turn_penalty = turn_penalty;
    ro.interaction = io;
    agents::e2e::InteractiveOptions eo = io;
    eo.dialogues = n_eval;
    eo.seed = derive_seed(io.seed, {metadial::stream("eval")});
    add(name, 0, agent->evaluate(eo), agent->state_report(fixed).joint_accuracy);
    train::run_reinforce(*agent, ro, [&](const train::E2eCurvePoint& p) {
      add(name, p.dialogues, p.eval, agent->state_report(fixed).joint_accuracy);
    });
    const double rl_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    timing.push_back(fmt::format("| {} | {:.0f} | {:.0f} | {:.0f} |", name, sl_s, il_s, rl_s));
  };
  {
    auto agent = make_sl();
    agents::e2e::InteractiveOptions eo = io;
    eo.dialogues = n_eval;
    eo.seed = derive_seed(io.seed, {metadial::stream("eval")});
    const auto r = agent->evaluate(eo);
    const double jf = agent->state_report(fixed).joint_accuracy;
    for (int d = 0; d <= rl; d += std::max(eval_every, 1)) add("SL", d, r, jf);
    timing.push_back(fmt::format("| SL | {:.0f} | 0 | 0 |", sl_seconds));
  }
  rl_run("SL+RL", 0, true);
  rl_run(fmt::format("SL+IL{}+RL", il_a), il_a, true);
  rl_run(fmt::format("SL+IL{}+RL", il_b), il_b, true);
  rl_run("SL+RL policy-only", 0, false);

  csv.close();
  // One block per variant for gnuplot (index i).
  std::ofstream blocks(prefix + "_blocks.csv");
  std::vector<std::string> variants;
  for (const auto& r : rows) {
    if (variants.empty() || variants.back() != r.variant) {
      if (!variants.empty()) blocks << "\n\n";
      variants.push_back(r.variant);
    }
    blocks << fmt::format("{},{:.4f},{:.3f},{:.4f},{:.4f}\n", r.rl_dialogues, r.success, r.turns_success, r.joint, r.joint_fixed);
  }
  blocks.close();
  plot(prefix, variants, false);
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
  std::ofstream md(prefix + ".md");
  md << "# Interactive learning of the end-to-end agent (Liu et al. 2018, Figures 3-6)\n\n";
  md << fmt::format("Command: `repro_e2e_interactive --train {} --sl-epochs {} --il-a {} --il-b {} --rl {} --eval {} "
                    "--eval-every {} --seed {} --rl-lr {} --gamma {}{} --user {}{} --out {}`; total wall time {:.0f} s on the shared "
                    "2-core machine (one torch thread).\n\n",
                    n_train, sl_epochs, il_a, il_b, rl, n_eval, eval_every, seed, rl_lr, gamma, paper ? " --paper-sizes" : "",
                    user_name, turn_penalty != 1.0 ? fmt::format(" --turn-penalty {}", turn_penalty) : "", prefix, total);
  md << fmt::format("Setup: movie domain, supervised corpus of {} rule-expert dialogues with the training user templates; "
                    "interaction (IL, RL and evaluation) with the extended templates; evaluation on {} fixed dialogues, "
                    "greedy actions. Simulated user: {}. Sizes: {}. RL: +15 success, -{} per turn, at most 15 turns, mini-batches of 25, "
                    "gamma {}, Adam {}; IL: updates every 25 taught dialogues.\n\n",
                    n_train, n_eval, user_name, paper ? "the paper's" : "reduced (word 64, LSTMs 64 / 96, slot MLP 64, policy 100)",
                    turn_penalty, gamma, rl_lr);
  md << "| variant | RL dialogues | success rate | turns (successful) | joint state accuracy (own dialogues) | joint state "
        "accuracy (fixed dialogues) |\n|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    if (r.rl_dialogues == 0 || r.rl_dialogues == rl) {
      md << fmt::format("| {} | {} | {:.3f} | {:.2f} | {:.3f} | {:.3f} |\n", r.variant, r.rl_dialogues, r.success, r.turns_success,
                        r.joint, r.joint_fixed);
    }
  }
  md << "\nWall time per stage (s):\n\n| variant | SL | IL | RL (incl. evaluations) |\n|---|---|---|---|\n";
  for (const auto& t : timing) md << t << "\n";
  const std::string stem = prefix.substr(prefix.find_last_of('/') + 1);
  md << "\nFull curves: " << stem << ".csv; plot: " << stem << ".svg.\n";
  return 0;
}
