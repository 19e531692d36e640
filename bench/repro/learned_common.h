// Shared pieces of the learned-optimizer reproductions (learned_runtime, learned_regret,
// learned_mf_cost): running a sampler sequentially on a function of the unit cube without the
// storage layer (the same SamplerContext the study engine builds: seed derived from (seed, trial
// number), history ordered by number), timing suggest() alone, and writing statistics.
#pragma once

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "metadial/core/random.h"
#include "metadial/optim/sampler.h"
#include "metadial/space/search_space.h"
#include "metadial/study/trial.h"

namespace repro {

using namespace metadial;

/// [0,1]^d as floats x0..x{d-1}.
inline space::SearchSpace cube(int d) {
  space::SearchSpace s;
  for (int k = 0; k < d; ++k) s.add_float("x" + std::to_string(k), 0.0, 1.0);
  return s;
}

/// One run: per step the best target-fidelity value so far (NaN before the first), the
/// cumulative cost, and the seconds spent in suggest().
struct Run {
  std::vector<double> best, cost, fidelity;
  double suggest_seconds = 0.0;      ///< wall clock
  double suggest_cpu_seconds = 0.0;  ///< CPU time of the calling thread (robust on a shared machine)
};

/// CPU seconds used by the calling thread.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// f(x, fidelity): the value at a unit-cube point.
using UnitFunction = std::function<double(const std::vector<double>&, int)>;

/// Runs `steps` trials, or until the cost reaches `max_cost` (the last trial may cross it).
inline Run run_sampler(optim::Sampler& sampler, const space::SearchSpace& space, const UnitFunction& f,
                       const std::vector<objective::Fidelity>& fidelities, int steps, uint64_t seed,
                       double max_cost = std::numeric_limits<double>::infinity()) {
  std::vector<study::FrozenTrial> history;
  Run run;
  const int target = static_cast<int>(fidelities.size()) - 1;
  double best = std::numeric_limits<double>::quiet_NaN(), cost = 0.0;
  for (int t = 0; t < steps && cost < max_cost; ++t) {
    optim::SamplerContext ctx;
    ctx.space = &space;
    ctx.fidelities = fidelities;
    ctx.trial_number = t;
    ctx.seed = derive_seed(seed, {static_cast<uint64_t>(t)});
    ctx.study_seed = seed;
    ctx.budget_left = max_cost - cost;
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    const optim::Suggestion s = sampler.suggest(ctx, history);
    run.suggest_cpu_seconds += thread_cpu_seconds() - c0;
    run.suggest_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    study::FrozenTrial tr;
    tr.number = t;
    tr.state = study::TrialState::kComplete;
    tr.params = s.config;
    tr.fidelity = s.fidelity < 0 ? target : s.fidelity;
    tr.value = f(space.encode(s.config), tr.fidelity);
    tr.cost = fidelities[static_cast<size_t>(tr.fidelity)].cost;
    cost += tr.cost;
    if (tr.fidelity == target) best = std::isnan(best) ? *tr.value : std::min(best, *tr.value);
    run.best.push_back(best);
    run.cost.push_back(cost);
    run.fidelity.push_back(tr.fidelity);
    history.push_back(std::move(tr));
  }
  return run;
}

/// Mean and half-width of the normal 95 % interval of the mean.
struct MeanCi {
  double mean = 0.0, half = 0.0;
};
inline MeanCi mean_ci(const std::vector<double>& v) {
  MeanCi m;
  if (v.empty()) return m;
  double s = 0.0, s2 = 0.0;
  for (double x : v) {
    s += x;
    s2 += x * x;
  }
  const double n = static_cast<double>(v.size());
  m.mean = s / n;
  if (v.size() > 1) m.half = 1.96 * std::sqrt(std::max(0.0, (s2 / n - m.mean * m.mean) / (n - 1)));
  return m;
}

inline void run_gnuplot(const std::string& gp) {
  if (std::system(("command -v gnuplot >/dev/null 2>&1 && gnuplot '" + gp + "'").c_str()) != 0) {
    std::cerr << "gnuplot not found or failed: no plot (the CSV files are there)\n";
  }
}

/// One panel of a band plot: a problem and the labels of its curves, in CSV column order
/// (x, then mean / low / high per curve).
struct PlotPanel {
  std::string name;
  int d = 0;
  std::vector<std::string> labels;
};

/// Writes `<out_dir>/<stem>.gp` (mean line + 95 % band per curve, one panel per problem, read
/// from `<out_dir>/<stem>_<problem>.csv`) and runs gnuplot on it to make `<stem>.svg`.
inline void write_band_plot(const std::string& out_dir, const std::string& stem, const std::vector<PlotPanel>& panels,
                            size_t cols, int width, const std::string& xlabel) {
  const std::string gp = out_dir + "/" + stem + ".gp";
  {
    std::ofstream g(gp);
    const size_t rows = (panels.size() + cols - 1) / cols;
    g << "set terminal svg size " << width << "," << 380 * rows << " dynamic background rgb 'white'\n"
      << "set output '" << out_dir << "/" << stem << ".svg'\n"
      << "set datafile separator ','\nset logscale y\nset key top right font ',9'\nset style fill transparent solid 0.15 noborder\n"
      << "set multiplot layout " << rows << "," << cols << "\nset xlabel '" << xlabel << "'\nset ylabel 'mean simple regret'\n";
    for (const auto& pr : panels) {
      g << "set title '" << pr.name << " (d=" << pr.d << ")' noenhanced\nplot ";
      for (size_t c = 0; c < pr.labels.size(); ++c) {
        const std::string file = "'" + out_dir + "/" + stem + "_" + pr.name + ".csv'";
        g << (c ? ", " : "") << file << " every ::1 using 1:" << 3 * c + 3 << ":" << 3 * c + 4
          << " with filledcurves lc " << c + 1 << " notitle, " << file << " every ::1 using 1:" << 3 * c + 2
          << " with lines lw 2 lc " << c + 1 << " title '" << pr.labels[c] << "'";
      }
      g << "\n";
    }
    g << "unset multiplot\n";
  }
  run_gnuplot(gp);
}

}  // namespace repro
