// Issue 4, reproduction 1 (the paper's Table 1): run time of 100 optimization steps, excluding
// function evaluations (only Sampler::suggest is timed), GP-BO vs LSTM vs LSTM-MF, d = 1, 2, 3, 6.
// The function is a held-out 2-fidelity GP-prior sample of each dimension (GP-BO and LSTM
// evaluate at the target fidelity, LSTM-MF picks its own). Single-threaded.
// Issue 14, part 4: the `pfn` sampler (models/pfn.pt, when there) as a column, and the time of one
// suggestion at 100 observations, GP-BO vs PFN (the median over 11 suggestions with other seeds
// after the same 100 uniform random observations of that function).
// Issue 14: LSTM and LSTM-MF use the shipped defaults (what `sampler = "lstm"` / `"lstm-mf"` load for
// the dimension), and their 100 steps are timed --repeats times (the median: a run takes about a
// millisecond, near the resolution of a shared machine's thread clock); GP-BO's --gp-repeats (5) times.
//
//   build/release/bench/repro_learned_runtime --models models --out bench/results
//
// Writes bench/results/learned_runtime.{md,csv,gp,svg}.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

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
  int steps = 100, repeats = 11, gp_repeats = 5;
  std::vector<int> dims = {1, 2, 3, 6};
  app.add_option("--models", models, "folder with the default models (lstm-inc-d<d>.pt, lstm-mf-d<d>.pt, ...)")
      ->capture_default_str();
  app.add_option("--repeats", repeats, "timed runs of the learned samplers (median)")->capture_default_str()->check(
      CLI::Range(1, 1000));
  app.add_option("--gp-repeats", gp_repeats, "timed runs of GP-BO (median; its time moves by up to 1.5x between runs "
                 "on a shared machine)")->capture_default_str()->check(CLI::Range(1, 100));
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  app.add_option("--steps", steps, "optimization steps")->capture_default_str();
  app.add_option("--dims", dims, "dimensions")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(out_dir);

  optim::SamplerRegistry reg;
  optim::register_builtin_samplers(reg);
  optim::learned::register_learned_samplers(reg);
  std::vector<std::string> names = {"gp", "lstm", "lstm-mf"};
  const std::string pfn_model = models + "/pfn.pt";
  const bool with_pfn = std::filesystem::exists(pfn_model);
  if (with_pfn) names.push_back("pfn");
  std::map<std::pair<int, std::string>, double> secs, wall, at100;
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
      const bool learned = n == "lstm" || n == "lstm-mf";
      if (learned) opts["model"] = optim::learned::default_model_path(d, n == "lstm" ? 1 : 2, models);
      if (n == "pfn") opts["model"] = pfn_model;
      auto sampler = reg.create(n, opts);
      Run r = run_sampler(*sampler, space, f, fids, steps, 7);
      // The median of several identical runs, each with a fresh sampler: `repeats` for the learned
      // samplers (about a millisecond each), gp_repeats for GP-BO (about a second; the ratio's denominator).
      const int reps = learned ? repeats : n == "gp" ? gp_repeats : 1;
      if (reps > 1) {
        std::vector<std::pair<double, double>> runs = {{r.suggest_cpu_seconds, r.suggest_seconds}};  // (CPU, wall)
        for (int k = 1; k < reps; ++k) {
          auto fresh = reg.create(n, opts);
          const Run rk = run_sampler(*fresh, space, f, fids, steps, 7);
          runs.emplace_back(rk.suggest_cpu_seconds, rk.suggest_seconds);
        }
        std::sort(runs.begin(), runs.end());
        std::tie(r.suggest_cpu_seconds, r.suggest_seconds) = runs[runs.size() / 2];
      }
      secs[{d, n}] = r.suggest_cpu_seconds;
      wall[{d, n}] = r.suggest_seconds;
      if (n == "gp" || n == "pfn") {
        // One suggestion after 100 uniform random observations (target fidelity), 11 seeds: median CPU ms.
        std::vector<study::FrozenTrial> history;
        Rng rng(11);
        for (int t = 0; t < 100; ++t) {
          std::vector<double> x(static_cast<size_t>(d));
          for (auto& v : x) v = uniform01(rng);
          study::FrozenTrial tr;
          tr.number = t;
          tr.state = study::TrialState::kComplete;
          tr.params = space.decode(x);
          tr.fidelity = 1;
          tr.value = f(space.encode(tr.params), 1);
          history.push_back(std::move(tr));
        }
        std::vector<double> ms;
        for (uint64_t k = 0; k < 11; ++k) {
          optim::SamplerContext ctx;
          ctx.space = &space;
          ctx.fidelities = fids;
          ctx.trial_number = 100;
          ctx.seed = derive_seed(k, {100});
          ctx.study_seed = k;
          const double c0 = thread_cpu_seconds();
          (void)sampler->suggest(ctx, history);
          ms.push_back(1e3 * (thread_cpu_seconds() - c0));
        }
        std::sort(ms.begin(), ms.end());
        at100[{d, n}] = ms[ms.size() / 2];
      }
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
      "`lstm` / `lstm-mf` samplers with the shipped default models of each dimension (replay cache warm: one LSTM step "
      "per suggestion). Each entry is the median of identical runs with fresh samplers: {} for LSTM and LSTM-MF, {} for "
      "GP-BO.\n"
      "Paper (GPflowOpt vs LSTM-MF): GP 1361-2063 s, LSTM-MF 0.04-0.1 s.\n"
      "Reproduce: `build/release/bench/repro_learned_runtime --models models`.\n\n"
      "| d | GP-BO (s) | LSTM (s) | LSTM-MF (s) | GP / LSTM | GP / LSTM-MF | wall s: GP, LSTM, LSTM-MF | models |\n"
      "|---|---|---|---|---|---|---|---|\n",
      steps, steps, repeats, gp_repeats);
  std::ofstream csv(out_dir + "/learned_runtime.csv");
  csv << "d,gp,lstm,lstm_mf\n";
  for (int d : dims) {
    const double g = secs[{d, "gp"}], l = secs[{d, "lstm"}], m = secs[{d, "lstm-mf"}];
    md += fmt::format("| {} | {:.2f} | {:.5f} | {:.5f} | {:.0f}x | {:.0f}x | {:.2f}, {:.5f}, {:.5f} | {}, {} |\n", d, g, l, m,
                      g / l, g / m, wall[{d, "gp"}], wall[{d, "lstm"}], wall[{d, "lstm-mf"}],
                      std::filesystem::path(optim::learned::default_model_path(d, 1, models)).filename().string(),
                      std::filesystem::path(optim::learned::default_model_path(d, 2, models)).filename().string());
    csv << fmt::format("{},{:.6g},{:.6g},{:.6g}\n", d, g, l, m);
  }
  if (with_pfn) {
    md += fmt::format(
        "\n## The `pfn` sampler (issue 14, part 4)\n\n"
        "PFN = the `pfn` sampler with `{}` (a transformer surrogate: log-EI over 256 candidates in one forward pass, "
        "then 4 rounds of 4 x 16 perturbations, one forward pass each). Columns: CPU seconds for the {} steps above, "
        "and CPU milliseconds of one suggestion after 100 uniform random observations of the same function (median "
        "of 11 seeds); the target: PFN below GP-BO at 100 observations.\n\n"
        "| d | GP-BO {} steps (s) | PFN {} steps (s) | GP-BO at 100 obs (ms) | PFN at 100 obs (ms) | GP / PFN at 100 |\n"
        "|---|---|---|---|---|---|\n",
        pfn_model, steps, steps, steps);
    for (int d : dims) {
      md += fmt::format("| {} | {:.2f} | {:.2f} | {:.1f} | {:.1f} | {:.1f}x |\n", d, secs[{d, "gp"}], secs[{d, "pfn"}],
                        at100[{d, "gp"}], at100[{d, "pfn"}], at100[{d, "gp"}] / at100[{d, "pfn"}]);
    }
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
