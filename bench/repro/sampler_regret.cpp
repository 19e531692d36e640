// Simple regret of the built-in samplers on the built-in test functions, through the real study
// engine (in-memory storage): median over seeds of (best value found - known minimum) after each
// trial. Writes a Markdown table, the median curves as CSV, and an SVG plot (gnuplot, if present).
//
//   build/release/bench/repro_sampler_regret --seeds 20 --out bench/results
//
// Protocol (issue 2): Branin 30 trials, Hartmann-3 30, Hartmann-6 50; samplers random, sobol, gp;
// seeds 0..19. Seeds run on two threads (each its own study); samplers are single-threaded.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "metadial/core/progress.h"
#include "metadial/objective/registry.h"
#include "metadial/optim/sampler.h"
#include "metadial/storage/in_memory.h"
#include "metadial/study/study.h"
#include "repro_common.h"

namespace {

using namespace metadial;

struct Problem {
  std::string function;
  int trials;
};

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// Best-so-far simple regret after each trial of one study.
std::vector<double> run_one(const Problem& p, const std::string& sampler_name, uint64_t seed, double* seconds) {
  objective::ObjectiveRegistry objectives;
  objective::register_builtin_objectives(objectives);
  optim::SamplerRegistry samplers;
  optim::register_builtin_samplers(samplers);
  auto f = objectives.create(p.function);
  auto sampler = samplers.create(sampler_name);
  storage::InMemoryStorage storage;
  auto st = study::Study::create_or_load(storage, "bench", *f->default_space(), study::Direction::kMinimize);
  study::OptimizeOptions o;
  o.n_trials = p.trials;
  o.seed = seed;
  o.max_consecutive_failures = 1;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = study::optimize(st, *f, *sampler, o);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (r.n_failed > 0) throw std::runtime_error("a trial failed: " + r.last_failure);
  std::vector<double> curve;
  double best = INFINITY;
  for (const auto& t : st.trials()) {
    best = std::min(best, *t.value);
    curve.push_back(std::max(0.0, best - *f->known_optimum()));
  }
  return curve;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"median simple regret of random, sobol and gp on Branin, Hartmann-3, Hartmann-6"};
  int seeds = 20;
  int threads = 2;
  std::string out_dir = "bench/results";
  std::vector<std::string> sampler_names = {"random", "sobol", "gp"};
  app.add_option("--seeds", seeds, "seeds per (function, sampler)")->capture_default_str();
  app.add_option("--threads", threads, "studies run in parallel")->capture_default_str();
  app.add_option("--samplers", sampler_names, "samplers to compare")->capture_default_str();
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::vector<Problem> problems = {{"branin", 30}, {"hartmann3", 30}, {"hartmann6", 50}};
  std::filesystem::create_directories(out_dir);

  struct Cell {
    std::vector<std::vector<double>> curves;
    std::vector<double> seconds;
  };
  std::map<std::pair<std::string, std::string>, Cell> cells;
  std::vector<std::tuple<Problem, std::string, int>> jobs;
  for (const auto& p : problems) {
    for (const auto& s : sampler_names) {
      cells[{p.function, s}].curves.resize(static_cast<size_t>(seeds));
      cells[{p.function, s}].seconds.resize(static_cast<size_t>(seeds));
      for (int seed = 0; seed < seeds; ++seed) jobs.emplace_back(p, s, seed);
    }
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  ProgressDisplay progress("studies", static_cast<int64_t>(jobs.size()));
  size_t done = 0;
  auto work = [&] {
    for (size_t i; (i = next++) < jobs.size();) {
      const auto& [p, s, seed] = jobs[i];
      double secs = 0;
      auto curve = run_one(p, s, static_cast<uint64_t>(seed), &secs);
      std::lock_guard lock(mu);
      cells[{p.function, s}].curves[static_cast<size_t>(seed)] = std::move(curve);
      cells[{p.function, s}].seconds[static_cast<size_t>(seed)] = secs;
      progress.update(static_cast<int64_t>(++done), p.function + " " + s);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  progress.finish();

  // Table.
  std::string md = fmt::format(
      "# Simple regret of the built-in samplers\n\nMedian [25 %, 75 %] over {} seeds of the simple regret "
      "(best value found minus the known minimum) after the last trial; seconds = median wall time of one "
      "whole study (single thread).\nReproduce: `build/release/bench/repro_sampler_regret --seeds {}`.\n\n",
      seeds, seeds);
  md += "| function | trials |";
  for (const auto& s : sampler_names) md += " " + s + " |";
  md += "\n|---|---|";
  for (size_t i = 0; i < sampler_names.size(); ++i) md += "---|";
  md += "\n";
  for (const auto& p : problems) {
    md += fmt::format("| {} | {} |", p.function, p.trials);
    for (const auto& s : sampler_names) {
      const auto& c = cells[{p.function, s}];
      std::vector<double> finals;
      for (const auto& curve : c.curves) finals.push_back(curve.back());
      md += fmt::format(" {:.3g} [{:.3g}, {:.3g}] ({:.2f} s) |", quantile(finals, 0.5), quantile(finals, 0.25),
                        quantile(finals, 0.75), quantile(c.seconds, 0.5));
    }
    md += "\n";
  }
  std::ofstream(out_dir + "/sampler_regret.md") << md;
  std::cout << md;

  // Median curves (CSV) and a plot per function.
  for (const auto& p : problems) {
    const std::string csv = out_dir + "/sampler_regret_" + p.function + ".csv";
    std::ofstream out(csv);
    out << "trial";
    for (const auto& s : sampler_names) out << "," << s;
    out << "\n";
    for (int t = 0; t < p.trials; ++t) {
      out << (t + 1);
      for (const auto& s : sampler_names) {
        std::vector<double> v;
        for (const auto& curve : cells[{p.function, s}].curves) v.push_back(curve[static_cast<size_t>(t)]);
        out << "," << fmt::format("{:.6g}", std::max(quantile(v, 0.5), 1e-6));
      }
      out << "\n";
    }
  }
  std::vector<repro::PlotPanel> panels;
  for (const auto& p : problems) {
    panels.push_back({p.function + " (" + std::to_string(seeds) + " seeds)",
                      out_dir + "/sampler_regret_" + p.function + ".csv", sampler_names.size()});
  }
  repro::plot_panels(out_dir + "/sampler_regret.gp", out_dir + "/sampler_regret.svg", panels, "trial",
                     "median simple regret", 1200);
  return 0;
}
