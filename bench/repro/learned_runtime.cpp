// Issue 4, reproduction 1 (the paper's Table 1): run time of 100 optimization steps, excluding
// function evaluations (only Sampler::suggest is timed), GP-BO vs LSTM vs LSTM-MF, d = 1, 2, 3, 6.
// The function is a held-out 2-fidelity GP-prior sample of each dimension (GP-BO and LSTM
// evaluate at the target fidelity, LSTM-MF picks its own). Single-threaded.
//
//   build/release/bench/repro_learned_runtime --models models --out bench/results
//
// Writes bench/results/learned_runtime.{md,csv,gp,svg}.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <map>

#include "learned_common.h"
#include "metadial/core/progress.h"
#include "metadial/meta/gp_prior.h"
#include "metadial/nn/threads.h"
#include "metadial/optim/learned/sampler.h"
#include "metadial/meta/optimizer_trainer.h"

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process: small networks, one torch thread
  using namespace repro;
  CLI::App app{"run time of 100 steps: GP-BO vs LSTM vs LSTM-MF"};
  std::string models = "models", out_dir = "bench/results";
  int steps = 100;
  std::vector<int> dims = {1, 2, 3, 6};
  app.add_option("--models", models, "folder with lstm-d<d>.pt and lstm-mf-d<d>.pt")->capture_default_str();
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  app.add_option("--steps", steps, "optimization steps")->capture_default_str();
  app.add_option("--dims", dims, "dimensions")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(out_dir);

  optim::SamplerRegistry reg;
  optim::register_builtin_samplers(reg);
  optim::learned::register_learned_samplers(reg);
  const std::vector<std::string> names = {"gp", "lstm", "lstm-mf"};
  std::map<std::pair<int, std::string>, double> secs, wall;
  ProgressDisplay progress("runs", static_cast<int64_t>(dims.size() * names.size()));
  int done = 0;
  for (int d : dims) {
    meta::TrainerOptions to;
    to.model.dim = d;
    to.model.fidelities = 2;
    to.finalize();
    const auto fam = meta::held_out_functions(to, 1, 99).front();
    const auto space = cube(d);
    const UnitFunction f = [&](const std::vector<double>& x, int m) { return fam.levels[static_cast<size_t>(m)].value(x); };
    const std::vector<objective::Fidelity> fids = {{"low", fam.costs[0]}, {"high", fam.costs[1]}};
    for (const auto& n : names) {
      nlohmann::json opts = nlohmann::json::object();
      if (n == "lstm") opts["model"] = fmt::format("{}/lstm-d{}.pt", models, d);
      if (n == "lstm-mf") opts["model"] = fmt::format("{}/lstm-mf-d{}.pt", models, d);
      auto sampler = reg.create(n, opts);
      const Run r = run_sampler(*sampler, space, f, fids, steps, 7);
      secs[{d, n}] = r.suggest_cpu_seconds;
      wall[{d, n}] = r.suggest_seconds;
      progress.update(++done, fmt::format("d={} {} {:.3f} s", d, n, r.suggest_cpu_seconds));
    }
  }
  progress.finish();

  std::string md = fmt::format(
      "# Run time of {} optimization steps (issue 4, reproduction 1; the paper's Table 1)\n\n"
      "CPU seconds of the proposing thread for {} points (Sampler::suggest only, function evaluations "
      "excluded; thread CPU time, since the machine is shared: wall-clock seconds in the last column), one thread, "
      "on a held-out 2-fidelity GP-prior function of each dimension. GP-BO = the `gp` sampler (Matern-5/2 ARD, "
      "hyperparameters refitted every step, log-EI over 2000 candidates + L-BFGS-B). LSTM / LSTM-MF = the "
      "`lstm` / `lstm-mf` samplers with the shipped models (replay cache warm: one LSTM step per suggestion).\n"
      "Paper (GPflowOpt vs LSTM-MF): GP 1361-2063 s, LSTM-MF 0.04-0.1 s.\n"
      "Reproduce: `build/release/bench/repro_learned_runtime --models models`.\n\n"
      "| d | GP-BO (s) | LSTM (s) | LSTM-MF (s) | GP / LSTM | GP / LSTM-MF | wall s: GP, LSTM, LSTM-MF |\n"
      "|---|---|---|---|---|---|---|\n",
      steps, steps);
  std::ofstream csv(out_dir + "/learned_runtime.csv");
  csv << "d,gp,lstm,lstm_mf\n";
  for (int d : dims) {
    const double g = secs[{d, "gp"}], l = secs[{d, "lstm"}], m = secs[{d, "lstm-mf"}];
    md += fmt::format("| {} | {:.2f} | {:.4f} | {:.4f} | {:.0f}x | {:.0f}x | {:.2f}, {:.4f}, {:.4f} |\n", d, g, l, m, g / l,
                      g / m, wall[{d, "gp"}], wall[{d, "lstm"}], wall[{d, "lstm-mf"}]);
    csv << fmt::format("{},{:.6g},{:.6g},{:.6g}\n", d, g, l, m);
  }
  csv.close();
  std::ofstream(out_dir + "/learned_runtime.md") << md;
  std::cout << md;
  const std::string gp = out_dir + "/learned_runtime.gp";
  {
    std::ofstream g(gp);
    g << "set terminal svg size 700,450 dynamic background rgb 'white'\n"
      << "set output '" << out_dir << "/learned_runtime.svg'\n"
      << "set datafile separator ','\nset logscale y\nset key top left\nset xlabel 'dimension d'\n"
      << "set ylabel 'seconds for " << steps << " suggestions'\nset title 'Run time of " << steps << " steps (suggest only)'\n"
      << "plot '" << out_dir << "/learned_runtime.csv' using 1:2 with linespoints lw 2 title 'GP-BO', "
      << "'' using 1:3 with linespoints lw 2 title 'LSTM', '' using 1:4 with linespoints lw 2 title 'LSTM-MF'\n";
  }
  run_gnuplot(gp);
  return 0;
}
