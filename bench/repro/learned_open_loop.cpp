// Issue 4, diagnostic: how much do the learned optimizers use what they observe? Each model runs
// 20 steps on held-out GP-prior functions twice: closed loop (it sees the values it found) and open
// loop (it is fed a fixed sequence y_t = sin(1.7 t) instead, so it proposes the same points whatever
// the function). A model that adapts does clearly better closed-loop; one that learned a
// space-filling sequence does about as well open-loop. Proposals are sampled from the policy as the
// samplers do (the same noise in both runs; the deterministic models' sd is e^-5). Several function sets
// (seeds) show how much a 100-function comparison moves between sets.
//
//   build/release/bench/repro_learned_open_loop --functions 200 --sets 20261125,99
//
// Writes bench/results/learned_open_loop.md.
#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "learned_common.h"
#include "metadial/core/random.h"
#include "metadial/meta/optimizer_trainer.h"
#include "metadial/nn/threads.h"
#include "metadial/optim/learned/model.h"

using namespace metadial;

namespace {

// Mean simple regret after `steps` steps (incumbent starts at 1 as in training).
double mean_regret(const optim::learned::LearnedOptimizer& model, const std::vector<meta::MultiFidelityFunction>& fs,
                   int steps, bool open_loop, uint64_t seed) {
  double total = 0.0;
  const auto d = static_cast<size_t>(model.dim());
  for (size_t i = 0; i < fs.size(); ++i) {
    const auto& f = fs[i].target();
    Rng rng(derive_seed(seed, {i}));
    optim::learned::Rollout r(model);
    std::vector<double> mu(d), sd(d), x(d);
    double inc = 1.0;
    for (int t = 0; t < steps; ++t) {
      r.propose(mu, sd);
      for (size_t k = 0; k < d; ++k) x[k] = optim::learned::squash(mu[k] + sd[k] * standard_normal(rng));
      const double y = f.value(x);
      inc = std::min(inc, y);
      r.observe(x, 0, open_loop ? std::sin(1.7 * t) : y);
    }
    total += std::max(0.0, inc - f.minimum);
  }
  return total / static_cast<double>(fs.size());
}

}  // namespace

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process: small networks, one torch thread
  CLI::App app{"closed- vs open-loop regret of the learned optimizers"};
  std::string models = "models", out_dir = "bench/results";
  int functions = 200, steps = 20;
  std::vector<uint64_t> sets = {20261125, 99};
  std::vector<int> dims = {1, 2, 3, 6};
  app.add_option("--models", models, "folder with lstm-d<d>.pt and lstm-det-d<d>.pt")->capture_default_str();
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  app.add_option("--functions", functions, "held-out functions per set")->capture_default_str();
  app.add_option("--sets", sets, "seeds of the function sets")->delimiter(',')->capture_default_str();
  app.add_option("--steps", steps, "steps")->capture_default_str();
  app.add_option("--dims", dims, "dimensions")->delimiter(',')->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::string md = fmt::format(
      "# Do the learned optimizers use what they observe? (issue 4, diagnostic)\n\n"
      "Mean simple regret after {} steps over {} held-out GP-prior functions per set, proposals sampled "
      "from the policy (same noise in both runs). Closed loop: the model sees the values it found; open loop: it is fed y_t = sin(1.7 t) "
      "instead. LSTM = REINFORCE (`lstm-d<d>.pt`), LSTM-det = gradient-trained, deterministic "
      "(`lstm-det-d<d>.pt`). A small gap means a space-filling sequence rather than a search that adapts.\n"
      "Reproduce: `build/release/bench/repro_learned_open_loop --functions {} --sets {}`.\n\n"
      "| d | function set | model | closed loop | open loop |\n|---|---|---|---|---|\n",
      steps, functions, functions, fmt::join(sets, ","));
  for (int d : dims) {
    meta::TrainerOptions o;
    o.model.dim = d;
    o.finalize();
    for (uint64_t set : sets) {
      const auto fs = meta::held_out_functions(o, functions, set);
      for (const auto& [label, file] : {std::pair<std::string, std::string>{"LSTM", fmt::format("lstm-d{}.pt", d)},
                                        {"LSTM-det", fmt::format("lstm-det-d{}.pt", d)}}) {
        const auto path = std::filesystem::path(models) / file;
        if (!std::filesystem::exists(path)) continue;
        const auto model = optim::learned::LearnedOptimizer::load(path.string());
        const double closed = mean_regret(model, fs, steps, false, set), open = mean_regret(model, fs, steps, true, set);
        md += fmt::format("| {} | {} | {} | {:.3f} | {:.3f} |\n", d, set, label, closed, open);
        std::cout << fmt::format("d={} set {} {}: closed {:.3f} open {:.3f}\n", d, set, label, closed, open);
      }
    }
  }
  std::filesystem::create_directories(out_dir);
  std::ofstream(std::filesystem::path(out_dir) / "learned_open_loop.md") << md;
  return 0;
}
