// Issue 4, reproduction 3: simple regret against cumulative cost for the multi-fidelity
// variants. GP-BO, random and the single-fidelity LSTM evaluate at the target fidelity only (cost
// 10 each, 20 evaluations = cost 200); LSTM-MF (models/lstm-mf-d<d>.pt, REINFORCE-trained) and
// LSTM-MF-det (models/lstm-mfdet-d<d>.pt: deterministic proposals trained by the pathwise gradient,
// the fidelity level by REINFORCE) pick low (cost 1) or high (cost 10) fidelity for their trained
// horizon of steps; LSTM-det is the single-fidelity gradient-trained model (lstm-det-d<d>.pt). Problems: held-out 2-fidelity GP-prior
// functions (d = 1, 2, 3, 6) and the multi-fidelity benchmarks branin_mf, currin_mf,
// hartmann3_mf, hartmann6_mf (costs 1 and 10).
//
//   build/release/bench/repro_learned_mf_cost --functions 100 --seeds 20
//
// Regret at cost c = best target-fidelity value among the trials paid for within c, minus the
// minimum; before any target-fidelity result it is the regret of I_0 (GP-prior: 1, one sd above
// the normalized mean; named: the value at the centre of the cube). Target (issue): LSTM-MF
// reaches GP-BO's final mean regret (cost 200) for at most half the cost, d >= 2.
// Writes bench/results/learned_mf_cost.{md,gp,svg} and learned_mf_cost_<problem>.csv.
#include <CLI/CLI.hpp>

#include <array>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "learned_common.h"
#include "metadial/core/progress.h"
#include "metadial/meta/gp_prior.h"
#include "metadial/nn/threads.h"
#include "metadial/objective/test_functions.h"
#include "metadial/optim/learned/sampler.h"
#include "metadial/meta/optimizer_trainer.h"

namespace {

using namespace repro;

struct Contender {
  std::string label, sampler;
  nlohmann::json options;
};

struct Problem {
  std::string name;
  int d;
  bool gp_prior;
  std::vector<Contender> who;
  std::vector<std::vector<Run>> runs;  // [contender][instance]
  std::vector<double> minimum, start;  // per instance
};

}  // namespace

int main(int argc, char** argv) {
  metadial::nn::set_torch_threads(1);  // once, for the process (--threads: parallel runs, one torch thread each)
  CLI::App app{"regret vs cumulative cost: LSTM-MF vs GP-BO, LSTM, random"};
  std::string models = "models", out_dir = "bench/results";
  int functions = 100, seeds = 20, steps = 20, threads = 2;
  double max_cost = 200.0;
  std::vector<int> dims = {1, 2, 3, 6};
  std::vector<std::string> named = {"branin_mf", "currin_mf", "hartmann3_mf", "hartmann6_mf"};
  app.add_option("--models", models, "model folder")->capture_default_str();
  app.add_option("--out", out_dir, "output folder")->capture_default_str();
  app.add_option("--functions", functions, "held-out GP-prior functions per dimension")->capture_default_str();
  app.add_option("--seeds", seeds, "seeds per named benchmark")->capture_default_str();
  app.add_option("--steps", steps, "target-fidelity evaluations of the single-fidelity optimizers, and LSTM-MF's steps")
      ->capture_default_str();
  app.add_option("--max-cost", max_cost, "cost axis end")->capture_default_str();
  app.add_option("--threads", threads, "parallel runs")->capture_default_str();
  app.add_option("--dims", dims, "GP-prior dimensions")->capture_default_str();
  app.add_option("--named", named, "multi-fidelity benchmarks")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(out_dir);

  auto contenders = [&](int d) {
    std::vector<Contender> c = {{"random", "random", nlohmann::json::object()}, {"GP-BO", "gp", nlohmann::json::object()}};
    const std::vector<std::array<std::string, 3>> learned = {{"LSTM", "lstm", "lstm-d"},
                                                              {"LSTM-det", "lstm", "lstm-det-d"},
                                                              {"LSTM-MF", "lstm-mf", "lstm-mf-d"},
                                                              {"LSTM-MF-det", "lstm-mf", "lstm-mfdet-d"}};
    for (const auto& [label, sampler, stem] : learned) {
      const std::string file = fmt::format("{}/{}{}.pt", models, stem, d);
      if (std::filesystem::exists(file)) c.push_back({label, sampler, {{"model", file}}});
    }
    return c;
  };
  std::vector<Problem> problems;
  std::map<int, std::vector<meta::MultiFidelityFunction>> fams;
  for (int d : dims) {
    meta::TrainerOptions to;
    to.model.dim = d;
    to.model.fidelities = 2;
    to.finalize();
    fams[d] = meta::held_out_functions(to, functions, 20261125);
    Problem p{fmt::format("gp_prior_d{}", d), d, true, contenders(d), {}, {}, {}};
    for (const auto& f : fams[d]) {
      p.minimum.push_back(f.target().minimum);
      p.start.push_back(1.0);
    }
    problems.push_back(std::move(p));
  }
  for (const auto& n : named) {
    const auto f = objective::make_test_function(n, {{"costs", {1.0, 10.0}}});
    const int d = static_cast<int>(f->dim());
    Problem p{n, d, false, contenders(d), {}, {}, {}};
    const std::vector<double> centre(static_cast<size_t>(d), 0.5);
    p.minimum.assign(static_cast<size_t>(seeds), *f->known_optimum());
    p.start.assign(static_cast<size_t>(seeds), f->value(centre));
    problems.push_back(std::move(p));
  }
  struct Job {
    size_t problem, contender;
    int instance;
  };
  std::vector<Job> jobs;
  for (size_t p = 0; p < problems.size(); ++p) {
    auto& pr = problems[p];
    pr.runs.assign(pr.who.size(), std::vector<Run>(pr.minimum.size()));
    for (size_t c = 0; c < pr.who.size(); ++c) {
      for (size_t i = 0; i < pr.minimum.size(); ++i) jobs.push_back({p, c, static_cast<int>(i)});
    }
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  ProgressDisplay progress("runs", static_cast<int64_t>(jobs.size()));
  int64_t done = 0;
  auto work = [&] {
    optim::SamplerRegistry reg;
    optim::register_builtin_samplers(reg);
    optim::learned::register_learned_samplers(reg);
    for (size_t j; (j = next++) < jobs.size();) {
      const Job& job = jobs[j];
      Problem& pr = problems[job.problem];
      const Contender& c = pr.who[job.contender];
      auto sampler = reg.create(c.sampler, c.options);
      const auto space = cube(pr.d);
      const std::vector<objective::Fidelity> fids = {{"low", 1.0}, {"high", 10.0}};
      Run r;
      if (pr.gp_prior) {
        const auto& fam = fams[pr.d][static_cast<size_t>(job.instance)];
        const UnitFunction f = [&](const std::vector<double>& x, int m) { return fam.levels[static_cast<size_t>(m)].value(x); };
        r = run_sampler(*sampler, space, f, fids, steps, static_cast<uint64_t>(job.instance));
      } else {
        const auto tf = objective::make_test_function(pr.name, {{"costs", {1.0, 10.0}}});
        const UnitFunction f = [&](const std::vector<double>& x, int m) { return tf->value(x, m); };
        r = run_sampler(*sampler, space, f, fids, steps, static_cast<uint64_t>(job.instance));
      }
      std::lock_guard lock(mu);
      pr.runs[job.contender][static_cast<size_t>(job.instance)] = std::move(r);
      progress.update(++done, pr.name + " " + c.label);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  progress.finish();

  // Regret on a cost grid 0, 1, ..., max_cost.
  const auto n_grid = static_cast<size_t>(max_cost) + 1;
  auto regret_at = [&](const Problem& pr, const Run& r, size_t i, double c) {
    double best = pr.start[i];
    for (size_t t = 0; t < r.cost.size() && r.cost[t] <= c; ++t) {
      if (!std::isnan(r.best[t])) best = std::min(best, r.best[t]);
    }
    return std::max(0.0, best - pr.minimum[i]);
  };
  std::string md = fmt::format(
      "# Regret against cumulative cost, multi-fidelity (issue 4, reproduction 3)\n\n"
      "Costs: low fidelity 1, target 10. GP-BO, random, LSTM and LSTM-det evaluate the target {} times (cost "
      "{}); LSTM-MF (REINFORCE-trained) and LSTM-MF-det (gradient-trained proposals, REINFORCE-trained "
      "fidelity choice) run {} steps choosing the fidelity. Mean simple regret (95 % interval) over {} "
      "held-out GP-prior functions per dimension and {} seeds per named benchmark, at cost 50, 100 and 200; "
      "'reaches GP-BO' = the smallest cost at which the multi-fidelity model's mean regret is at most GP-BO's "
      "mean regret at cost 200 (issue target: <= 100). Mean cost = what an optimizer spent in its {} steps.\n"
      "Reproduce: `build/release/bench/repro_learned_mf_cost --functions {} --seeds {}`.\n\n"
      "| problem | optimizer | regret @ cost 50 | @ 100 | @ 200 | mean cost |\n|---|---|---|---|---|---|\n",
      steps, 10 * steps, steps, functions, seeds, steps, functions, seeds);
  std::string reach =
      "\n| problem | GP-BO regret @200 | LSTM-MF reaches it at cost | LSTM-MF-det reaches it at cost |\n"
      "|---|---|---|---|\n";
  for (const auto& pr : problems) {
    std::vector<std::vector<MeanCi>> curves(pr.who.size());
    for (size_t c = 0; c < pr.who.size(); ++c) {
      for (size_t g = 0; g < n_grid; ++g) {
        std::vector<double> v;
        for (size_t i = 0; i < pr.runs[c].size(); ++i) v.push_back(regret_at(pr, pr.runs[c][i], i, static_cast<double>(g)));
        curves[c].push_back(mean_ci(v));
      }
      double cost = 0.0;
      for (const auto& r : pr.runs[c]) cost += r.cost.empty() ? 0.0 : r.cost.back();
      cost /= static_cast<double>(pr.runs[c].size());
      auto at = [&](size_t g) {
        const MeanCi& m = curves[c][std::min(g, n_grid - 1)];
        return fmt::format("{:.4f} ± {:.4f}", m.mean, m.half);
      };
      md += fmt::format("| {} | {} | {} | {} | {} | {:.1f} |\n", pr.name, pr.who[c].label, at(50), at(100), at(200), cost);
    }
    size_t gp = 0;
    for (size_t c = 0; c < pr.who.size(); ++c) {
      if (pr.who[c].label == "GP-BO") gp = c;
    }
    const double target = curves[gp].back().mean;
    reach += fmt::format("| {} | {:.4f} |", pr.name, target);
    for (const char* label : {"LSTM-MF", "LSTM-MF-det"}) {
      std::string when = "-";
      for (size_t c = 0; c < pr.who.size(); ++c) {
        if (pr.who[c].label != label) continue;
        when = "not reached";
        for (size_t g = 0; g < n_grid; ++g) {
          if (curves[c][g].mean <= target) {
            when = fmt::format("{}", g);
            break;
          }
        }
      }
      reach += " " + when + " |";
    }
    reach += "\n";
    std::ofstream csv(out_dir + "/learned_mf_cost_" + pr.name + ".csv");
    csv << "cost";
    for (const auto& c : pr.who) csv << "," << c.label << "," << c.label << "_lo," << c.label << "_hi";
    csv << "\n";
    for (size_t g = 0; g < n_grid; ++g) {
      csv << g;
      for (size_t c = 0; c < pr.who.size(); ++c) {
        const MeanCi& m = curves[c][g];
        csv << fmt::format(",{:.6g},{:.6g},{:.6g}", m.mean, std::max(m.mean - m.half, 1e-6), m.mean + m.half);
      }
      csv << "\n";
    }
  }
  md += reach;
  std::ofstream(out_dir + "/learned_mf_cost.md") << md;
  std::cout << md;
  std::vector<repro::PlotPanel> panels;
  for (const auto& pr : problems) {
    repro::PlotPanel p{pr.name, pr.d, {}};
    for (const auto& c : pr.who) p.labels.push_back(c.label);
    panels.push_back(std::move(p));
  }
  repro::write_band_plot(out_dir, "learned_mf_cost", panels, 4, 1600, "cumulative cost");
  return 0;
}
