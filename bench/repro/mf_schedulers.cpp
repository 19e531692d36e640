// Multi-fidelity test functions at small scale (issue 15): best value at the target fidelity
// against cumulative cost for random search, GP-BO, TPE (all at the target fidelity), ASHA and
// Hyperband (random proposals, stopping-based at the pruners' rungs), BOHB (bohb sampler +
// hyperband pruner) and the learned samplers with their shipped default models: LSTM (the
// single-fidelity model of the dimension, target fidelity only) and LSTM-MF (the 2-fidelity model:
// it runs on the function's 2-level variant, the cheapest level and the target, costs 1 and 27, or
// 1 and 10 for currin_mf, since no default model knows 4 fidelities), through the study engine (in-memory storage), each study stopped by its cost
// budget (max_cost = B target evaluations). The fidelities are the objective's learning curve:
// level m is reported at step m + 1 (test_functions.h), costs 1, 3, 9, 27 (a factor 3 per level,
// the reduction factor of the pruners and of BOHB), currin_mf's 1, 10 (it has two levels).
//
//   build/release/bench/repro_mf_schedulers --seeds 5 --budget 30 --out bench/results
//
// Resumable: every finished study appends its trace (a row per improvement, and the last trial) to
// bench/results/mf_schedulers_runs.csv at once; a run already there is not run again. LSTM and
// LSTM-MF rows carry the FNV-1a checksum of the default model file they used: after a model changes,
// its rows no longer count (they stay in the file) and its runs are made again (a row without the
// model cell, from before it, counts as made by no model). Then the
// table mf_schedulers.md (median [25 %, 75 %] regret at 1/3, 2/3 and all of the budget) and the
// plot mf_schedulers.svg (median regret against cost) are written from the whole file.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "metadial/core/config.h"
#include "metadial/core/hash.h"
#include "metadial/objective/registry.h"
#include "metadial/optim/learned/sampler.h"
#include "metadial/optim/pruner.h"
#include "metadial/optim/sampler.h"
#include "metadial/storage/in_memory.h"
#include "metadial/study/study.h"
#include "repro_common.h"

namespace {

using namespace metadial;

struct Method {
  std::string name, sampler, pruner;
  nlohmann::json sampler_options, pruner_options;
  bool two_levels = false;  ///< on the problem's 2-level variant (Problem::two_level_options)
};

struct Problem {
  std::string function;
  nlohmann::json options;
  double target_cost;
  nlohmann::json two_level_options;  ///< the cheapest level and the target only
};

const std::vector<Problem> kProblems = {
    {"branin_mf", {{"costs", {1, 3, 9, 27}}}, 27, {{"costs", {1, 27}}}},
    {"currin_mf", {{"costs", {1, 10}}}, 10, {{"costs", {1, 10}}}},
    {"hartmann3_mf", {{"costs", {1, 3, 9, 27}}}, 27, {{"costs", {1, 27}}}},
    {"hartmann6_mf", {{"costs", {1, 3, 9, 27}}}, 27, {{"costs", {1, 27}}}},
};

std::vector<Method> methods() {
  const nlohmann::json rungs = {{"min_resource", 1}, {"reduction_factor", 3}};
  return {
      {"random", "random", "none", nlohmann::json::object(), nlohmann::json::object()},
      {"gp", "gp", "none", nlohmann::json::object(), nlohmann::json::object()},
      {"tpe", "tpe", "none", nlohmann::json::object(), nlohmann::json::object()},
      {"asha", "random", "asha", nlohmann::json::object(), rungs},
      {"hyperband", "random", "hyperband", nlohmann::json::object(), rungs},
      {"bohb", "bohb", "hyperband", rungs, rungs},
      {"lstm", "lstm", "none", nlohmann::json::object(), nlohmann::json::object()},
      {"lstm-mf", "lstm-mf", "none", nlohmann::json::object(), nlohmann::json::object(), true},
  };
}

// The default model file method m uses on problem p ("" for the methods without one).
std::string model_path(const Problem& p, const Method& m) {
  if (m.sampler != "lstm" && m.sampler != "lstm-mf") return "";
  objective::ObjectiveRegistry objectives;
  objective::register_builtin_objectives(objectives);
  const auto f = objectives.create(p.function, m.two_levels ? p.two_level_options : p.options);
  const int dim = static_cast<int>(f->default_space()->size());
  return optim::learned::default_model_path(dim, m.sampler == "lstm-mf" ? 2 : 1);
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// One study; its trace as CSV rows: function,method,seed,trial,cum_cost,regret,model (best value of
// the complete trials at the target fidelity so far minus the minimum, empty before the first one;
// the checksum of model_path(p, m)), a row for every trial that improved it and one for the last trial.
std::string run_one(const Problem& p, const Method& m, int seed, double budget, const std::string& tag) {
  objective::ObjectiveRegistry objectives;
  objective::register_builtin_objectives(objectives);
  optim::SamplerRegistry samplers;
  optim::register_builtin_samplers(samplers);
  optim::learned::register_learned_samplers(samplers);
  optim::PrunerRegistry pruners;
  optim::register_builtin_pruners(pruners);
  auto f = objectives.create(p.function, m.two_levels ? p.two_level_options : p.options);
  auto sampler = samplers.create(m.sampler, m.sampler_options);
  auto pruner = pruners.create(m.pruner, m.pruner_options);
  storage::InMemoryStorage storage;
  auto st = study::Study::create_or_load(storage, "mf", *f->default_space(), study::Direction::kMinimize);
  study::OptimizeOptions o;
  o.max_cost = budget * p.target_cost;
  o.n_trials = 2000;  // a bound on cheap trials; not reached at these budgets
  o.seed = static_cast<uint64_t>(seed);
  o.max_consecutive_failures = 1;
  const auto r = study::optimize(st, *f, *sampler, *pruner, o);
  if (r.n_failed > 0) throw std::runtime_error("a trial failed: " + r.last_failure);
  const int target = static_cast<int>(f->fidelities().size()) - 1;
  std::string rows;
  double cost = 0.0, best = INFINITY;
  const auto trials = st.trials();
  for (const auto& t : trials) {
    cost += t.cost;
    const double before = best;
    if (t.is_complete() && t.fidelity == target) best = std::min(best, *t.value);
    if (best == before && t.number != trials.back().number) continue;  // only improvements and the last trial
    rows += fmt::format("{},{},{},{},{:.6g},{},{}\n", p.function, m.name, seed, t.number, cost,
                        std::isfinite(best) ? fmt::format("{:.6g}", std::max(0.0, best - *f->known_optimum())) : "",
                        tag);
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app{"best value against cost on the multi-fidelity test functions: random, gp, tpe, asha, hyperband, bohb, lstm, lstm-mf"};
  int seeds = 5;
  double budget = 30;
  std::string out_dir = "bench/results";
  app.add_option("--seeds", seeds, "seeds 0..N-1 per (function, method)")->capture_default_str();
  app.add_option("--budget", budget, "cost budget, in target-fidelity evaluations")->capture_default_str();
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(out_dir);
  const std::string runs_path = out_dir + "/mf_schedulers_runs.csv";

  const std::string header = "function,method,seed,trial,cum_cost,regret,model";
  const auto ms = methods();
  // The checksum of the model file each (function, method) uses now ("" without one; each file read
  // once); rows of another model do not count.
  std::map<std::pair<std::string, std::string>, std::string> tags;
  std::map<std::string, std::string> checksums;  // model file -> checksum
  for (const auto& p : kProblems) {
    for (const auto& m : ms) {
      const std::string path = model_path(p, m);
      if (!path.empty() && !checksums.count(path)) {
        const std::string bytes = config::read_file(path);
        checksums[path] = to_hex(fnv1a(kFnv1aBasis, bytes.data(), bytes.size()));
      }
      tags[{p.function, m.name}] = path.empty() ? "" : checksums[path];
    }
  }
  if (!std::filesystem::exists(runs_path)) std::ofstream(runs_path) << header << "\n";
  // The rows of the runs file that count: those whose model is the current one.
  std::vector<std::vector<std::string>> rows_now;
  auto read_rows = [&] {
    rows_now.clear();
    size_t stale = 0;
    std::ifstream in(runs_path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      auto cells = repro::csv_fields(line);  // an empty regret or model is an empty cell
      if (cells.size() == 6) cells.emplace_back();  // a row from before the model column
      if (cells.size() != 7) throw std::runtime_error(runs_path + ": a row without 6 or 7 cells: " + line);
      const auto it = tags.find({cells[0], cells[1]});
      if (it == tags.end()) continue;
      if (cells[6] != it->second) {
        ++stale;
        continue;
      }
      rows_now.push_back(cells);
    }
    return stale;
  };
  if (const size_t stale = read_rows(); stale > 0) {
    std::cerr << stale << " rows of " << runs_path << " were made with another model file than the current default; "
              << "not counted, their runs are made again\n";
  }
  std::set<std::tuple<std::string, std::string, int>> done;
  for (const auto& cells : rows_now) done.insert({cells[0], cells[1], std::stoi(cells[2])});
  for (const auto& p : kProblems) {
    for (const auto& m : ms) {
      for (int seed = 0; seed < seeds; ++seed) {
        if (done.count({p.function, m.name, seed})) continue;
        const std::string rows = run_one(p, m, seed, budget, tags[{p.function, m.name}]);
        std::ofstream(runs_path, std::ios::app) << rows << std::flush;
        std::cerr << p.function << " " << m.name << " seed " << seed << "\n";
      }
    }
  }

  // Traces: (function, method) -> per seed, (cum_cost, regret) steps.
  std::map<std::pair<std::string, std::string>, std::map<int, std::vector<std::pair<double, double>>>> traces;
  read_rows();
  for (const auto& cells : rows_now) {
    if (cells[5].empty()) continue;
    traces[{cells[0], cells[1]}][std::stoi(cells[2])].push_back({std::stod(cells[4]), std::stod(cells[5])});
  }
  // Regret of one run after spending `cost` (in target evaluations): +inf before its first one.
  auto regret_at = [&](const std::vector<std::pair<double, double>>& trace, double cost) {
    double r = INFINITY;
    for (const auto& [c, v] : trace) {
      if (c <= cost + 1e-9) r = std::min(r, v);
    }
    return r;
  };
  auto stats = [&](const Problem& p, const Method& m, double frac) -> std::vector<double> {
    std::vector<double> v;
    for (const auto& [seed, trace] : traces[{p.function, m.name}]) {
      if (seed < seeds) v.push_back(regret_at(trace, frac * budget * p.target_cost));
    }
    return v;
  };
  std::string md = fmt::format(
      "# Multi-fidelity test functions: random, GP-BO, TPE, ASHA, Hyperband, BOHB, LSTM, LSTM-MF\n\n"
      "Simple regret at the target fidelity (best complete target-fidelity value minus the minimum; inf: none yet) "
      "after spending 1/3, 2/3 and all of a budget of {} target evaluations, median [25 %, 75 %] over {} seeds. "
      "Costs per level 1, 3, 9, 27 (currin_mf: 1, 10); ASHA, Hyperband and BOHB stop trials at the rungs 1, 3 "
      "(min_resource 1, reduction factor 3: levels 0 and 2), random / GP / TPE / LSTM evaluate the target only. "
      "LSTM and LSTM-MF use the shipped default models (models/, chosen by dimension); LSTM-MF runs on the "
      "function's 2-level variant (the cheapest level at cost 1 and the target at 27, currin_mf 1 and 10), "
      "since its default models know 2 fidelities.\n"
      "Reproduce: `build/release/bench/repro_mf_schedulers --seeds {} --budget {}` (resumable: a run in "
      "bench/results/mf_schedulers_runs.csv is not made again, unless it is an LSTM / LSTM-MF run of another "
      "model file than the current default, by the checksum in its model column; delete the file to start over).\n\n",
      budget, seeds, seeds, budget);
  md += "| function | method | 1/3 budget | 2/3 budget | full budget |\n|---|---|---|---|---|\n";
  for (const auto& p : kProblems) {
    for (const auto& m : ms) {
      md += fmt::format("| {} | {} |", p.function, m.name);
      for (double frac : {1.0 / 3.0, 2.0 / 3.0, 1.0}) {
        const auto v = stats(p, m, frac);
        if (v.empty()) {
          md += " - |";
        } else {
          md += fmt::format(" {:.3g} [{:.3g}, {:.3g}] |", quantile(v, 0.5), quantile(v, 0.25), quantile(v, 0.75));
        }
      }
      md += "\n";
    }
  }
  std::ofstream(out_dir + "/mf_schedulers.md") << md;
  std::cout << md;

  // Median curves on a grid of costs (in target evaluations), one CSV per function, and the plot.
  for (const auto& p : kProblems) {
    std::ofstream out(out_dir + "/mf_schedulers_" + p.function + ".csv");
    out << "cost";
    for (const auto& m : ms) out << "," << m.name;
    out << "\n";
    for (int k = 1; k <= 60; ++k) {
      const double frac = k / 60.0;
      out << fmt::format("{:.4g}", frac * budget);
      for (const auto& m : ms) {
        const auto v = stats(p, m, frac);
        const double med = v.empty() ? INFINITY : quantile(v, 0.5);
        out << "," << (std::isfinite(med) ? fmt::format("{:.6g}", std::max(med, 1e-6)) : "");
      }
      out << "\n";
    }
  }
  std::vector<repro::PlotPanel> panels;
  for (const auto& p : kProblems) {
    panels.push_back({p.function + " (" + std::to_string(seeds) + " seeds)",
                      out_dir + "/mf_schedulers_" + p.function + ".csv", ms.size()});
  }
  repro::plot_panels(out_dir + "/mf_schedulers.gp", out_dir + "/mf_schedulers.svg", panels,
                     "cost (target-fidelity evaluations)", "median simple regret", 1600);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "repro_mf_schedulers: " << e.what() << "\n";
  return 2;
}
